"""Nothing re-compiles during a training run.

A tiny run crosses several log, eval and checkpoint boundaries and three epoch boundaries,
validates on a split whose last batch is partial, stops mid-epoch and resumes. Two counts:

- every XLA compilation of the process, through ``jax.monitoring`` (JAX records
  :data:`COMPILE_EVENT` around each executable it builds), on a timeline with the run's own
  milestones: its metric rows, validation rows and checkpoints, seen where they are written
  (:class:`zoo.runs.RunDir`);
- the compiled signatures of the loop's two jitted steps (their cache sizes).

The rules, per run (the interrupted one and its resumption):

- each of the two train programs (the single step and the chunk of
  :data:`STEPS_PER_DISPATCH` steps, :mod:`zoo.training.chunks`) compiles at most once, and one
  of them at least (both do here: the run mixes chunks and single steps). A resumed run is a
  new :class:`~zoo.training.loop.Loop` with new jitted functions, as in the new process a
  real resume runs in, so it compiles its steps once more (the first run's in-memory cache
  cannot apply to it; a persistent compilation cache would turn that into a cache hit);
- the eval step compiles at most once per distinct validation batch shape (here two: the full
  batches and the last, partial one), not once per validation;
- after the run's first complete log/eval/checkpoint cycle nothing compiles at all: no Python
  int, weak type or changing static argument re-traces a step, and no eager op meets a new
  shape.

No time is asserted. :func:`test_the_check_catches_an_injected_recompilation` shows the check
failing when a step does re-compile.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jax
import pytest
from jax import monitoring

from zoo.runs import RunDir
from zoo.training import TrainConfig
from zoo.training.loop import Loop

from .conftest import LATENT, TINY_MODEL

#: What JAX records, with ``fun_name=``, around each compilation of an executable
#: (``jax._src.dispatch.BACKEND_COMPILE_EVENT``).
COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"
#: 216 training examples: 6 batches of 32 per epoch (epochs end after steps 6, 12 and 18);
#: 40 validation examples: batches of 32 and 8. The first run stops at step 9, mid-epoch; the
#: resumed one completes its first cycle at step 12, then validates at 15 and 20 and starts
#: epoch 3.
TC = TrainConfig(dataset="stripes", batch_size=32, max_steps=20, validation_size=40,
                 log_every=2, eval_every=5, checkpoint_every=4, seed=3)
STOP_AT = 9
#: The distinct validation batch shapes of ``TC``: full batches and the last, partial one.
EVAL_SHAPES = len({TC.batch_size, TC.validation_size % TC.batch_size} - {0})
#: Two steps per dispatch fit between some of TC's log/eval/checkpoint points and not others.
STEPS_PER_DISPATCH = 2


@dataclasses.dataclass
class Run:
    """One run's timeline, in order: ``("compile", jitted name)``, ``("log", epoch)``,
    ``("val", step)``, ``("checkpoint", "last" | "best")``; and its steps' compiled
    signatures."""

    label: str
    events: list[tuple[str, Any]] = dataclasses.field(default_factory=list)
    #: compiled signatures of the single-step program and of the chunk program
    train_compiles: tuple[int, int] = (0, 0)
    eval_compiles: int = 0

    def problems(self) -> list[str]:
        """What breaks the rules of the module docstring; ``[]`` when nothing does."""
        found = []
        one, chunk = self.train_compiles
        if one > 1 or chunk > 1 or one + chunk == 0:
            found.append(f"{self.label}: the train step compiled {one} times, the chunk of "
                         f"steps {chunk} times")
        if self.eval_compiles > EVAL_SHAPES:
            found.append(f"{self.label}: the eval step compiled {self.eval_compiles} times for "
                         f"{EVAL_SHAPES} validation batch shapes")
        seen: set[str] = set()
        for i, (kind, value) in enumerate(self.events):
            if (kind, value) != ("checkpoint", "best"):
                seen.add(kind)
            if {"log", "val", "checkpoint"} <= seen:
                late = [value for kind, value in self.events[i:] if kind == "compile"]
                if late:
                    found.append(f"{self.label}: compiled {late} after its first "
                                 "log/eval/checkpoint cycle")
                return found
        return [*found, f"{self.label}: never completed a log/eval/checkpoint cycle"]


@contextlib.contextmanager
def recording(monkeypatch: pytest.MonkeyPatch, runs: list[Run]) -> Iterator[None]:
    """Append every compilation, row and checkpoint to the timeline of ``runs[-1]``."""
    log, writing = RunDir.log, RunDir.writing_checkpoint

    def on_duration(event: str, duration: float, **kwargs: Any) -> None:
        if event == COMPILE_EVENT and runs:
            runs[-1].events.append(("compile", str(kwargs.get("fun_name"))))

    def logged(self: RunDir, rows: Any) -> None:
        rows = list(rows)
        log(self, rows)
        for row in rows:
            is_val = any(k.startswith("val/") for k in row)
            runs[-1].events.append(("val", row["step"]) if is_val else ("log", row["epoch"]))

    @contextlib.contextmanager
    def checkpointed(self: RunDir, target: Path | None = None) -> Iterator[Path]:
        with writing(self, target) as tmp:
            yield tmp
        last = target is None or Path(target) == self.last
        runs[-1].events.append(("checkpoint", "last" if last else "best"))

    monkeypatch.setattr(RunDir, "log", logged)
    monkeypatch.setattr(RunDir, "writing_checkpoint", checkpointed)
    monitoring.register_event_duration_secs_listener(on_duration)
    try:
        yield
    finally:
        monitoring.unregister_event_duration_listener(on_duration)


def _train(monkeypatch: pytest.MonkeyPatch, variant: str, out: Path,
           tc: TrainConfig = TC) -> list[Run]:
    """The run stopped at :data:`STOP_AT`, then its resumption to the end."""
    model = {**TINY_MODEL, **LATENT[variant]}
    runs: list[Run] = []
    with recording(monkeypatch, runs):
        for label, resume, until in (("first run", False, STOP_AT), ("resumed run", True, None)):
            runs.append(Run(label))
            loop = Loop(variant, out, tc, model, resume=resume, progress=False,
                        steps_per_dispatch=STEPS_PER_DISPATCH)
            result = loop.run(until)
            assert result.step == (until or tc.max_steps)
            runs[-1].train_compiles = (loop._one_step._cache_size(),
                                       loop._chunk_step._cache_size())
            runs[-1].eval_compiles = loop._eval_step._cache_size()
    return runs


@pytest.mark.parametrize("variant", ["beta-vae", "cvae", "vqvae"])
def test_nothing_recompiles_during_a_run(world, tmp_path, monkeypatch, variant) -> None:
    runs = _train(monkeypatch, variant, tmp_path / "run")
    assert [p for run in runs for p in run.problems()] == []
    # the premises: after its first cycle each run starts a new epoch, the resumed one also
    # validates twice (a partial last batch each time)
    first, resumed = ([(kind, value) for kind, value in run.events if kind in ("log", "val")]
                      for run in runs)
    log, val = "log", "val"  # ("log", epoch of the row), ("val", step)
    assert first == [(log, 0), (log, 0), (val, 5), (log, 0), (log, 1)]  # steps 2, 4, 5, 6, 8
    assert resumed == [(log, 1), (val, 10), (log, 1), (log, 2), (val, 15), (log, 2), (log, 2),
                       (log, 3), (val, 20)]  # steps 10, 10, 12, 14, 15, 16, 18, 20, 20
    assert all(run.eval_compiles >= 1 for run in runs)
    assert all(run.train_compiles == (1, 1) for run in runs)  # chunks and single steps ran


def test_the_check_catches_an_injected_recompilation(world, tmp_path, monkeypatch) -> None:
    """The loop's jitted functions with the step number static (the eval step's last argument,
    the run's length, which does not change): the train step re-compiles every step. With a
    log row per step, every dispatch is a single step."""
    jit = jax.jit

    def last_argument_static(fun: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        module = getattr(fun, "__module__", "")
        if module == "zoo.training.chunks":
            kwargs["static_argnums"] = 4  # (state, x, labels, base, step, flag)
        elif module.startswith("zoo.training"):
            kwargs["static_argnums"] = -1
        return jit(fun, *args, **kwargs)

    monkeypatch.setattr(jax, "jit", last_argument_static)
    tc = TC.replace(max_steps=11, eval_every=3, checkpoint_every=2, log_every=1)
    first, resumed = _train(monkeypatch, "beta-vae", tmp_path / "run", tc)
    assert first.train_compiles == (STOP_AT, 0) and resumed.train_compiles == (2, 0)
    assert "first run: the train step compiled 9 times, the chunk of steps 0 times" \
        in first.problems()
    assert any("after its first log/eval/checkpoint cycle" in p for p in first.problems())

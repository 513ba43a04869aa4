"""The members of a sweep as ordinary runs, and the sweep directory that holds them.

Layout of a sweep directory ``DIR``::

    sweep.json           variant, axes, train config, fixed model overrides, member names
                         (what makes the sweep this sweep: ``--resume`` must match it)
    state.json           members that diverged, and at which step (written when one does)
    <member>/            one run directory per member (:mod:`zoo.runs`), exactly what
                         ``zoo train`` writes for that member's settings: loadable,
                         evaluable and resumable with ``zoo train ... --resume``
    summary.json         one entry per member (:mod:`zoo.training.sweep_report`)
    summary.png          the members' curves

A :class:`MemberRun` keeps one member's host-side model and optimizer (built with the member's
own config and learning rate, so its checkpoints have the structure a ``zoo train`` run's have),
its run directory and its metrics loggers (:mod:`~zoo.training.loggers`: each row of its
``metrics.jsonl`` goes to them too, as in ``zoo train``); the training state itself lives
stacked on the device (:mod:`zoo.training.sweep`).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from flax import nnx

from zoo import building
from zoo._io import atomic_write_text
from zoo.config import Config
from zoo.runs import RunDir, RunError
from zoo.specs import VariantSpec
from zoo.training import checkpoints
from zoo.training.config import identity, make_optimizer
from zoo.training.faults import check_parameters
from zoo.training.loggers import LoggerSet
from zoo.training.pending import Pending
from zoo.training.sweep_grid import Grid, Member

__all__ = ["MemberRun", "claim_sweep", "read_state", "write_state"]

SWEEP_FILE = "sweep.json"
STATE_FILE = "state.json"


def claim_sweep(out: Path, grid: Grid, *, resume: bool) -> None:
    """Make ``out`` the home of ``grid``'s sweep (a new or empty directory), or check that it is
    when resuming. Nothing is written or deleted when it belongs to something else."""
    ident = grid.identity()
    path = out / SWEEP_FILE
    if resume:
        if not path.is_file():
            raise RunError(f"cannot resume: {str(out)!r} holds no sweep ({SWEEP_FILE} missing); "
                           "start a new sweep without --resume")
        old = json.loads(path.read_text(encoding="utf-8"))
        if old != ident:
            diff = sorted(k for k in set(old) | set(ident) if old.get(k) != ident.get(k))
            raise RunError(f"cannot resume the sweep in {str(out)!r}: it was started with a "
                           f"different {', '.join(diff)}. Resume with the same arguments, or "
                           "pick another --out")
        return
    if out.exists() and any(out.iterdir()):
        what = "another sweep" if path.is_file() else "other files"
        raise RunError(f"{str(out)!r} already holds {what}; pass --resume to continue that "
                       "sweep or choose an empty --out directory (nothing was overwritten)")
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(ident, indent=2) + "\n")


def read_state(out: Path) -> dict[str, int]:
    """Members that diverged -> the step whose metrics were non-finite."""
    path = out / STATE_FILE
    if not path.is_file():
        return {}
    return {k: int(v) for k, v in json.loads(path.read_text(encoding="utf-8"))
            .get("diverged", {}).items()}


def write_state(out: Path, diverged: dict[str, int]) -> None:
    atomic_write_text(out / STATE_FILE, json.dumps({"diverged": diverged}, indent=2) + "\n")


class MemberRun:
    """One member: its configs, host model and optimizer, run directory and position."""

    def __init__(self, spec: VariantSpec, member: Member, config: Config, out: Path,
                 total: int) -> None:
        self.spec, self.member, self.config = spec, member, config
        self.tc = member.train_config
        self.run_dir = RunDir(out / member.name)
        self.model = building.build(spec, config, seed=self.tc.seed)
        self.model.train()
        self.opt = nnx.Optimizer(self.model, make_optimizer(self.tc, total), wrt=nnx.Param)
        self.best = math.inf
        #: metrics of the steps not yet logged; the 1-based step whose metrics went non-finite
        self.pending = Pending()
        self.diverged_at: int | None = None
        self.final_step = 0
        #: where its rows go besides metrics.jsonl (the sweep sets and closes them)
        self.loggers = LoggerSet()

    @property
    def name(self) -> str:
        return self.member.name

    def claim(self, resume: bool) -> dict[str, Any] | None:
        """Claim the run directory; on resume restore the last checkpoint and return its
        ``trainer.json`` (None: nothing to resume from, start at step 0)."""
        ident = identity(self.spec.name, self.config, self.tc, 1)
        if not self.run_dir.claim(ident, resume=resume):
            return None
        trainer = checkpoints.restore(self.run_dir, self.model, self.opt)
        _, _, _, self.best, pending = checkpoints.position(trainer)
        self.pending = Pending(pending)
        return trainer

    def state(self) -> Any:
        return nnx.state((self.model, self.opt))

    def take(self, state: Any) -> None:
        """Copy this member's slice of the stacked state (host-local) into its model."""
        nnx.update((self.model, self.opt), state)

    def log(self, row: dict[str, Any]) -> None:
        """Append one row (with its ``step``) to ``metrics.jsonl``, then hand it to the
        member's loggers."""
        self.run_dir.log([row])
        self.loggers.log(row)

    def checkpoint(self, step: int, epoch: int, batch_index: int) -> None:
        """Save the last checkpoint (the model must hold the state); :class:`TrainingDiverged`
        if its parameters are not all finite (nothing is written then)."""
        check_parameters(self.spec, self.model, step, self.run_dir.last)
        trainer = checkpoints.trainer_json(step, epoch, batch_index, self.best,
                                           self.pending.rows())
        checkpoints.save(self.run_dir, self.model, self.opt, trainer)
        self.final_step = step

    def improves(self, metrics: dict[str, float]) -> bool:
        """Whether validation ``metrics`` make a new ``best/``."""
        return math.isfinite(metrics["loss"]) and metrics["loss"] < self.best

    def validated(self, step: int, metrics: dict[str, float]) -> None:
        """Log validation ``metrics`` and, when they :meth:`improves`, promote the model (which
        must then hold the state validated; :class:`TrainingDiverged` if its parameters are not
        all finite, before anything is promoted)."""
        self.log({"step": step, **{f"val/{k}": v for k, v in metrics.items()}})
        if self.improves(metrics):
            check_parameters(self.spec, self.model, step, self.run_dir.last)
            self.best = metrics["loss"]
            checkpoints.promote(self.run_dir, self.model)

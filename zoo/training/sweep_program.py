"""The program of a sweep: every member of a grid (:mod:`~zoo.training.sweep_grid`) trained by
one jitted program, vmapped over the members' stacked states (the loop that drives it is
:mod:`~zoo.training.sweep`).

Each member computes what ``zoo train`` computes for its settings: the same batches (the data
order is a function of (seed, epoch), so members of one seed share their batches), the same
noise (``fold_in(key(seed), step)``), the same updates (the optimizer runs at learning rate 1
and its updates are scaled by the member's rate, :func:`~zoo.training.steps.rate_scaled`),
the loss given the member's swept settings as traced scalars; validation with schedules at
their final step; ``best/`` by the lowest finite validation loss; the same checkpoints, log
rows and ``summary.json`` (:mod:`~zoo.training.runlog`). Steps run ``chunk`` at a time in a
``lax.scan`` (:meth:`SweepProgram.chunk`), or one at a time (:meth:`SweepProgram.single`).

A member whose metrics turn non-finite keeps its first bad step in its flag
(:mod:`~zoo.training.chunks`); the host reads the flags at every log, validation and checkpoint
point and from then on never logs, checkpoints or promotes that member (its state goes on
being computed with the others: vmapped members cannot touch each other, and masking every
step's update would cost a pass over the whole stacked state per step).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from zoo import building
from zoo.data import num_batches
from zoo.errors import InputError
from zoo.plugins import get_manager
from zoo.runs import RunError
from zoo.training.chunks import ALL_FINITE, keyed, resolve_steps_per_dispatch
from zoo.training.config import fit_model_config, make_optimizer
from zoo.training.runlog import load_splits
from zoo.training.sharding import key_data
from zoo.training.steps import make_settings_eval_step, make_settings_train_step, rate_scaled
from zoo.training.sweep_checks import (
    guarded_config,
    refuse_control_flow,
    refuse_model_changes,
    setting_dtype,
)
from zoo.training.sweep_grid import Grid
from zoo.training.sweep_members import MemberRun, claim_sweep, read_state

__all__ = ["SweepProgram"]


def _stack(trees: list[Any]) -> Any:
    return jax.tree.map(lambda *leaves: jnp.stack(leaves), *trees)


class SweepProgram:
    """A sweep's members, their stacked state (``state``: every leaf [N, ...]), per-member
    settings, keys and flags, and its compiled programs. Checks every refusal before it writes
    anything; then claims (or, resuming, restores) the sweep directory and every member's."""

    def __init__(self, grid: Grid, out: Path, *, resume: bool, chunk: int | None = None) -> None:
        registry = get_manager().registry
        self.grid, self.out = grid, Path(out)
        self.spec = spec = registry.get_variant(grid.variant)
        self.tc = tc = grid.train_config
        self.train_ds, self.val_ds = load_splits(spec, tc)
        self.steps_per_epoch = num_batches(self.train_ds, tc.batch_size, drop_remainder=True)
        if self.steps_per_epoch == 0:
            raise InputError(f"batch_size {tc.batch_size} is larger than the training split "
                             f"({len(self.train_ds)} examples); lower it")
        self.total = tc.max_steps or tc.epochs * self.steps_per_epoch
        num_classes = registry.get_dataset(tc.dataset).num_classes
        configs = [fit_model_config(spec.default_config.replace(**m.model_overrides),
                                    self.train_ds, num_classes, set(m.model_overrides))
                   for m in grid.members]
        fields = grid.model_fields
        refuse_model_changes(spec, configs[0], {f: grid.axes[f] for f in fields})
        self.graphdef, abstract = self._template(configs[0], fields)
        # a log interval per call, but one step for a CNN on CPU (resolve_steps_per_dispatch)
        model = nnx.merge(self.graphdef, abstract)[0]
        interval = min(50, math.gcd(tc.log_every, tc.eval_every, tc.checkpoint_every))
        self.chunk_size = chunk or (1 if resolve_steps_per_dispatch(0, model) == 1 else interval)
        self._train = make_settings_train_step(spec, configs[0], self.graphdef)
        image = self.train_ds.images.shape[1:]
        example = (abstract, jax.ShapeDtypeStruct((tc.batch_size, *image), jnp.float32),
                   jax.ShapeDtypeStruct((tc.batch_size,), jnp.int32), jax.random.key(0),
                   jnp.int32(0))
        refuse_control_flow(self._train, example, {f: grid.axes[f][0] for f in fields},
                            spec.name)
        # every check passed: now write
        claim_sweep(self.out, grid, resume=resume)
        self.runs = [MemberRun(spec, m, c, self.out, self.total)
                     for m, c in zip(grid.members, configs, strict=True)]
        self._position(resume)
        states = [r.state() for r in self.runs]
        if any(jax.tree.structure(s) != jax.tree.structure(abstract) for s in states):
            raise RunError(f"variant {spec.name!r}: a member's training state does not have "
                           "the structure of the sweep's program; train separate runs instead")
        self.state = _stack(states)
        self.settings = {
            "learning_rate": np.array([r.tc.learning_rate for r in self.runs], np.float32),
            "model": {f: np.array([r.member.values[f] for r in self.runs],
                                  setting_dtype(grid.axes[f][0])) for f in fields}}
        self.seeds = sorted({r.tc.seed for r in self.runs})
        self.data_index = np.array([self.seeds.index(r.tc.seed) for r in self.runs], np.int32)
        self.bases = np.stack([key_data(r.tc.seed) for r in self.runs])
        self.val_bases = np.stack([key_data(r.tc.seed + 1) for r in self.runs])
        self.flags = np.array([r.diverged_at or ALL_FINITE for r in self.runs], np.int32)
        self._compile()

    # -- set-up ------------------------------------------------------------------------------------
    def _template(self, config: Any, fields: list[str]) -> tuple[Any, Any]:
        """The program's graph definition (a model whose swept config fields refuse use, and an
        optimizer at learning rate 1) and its abstract state."""
        tx = rate_scaled(make_optimizer(self.tc.replace(learning_rate=1.0), self.total))

        def build() -> Any:
            model = building.build(self.spec, config, seed=0)
            return model, nnx.Optimizer(model, tx, wrt=nnx.Param)

        model, opt = nnx.eval_shape(build)
        model.config = guarded_config(config, fields)
        model.train()
        graphdef, state = nnx.split((model, opt))
        return graphdef, state

    def _position(self, resume: bool) -> None:
        """Claim every member's run directory; on resume, restore every member and check that
        the members still training stopped at one step."""
        diverged_at = read_state(self.out) if resume else {}
        positions = {}
        for r in self.runs:
            trainer = r.claim(resume)
            r.diverged_at = diverged_at.get(r.name)
            pos = (trainer["step"], trainer["epoch"], trainer["batch_index"]) if trainer \
                else (0, 0, 0)
            r.final_step = pos[0]
            if r.diverged_at is None:
                positions[r.name] = pos
        if len(set(positions.values())) > 1:
            listed = ", ".join(f"{k} at step {v[0]}" for k, v in positions.items())
            raise RunError(f"cannot resume the sweep in {str(self.out)!r}: its members stopped "
                           f"at different steps ({listed}); bring them to one step with `zoo "
                           "train ... --out MEMBER --resume --until-step N`, or start anew")
        self.step, self.epoch, self.batch_index = next(iter(positions.values()), (0, 0, 0))

    def _compile(self) -> None:
        """The vmapped programs: a chunk of steps, one step, and one validation batch."""
        one = keyed(self._train)
        shared = len(self.seeds) == 1  # one data order: every member reads the same batches

        def pick(data: Any, index: Any) -> Any:
            """A member's batches: shared ones unbatched (no per-member copy)."""
            return data[0] if shared else data[index]

        def chunk(state: Any, xs: Any, labels: Any, index: Any, base: Any, step0: Any,
                  flag: Any, settings: Any) -> Any:
            def body(carry: Any, batch: Any) -> Any:
                state, flag, step = carry
                state, metrics, flag = one(state, *batch, base, step, flag, settings)
                return (state, flag, step + 1), metrics

            start = jnp.asarray(step0, jnp.int32)
            (state, flag, _), metrics = jax.lax.scan(body, (state, flag, start),
                                                     (pick(xs, index), pick(labels, index)))
            return state, metrics, flag

        def single(state: Any, x: Any, labels: Any, index: Any, base: Any, step: Any,
                   flag: Any, settings: Any) -> Any:
            return one(state, pick(x, index), pick(labels, index), base, step, flag, settings)

        evaluate = make_settings_eval_step(self.spec, self.runs[0].config, self.graphdef)

        def validate(state: Any, x: Any, labels: Any, base: Any, i: Any, step: Any,
                     settings: Any) -> Any:
            key = jax.random.fold_in(jax.random.wrap_key_data(base), i)
            return evaluate(state, x, labels, key, step, settings)

        axes = (0, None, None, 0, 0, None, 0, 0)
        #: ``(state, xs [S, K, B, ...], labels [S, K, B], data index [N], base keys [N, 2],
        #: step0, flags [N], settings) -> (state, metrics {name: [N, K]}, flags)``; ``S`` the
        #: distinct seeds (a member's batches are ``xs[data index]``)
        self.chunk = jax.jit(jax.vmap(chunk, in_axes=axes), donate_argnums=0)
        #: the same for one step: ``x`` [S, B, ...], metrics ``{name: [N]}``
        self.single = jax.jit(jax.vmap(single, in_axes=axes), donate_argnums=0)
        #: ``(state, x [B, ...], labels [B], validation keys [N, 2], batch index, step,
        #: settings) -> {name: [N]}``
        self.validate = jax.jit(jax.vmap(validate, in_axes=(0, None, None, 0, None, None, 0)))

"""What a failing run tells its user: a loss that does not return (scalar, metrics), and a run
whose metrics went non-finite (whether a checkpoint survives, and what to try: lower the
learning rate, clip gradients, suspect the plugin)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from zoo.errors import PluginError
from zoo.specs import VariantSpec
from zoo.training.config import TrainingDiverged

__all__ = ["check_loss_result", "check_parameters", "diverged"]


def diverged(spec: VariantSpec, bad: list[str], step: int, last: Path) -> TrainingDiverged:
    """The error for ``bad`` (metric names, or "the parameters") turning NaN/inf at ``step``
    (1-based); ``last`` is the run's last checkpoint directory (intact when it exists)."""
    culprit = (
        f"the loss of variant {spec.name!r} (plugin {spec.plugin!r}) may be at fault: its tests "
        "can run zoo's conformance kit (zoo_check_plugin), which checks the loss is finite"
    )
    if last.exists():
        advice = (
            f"the run stopped and the last good checkpoint in {str(last)!r} is intact. Lower "
            "learning_rate or set grad_clip_norm (e.g. 1.0), then --resume or start anew; if it "
            f"happens from the first steps, {culprit}"
        )
    else:
        advice = (
            "the run stopped before its first checkpoint, so there is nothing to resume (start "
            f"anew with a new --out). So early, {culprit}; otherwise lower learning_rate or set "
            "grad_clip_norm (e.g. 1.0)"
        )
    return TrainingDiverged(f"{', '.join(bad)} became non-finite at step {step}; {advice}")


def check_loss_result(spec: VariantSpec, result: Any) -> None:
    """Raise :class:`PluginError` unless a variant's loss returned (scalar loss, dict)."""
    if (isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], dict)
            and jnp.ndim(result[0]) == 0):
        return
    got = (f"an array of shape {jnp.shape(result)} and no metrics"
           if hasattr(result, "shape") else
           f"a {type(result).__name__}" if not isinstance(result, tuple) else
           f"a tuple of {len(result)}" if len(result) != 2 else
           f"a loss of shape {jnp.shape(result[0])} and {type(result[1]).__name__}")
    raise PluginError(
        f"the loss of variant {spec.name!r} (plugin {spec.plugin!r}) returned {got}; a loss "
        "must return (scalar loss, dict of metrics): reduce over the batch (e.g. .mean()) and "
        "fix the plugin, whose tests can run zoo's conformance kit (zoo_check_plugin)")


def check_parameters(spec: VariantSpec, model: Any, step: int, last: Path) -> None:
    """Raise :func:`diverged` unless every parameter of ``model`` (host-local) is finite: an
    update can overflow although its step's metrics were finite, and such a state must never
    be saved."""
    params = jax.tree.leaves(nnx.state(model, nnx.Param))
    if not all(np.isfinite(np.asarray(p)).all() for p in params):
        raise diverged(spec, ["the parameters"], step, last)

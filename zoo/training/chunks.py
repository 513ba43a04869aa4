"""Several training steps per dispatch, and an on-device record of the first non-finite step.

A *chunk* is ``K`` consecutive steps run by one ``jax.lax.scan`` inside one jitted call: the
host hands over ``K`` batches at once (``xs`` [K, B, H, W, C], ``labels`` [K, B]) and waits for
nothing until the next log point. Step ``s`` of a run draws its noise from
``fold_in(base key, s)`` whether it runs alone or inside a chunk, so chunking changes no random
number: a run computes the same function at any chunk length (up to the float rounding of a
differently fused program).

Non-finite metrics are caught without a host sync per step: every step checks its scalar
metrics (the loss, its terms, the gradient norm) on the device and a running ``flag`` (int32,
``-1`` while all is well) keeps the number of the first step whose metrics were not all finite
(steps counted from 1, as ``TrainResult.step`` counts them). The loop reads the flag only at
log, validation and checkpoint points, and stops there, naming that step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

__all__ = ["ACCELERATOR_STEPS_PER_DISPATCH", "all_finite", "dispatch_length",
           "has_convolutions", "keyed", "note_first_bad", "resolve_steps_per_dispatch",
           "scan_steps"]

#: Steps per dispatch that "auto" picks on a GPU or TPU.
ACCELERATOR_STEPS_PER_DISPATCH = 16

#: The flag's value while every step so far had finite metrics.
ALL_FINITE = -1


def resolve_steps_per_dispatch(steps_per_dispatch: int, model: Any = None) -> int:
    """``steps_per_dispatch`` itself when >= 1; for 0 ("auto"):
    :data:`ACCELERATOR_STEPS_PER_DISPATCH` on a GPU or TPU, and on CPU too for a ``model``
    (concrete or abstract) without convolutions; 1 on CPU for one with convolutions, or when
    no model is given.

    On XLA:CPU a step inside ``lax.scan`` (a while loop) runs its convolutions 14x slower than
    the same step dispatched alone (vqvae, batch 128: 180 against 2,496 images/s), while an MLP
    gains 6-7% (beta-vae 30,607 -> 32,628; benchmarks/README.md, "Steps per dispatch"). On an
    accelerator a chunk saves a host round trip per step.
    """
    if steps_per_dispatch:
        return steps_per_dispatch
    if jax.default_backend() != "cpu":
        return ACCELERATOR_STEPS_PER_DISPATCH
    if model is None or has_convolutions(model):
        return 1
    return ACCELERATOR_STEPS_PER_DISPATCH


def has_convolutions(model: Any) -> bool:
    """Whether ``model`` holds an ``nnx.Conv`` or ``nnx.ConvTranspose`` anywhere."""
    from flax import nnx

    return any(isinstance(node, nnx.Conv | nnx.ConvTranspose)
               for _, node in nnx.iter_graph(model))


def all_finite(metrics: dict[str, Any]) -> jax.Array:
    """True (bool scalar) when every scalar metric is finite; non-scalar metrics are ignored."""
    checks = [jnp.all(jnp.isfinite(v)) for v in metrics.values() if jnp.ndim(v) == 0]
    return jnp.all(jnp.stack(checks)) if checks else jnp.asarray(True)


def note_first_bad(flag: jax.Array, metrics: dict[str, Any], step_number: Any) -> jax.Array:
    """The flag after step ``step_number`` (1-based) produced ``metrics``: unchanged once set,
    else ``step_number`` when a metric is non-finite."""
    bad = (flag == ALL_FINITE) & ~all_finite(metrics)
    return jnp.where(bad, jnp.asarray(step_number, jnp.int32), flag).astype(jnp.int32)


def keyed(step_fn: Callable[..., Any]) -> Callable[..., Any]:
    """``step_fn(state, x, labels, key, step, *extra)`` as ``g(state, x, labels, base, step,
    flag, *extra) -> (state, metrics, flag)``: the key is ``fold_in(wrap_key_data(base),
    step)`` (``base`` the run's key data, uint32 [2]) and ``flag`` is updated by
    :func:`note_first_bad`."""

    def one(state: Any, x: Any, labels: Any, base: Any, step: Any, flag: Any,
            *extra: Any) -> Any:
        key = jax.random.fold_in(jax.random.wrap_key_data(base), step)
        state, metrics = step_fn(state, x, labels, key, step, *extra)
        return state, metrics, note_first_bad(flag, metrics, step + 1)

    return one


def scan_steps(step_fn: Callable[..., Any]) -> Callable[..., Any]:
    """``step_fn(state, x, labels, key, step, *extra)`` (one optimizer step,
    :func:`zoo.training.steps.make_train_step`) as a chunk of steps:
    ``chunk(state, xs, labels, base, step0, flag, *extra) -> (state, metrics, flag)``.

    ``xs`` [K, B, ...] and ``labels`` [K, B] are the chunk's batches; step ``step0 + k`` sees
    batch ``k`` and the key ``fold_in(base, step0 + k)``; ``metrics`` are the steps' scalar
    metrics stacked along a new leading axis [K]; ``extra`` is passed unchanged to every step
    (a sweep's per-member settings)."""
    one = keyed(step_fn)

    def chunk(state: Any, xs: Any, labels: Any, base: Any, step0: Any, flag: Any,
              *extra: Any) -> Any:
        def body(carry: Any, batch: Any) -> Any:
            state, flag, step = carry
            state, metrics, flag = one(state, batch[0], batch[1], base, step, flag, *extra)
            return (state, flag, step + 1), metrics

        start = jnp.asarray(step0, jnp.int32)
        (state, flag, _), metrics = jax.lax.scan(body, (state, flag, start), (xs, labels))
        return state, metrics, flag

    return chunk


def dispatch_length(steps_per_dispatch: int, step: int, end: int, every: tuple[int, ...]) -> int:
    """Steps in the next dispatch of a run at ``step`` (steps done): ``steps_per_dispatch``
    when neither ``end`` (the step where the current epoch or the run stops) nor a multiple of
    any of ``every`` (log, validation and checkpoint intervals) comes before the chunk's last
    step, else 1. So only two step programs ever compile, and every point falls between
    dispatches."""
    if steps_per_dispatch == 1:
        return 1
    room = min(end - step, *(n - step % n for n in every))
    return steps_per_dispatch if room >= steps_per_dispatch else 1

"""The pure step functions of training and validation, built for one variant and config: what
the loop jits, and what benchmarks time (so they measure the real step, not a copy).

``state`` is ``nnx.state((model, optimizer))`` and ``graphdef`` its graph definition
(``nnx.split``); ``x`` images [B, H, W, C] in [0, 1], ``labels`` int [B] (ignored by an
unconditional variant), ``key`` the step's PRNG key, ``step`` the global step (schedules).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax.numpy as jnp
import optax
from flax import nnx

from zoo.building import call_variant
from zoo.config import Config
from zoo.specs import VariantSpec
from zoo.training.faults import check_loss_result

__all__ = ["forward_loss", "make_eval_step", "make_train_step"]


def forward_loss(spec: VariantSpec, config: Config, model: Any, x: Any, labels: Any, key: Any,
                 step: Any) -> tuple[Any, dict[str, Any]]:
    """The variant's ``(scalar loss, metrics)`` for one batch; a malformed result is an error
    naming the plugin (caught when traced: shapes are static)."""
    out = call_variant(model, "__call__", x, conditional=spec.conditional, labels=labels,
                       rngs=key)
    result = spec.loss(out, x, config=config, step=step)
    check_loss_result(spec, result)
    return result


def make_train_step(spec: VariantSpec, config: Config, graphdef: Any) -> Callable[..., Any]:
    """``step_fn(state, x, labels, key, step) -> (new state, scalar metrics + grad_norm)``: one
    optimizer step."""

    def loss_fn(model: Any, x: Any, labels: Any, key: Any, step: Any) -> Any:
        return forward_loss(spec, config, model, x, labels, key, step)

    def step_fn(state: Any, x: Any, labels: Any, key: Any, step: Any) -> Any:
        model, opt = nnx.merge(graphdef, state)
        (_, metrics), grads = nnx.value_and_grad(loss_fn, has_aux=True)(
            model, x, labels, key, step)
        opt.update(model, grads)
        scalars = {k: v for k, v in metrics.items() if jnp.ndim(v) == 0}
        scalars["grad_norm"] = optax.tree.norm(grads)
        return nnx.state((model, opt)), scalars

    return step_fn


def make_eval_step(spec: VariantSpec, config: Config, graphdef: Any) -> Callable[..., Any]:
    """``eval_fn(state, x, labels, key, step) -> scalar metrics``, the model in eval mode."""

    def eval_fn(state: Any, x: Any, labels: Any, key: Any, step: Any) -> Any:
        model, _ = nnx.merge(graphdef, state)
        model.eval()
        _, metrics = forward_loss(spec, config, model, x, labels, key, step)
        return {k: v for k, v in metrics.items() if jnp.ndim(v) == 0}

    return eval_fn

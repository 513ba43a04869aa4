"""The pure step functions of training and validation, built for one variant and config: what
the loop jits, and what benchmarks time (so they measure the real step, not a copy).

``state`` is ``nnx.state((model, optimizer))`` and ``graphdef`` its graph definition
(``nnx.split``); ``x`` images [B, H, W, C] in [0, 1], ``labels`` int [B] (ignored by an
unconditional variant), ``key`` the step's PRNG key, ``step`` the global step (schedules).

The *settings* forms (:func:`make_settings_train_step`, :func:`make_settings_eval_step`) take
one more argument, ``settings`` = ``{"learning_rate": scalar, "model": {field: scalar}}``, so
that one jitted program serves many runs (a sweep vmaps it over members): the loss sees a copy
of the config whose ``model`` fields are those (traced) scalars, and the optimizer's updates are
scaled by ``learning_rate``; the optimizer must then be built with learning rate 1
(:func:`rate_scaled`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import nnx

from zoo.building import call_variant
from zoo.config import Config
from zoo.specs import VariantSpec
from zoo.training.faults import check_loss_result

__all__ = ["forward_loss", "make_eval_step", "make_settings_eval_step",
           "make_settings_train_step", "make_train_step", "rate_scaled", "with_values"]


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


def with_values(config: Config, values: Mapping[str, Any]) -> Config:
    """A copy of ``config`` whose fields ``values`` are replaced as given (e.g. by traced
    scalars), bypassing the config's type checks and validation: check the real, Python-valued
    config first."""
    new = copy.copy(config)
    for name, value in values.items():
        object.__setattr__(new, name, value)
    return new


def rate_scaled(tx: Any) -> Any:
    """``tx`` (built with learning rate 1) whose update takes ``learning_rate=`` and scales the
    updates by it. Same state as ``tx``; the same updates as ``tx`` built with that rate for
    every optimizer and schedule of :func:`zoo.training.config.make_optimizer` (each is linear
    in its peak rate)."""

    def update(updates: Any, state: Any, params: Any = None, *, learning_rate: Any) -> Any:
        updates, state = tx.update(updates, state, params)
        return jax.tree.map(lambda u: u * learning_rate, updates), state

    return optax.GradientTransformationExtraArgs(tx.init, update)


def make_settings_train_step(spec: VariantSpec, config: Config,
                             graphdef: Any) -> Callable[..., Any]:
    """``step_fn(state, x, labels, key, step, settings) -> (new state, scalar metrics +
    grad_norm)``; ``graphdef``'s optimizer must be :func:`rate_scaled`."""

    def step_fn(state: Any, x: Any, labels: Any, key: Any, step: Any, settings: Any) -> Any:
        model, opt = nnx.merge(graphdef, state)
        cfg = with_values(config, settings["model"])  # closed over: it holds tracers

        def loss_fn(model: Any) -> Any:
            return forward_loss(spec, cfg, model, x, labels, key, step)

        (_, metrics), grads = nnx.value_and_grad(loss_fn, has_aux=True)(model)
        opt.update(model, grads, learning_rate=settings["learning_rate"])
        scalars = {k: v for k, v in metrics.items() if jnp.ndim(v) == 0}
        scalars["grad_norm"] = optax.tree.norm(grads)
        return nnx.state((model, opt)), scalars

    return step_fn


def make_settings_eval_step(spec: VariantSpec, config: Config,
                            graphdef: Any) -> Callable[..., Any]:
    """``eval_fn(state, x, labels, key, step, settings) -> scalar metrics``, eval mode."""

    def eval_fn(state: Any, x: Any, labels: Any, key: Any, step: Any, settings: Any) -> Any:
        model, _ = nnx.merge(graphdef, state)
        model.eval()
        cfg = with_values(config, settings["model"])
        _, metrics = forward_loss(spec, cfg, model, x, labels, key, step)
        return {k: v for k, v in metrics.items() if jnp.ndim(v) == 0}

    return eval_fn

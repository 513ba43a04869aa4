"""Proof that a PyTorch twin computes the function of its zoo network (run before any timing).

zoo's model is built with its own initialisation; its parameters (and a VQ codebook's state)
are copied into the twin (:mod:`twin_weights`). Both then get the same batch, the same labels
and the same reparameterisation noise (zoo's ``jax.random.normal(key, [B, D])`` for the step's
key, passed to the twin as ``eps``), at a step where the schedules are mid-ramp. Compared:

- Gaussian networks: encoder mean and log-variance, decoder logits, the loss and its terms,
  and the gradient of the loss with respect to every parameter (zoo's ``nnx.grad`` of the
  variant's real loss, mapped to torch layout by the same permutations as the weights);
- VQ-VAE, in training mode (EMA on): encoder outputs z_e, code indices (exactly), logits, the
  loss, commitment and perplexity, every parameter's gradient, and the EMA update itself
  (cluster sizes, sums and codebook after the step, steps since last use). A second check
  marks every code as about to die: the set of codes reset must be the same (the codes this
  batch did not use), their statistics restart identically, and each reset code must be one of
  the batch's encoder outputs in both frameworks; which output a code gets is drawn from each
  framework's own random stream, so those rows are checked for membership, not equality.

The error of an array is ``max|zoo - torch| / max|zoo|``; a twin matches when every error is
within ``tol`` (1e-4) and integer results (indices, step counters) are equal.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from networks import Network
from twin_weights import load_zoo_weights, zoo_tensors
from twins import build_twin, schedule_weight
from zoo_side import synthetic_batches

__all__ = ["TwinMismatch", "check_twin"]

TOLERANCE = 1e-4
PARITY_STEP = 1000  # beta mid-ramp (1 -> 4 over 5,000 steps), capacity 1 nat of 25


class TwinMismatch(AssertionError):
    """A twin does not compute its zoo network's function."""


def _rel(ref: Any, got: Any) -> float:
    ref, got = np.asarray(ref, np.float64), np.asarray(got, np.float64)
    if ref.shape != got.shape:
        return float("inf")
    return float(np.max(np.abs(ref - got)) / max(float(np.max(np.abs(ref))), 1e-30))


def _nchw(a: Any) -> np.ndarray:
    return np.asarray(a).transpose(0, 3, 1, 2)


def _zoo_run(net: Network, model: Any, x: np.ndarray, labels: np.ndarray, key: Any) -> Any:
    """zoo's outputs, loss metrics and gradients (in torch layout) on clones of ``model``; the
    second clone carries the state after the step (a VQ codebook's EMA update)."""
    from flax import nnx

    import zoo
    from zoo.building import call_variant
    from zoo.training.steps import forward_loss

    spec = zoo.get_variant(net.variant)
    outs = call_variant(nnx.clone(model), "__call__", x, conditional=spec.conditional,
                        labels=labels, rngs=key)
    stepped = nnx.clone(model)
    (_, metrics), grads = nnx.value_and_grad(
        lambda m: forward_loss(spec, model.config, m, x, labels, key, PARITY_STEP),
        has_aux=True)(stepped)
    as_grads = nnx.clone(model)
    nnx.update(as_grads, grads)
    return outs, metrics, zoo_tensors(as_grads), zoo_tensors(stepped)


def _compare_grads(errors: dict[str, float], twin: Any, zoo_grads: dict) -> None:
    for name, param in twin.named_parameters():
        errors[f"grad {name}"] = _rel(zoo_grads[name], param.grad.numpy())


def _vq_state(errors: dict[str, float], twin: Any, zoo_state: dict, z: np.ndarray,
              unused: np.ndarray, reset: bool) -> None:
    twin_state = {k: v.numpy() for k, v in twin.state_dict().items()}
    errors["steps_since_used (exact)"] = float(
        not np.array_equal(zoo_state["steps_since_used"], twin_state["steps_since_used"]))
    if not reset:
        for name in ("cluster_size", "embed_sum", "codebook"):
            errors[f"EMA {name}"] = _rel(zoo_state[name], twin_state[name])
        return
    dead = unused  # every code was one step from its threshold: the unused ones die
    errors["reset codes (restarted, exact)"] = float(
        not dead.any() or not all((s["cluster_size"][dead] == 1.0).all()
                                  for s in (zoo_state, twin_state)))
    live = ~dead
    for name in ("cluster_size", "embed_sum", "codebook"):
        errors[f"EMA {name} (kept codes)"] = _rel(zoo_state[name][live], twin_state[name][live])
    for who, state in (("zoo", zoo_state), ("twin", twin_state)):
        rows = state["codebook"][dead]
        gap = np.min(np.abs(rows[:, None, :] - z[None, :, :]).max(-1), axis=1)
        errors[f"reset codes are encoder outputs ({who})"] = float(gap.max())
        errors[f"reset embed_sum = code ({who})"] = _rel(rows, state["embed_sum"][dead])


def check_twin(net: Network, *, batch: int = 16, seed: int = 0, tol: float = TOLERANCE,
               reset: bool = False) -> dict[str, float]:
    """Compare ``net``'s twin with zoo's network; returns every error, raises
    :class:`TwinMismatch` naming those above ``tol``. ``reset`` (VQ-VAE): the dead-code check."""
    import jax
    import torch

    import zoo
    from zoo import building

    spec, config = zoo.get_variant(net.variant), net.config()
    model = building.build(spec, config, seed=seed)
    model.train()
    vq = hasattr(model, "quantizer")
    if vq and reset:
        q = model.quantizer
        q.steps_since_used.set_value(q.steps_since_used.get_value() + q.dead_code_threshold - 1)
    twin = build_twin(net.variant, config)
    load_zoo_weights(twin, model)
    twin.train()
    x, labels = synthetic_batches(config, batch, 1, seed=seed)[0]
    key = jax.random.key(seed + 1)
    outs, metrics, zoo_grads, zoo_state = _zoo_run(net, model, x, labels, key)

    xt, lt = torch.from_numpy(_nchw(x).copy()), torch.from_numpy(labels).long()
    weight = torch.tensor(schedule_weight(net.variant, config, PARITY_STEP))
    errors: dict[str, float] = {}
    if vq:
        tout = twin.outputs(xt)
        loss, tmetrics = twin.loss(tout, xt)
        errors["z_e"] = _rel(_nchw(outs["z_e"]), tout["z_e"].detach().numpy())
        errors["indices (exact)"] = float(
            not np.array_equal(np.asarray(outs["indices"]), tout["indices"].numpy()))
        keys = ("loss", "reconstruction_loss", "commitment_loss", "perplexity", "codes_used")
    else:
        eps = jax.random.normal(key, outs["mean"].shape, outs["mean"].dtype)
        tout = twin.outputs(xt, lt, torch.from_numpy(np.asarray(eps).copy()))
        loss, tmetrics = twin.loss(tout, xt, weight)
        for name in ("mean", "logvar", "z"):
            errors[name] = _rel(outs[name], tout[name].detach().numpy())
        keys = ("loss", "reconstruction_loss", "kl_loss")
    errors["logits"] = _rel(_nchw(outs["logits"]), tout["logits"].detach().numpy())
    for name in keys:
        errors[f"metric {name}"] = _rel(metrics[name], tmetrics[name].detach().numpy())
    twin.zero_grad(set_to_none=True)
    loss.backward()
    _compare_grads(errors, twin, zoo_grads)
    if vq:
        z = np.asarray(outs["z_e"]).reshape(-1, config.embedding_dim)
        unused = np.bincount(np.asarray(outs["indices"]).ravel(),
                             minlength=config.num_embeddings) == 0
        _vq_state(errors, twin, zoo_state, z, unused, reset)
    bad = {k: v for k, v in errors.items() if not v <= tol}
    if bad:
        worst = ", ".join(f"{k}: {v:.3g}" for k, v in sorted(bad.items(), key=lambda kv: -kv[1]))
        raise TwinMismatch(f"{net.name}: the twin differs from zoo's function ({worst})")
    return errors

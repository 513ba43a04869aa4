"""Evaluation of Gaussian-latent models: reconstruction, ELBO, KL per dimension, active units,
mutual information with labels, MIG/DCI/SAP on data with factors, importance-weighted NLL."""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from zoo.evaluate._common import batches_of, call
from zoo.evaluate.progress import num_batches, stage, tracked
from zoo.losses import bernoulli_nll, gaussian_kl, reconstruction_nll
from zoo.metrics.points import disentanglement_points

__all__ = ["disentanglement_pass", "disentanglement_points", "gaussian_pass", "iw_nll"]


def gaussian_pass(model: Any, conditional: bool, ds: Any, batch_size: int, binarize: bool,
                   seed: int, points: int, dci_model: str, progress: bool = False
                   ) -> dict[str, Any]:
    from zoo.metrics import latents

    bernoulli = model.config.reconstruction_loss == "bernoulli"

    @nnx.jit
    def step(model: Any, x: Any, labels: Any, key: Any) -> Any:
        mean, logvar = call(model, conditional, "encode", x, labels=labels)
        recon = jax.nn.sigmoid(call(model, conditional, "decode_logits", mean, labels=labels))
        z = mean + jnp.exp(0.5 * logvar) * jax.random.normal(key, mean.shape)
        logits = call(model, conditional, "decode_logits", z, labels=labels)
        rec = reconstruction_nll(logits, x, "bernoulli")
        kl = gaussian_kl(mean, logvar).sum(-1)
        sq = jnp.square(recon - x).reshape(x.shape[0], -1).mean(-1)
        return mean, logvar, sq, rec + kl

    means, logvars, sq, nelbo = [], [], [], []
    key = jax.random.key(seed)
    for i, b in enumerate(tracked(batches_of(ds, batch_size, binarize, seed),
                                  f"encode + reconstruct {len(ds):,} examples",
                                  num_batches(len(ds), batch_size), progress)):
        out = step(model, jnp.asarray(b["x"]), b.get("labels"), jax.random.fold_in(key, i))
        for acc, value in zip((means, logvars, sq, nelbo), out, strict=True):
            acc.append(np.asarray(value))
    mean, logvar = np.concatenate(means), np.concatenate(logvars)
    kl_dim = latents.kl_per_dimension(mean, logvar)
    au_var_mask, au_var = latents.active_units_variance(mean, threshold=0.01)
    res: dict[str, Any] = {
        "reconstruction_mse": float(np.concatenate(sq).mean()),
        "kl_per_dim": np.asarray(kl_dim).tolist(),
        "kl_total": float(np.sum(kl_dim)),
        "active_units_variance": int(au_var),
        "active_units_variance_mask": np.asarray(au_var_mask).tolist(),
    }
    # Burda et al.'s covariance rule Cov_x(E[z_u]) > 0.01 is the variance rule above; the other
    # common definition counts units whose average KL exceeds 0.01 nats.
    res["active_units_kl"] = int(latents.active_units_kl(mean, logvar, threshold=0.01)[1])
    if bernoulli:
        res["negative_elbo"] = float(np.concatenate(nelbo).mean())
    if ds.labels is not None:
        mi = latents.mutual_information_with_labels(mean, np.asarray(ds.labels))
        res["mutual_information_with_labels"] = np.asarray(mi).tolist()
    if ds.factors is not None and points:
        res |= _disentanglement(mean, ds, seed, points, dci_model, progress)
    return res


def _disentanglement(codes: np.ndarray, ds: Any, seed: int, points: int, dci_model: str,
                     progress: bool) -> dict:
    """MIG, DCI and SAP of the posterior means ``codes`` [N, D] of all of ``ds``."""
    idx, test_idx = disentanglement_points(len(codes), seed, points)
    factors = np.asarray(ds.factors)
    return _scores(codes[idx], factors[idx], codes[test_idx], factors[test_idx], dci_model,
                   progress)


def _scores(codes: np.ndarray, factors: np.ndarray, test_codes: np.ndarray,
            test_factors: np.ndarray, dci_model: str, progress: bool) -> dict:
    from zoo.metrics import disentanglement as dis

    n = f"{len(codes):,} points"
    with stage(f"MIG on {n}", progress):
        out = {"mig": dis.mig(codes, factors)}
    varying = sum(np.unique(column).size > 1 for column in np.asarray(factors).T)
    with stage(f"DCI ({dci_model}) on {n}", progress, total=varying, unit="factor") as done:
        out["dci"] = dis.dci(codes, factors, test_codes, test_factors, model=dci_model,
                             n_jobs=2, on_factor_done=done)
    with stage(f"SAP on {n}", progress):
        out["sap"] = dis.sap(codes, factors, test_codes, test_factors)
    return {"disentanglement": out}


def disentanglement_pass(model: Any, conditional: bool, ds: Any, batch_size: int, seed: int,
                         points: int, dci_model: str, progress: bool = False
                         ) -> dict[str, Any]:
    """MIG, DCI and SAP alone: the same points and numbers as :func:`gaussian_pass`'s, from
    encoding only those ``points * 3 // 2`` examples instead of the whole split."""
    idx, test_idx = disentanglement_points(len(ds), seed, points)
    chosen = np.concatenate([idx, test_idx])
    encode = nnx.jit(lambda m, x, labels: call(m, conditional, "encode", x, labels=labels)[0])
    sub = ds.subset(chosen)
    codes = np.concatenate([np.asarray(encode(model, jnp.asarray(b["x"]), b.get("labels")))
                            for b in tracked(batches_of(sub, batch_size, False, seed),
                                             f"encode {len(sub):,} points",
                                             num_batches(len(sub), batch_size), progress)])
    factors = np.asarray(sub.factors)
    n = len(idx)
    return _scores(codes[:n], factors[:n], codes[n:], factors[n:], dci_model, progress)


def iw_nll(model: Any, conditional: bool, ds: Any, k: int, chunk: int, batch_size: int,
            binarize: bool, seed: int, progress: bool = False) -> dict[str, Any]:
    from zoo.metrics.likelihood import (
        gaussian_log_density,
        iwae_log_likelihood,
        standard_normal_log_density,
    )

    if model.config.reconstruction_loss != "bernoulli":
        return {"iw_nll_note": "importance-weighted NLL needs a Bernoulli likelihood"}
    chunk = min(chunk, k)

    @nnx.jit
    def log_terms(model: Any, x: Any, labels: Any, key: Any) -> Any:
        mean, logvar = call(model, conditional, "encode", x, labels=labels)
        eps = jax.random.normal(key, (chunk, *mean.shape))
        z = mean + jnp.exp(0.5 * logvar) * eps  # [k, B, D]
        flat_labels = None if labels is None else jnp.tile(labels, chunk)
        logits = call(model, conditional, "decode_logits", z.reshape(-1, z.shape[-1]),
                       labels=flat_labels).reshape(chunk, *x.shape)
        log_px = -bernoulli_nll(logits, jnp.broadcast_to(x, logits.shape)).reshape(
            chunk, x.shape[0], -1).sum(-1)
        return log_px, standard_normal_log_density(z), gaussian_log_density(z, mean, logvar)

    key = jax.random.key(seed + 7)
    nll = []
    small = max(1, min(batch_size, 100))
    for i, b in enumerate(tracked(batches_of(ds, small, binarize, seed),
                                  f"IW-NLL (K={k}) on {len(ds):,} examples",
                                  num_batches(len(ds), small), progress)):
        x = jnp.asarray(b["x"])
        parts = [log_terms(model, x, b.get("labels"), jax.random.fold_in(key, i * 100_000 + j))
                 for j in range(math.ceil(k / chunk))]
        px, pz, qz = (jnp.concatenate([p[t] for p in parts])[:k] for t in range(3))
        nll.append(-np.asarray(iwae_log_likelihood(px, pz, qz)))
    values = np.concatenate(nll)
    return {"iw_nll": float(values.mean()), "iw_nll_stderr": float(values.std() /
            math.sqrt(len(values))), "iw_samples": k, "iw_examples": len(values)}

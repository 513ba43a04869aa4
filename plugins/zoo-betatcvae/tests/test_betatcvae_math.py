"""The estimator math of zoo_betatcvae.tc and the loss built on it: only what is exactly true
(identities, symmetries, constant offsets), plus Monte-Carlo sanity checks on large batches."""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from zoo_betatcvae.config import BetaTCVAEConfig
from zoo_betatcvae.loss import beta_tcvae_loss
from zoo_betatcvae.tc import (
    gaussian_log_density,
    kl_decomposition,
    log_aggregate_posterior,
    log_importance_weights,
    mws_offsets,
    standard_normal_log_density,
)

import zoo
from zoo.losses import gaussian_kl

# JAX compiles every operation once per shape, so the shapes come from a small set (compiled
# once, then cached) and per-example timings mean nothing: no deadline, few examples.
FAST = settings(max_examples=15, deadline=None)


def _posterior(seed: int, b: int, d: int, mean_scale: float = 2.0, logvar_lo: float = -3.0,
               logvar_hi: float = 1.0) -> tuple[jax.Array, jax.Array, jax.Array]:
    rng = np.random.default_rng(seed)
    mean = rng.normal(size=(b, d)) * mean_scale
    logvar = rng.uniform(logvar_lo, logvar_hi, size=(b, d))
    z = mean + np.exp(0.5 * logvar) * rng.normal(size=(b, d))
    return tuple(jnp.asarray(a, jnp.float32) for a in (z, mean, logvar))


def _mc_kl(z: jax.Array, mean: jax.Array, logvar: jax.Array) -> np.ndarray:
    """log q(z_i|x_i) - log p(z_i), computed independently of the decomposition, in float64."""
    z, mean, logvar = (np.asarray(a, np.float64) for a in (z, mean, logvar))
    log_q = -0.5 * (np.log(2 * np.pi) + logvar + (z - mean) ** 2 / np.exp(logvar))
    log_p = -0.5 * (np.log(2 * np.pi) + z**2)
    return (log_q - log_p).sum(-1)


shapes = st.tuples(st.sampled_from([1, 2, 5, 12]), st.sampled_from([1, 4]))
seeds = st.integers(0, 2**31 - 1)
estimators = st.sampled_from(["mws", "mss"])


@FAST
@given(seed=seeds, shape=shapes, estimator=estimators, n=st.integers(12, 10**6))
def test_terms_sum_to_the_monte_carlo_kl(seed, shape, estimator, n) -> None:
    """MI + TC + dimKL = log q(z|x) - log p(z) per example, for either estimator."""
    z, mean, logvar = _posterior(seed, *shape)
    terms = kl_decomposition(z, mean, logvar, dataset_size=n, estimator=estimator)
    total = sum(np.asarray(t, np.float64) for t in terms)
    scale = 1.0 + max(float(np.max(np.abs(np.asarray(t)))) for t in terms)
    np.testing.assert_allclose(total, _mc_kl(z, mean, logvar), rtol=0, atol=1e-5 * scale)


@FAST
@given(seed=seeds, shape=shapes, n=st.integers(12, 10**6), perm_seed=seeds)
def test_mws_is_equivariant_to_permuting_the_batch(seed, shape, n, perm_seed) -> None:
    z, mean, logvar = _posterior(seed, *shape)
    perm = np.random.default_rng(perm_seed).permutation(shape[0])
    ref = kl_decomposition(z, mean, logvar, dataset_size=n)
    got = kl_decomposition(z[perm], mean[perm], logvar[perm], dataset_size=n)
    for r, g in zip(ref, got, strict=True):
        np.testing.assert_allclose(np.asarray(g), np.asarray(r)[perm], rtol=1e-5, atol=1e-4)


@FAST
@given(seed=seeds, shape=shapes, n=st.integers(12, 10**6), shift=st.integers(0, 11))
def test_mss_is_equivariant_to_rotating_the_batch(seed, shape, n, shift) -> None:
    """MSS gives one neighbour (the next example, cyclically) the stratum weight, so the batch
    mean is invariant to rotations (not to arbitrary permutations)."""
    z, mean, logvar = _posterior(seed, *shape)
    roll = np.roll(np.arange(shape[0]), shift)
    ref = kl_decomposition(z, mean, logvar, dataset_size=n, estimator="mss")
    got = kl_decomposition(z[roll], mean[roll], logvar[roll], dataset_size=n, estimator="mss")
    for r, g in zip(ref, got, strict=True):
        np.testing.assert_allclose(np.asarray(g), np.asarray(r)[roll], rtol=1e-5, atol=1e-4)


@functools.partial(jax.jit, static_argnums=3)
def _value_and_grads(z, mean, logvar, estimator):
    def total(z, mean, logvar):
        t = kl_decomposition(z, mean, logvar, dataset_size=60_000, estimator=estimator)
        return sum(x.mean() for x in t), t

    return jax.value_and_grad(total, argnums=(0, 1, 2), has_aux=True)(z, mean, logvar)


@FAST
@given(seed=seeds, shape=shapes, estimator=estimators,
       mean_scale=st.floats(0.0, 30.0), logvar_lo=st.floats(-12.0, 0.0),
       logvar_span=st.floats(0.0, 8.0))
def test_outputs_and_gradients_are_finite(seed, shape, estimator, mean_scale, logvar_lo,
                                          logvar_span) -> None:
    """Far-apart, very narrow or very wide posteriors: no overflow, no NaN, in values or grads."""
    z, mean, logvar = _posterior(seed, *shape, mean_scale=mean_scale, logvar_lo=logvar_lo,
                                 logvar_hi=logvar_lo + logvar_span)

    (value, terms), grads = _value_and_grads(z, mean, logvar, estimator)
    assert np.isfinite(float(value))
    for t in (*terms, *grads):
        assert np.all(np.isfinite(np.asarray(t)))


@FAST
@given(seed=seeds, shape=shapes, n1=st.integers(1, 10**6), n2=st.integers(1, 10**6))
def test_mws_depends_on_dataset_size_only_through_constants(seed, shape, n1, n2) -> None:
    """MWS weighs every term 1/(B N): changing N shifts MI by +log N, TC by +(D-1) log N and
    dimKL by -D log N, exactly (so the gradients do not depend on N)."""
    z, mean, logvar = _posterior(seed, *shape)
    d = shape[1]
    a = kl_decomposition(z, mean, logvar, dataset_size=n1)
    b = kl_decomposition(z, mean, logvar, dataset_size=n2)
    delta = math.log(n2 / n1)
    for ta, tb, k in zip(a, b, (1, d - 1, -d), strict=True):
        np.testing.assert_allclose(np.asarray(tb) - np.asarray(ta), k * delta, rtol=0,
                                   atol=1e-4 * (1 + abs(k * delta) + np.max(np.abs(ta))))


@FAST
@given(seed=seeds, shape=shapes, n=st.integers(1, 10**6))
def test_mws_minus_its_offsets_is_the_batch_average_estimator(seed, shape, n) -> None:
    """Written out independently: log q(z_i) ~= log (1/B) sum_j q(z_i|x_j), marginals alike."""
    z, mean, logvar = _posterior(seed, *shape)
    b, d = shape
    terms = kl_decomposition(z, mean, logvar, dataset_size=n, estimator="mws")
    offsets = mws_offsets(d, n)
    assert math.isclose(sum(offsets), 0.0, abs_tol=1e-9 * (1 + d * math.log(n)))
    zz, mm, lv = (np.asarray(a, np.float64) for a in (z, mean, logvar))

    def log_normal(v, mu, log_var):
        return -0.5 * (math.log(2 * math.pi) + log_var + (v - mu) ** 2 / np.exp(log_var))

    log_q = log_normal(zz[:, None], mm[None], lv[None])  # [B, B, D]
    log_qz = np.logaddexp.reduce(log_q.sum(-1), axis=1) - math.log(b)
    log_qzd = (np.logaddexp.reduce(log_q, axis=1) - math.log(b)).sum(-1)
    own, prior = log_normal(zz, mm, lv).sum(-1), log_normal(zz, 0.0, 0.0).sum(-1)
    expect = (own - log_qz, log_qz - log_qzd, log_qzd - prior)
    for got, off, ref in zip(terms, offsets, expect, strict=True):
        np.testing.assert_allclose(np.asarray(got, np.float64) - off, ref, rtol=0,
                                   atol=1e-4 * (1 + abs(off) + np.max(np.abs(ref))))


@pytest.mark.parametrize("b", [1, 2, 3, 7])
def test_importance_weights(b) -> None:
    n = 50
    mws = log_importance_weights(b, n, "mws")
    np.testing.assert_allclose(mws, -math.log(b * n))
    mss = log_importance_weights(b, n, "mss")
    assert mss.shape == (b, b)
    np.testing.assert_allclose(np.diag(mss), -math.log(n) if b > 1 else 0.0)
    # every row is a probability vector over the batch: log-sum-exp 0
    np.testing.assert_allclose(np.log(np.exp(mss).sum(axis=1)), 0.0, atol=1e-12)
    if b >= 2:
        m = b - 1
        strat = (n - m) / (n * m)
        for i in range(b):
            row = np.exp(mss[i])
            assert math.isclose(row[(i + 1) % b], strat)
            others = [j for j in range(b) if j not in (i, (i + 1) % b)]
            np.testing.assert_allclose(row[others], 1.0 / m)


def test_importance_weights_reject_bad_arguments() -> None:
    with pytest.raises(ValueError, match="dataset_size >= batch size"):
        log_importance_weights(8, 7, "mss")
    log_importance_weights(8, 7, "mws")  # MWS has no such constraint
    with pytest.raises(ValueError, match="unknown estimator"):
        log_importance_weights(4, 10, "bogus")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="dataset_size"):
        log_importance_weights(4, 0)
    with pytest.raises(ValueError, match=r"\[B, D\]"):
        kl_decomposition(jnp.zeros((3, 2)), jnp.zeros((3, 2)), jnp.zeros((3, 3)),
                         dataset_size=10)


@FAST
@given(seed=seeds, shape=shapes, n=st.integers(12, 10**6))
def test_collapsed_posteriors(seed, shape, n) -> None:
    """When every example has the same posterior, q(z) = q(z|x) = prod_d q(z_d): MSS (weights
    summing to 1) finds MI = TC = 0 exactly; MWS finds its constants log N and (D-1) log N."""
    b, d = shape
    z, mean, logvar = _posterior(seed, b, d)
    mean = jnp.broadcast_to(mean[:1], mean.shape)
    logvar = jnp.broadcast_to(logvar[:1], logvar.shape)
    kl = _mc_kl(z, mean, logvar)
    mss = kl_decomposition(z, mean, logvar, dataset_size=n, estimator="mss")
    np.testing.assert_allclose(np.asarray(mss.index_code_mi), 0.0, atol=1e-4)
    np.testing.assert_allclose(np.asarray(mss.total_correlation), 0.0, atol=1e-4)
    np.testing.assert_allclose(np.asarray(mss.dimwise_kl), kl, rtol=1e-4, atol=1e-4)
    mws = kl_decomposition(z, mean, logvar, dataset_size=n, estimator="mws")
    atol = 1e-4 * (1 + d * math.log(n))
    np.testing.assert_allclose(np.asarray(mws.index_code_mi), math.log(n), atol=atol)
    np.testing.assert_allclose(np.asarray(mws.total_correlation), (d - 1) * math.log(n),
                               atol=atol)


def test_log_densities_match_a_reference() -> None:
    z, mean, logvar = _posterior(0, 4, 3)
    ref = -0.5 * (np.log(2 * np.pi) + np.asarray(logvar)
                  + (np.asarray(z) - np.asarray(mean)) ** 2 / np.exp(np.asarray(logvar)))
    np.testing.assert_allclose(np.asarray(gaussian_log_density(z, mean, logvar)), ref,
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(standard_normal_log_density(z)),
                               -0.5 * (np.log(2 * np.pi) + np.asarray(z) ** 2), rtol=1e-6)


# -- Monte-Carlo sanity: large batches from known aggregate posteriors -----------------------------

def _large_batch(correlated: bool, b: int = 1000, d: int = 3, seed: int = 0):
    """Independent data x ~ N(0, I). Factorised case: mean = x, std 0.5, so q(z) = N(0, 1.25 I)
    has independent dimensions (TC = 0). Correlated case: every dimension copies x[0], std 0.1,
    so q(z) concentrates on the diagonal (TC = 0.5 * (3 log 1.01 - log(1e-4 * 3.01)) ~ 4.07)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(b, d))
    if correlated:
        mean, std = np.repeat(x[:, :1], d, axis=1), 0.1
    else:
        mean, std = x, 0.5
    logvar = np.full((b, d), 2 * np.log(std))
    z = mean + std * rng.normal(size=(b, d))
    return tuple(jnp.asarray(a, jnp.float32) for a in (z, mean, logvar))


TRUE_TC_CORRELATED = 0.5 * (3 * math.log(1.01) - math.log(1e-4 * 3.01))


@pytest.mark.parametrize("estimator", ["mws", "mss"])
def test_monte_carlo_total_correlation(estimator) -> None:
    """The TC estimate is near 0 for a factorised aggregate posterior and near the true value
    (about 4 nats) for strongly correlated latents. MWS values are compared after removing its
    constant offset (D - 1) log N; MSS needs no correction."""
    n, d = 10**9, 3
    offset = (d - 1) * math.log(n) if estimator == "mws" else 0.0
    tc = {}
    for correlated in (False, True):
        z, mean, logvar = _large_batch(correlated, d=d)
        terms = kl_decomposition(z, mean, logvar, dataset_size=n, estimator=estimator)
        tc[correlated] = float(terms.total_correlation.mean()) - offset
    assert abs(tc[False]) < 0.1, tc
    assert tc[True] > 2.0, tc
    assert abs(tc[True] - TRUE_TC_CORRELATED) < 0.5, (tc, TRUE_TC_CORRELATED)


def test_monte_carlo_aggregate_posterior_density() -> None:
    """MSS with N >> B estimates log q(z) of the factorised case, N(0, 1.25 I), closely."""
    z, mean, logvar = _large_batch(False)
    log_qz, log_prod = log_aggregate_posterior(z, mean, logvar, dataset_size=10**9,
                                               estimator="mss")
    zz = np.asarray(z, np.float64)
    truth = (-0.5 * (np.log(2 * np.pi * 1.25) + zz**2 / 1.25)).sum(-1)
    assert abs(float(np.mean(np.asarray(log_qz) - truth))) < 0.05
    assert abs(float(np.mean(np.asarray(log_prod) - truth))) < 0.05


# -- the loss -------------------------------------------------------------------------------------

TINY = BetaTCVAEConfig(height=8, width=8, hidden_dims=(8,), latent_dim=3)


def _outputs(seed: int, b: int = 6, d: int = 3) -> tuple[dict, jax.Array]:
    z, mean, logvar = _posterior(seed, b, d)
    rng = np.random.default_rng(seed + 1)
    x = jnp.asarray(rng.random((b, 8, 8, 1)), jnp.float32)
    logits = jnp.asarray(rng.normal(size=(b, 8, 8, 1)) * 3, jnp.float32)
    return {"logits": logits, "mean": mean, "logvar": logvar, "z": z}, x


@FAST
@given(seed=seeds, estimator=estimators, n=st.integers(6, 10**6))
def test_unit_weights_give_the_vae_objective(seed, estimator, n) -> None:
    """alpha = beta = gamma = 1: the KL part of the loss is MI + TC + dimKL, which is the
    single-sample Monte-Carlo KL, whatever the estimator."""
    outputs, x = _outputs(seed)
    cfg = TINY.replace(alpha=1.0, beta=1.0, gamma=1.0, dataset_size=n, estimator=estimator)
    loss, m = beta_tcvae_loss(outputs, x, config=cfg, step=0)
    kl_part = float(loss) - float(m["reconstruction_loss"])
    three = float(m["index_code_mi"] + m["total_correlation"] + m["dimwise_kl"])
    mc = float(np.mean(_mc_kl(outputs["z"], outputs["mean"], outputs["logvar"])))
    scale = 1 + float(m["reconstruction_loss"]) + 3 * math.log(n)
    assert math.isclose(kl_part, three, rel_tol=0, abs_tol=2e-6 * scale)
    assert math.isclose(kl_part, mc, rel_tol=0, abs_tol=2e-6 * scale)


@FAST
@given(seed=seeds, alpha=st.floats(0, 10), beta=st.floats(0, 20), gamma=st.floats(0, 10),
       estimator=estimators)
def test_loss_weights_each_term(seed, alpha, beta, gamma, estimator) -> None:
    outputs, x = _outputs(seed)
    cfg = TINY.replace(alpha=alpha, beta=beta, gamma=gamma, estimator=estimator)
    loss, m = beta_tcvae_loss(outputs, x, config=cfg, step=0)
    terms = kl_decomposition(outputs["z"], outputs["mean"], outputs["logvar"],
                             dataset_size=cfg.dataset_size, estimator=estimator)
    offsets = mws_offsets(3, cfg.dataset_size) if estimator == "mws" else (0.0, 0.0, 0.0)
    mi, tc, dimwise = (float(t.mean()) - o for t, o in zip(terms, offsets, strict=True))
    for key, value in zip(("index_code_mi", "total_correlation", "dimwise_kl"), (mi, tc, dimwise),
                          strict=True):
        assert math.isclose(float(m[key]), value, rel_tol=1e-5, abs_tol=1e-3)
    expect = float(m["reconstruction_loss"]) + alpha * mi + beta * tc + gamma * dimwise
    assert math.isclose(float(loss), expect, rel_tol=1e-5, abs_tol=1e-3)
    assert float(m["loss"]) == float(loss)


@pytest.mark.parametrize("estimator", ["mws", "mss"])
def test_loss_gradients_are_the_papers_objective(estimator) -> None:
    """Dropping MWS's offsets changes the loss by a constant only: its gradients with respect to
    every output equal those of the paper's raw objective."""
    outputs, x = _outputs(5)
    cfg = TINY.replace(beta=6.0, gamma=2.0, estimator=estimator)

    def raw(out):
        terms = kl_decomposition(out["z"], out["mean"], out["logvar"],
                                 dataset_size=cfg.dataset_size, estimator=estimator)
        rec = beta_tcvae_loss(out, x, config=cfg, step=0)[1]["reconstruction_loss"]
        return rec + sum(w * t.mean() for w, t in zip((cfg.alpha, cfg.beta, cfg.gamma), terms,
                                                       strict=True))

    ours = jax.grad(lambda out: beta_tcvae_loss(out, x, config=cfg, step=0)[0])(outputs)
    theirs = jax.grad(raw)(outputs)
    for key in outputs:
        np.testing.assert_allclose(np.asarray(ours[key]), np.asarray(theirs[key]), rtol=1e-4,
                                   atol=1e-5)
    if estimator == "mws":  # the values differ by (alpha + beta (D-1) - gamma D) log N
        const = (cfg.alpha + cfg.beta * 2 - cfg.gamma * 3) * math.log(cfg.dataset_size)
        ours_value = float(beta_tcvae_loss(outputs, x, config=cfg, step=0)[0])
        assert math.isclose(float(raw(outputs)) - ours_value, const, rel_tol=1e-4)


@FAST
@given(seed=seeds, start=st.floats(0, 200), steps=st.integers(1, 10_000), frac=st.floats(0, 2),
       estimator=estimators)
def test_the_warm_up_scales_the_weighted_kl_part(seed, start, steps, frac, estimator) -> None:
    """kl_scale_start/kl_scale_steps multiply alpha MI + beta TC + gamma dimKL by a factor that
    falls linearly from kl_scale_start at step 0 to 1 at kl_scale_steps and stays 1; the terms
    themselves are those of the constant-weight loss."""
    outputs, x = _outputs(seed)
    plain_cfg = TINY.replace(beta=6.0, gamma=2.0, estimator=estimator)
    step = int(frac * steps)
    plain_loss, plain = beta_tcvae_loss(outputs, x, config=plain_cfg, step=step)
    cfg = plain_cfg.replace(kl_scale_start=start, kl_scale_steps=steps)
    loss, m = beta_tcvae_loss(outputs, x, config=cfg, step=step)
    factor = start + (1.0 - start) * min(step / steps, 1.0)
    kl_part = float(plain_loss) - float(plain["reconstruction_loss"])
    assert math.isclose(float(m["kl_scale"]), factor, rel_tol=1e-5, abs_tol=1e-5)
    expect = float(plain["reconstruction_loss"]) + factor * kl_part
    assert math.isclose(float(loss), expect, rel_tol=1e-5, abs_tol=1e-4 * (1 + abs(kl_part)))
    for key in ("reconstruction_loss", "kl_loss", "index_code_mi", "total_correlation",
                "dimwise_kl"):
        assert float(m[key]) == float(plain[key])
    if step >= steps:
        assert float(loss) == float(plain_loss)


def test_the_warm_up_takes_a_traced_step_and_defaults_to_constant_weights() -> None:
    outputs, x = _outputs(2)
    cfg = TINY.replace(beta=6.0, kl_scale_start=50.0, kl_scale_steps=100)
    jitted = jax.jit(lambda s: beta_tcvae_loss(outputs, x, config=cfg, step=s)[0])
    for step in (0, 37, 100, 250):
        eager = float(beta_tcvae_loss(outputs, x, config=cfg, step=step)[0])
        assert math.isclose(float(jitted(jnp.asarray(step))), eager, rel_tol=1e-5)
    constant = [float(beta_tcvae_loss(outputs, x, config=TINY, step=s)[0]) for s in (0, 10**6)]
    assert constant[0] == constant[1]


@pytest.mark.parametrize("field", ["kl_scale_start", "kl_scale_steps"])
def test_a_negative_warm_up_is_a_config_error(field) -> None:
    with pytest.raises(zoo.ConfigError, match=field):
        TINY.replace(**{field: -1}).validate()


def test_loss_metrics() -> None:
    outputs, x = _outputs(3)
    _, m = beta_tcvae_loss(outputs, x, config=TINY, step=0)
    assert {"loss", "reconstruction_loss", "kl_loss", "negative_elbo", "index_code_mi",
            "total_correlation", "dimwise_kl", "kl_per_dim", "kl_scale"} <= set(m)
    kl = np.sum(np.asarray(gaussian_kl(outputs["mean"], outputs["logvar"])), axis=1).mean()
    np.testing.assert_allclose(float(m["kl_loss"]), kl, rtol=1e-5)
    np.testing.assert_allclose(float(m["negative_elbo"]),
                               float(m["reconstruction_loss"] + m["kl_loss"]), rtol=1e-6)
    assert m["kl_per_dim"].shape == (3,)
    # a squared-error reconstruction is no likelihood: no negative ELBO is reported
    _, m = beta_tcvae_loss(outputs, x, config=TINY.replace(reconstruction_loss="mse"), step=0)
    assert "negative_elbo" not in m


def test_mss_with_a_batch_larger_than_the_dataset_is_a_config_error() -> None:
    outputs, x = _outputs(0, b=6)
    with pytest.raises(zoo.ConfigError, match="dataset_size"):
        beta_tcvae_loss(outputs, x, config=TINY.replace(estimator="mss", dataset_size=5), step=0)
    beta_tcvae_loss(outputs, x, config=TINY.replace(estimator="mws", dataset_size=5), step=0)


@FAST
@given(seed=seeds, n1=st.integers(6, 10**7), n2=st.integers(6, 10**7))
def test_mws_loss_does_not_depend_on_dataset_size(seed, n1, n2) -> None:
    """With the offsets removed, N (which the user may forget to set) changes nothing under MWS."""
    outputs, x = _outputs(seed)
    m1, m2 = (beta_tcvae_loss(outputs, x, config=TINY.replace(dataset_size=n), step=0)[1]
              for n in (n1, n2))
    scale = 1 + abs(float(m1["reconstruction_loss"])) + 3 * math.log(max(n1, n2))
    for key in ("loss", "index_code_mi", "total_correlation", "dimwise_kl"):
        assert math.isclose(float(m1[key]), float(m2[key]), rel_tol=0, abs_tol=1e-5 * scale)

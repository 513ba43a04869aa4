"""``zoo eval``: the field's metrics for a trained model on a dataset split, as one JSON dict.

What is measured depends on the model and the data:

- every model: reconstruction MSE per pixel (deterministic reconstruction, [0, 1] images);
- Gaussian-latent models (beta-VAE, CVAE): negative ELBO (one sample, nats per image, Bernoulli
  likelihood only), importance-weighted NLL with K samples, KL per latent dimension, active units
  (two definitions), mutual information between each latent and the labels;
- data with ground-truth factors (dSprites): MIG, DCI, SAP on posterior means;
- VQ-VAE: perplexity per batch and over the whole split, codes used, dead codes, usage counts;
- conditional models with a classifier: conditional accuracy and FID on classifier features;
- classifiers (variant kind ``"classifier"``, e.g. ``classifier-mnist``): accuracy and mean
  softmax cross-entropy on the split, and nothing else (no VAE pass, no sampling).
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from zoo import api
from zoo.errors import InputError, ZooError
from zoo.losses import bernoulli_nll, gaussian_kl, reconstruction_nll
from zoo.metrics import jsonable

__all__ = ["evaluate"]


def _as_model(model_or_path: Any) -> Any:
    if isinstance(model_or_path, str) or hasattr(model_or_path, "__fspath__"):
        return api.load(model_or_path)
    if getattr(model_or_path, "zoo_variant", None) is None:
        raise ZooError("evaluate needs a model from zoo.create/zoo.load or a model directory")
    return model_or_path


def _check_fit(model: Any, ds: Any, conditional: bool) -> None:
    shape = tuple(ds.images.shape[1:])
    want = getattr(model.config, "image_shape", shape)
    if tuple(want) != shape:
        raise InputError(f"dataset {ds.name!r} has images {shape} but the model expects "
                         f"{tuple(want)}; evaluate on the data the model was trained for")
    if conditional and ds.labels is None:
        raise InputError(f"the model is conditional but dataset {ds.name!r} has no labels")


def _batches(ds: Any, batch_size: int, binarize: bool, seed: int) -> Any:
    from zoo.data import batches

    return batches(ds, batch_size, seed=seed, epoch=0, shuffle=False, drop_remainder=False,
                   binarize=binarize)


def _call(model: Any, conditional: bool, fn: str, *args: Any, labels: Any = None,
          **kwargs: Any) -> Any:
    return api.call_variant(model, fn, *args, conditional=conditional, labels=labels, **kwargs)


def evaluate(
    model_or_path: Any,
    dataset: str,
    *,
    split: str = "test",
    batch_size: int = 250,
    max_examples: int = 0,
    binarize: bool = False,
    iw_samples: int = 0,
    iw_examples: int = 2000,
    iw_chunk: int = 100,
    disentanglement_points: int = 10_000,
    seed: int = 0,
    classifier: Any = None,
    dci_model: str = "gbt",
    disentanglement: bool = True,
) -> dict[str, Any]:
    """Measure a model on ``dataset``/``split``; returns a JSON-ready dict.

    Args:
        binarize: evaluate on images binarised once with a seeded Bernoulli draw (the usual
            protocol for likelihoods on binarised MNIST).
        iw_samples: K of the importance-weighted NLL bound (0 skips it); computed on the first
            ``iw_examples`` examples, ``iw_chunk`` samples at a time.
        classifier: a zoo classifier for conditional accuracy and FID (default: the bundled
            MNIST classifier when the data are MNIST).
        dci_model: importance model of DCI: ``"gbt"`` (disentanglement_lib's gradient-boosted
            trees; minutes at 10,000 points on 2 cores), ``"random_forest"`` or ``"lasso"``.
        disentanglement: measure MIG/DCI/SAP when the data have factors (``False`` skips them).

    Besides the variant-independent metrics, ``"loss_metrics"`` holds the variant's own loss and
    scalar metrics averaged over the split (:func:`_loss_metrics`), so a plugin's quantities
    (e.g. beta-TCVAE's total correlation) reach ``zoo eval`` and model cards with no extra code.
    The result records these options under ``"options"``, so that the same measurement can be
    made again (``zoo check-cards``).
    """
    from zoo.data import load_dataset

    model = _as_model(model_or_path)
    model.eval()
    spec = api.get_variant(model.zoo_variant)
    ds = load_dataset(dataset, split)
    if max_examples and max_examples < len(ds):  # a seeded random subset, in dataset order
        keep = np.sort(np.random.default_rng(seed).choice(len(ds), max_examples, replace=False))
        ds = ds.subset(keep)
    _check_fit(model, ds, spec.conditional or spec.kind == "classifier")
    result: dict[str, Any] = {"variant": spec.name, "dataset": dataset, "split": split,
                              "examples": len(ds), "binarized": binarize}
    result["options"] = {
        "split": split, "batch_size": batch_size, "max_examples": max_examples,
        "binarize": binarize, "iw_samples": iw_samples, "iw_examples": iw_examples,
        "disentanglement_points": disentanglement_points, "seed": seed, "dci_model": dci_model}
    if spec.kind == "classifier":
        return jsonable(result | _classifier_pass(model, ds, batch_size, binarize, seed))
    probe = next(iter(_batches(ds.subset(np.arange(1)), 1, binarize, seed)))
    outputs = _call(model, spec.conditional, "__call__", jnp.asarray(probe["x"]),
                    labels=probe.get("labels"))
    if "indices" in outputs:
        result |= _vq_pass(model, ds, batch_size, binarize, seed)
    elif "mean" in outputs:
        result |= _gaussian_pass(model, spec.conditional, ds, batch_size, binarize, seed,
                                 disentanglement_points if disentanglement else 0, dci_model)
        if iw_samples:
            n = min(iw_examples, len(ds))
            result |= _iw_nll(model, spec.conditional, ds.subset(np.arange(n)), iw_samples,
                              iw_chunk, batch_size, binarize, seed)
    result["loss_metrics"] = _loss_metrics(model, spec, ds, batch_size, binarize, seed)
    if spec.conditional:
        result |= _conditional_metrics(model, ds, classifier, seed)
    return jsonable(result)


#: The step the loss is evaluated at: far past any schedule's end, so annealed weights (beta,
#: capacity) take their final values, as in the training loop's validation.
_FINAL_STEP = 10**9


def _loss_metrics(model: Any, spec: Any, ds: Any, batch_size: int, binarize: bool,
                  seed: int) -> dict[str, float]:
    """The variant's own loss and scalar metrics (e.g. beta-TCVAE's total correlation, a
    VQ-VAE's commitment loss), averaged over the split weighted by batch size.

    Batches are drawn in a seeded random order (minibatch estimators such as beta-TCVAE's need
    batches that look like the data, not runs of neighbours of an ordered factor grid); latents
    are sampled with ``seed``; schedules sit at their final values. Per-batch quantities (a
    VQ-VAE's batch perplexity, beta-TCVAE's minibatch estimates) depend on ``batch_size``, which
    the result records under ``"options"``.
    """
    from zoo.data import batches

    @nnx.jit
    def step(model: Any, x: Any, labels: Any, key: Any) -> Any:
        out = _call(model, spec.conditional, "__call__", x, labels=labels, rngs=key)
        loss, metrics = spec.loss(out, x, config=model.config, step=_FINAL_STEP)
        return {"loss": loss} | {k: v for k, v in metrics.items() if jnp.ndim(v) == 0}

    sums: dict[str, float] = {}
    n = 0
    key = jax.random.key(seed)
    for i, b in enumerate(batches(ds, batch_size, seed=seed, epoch=0, shuffle=True,
                                  drop_remainder=False, binarize=binarize)):
        metrics = jax.device_get(step(model, jnp.asarray(b["x"]), b.get("labels"),
                                      jax.random.fold_in(key, i)))
        for k, v in metrics.items():
            sums[k] = sums.get(k, 0.0) + float(v) * len(b["x"])
        n += len(b["x"])
    return {k: v / n for k, v in sorted(sums.items())}


def _classifier_pass(model: Any, ds: Any, batch_size: int, binarize: bool, seed: int) -> dict:
    """Accuracy (arg-max logit) and mean softmax cross-entropy (nats) of a classifier-kind
    model, whose ``model(x, labels)`` returns ``logits`` [B, K]."""
    import optax

    @nnx.jit
    def step(model: Any, x: Any, labels: Any) -> Any:
        logits = model(x, labels)["logits"].astype(jnp.float32)
        ce = optax.softmax_cross_entropy_with_integer_labels(logits, labels)
        return jnp.argmax(logits, axis=-1) == labels, ce

    correct, ce = [], []
    for b in _batches(ds, batch_size, binarize, seed):
        c, e = step(model, jnp.asarray(b["x"]), jnp.asarray(b["labels"], jnp.int32))
        correct.append(np.asarray(c))
        ce.append(np.asarray(e, np.float64))
    return {"accuracy": float(np.concatenate(correct).mean()),
            "cross_entropy": float(np.concatenate(ce).mean())}


def _gaussian_pass(model: Any, conditional: bool, ds: Any, batch_size: int, binarize: bool,
                   seed: int, points: int, dci_model: str) -> dict[str, Any]:
    from zoo.metrics import latents

    bernoulli = model.config.reconstruction_loss == "bernoulli"

    @nnx.jit
    def step(model: Any, x: Any, labels: Any, key: Any) -> Any:
        mean, logvar = _call(model, conditional, "encode", x, labels=labels)
        recon = jax.nn.sigmoid(_call(model, conditional, "decode_logits", mean, labels=labels))
        z = mean + jnp.exp(0.5 * logvar) * jax.random.normal(key, mean.shape)
        logits = _call(model, conditional, "decode_logits", z, labels=labels)
        rec = reconstruction_nll(logits, x, "bernoulli")
        kl = gaussian_kl(mean, logvar).sum(-1)
        sq = jnp.square(recon - x).reshape(x.shape[0], -1).mean(-1)
        return mean, logvar, sq, rec + kl

    means, logvars, sq, nelbo = [], [], [], []
    key = jax.random.key(seed)
    for i, b in enumerate(_batches(ds, batch_size, binarize, seed)):
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
        res |= _disentanglement(mean, ds, seed, points, dci_model)
    return res


def _disentanglement(codes: np.ndarray, ds: Any, seed: int, points: int, dci_model: str) -> dict:
    """MIG on ``points`` posterior means; DCI and SAP trained on ``points`` and tested on
    ``points // 2`` others (disentanglement_lib: 10,000 and 5,000)."""
    from zoo.metrics import disentanglement as dis

    rng = np.random.default_rng(seed)
    n = len(codes)
    order = rng.permutation(n)
    idx = order[:points]
    test_idx = order[points: points + points // 2]
    if len(test_idx) == 0:
        raise InputError(f"disentanglement metrics need more than {points} examples; got {n}")
    factors = np.asarray(ds.factors)
    out = {"mig": dis.mig(codes[idx], factors[idx])}
    out["dci"] = dis.dci(codes[idx], factors[idx], codes[test_idx], factors[test_idx],
                         model=dci_model, n_jobs=2)
    out["sap"] = dis.sap(codes[idx], factors[idx], codes[test_idx], factors[test_idx])
    return {"disentanglement": out}


def _iw_nll(model: Any, conditional: bool, ds: Any, k: int, chunk: int, batch_size: int,
            binarize: bool, seed: int) -> dict[str, Any]:
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
        mean, logvar = _call(model, conditional, "encode", x, labels=labels)
        eps = jax.random.normal(key, (chunk, *mean.shape))
        z = mean + jnp.exp(0.5 * logvar) * eps  # [k, B, D]
        flat_labels = None if labels is None else jnp.tile(labels, chunk)
        logits = _call(model, conditional, "decode_logits", z.reshape(-1, z.shape[-1]),
                       labels=flat_labels).reshape(chunk, *x.shape)
        log_px = -bernoulli_nll(logits, jnp.broadcast_to(x, logits.shape)).reshape(
            chunk, x.shape[0], -1).sum(-1)
        return log_px, standard_normal_log_density(z), gaussian_log_density(z, mean, logvar)

    key = jax.random.key(seed + 7)
    nll = []
    small = max(1, min(batch_size, 100))
    for i, b in enumerate(_batches(ds, small, binarize, seed)):
        x = jnp.asarray(b["x"])
        parts = [log_terms(model, x, b.get("labels"), jax.random.fold_in(key, i * 100_000 + j))
                 for j in range(math.ceil(k / chunk))]
        px, pz, qz = (jnp.concatenate([p[t] for p in parts])[:k] for t in range(3))
        nll.append(-np.asarray(iwae_log_likelihood(px, pz, qz)))
    values = np.concatenate(nll)
    return {"iw_nll": float(values.mean()), "iw_nll_stderr": float(values.std() /
            math.sqrt(len(values))), "iw_samples": k, "iw_examples": len(values)}


def _vq_pass(model: Any, ds: Any, batch_size: int, binarize: bool, seed: int) -> dict:
    from zoo.metrics.vq_health import CodeUsage
    from zoo.vq import code_counts, perplexity

    k = model.config.num_embeddings

    @nnx.jit
    def step(model: Any, x: Any) -> Any:
        _, indices = model.encode(x)
        recon = model.reconstruct(x)
        sq = jnp.square(recon - x).reshape(x.shape[0], -1).mean(-1)
        return indices, sq, perplexity(code_counts(indices, k))

    usage, sq, batch_ppl = CodeUsage(k), [], []
    for b in _batches(ds, batch_size, binarize, seed):
        indices, s, p = step(model, jnp.asarray(b["x"]))
        usage.update(np.asarray(indices))
        sq.append(np.asarray(s))
        batch_ppl.append(float(p))
    health = usage.result()
    return {"reconstruction_mse": float(np.concatenate(sq).mean()),
            "perplexity_batch_mean": float(np.mean(batch_ppl)),
            "codebook": {key: (np.asarray(v).tolist() if hasattr(v, "tolist") else v)
                         for key, v in health.items()}}


def _conditional_metrics(model: Any, ds: Any, classifier: Any, seed: int) -> dict:
    from zoo.metrics import bundled
    from zoo.metrics.classifier import conditional_accuracy

    num_classes = model.config.num_classes
    if classifier is None:
        classifier = bundled.default_classifier_for(ds)
    if classifier is None:
        return {"conditional_accuracy_note": "no classifier for this dataset"}
    per_class = 100
    labels = np.repeat(np.arange(num_classes), per_class).astype(np.int32)
    samples = np.asarray(model.sample(len(labels), jnp.asarray(labels),
                                      rngs=jax.random.key(seed + 11)))
    acc = conditional_accuracy(classifier, samples, labels)
    real = np.asarray(ds.images[: len(samples)], np.float32) / 255.0
    fid = bundled.classifier_fid(classifier, real, samples)
    return {"conditional_accuracy": float(acc), "conditional_accuracy_samples": len(labels),
            "fid_zoo_classifier": float(fid), "fid_name": bundled.FID_NAME,
            "fid_samples": len(samples), "classifier": bundled.describe(classifier)}

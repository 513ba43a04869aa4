"""Evaluation passes beside the Gaussian one: the variant's own loss metrics, codebook health
of discrete latents, accuracy of classifiers, and conditional generation judged by a
classifier."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from zoo.data import batches
from zoo.evaluate import conditional
from zoo.evaluate._common import batches_of, call
from zoo.evaluate.progress import num_batches, stage, tracked

__all__ = ["FINAL_STEP", "classifier_pass", "conditional_metrics", "loss_metrics", "vq_pass"]


#: The step the loss is evaluated at: far past any schedule's end, so annealed weights (beta,
#: capacity) take their final values, as in the training loop's validation.
FINAL_STEP = 10**9


def loss_metrics(model: Any, spec: Any, ds: Any, batch_size: int, binarize: bool,
                  seed: int, progress: bool = False) -> dict[str, float]:
    """The variant's own loss and scalar metrics (e.g. beta-TCVAE's total correlation, a
    VQ-VAE's commitment loss), averaged over the split weighted by batch size.

    Batches are drawn in a seeded random order (minibatch estimators such as beta-TCVAE's need
    batches that look like the data, not runs of neighbours of an ordered factor grid); latents
    are sampled with ``seed``; schedules sit at their final values. Per-batch quantities (a
    VQ-VAE's batch perplexity, beta-TCVAE's minibatch estimates) depend on ``batch_size``, which
    the result records under ``"options"``.
    """
    @nnx.jit
    def step(model: Any, x: Any, labels: Any, key: Any) -> Any:
        out = call(model, spec.conditional, "__call__", x, labels=labels, rngs=key)
        loss, metrics = spec.loss(out, x, config=model.config, step=FINAL_STEP)
        return {"loss": loss} | {k: v for k, v in metrics.items() if jnp.ndim(v) == 0}

    sums: dict[str, float] = {}
    n = 0
    key = jax.random.key(seed)
    for i, b in enumerate(tracked(batches(ds, batch_size, seed=seed, epoch=0, shuffle=True,
                                          drop_remainder=False, binarize=binarize),
                                  f"{spec.name} loss on {len(ds):,} examples",
                                  num_batches(len(ds), batch_size), progress)):
        metrics = jax.device_get(step(model, jnp.asarray(b["x"]), b.get("labels"),
                                      jax.random.fold_in(key, i)))
        for k, v in metrics.items():
            sums[k] = sums.get(k, 0.0) + float(v) * len(b["x"])
        n += len(b["x"])
    return {k: v / n for k, v in sorted(sums.items())}


def classifier_pass(model: Any, ds: Any, batch_size: int, binarize: bool, seed: int,
                    progress: bool = False) -> dict:
    """Accuracy (arg-max logit) and mean softmax cross-entropy (nats) of a classifier-kind
    model, whose ``model(x, labels)`` returns ``logits`` [B, K]."""
    import optax

    @nnx.jit
    def step(model: Any, x: Any, labels: Any) -> Any:
        logits = model(x, labels)["logits"].astype(jnp.float32)
        ce = optax.softmax_cross_entropy_with_integer_labels(logits, labels)
        return jnp.argmax(logits, axis=-1) == labels, ce

    correct, ce = [], []
    for b in tracked(batches_of(ds, batch_size, binarize, seed),
                     f"classify {len(ds):,} examples", num_batches(len(ds), batch_size), progress):
        c, e = step(model, jnp.asarray(b["x"]), jnp.asarray(b["labels"], jnp.int32))
        correct.append(np.asarray(c))
        ce.append(np.asarray(e, np.float64))
    return {"accuracy": float(np.concatenate(correct).mean()),
            "cross_entropy": float(np.concatenate(ce).mean())}


def vq_pass(model: Any, ds: Any, batch_size: int, binarize: bool, seed: int,
            progress: bool = False) -> dict:
    from zoo.metrics.vq_health import CodeUsage
    from zoo.vq import code_counts, perplexity

    k = int(model.codebook_size)

    @nnx.jit
    def step(model: Any, x: Any) -> Any:
        _, indices = model.encode(x)
        recon = model.reconstruct(x)
        sq = jnp.square(recon - x).reshape(x.shape[0], -1).mean(-1)
        return indices, sq, perplexity(code_counts(indices, k))

    usage, sq, batch_ppl = CodeUsage(k), [], []
    for b in tracked(batches_of(ds, batch_size, binarize, seed),
                     f"encode + reconstruct {len(ds):,} examples",
                     num_batches(len(ds), batch_size), progress):
        indices, s, p = step(model, jnp.asarray(b["x"]))
        usage.update(np.asarray(indices))
        sq.append(np.asarray(s))
        batch_ppl.append(float(p))
    health = usage.result()
    return {"reconstruction_mse": float(np.concatenate(sq).mean()),
            "perplexity_batch_mean": float(np.mean(batch_ppl)),
            "codebook": {key: (np.asarray(v).tolist() if hasattr(v, "tolist") else v)
                         for key, v in health.items()}}


def conditional_metrics(model: Any, ds: Any, classifier: Any, seed: int,
                        progress: bool = False) -> dict:
    from zoo.metrics.classifier import classifier_fid, conditional_accuracy

    num_classes = model.config.num_classes
    if classifier is None:
        classifier = conditional.default_classifier_for(ds)
    if classifier is None:
        return {"conditional_accuracy_note": "no classifier for this dataset"}
    per_class = 100
    labels = np.repeat(np.arange(num_classes), per_class).astype(np.int32)
    with stage(f"sample {len(labels):,} images, conditional accuracy + FID", progress):
        samples = np.asarray(model.sample(len(labels), jnp.asarray(labels),
                                          rngs=jax.random.key(seed + 11)))
        acc = conditional_accuracy(classifier, samples, labels)
        real = np.asarray(ds.images[: len(samples)], np.float32) / 255.0
        fid = classifier_fid(classifier, real, samples)
    return {"conditional_accuracy": float(acc), "conditional_accuracy_samples": len(labels),
            "fid_zoo_classifier": float(fid), "fid_name": conditional.fid_name(ds.name),
            "fid_samples": len(samples), "classifier": conditional.describe(classifier, ds.name)}

"""``zoo eval``: the field's metrics for a trained model on a dataset split, as one JSON dict.

What is measured follows what the variant declares (``VariantSpec.latent``, ``conditional``)
and what the data have (labels, factors):

- every model: reconstruction MSE per pixel (deterministic reconstruction, [0, 1] images);
- Gaussian-latent models (beta-VAE, CVAE): negative ELBO (one sample, nats per image, Bernoulli
  likelihood only), importance-weighted NLL with K samples, KL per latent dimension, active units
  (two definitions), mutual information between each latent and the labels;
- data with ground-truth factors (dSprites): MIG, DCI, SAP on posterior means;
- VQ-VAE: perplexity per batch and over the whole split, codes used, dead codes, usage counts;
- conditional models with a classifier: conditional accuracy and FID on classifier features;
- classifiers (variant kind ``"classifier"``, e.g. ``classifier-mnist``): accuracy and mean
  softmax cross-entropy on the split, and nothing else (no VAE pass, no sampling).

This module drives the passes; :mod:`zoo.evaluate.gaussian` and :mod:`zoo.evaluate.passes` hold
them, :mod:`zoo.evaluate.conditional` finds and loads the classifier that judges conditional
samples, :mod:`zoo.evaluate._common` holds what they share, :mod:`zoo.evaluate.progress` the
progress bars of ``progress=True``.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from zoo.building import spec_of
from zoo.data import load_dataset
from zoo.errors import ZooError
from zoo.evaluate._common import check_fit
from zoo.evaluate.gaussian import disentanglement_pass, gaussian_pass, iw_nll
from zoo.evaluate.passes import classifier_pass, conditional_metrics, loss_metrics, vq_pass
from zoo.loading import load
from zoo.metrics import jsonable

__all__ = ["evaluate"]


def _as_model(model_or_path: Any) -> Any:
    if isinstance(model_or_path, str | os.PathLike):
        return load(model_or_path)
    if spec_of(model_or_path) is None:
        raise ZooError("evaluate needs a model from zoo.create/zoo.load, a model or run "
                       "directory, or a pretrained name")
    return model_or_path


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
    only_disentanglement: bool = False,
    progress: bool = False,
) -> dict[str, Any]:
    """Measure a model on ``dataset``/``split``; returns a JSON-ready dict.

    Args:
        binarize: evaluate on images binarised once with a seeded Bernoulli draw (the usual
            protocol for likelihoods on binarised MNIST).
        iw_samples: K of the importance-weighted NLL bound (0 skips it); computed on the first
            ``iw_examples`` examples, ``iw_chunk`` samples at a time.
        classifier: a classifier (``logits(x)``, ``features(x)``) for conditional accuracy and
            FID (default: the pretrained classifier declared for the dataset, e.g.
            ``classifier-mnist`` for MNIST; :mod:`zoo.evaluate.conditional`).
        dci_model: importance model of DCI: ``"gbt"`` (disentanglement_lib's gradient-boosted
            trees; minutes at 10,000 points on 2 cores), ``"random_forest"`` or ``"lasso"``.
        disentanglement: measure MIG/DCI/SAP when the data have factors (``False`` skips them).
        only_disentanglement: measure MIG/DCI/SAP and nothing else, encoding only the
            ``disentanglement_points * 3 // 2`` examples they are computed on (the same points
            and numbers as the full evaluation's; seconds instead of minutes on dSprites).
        progress: show a bar on stderr for each long pass (encoding the split, IW-NLL, MIG,
            DCI per factor, SAP, conditional samples; :mod:`zoo.evaluate.progress`), cleared
            when the pass ends; the result is the same with or without.

    Besides the variant-independent metrics, ``"loss_metrics"`` holds the variant's own loss and
    scalar metrics averaged over the split (:func:`zoo.evaluate.passes.loss_metrics`), so a
    plugin's quantities (e.g. beta-TCVAE's total correlation) reach ``zoo eval`` and model cards
    with no extra code.
    The result records these options under ``"options"``, so that the same measurement can be
    made again (``zoo check-cards``).
    """
    model = _as_model(model_or_path)
    model.eval()
    spec = spec_of(model)
    ds = load_dataset(dataset, split)
    if max_examples and max_examples < len(ds):  # a seeded random subset, in dataset order
        keep = np.sort(np.random.default_rng(seed).choice(len(ds), max_examples, replace=False))
        ds = ds.subset(keep)
    check_fit(model, ds, spec.conditional)
    result: dict[str, Any] = {"variant": spec.name, "dataset": dataset, "split": split,
                              "examples": len(ds), "binarized": binarize}
    result["options"] = {
        "split": split, "batch_size": batch_size, "max_examples": max_examples,
        "binarize": binarize, "iw_samples": iw_samples, "iw_examples": iw_examples,
        "disentanglement_points": disentanglement_points, "seed": seed, "dci_model": dci_model}
    if only_disentanglement:
        if spec.latent != "gaussian" or ds.factors is None or not disentanglement:
            raise ZooError(f"only_disentanglement needs a Gaussian-latent model and data with "
                           f"ground-truth factors (e.g. dsprites); got a {spec.name!r} model "
                           f"on {dataset!r}")
        result["options"]["only_disentanglement"] = True
        return jsonable(result | disentanglement_pass(
            model, spec.conditional, ds, batch_size, seed, disentanglement_points, dci_model,
            progress))
    if spec.latent == "none":  # a classifier: accuracy and cross-entropy, nothing else
        return jsonable(result | classifier_pass(model, ds, batch_size, binarize, seed, progress))
    if spec.latent == "discrete":
        result |= vq_pass(model, ds, batch_size, binarize, seed, progress)
    else:
        result |= gaussian_pass(model, spec.conditional, ds, batch_size, binarize, seed,
                                disentanglement_points if disentanglement else 0, dci_model,
                                progress)
        if iw_samples:
            n = min(iw_examples, len(ds))
            result |= iw_nll(model, spec.conditional, ds.subset(np.arange(n)), iw_samples,
                             iw_chunk, batch_size, binarize, seed, progress)
    result["loss_metrics"] = loss_metrics(model, spec, ds, batch_size, binarize, seed, progress)
    if spec.conditional and spec.has_prior:
        result |= conditional_metrics(model, ds, classifier, seed, progress)
    return jsonable(result)

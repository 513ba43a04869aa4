"""The standard pictures of a trained model, written into a folder: used by
:func:`zoo.train.train` at the end of a run, ``zoo plot-run`` and the picture commands.

What is drawn follows what the variant declares (:class:`~zoo.specs.VariantSpec`): a Gaussian
latent gives samples (a class grid when conditional) and a traversal, a discrete one a
codebook-usage chart, a classifier nothing. On data with ground-truth factors (dSprites) the
traversal's rows are labelled with the factor each latent captures most, and
``mutual_info.png`` shows the normalised mutual information behind the labels
(:func:`zoo.viz.factor_traversal`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from zoo.building import spec_of
from zoo.data import load_dataset
from zoo.errors import ZooError
from zoo.loading import load
from zoo.runs import RunDir
from zoo.specs import VariantSpec
from zoo.viz.factor_pictures import factor_traversal
from zoo.viz.figures import save_class_grid, save_reconstructions, save_samples, save_traversal
from zoo.viz.history import read_history
from zoo.viz.models import (
    DEFAULT_VALUES,
    posterior_kl_per_dim,
    reconstruct_model,
    sample_classes,
    sample_model,
    traverse_model,
)
from zoo.viz.plots import save_codebook_usage, save_training_curves

__all__ = ["codebook_picture", "model_labels", "model_pictures", "run_pictures",
           "traversal_picture"]


def _spec(model: Any) -> VariantSpec:
    spec = spec_of(model)
    if spec is None:
        raise ZooError(f"{type(model).__name__} is not a registered zoo model (no variant "
                       "attached); build it with zoo.create(...) or load it with zoo.load(...)")
    return spec


def model_labels(model: Any, ds: Any, n: int) -> Any:
    """The first ``n`` labels of ``ds`` for a conditional model, else None."""
    if not _spec(model).conditional or ds.labels is None:
        return None
    return np.asarray(ds.labels[:n], np.int32)


def traversal_picture(model: Any, ds: Any, path: Path, *, index: int = 0,
                      kl_examples: int = 500) -> Path:
    """Latent traversal around example ``index`` of ``ds``, rows ordered by the dataset KL of
    the first ``kl_examples``; on data with ground-truth factors, rows labelled and ordered by
    the factor each latent captures most (:func:`zoo.viz.factor_traversal`)."""
    if ds.factors is not None:
        return factor_traversal(model, ds, path, index=index)[0]
    n = min(kl_examples, len(ds))
    x = ds.images[:n].astype(np.float32) / 255.0
    labels = model_labels(model, ds, n)
    kl = posterior_kl_per_dim(model, x, labels)
    base_label = None if labels is None else int(labels[index])
    images, dims = traverse_model(model, x[index: index + 1], kl_per_dim=kl, labels=base_label)
    return save_traversal(path, images, dims, list(DEFAULT_VALUES), kl)


def codebook_picture(model: Any, ds: Any, path: Path, *, examples: int = 2000) -> Path:
    """Code-usage histogram of a discrete-latent model over the first ``examples`` of ``ds``."""
    from zoo.metrics.vq_health import CodeUsage

    usage = CodeUsage(int(model.codebook_size))
    for start in range(0, min(examples, len(ds)), 250):
        x = ds.images[start: start + 250].astype(np.float32) / 255.0
        usage.update(np.asarray(model.encode(x)[1]))
    result = usage.result()
    return save_codebook_usage(path, result["counts"], perplexity=result["perplexity"])


def model_pictures(model: Any, ds: Any, out_dir: str | Path, *, seed: int = 0) -> list[Path]:
    """Reconstructions, samples (a class grid for conditional models), a latent traversal
    (Gaussian latents; with ``mutual_info.png`` on data with factors) or a codebook-usage chart
    (discrete latents) of ``model`` on ``ds``; returns the files. A classifier (latent
    ``"none"``) has no such pictures: nothing is written."""
    spec = _spec(model)
    if spec.latent == "none":
        return []
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.eval()
    x = ds.images[:16].astype(np.float32) / 255.0
    recon = reconstruct_model(model, x, model_labels(model, ds, 16))
    written = [save_reconstructions(out / "reconstructions.png", x, recon)]
    if spec.has_prior:
        if spec.conditional:
            grid = sample_classes(model, 10, seed=seed)
            names = [str(c) for c in range(grid.shape[0])]
            written.append(save_class_grid(out / "class_samples.png", grid, names))
        else:
            written.append(save_samples(out / "samples.png", sample_model(model, 64, seed=seed)))
        if ds.factors is not None:
            written += factor_traversal(model, ds, out / "traversal.png",
                                        mutual_info_path=out / "mutual_info.png")
        else:
            written.append(traversal_picture(model, ds, out / "traversal.png"))
    if spec.latent == "discrete":
        written.append(codebook_picture(model, ds, out / "codebook_usage.png"))
    return written


def run_pictures(run: str | os.PathLike[str]) -> list[Path]:
    """(Re)draw a run directory's pictures into ``RUN/plots``: the training curves, then the
    pictures of its best model (else its last checkpoint) on the data it was validated on."""
    run_dir = RunDir(run)
    identity = run_dir.read_identity()
    if identity is None:
        raise ZooError(f"{str(run)!r} is not a run directory (run.json missing)")
    run_dir.plots.mkdir(parents=True, exist_ok=True)
    written = [save_training_curves(run_dir.plots / "training_curves.png",
                                    read_history(run_dir.metrics_path))]
    source = run_dir.best if run_dir.best.is_dir() else run_dir.last
    if source.is_dir():
        tc = identity["train_config"]
        split = "validation" if tc.get("validation_size") else "train"
        ds = load_dataset(tc["dataset"], split, validation_size=tc.get("validation_size"))
        written += model_pictures(load(source), ds, run_dir.plots, seed=int(tc.get("seed", 0)))
    return written

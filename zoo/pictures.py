"""The standard pictures of a trained model, written into a folder (used by ``zoo train`` at the
end of a run, ``zoo plot-run`` and the picture commands of the CLI)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from zoo import viz

__all__ = ["codebook_picture", "model_labels", "model_pictures", "traversal_picture"]


def model_labels(model: Any, ds: Any, n: int) -> Any:
    """The first ``n`` labels of ``ds`` for a conditional model, else None."""
    if not viz.models.is_conditional(model) or ds.labels is None:
        return None
    return np.asarray(ds.labels[:n], np.int32)


def traversal_picture(model: Any, ds: Any, path: Path, *, index: int = 0,
                      kl_examples: int = 500) -> Path:
    """Latent traversal around example ``index`` of ``ds``, rows ordered by the dataset KL."""
    n = min(kl_examples, len(ds))
    x = ds.images[:n].astype(np.float32) / 255.0
    labels = model_labels(model, ds, n)
    kl = viz.posterior_kl_per_dim(model, x, labels)
    base_label = None if labels is None else int(labels[index])
    images, dims = viz.traverse_model(model, x[index: index + 1], kl_per_dim=kl,
                                      labels=base_label)
    return viz.save_traversal(path, images, dims, list(viz.DEFAULT_VALUES), kl)


def codebook_picture(model: Any, ds: Any, path: Path, *, examples: int = 2000) -> Path:
    """Code-usage histogram of a VQ model over the first ``examples`` of ``ds``."""
    from zoo.metrics.vq_health import CodeUsage

    usage = CodeUsage(model.config.num_embeddings)
    for start in range(0, min(examples, len(ds)), 250):
        x = ds.images[start: start + 250].astype(np.float32) / 255.0
        usage.update(np.asarray(model.encode(x)[1]))
    result = usage.result()
    return viz.save_codebook_usage(path, result["counts"], perplexity=result["perplexity"])


def model_pictures(model: Any, ds: Any, out_dir: str | Path, *, seed: int = 0) -> list[Path]:
    """Reconstructions, samples (a class grid for conditional models), a latent traversal
    (Gaussian latents) or a codebook-usage chart (VQ) of ``model`` on ``ds``; returns the files.
    A classifier (variant kind ``"classifier"``) has no such pictures: nothing is written."""
    from zoo.api import model_kind

    if model_kind(model) == "classifier":
        return []
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.eval()
    x = ds.images[:16].astype(np.float32) / 255.0
    recon = viz.reconstruct_model(model, x, model_labels(model, ds, 16))
    written = [viz.save_reconstructions(out / "reconstructions.png", x, recon)]
    if hasattr(model, "sample"):
        if viz.models.is_conditional(model):
            grid = viz.sample_classes(model, 10, seed=seed)
            names = [str(c) for c in range(grid.shape[0])]
            written.append(viz.save_class_grid(out / "class_samples.png", grid, names))
        else:
            written.append(viz.save_samples(out / "samples.png",
                                            viz.sample_model(model, 64, seed=seed)))
    if hasattr(model, "traverse"):
        written.append(traversal_picture(model, ds, out / "traversal.png"))
    if hasattr(model.config, "num_embeddings"):
        written.append(codebook_picture(model, ds, out / "codebook_usage.png"))
    return written

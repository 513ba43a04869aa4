"""Pictures of VAEs: PNG files a person can open.

Two layers:

* rendering, from numpy arrays to PNG files, no model knowledge. Images are NHWC floats in
  [0, 1] with 1 or 3 channels: :func:`image_grid`, :func:`save_grid`, :func:`save_traversal`
  (with :func:`order_by_kl`), :func:`save_reconstructions`, :func:`save_samples`,
  :func:`save_class_grid`; matplotlib charts :func:`save_codebook_usage` and
  :func:`save_training_curves` (with :func:`read_history` for a run's ``metrics.jsonl``), and
  of several seeds of a recipe, :func:`save_seed_scores` and :func:`save_mig_curves`.
* model-facing helpers that call a model's public API and return numpy images:
  :func:`traverse_model`, :func:`reconstruct_model`, :func:`sample_model`,
  :func:`sample_classes`, :func:`posterior_kl_per_dim`.
* data with ground-truth factors (dSprites): :func:`factor_traversal` writes a traversal whose
  rows name the factor each latent captures most, and the heatmap of the mutual information
  behind it; :func:`latent_factors` measures it; :func:`label_latents` (pure, on a mutual
  information matrix) labels and orders the rows, :func:`save_mutual_info` draws the heatmap.

Every file is written atomically (:mod:`zoo._io`): a reader sees the old PNG or the new one.
Importing this module is cheap; matplotlib and JAX are imported on first use.

    from zoo import viz
    images, dims = viz.traverse_model(model, x[:1], kl_per_dim=kl)
    viz.save_traversal("traversal.png", images, dims, viz.DEFAULT_VALUES, kl)
    viz.factor_traversal(model, dsprites, "traversal.png", mutual_info_path="mutual_info.png")
"""

from zoo.viz.factor_pictures import factor_traversal, latent_factors
from zoo.viz.factors import LatentRow, label_latents, normalized_mutual_info, save_mutual_info
from zoo.viz.figures import (
    order_by_kl,
    save_class_grid,
    save_reconstructions,
    save_samples,
    save_traversal,
)
from zoo.viz.grid import image_grid, save_grid
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
from zoo.viz.seeds import save_mig_curves, save_seed_scores

__all__ = [
    "DEFAULT_VALUES",
    "LatentRow",
    "factor_traversal",
    "image_grid",
    "label_latents",
    "latent_factors",
    "normalized_mutual_info",
    "order_by_kl",
    "posterior_kl_per_dim",
    "read_history",
    "reconstruct_model",
    "sample_classes",
    "sample_model",
    "save_class_grid",
    "save_codebook_usage",
    "save_grid",
    "save_mutual_info",
    "save_mig_curves",
    "save_reconstructions",
    "save_samples",
    "save_seed_scores",
    "save_training_curves",
    "save_traversal",
    "traverse_model",
]

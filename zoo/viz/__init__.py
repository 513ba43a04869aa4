"""Pictures of VAEs: PNG files a person can open.

Two layers:

* rendering, from numpy arrays to PNG files, no model knowledge. Images are NHWC floats in
  [0, 1] with 1 or 3 channels: :func:`image_grid`, :func:`save_grid`, :func:`save_traversal`
  (with :func:`order_by_kl`), :func:`save_reconstructions`, :func:`save_samples`,
  :func:`save_class_grid`; matplotlib charts :func:`save_codebook_usage` and
  :func:`save_training_curves` (with :func:`read_history` for a run's ``metrics.jsonl``).
* model-facing helpers that call a model's public API and return numpy images:
  :func:`traverse_model`, :func:`reconstruct_model`, :func:`sample_model`,
  :func:`sample_classes`, :func:`posterior_kl_per_dim`.

Every file is written atomically (:mod:`zoo._io`): a reader sees the old PNG or the new one.
Importing this module is cheap; matplotlib and JAX are imported on first use.

    from zoo import viz
    images, dims = viz.traverse_model(model, x[:1], kl_per_dim=kl)
    viz.save_traversal("traversal.png", images, dims, viz.DEFAULT_VALUES, kl)
"""

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

__all__ = [
    "DEFAULT_VALUES",
    "image_grid",
    "order_by_kl",
    "posterior_kl_per_dim",
    "read_history",
    "reconstruct_model",
    "sample_classes",
    "sample_model",
    "save_class_grid",
    "save_codebook_usage",
    "save_grid",
    "save_reconstructions",
    "save_samples",
    "save_training_curves",
    "save_traversal",
    "traverse_model",
]

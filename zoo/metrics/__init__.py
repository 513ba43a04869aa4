"""Evaluation math of the zoo, as pure functions over numpy / JAX arrays.

Nothing here loads data or builds models from the registry: callers (``zoo eval``) pass arrays
and models (e.g. the classifier that :mod:`zoo.evaluate.conditional` finds and loads).

| module | what |
|---|---|
| :mod:`zoo.metrics.disentanglement` | MIG, DCI, SAP with disentanglement_lib's definitions |
| :mod:`zoo.metrics.mutual_info` | discretise codes; discrete MI and entropy (MIG's parts) |
| :mod:`zoo.metrics.mig` | Mutual Information Gap |
| :mod:`zoo.metrics.dci` | DCI: importance matrix, disentanglement, completeness, informativeness |
| :mod:`zoo.metrics.sap` | Separated Attribute Predictability and its score matrix |
| :mod:`zoo.metrics.points` | the seeded draw of examples MIG/DCI/SAP score (eval, pictures) |
| :mod:`zoo.metrics.latents` | active units, KL per dimension, MI between latents and labels |
| :mod:`zoo.metrics.likelihood` | importance-weighted log-likelihood, Gaussian densities |
| :mod:`zoo.metrics.vq_health` | codebook usage over a whole split: counts, perplexity, dead codes |
| :mod:`zoo.metrics.fid` | Frechet distance between Gaussian feature statistics |
| :mod:`zoo.metrics.classifier` | with a classifier passed in: accuracy, conditional accuracy, FID |

Metrics that summarise a split return a dict of Python scalars, lists and numpy arrays;
:func:`jsonable` turns such a dict into something :func:`json.dumps` accepts.

Importing this package is cheap; each submodule imports what it needs (sklearn, JAX, Flax).
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["jsonable"]


def jsonable(value: Any) -> Any:
    """``value`` with numpy arrays and scalars (recursively, in dicts, lists and tuples) turned
    into Python lists, floats and ints, and non-finite floats into ``None``; JAX arrays too."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "tolist") and hasattr(value, "dtype"):  # numpy / JAX arrays and scalars
        return jsonable(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value

"""Disentanglement metrics with ground-truth factors: MIG, DCI and SAP.

Definitions follow disentanglement_lib (Locatello et al. 2019), which is what published numbers
use; where we deviate (a skipped constant factor instead of a crash or NaN, a faster importance
model on request) the docstring says so.

Layout: ``codes`` are [N, D] (one row per data point: the posterior means, usually) and
``factors`` [N, K] (ground-truth factor values; any sortable dtype, each distinct value of a column
is one class). disentanglement_lib stores both transposed; these functions take rows as points.
Mutual information and entropy are in nats.

This module is the public entry point and re-exports every name below; the code lives in one
module per job:

- :mod:`zoo.metrics.mutual_info`: :func:`discretize` (histogram bins), :func:`discrete_mutual_info`
  and :func:`discrete_entropy` (nats).
- :mod:`zoo.metrics.mig`: :func:`mig`.
- :mod:`zoo.metrics.dci`: :func:`dci`, :func:`importance_matrix` (the per-factor classifiers),
  :func:`disentanglement` and :func:`completeness` (scores of an importance matrix),
  ``ImportanceModel``.
- :mod:`zoo.metrics.sap`: :func:`sap`, :func:`sap_score_matrix`.
- :mod:`zoo.metrics._skips`: the ``note`` all three return on skipped (single-valued) factors.
"""

from __future__ import annotations

from zoo.metrics.dci import ImportanceModel as ImportanceModel
from zoo.metrics.dci import completeness, dci, disentanglement, importance_matrix
from zoo.metrics.mig import mig
from zoo.metrics.mutual_info import discrete_entropy, discrete_mutual_info, discretize
from zoo.metrics.sap import sap, sap_score_matrix

__all__ = [
    "completeness",
    "dci",
    "disentanglement",
    "discrete_entropy",
    "discrete_mutual_info",
    "discretize",
    "importance_matrix",
    "mig",
    "sap",
    "sap_score_matrix",
]

"""VQ codebook health over a whole split: how many codes are used, how evenly, which are dead.

Perplexity measured per training batch depends on the batch size (a batch of 128 images cannot
use more codes than it has positions); count code use over a whole evaluation split instead.
:func:`codebook_usage` takes all indices at once (through :mod:`zoo.vq`); :class:`CodeUsage`
accumulates batch by batch in int64 numpy counts, for index arrays too large to hold.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from zoo.errors import InputError

__all__ = ["CodeUsage", "codebook_usage", "usage_summary"]


def _check_num_codes(num_codes: Any) -> int:
    if isinstance(num_codes, bool) or int(num_codes) != num_codes or num_codes < 1:
        raise InputError(f"codebook size must be a positive integer, got {num_codes!r}")
    return int(num_codes)


def _check_indices(indices: Any, num_codes: int, who: str) -> np.ndarray:
    """``indices`` (any shape) as a flat integer numpy array with values in [0, num_codes)."""
    flat = np.asarray(indices).reshape(-1)
    if flat.size and not np.issubdtype(flat.dtype, np.integer):
        raise InputError(
            f"{who}: code indices must be integers, got dtype {flat.dtype}; pass the "
            "quantiser's indices output (e.g. outputs['indices']), not the codes themselves"
        )
    if flat.size and (flat.min() < 0 or flat.max() >= num_codes):
        raise InputError(
            f"{who}: code indices must lie in [0, {num_codes}) for a codebook of {num_codes} "
            f"codes, got values from {flat.min()} to {flat.max()}; pass the model's "
            "codebook_size (model.codebook_size) as the codebook size"
        )
    return flat


def usage_summary(counts: Any) -> dict[str, Any]:
    """Summary of per-code counts [K]: ``counts`` (int64 [K]), ``total``, ``perplexity`` (exp of
    the entropy of the usage distribution, in [1, K]; :func:`zoo.vq.perplexity`),
    ``fraction_used``, ``dead_codes`` (ids never used, sorted) and ``num_dead``."""
    import jax.numpy as jnp

    from zoo.vq import perplexity

    counts = np.asarray(counts).astype(np.int64)
    dead = np.flatnonzero(counts == 0)
    num_codes = counts.shape[0]
    return {
        "counts": counts,
        "total": int(counts.sum()),
        "perplexity": float(perplexity(jnp.asarray(counts, jnp.float32))),
        "fraction_used": float((num_codes - dead.size) / num_codes),
        "dead_codes": [int(i) for i in dead],
        "num_dead": int(dead.size),
    }


def codebook_usage(indices: Any, num_codes: int) -> dict[str, Any]:
    """Code usage over a whole split.

    Args:
        indices: integer code indices, any shape (e.g. [N, h, w] over the split).
        num_codes: codebook size K.
    Returns:
        see :func:`usage_summary`. Counts come from :func:`zoo.vq.code_counts` (float32, exact
        below 2**24 uses per code); larger arrays are counted with numpy in int64.
    """
    num_codes = _check_num_codes(num_codes)
    flat = _check_indices(indices, num_codes, "codebook_usage")
    if flat.size >= 2**24:
        return usage_summary(np.bincount(flat, minlength=num_codes))
    import jax.numpy as jnp

    from zoo.vq import code_counts

    counts = code_counts(jnp.asarray(flat, jnp.int32), num_codes)
    return usage_summary(np.asarray(counts).round().astype(np.int64))


class CodeUsage:
    """Accumulates code counts batch by batch; ``result()`` matches :func:`codebook_usage` on
    all the batches' indices at once.

        usage = CodeUsage(512)
        for batch in split:
            usage.update(model(batch)["indices"])
        report = usage.result()
    """

    def __init__(self, num_codes: int) -> None:
        self.num_codes = _check_num_codes(num_codes)
        self.counts = np.zeros(self.num_codes, np.int64)

    def update(self, indices: Any) -> CodeUsage:
        """Add the uses in ``indices`` (integer array, any shape); returns ``self``."""
        flat = _check_indices(indices, self.num_codes, "CodeUsage.update")
        self.counts += np.bincount(flat, minlength=self.num_codes)
        return self

    def result(self) -> dict[str, Any]:
        """The :func:`usage_summary` of everything seen so far."""
        return usage_summary(self.counts)

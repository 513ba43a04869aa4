"""The checks of the images handed to a model, in one place: floating point, in [0, 1], finite,
at least one.

Raw data is the common mistake: ``zoo.load_dataset`` keeps uint8 pixels (0..255) in memory, and
a model given them (or unscaled floats) runs without complaint and gives silently wrong results
(a reconstruction error 13x too large, an infinite loss). :func:`check_image_values` refuses
such input with the fix (``dataset.float_images()``, or ``x / 255``). The dtype and an empty
batch are checked always (they are static, so checking costs nothing under ``jit``); the values
only where they are concrete, i.e. in eager calls, never while ``jit`` traces (training and
evaluation feed images zoo itself scaled). ``ZOO_CHECK_INPUTS=0`` or
:func:`set_input_checks` (``False``) turns the value checks off for speed.

:func:`check_images` (shape, then these) is what models call on their inputs (also importable
from :mod:`zoo.nn`); :func:`check_labels` checks class labels.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from zoo.errors import InputError

if TYPE_CHECKING:
    import jax

__all__ = ["check_image_values", "check_images", "check_labels", "input_checks",
           "input_checks_enabled", "pixels_to_unit", "set_input_checks"]

#: Values a little outside [0, 1] that float rounding of a correct scaling can produce.
_SLACK = 1e-6
_enabled: bool | None = None  # None: ZOO_CHECK_INPUTS decides


def input_checks_enabled() -> bool:
    """Whether image values are checked (:func:`set_input_checks`, else ``ZOO_CHECK_INPUTS``)."""
    if _enabled is not None:
        return _enabled
    return os.environ.get("ZOO_CHECK_INPUTS", "1").strip().lower() not in ("0", "false", "no",
                                                                          "off")


def set_input_checks(enabled: bool | None) -> None:
    """Turn the value checks on or off for this process (``None``: back to the environment)."""
    global _enabled
    _enabled = enabled


@contextlib.contextmanager
def input_checks(enabled: bool) -> Iterator[None]:
    """The value checks on or off inside a ``with`` block."""
    global _enabled
    previous, _enabled = _enabled, enabled
    try:
        yield
    finally:
        _enabled = previous


def pixels_to_unit(pixels: Any) -> Any:
    """uint8 pixels [...] (0..255) as model input: float32 in [0, 1], a new array (``/ 255``
    keeps 0 -> 0.0 and 255 -> 1.0 exact)."""
    import numpy as np

    x = np.asarray(pixels).astype(np.float32)
    x /= 255.0
    return x


def _fix(dataset_hint: bool = True) -> str:
    return ("scale them first: x.astype('float32') / 255 for 0..255 pixels, (x + 1) / 2 for "
            "[-1, 1] data" + (", or take dataset.float_images() from zoo.load_dataset"
                              if dataset_hint else ""))


def check_image_values(x: Any, who: str) -> None:
    """Raise :class:`InputError` unless ``x`` [B, H, W, C] is a non-empty batch of floating-point
    images whose values (when concrete and checks are on) are finite and in [0, 1]."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    if x.shape[0] == 0:
        raise InputError(f"{who}: the batch is empty (0 images); pass at least one image")
    dtype = np.dtype(x.dtype)
    if not jnp.issubdtype(dtype, jnp.floating):
        what = "0..255 pixels" if dtype == np.uint8 else "not floating point"
        raise InputError(f"{who}: images are {dtype} ({what}); zoo models take float images "
                         f"in [0, 1]: {_fix()}")
    if isinstance(x, jax.core.Tracer) or not input_checks_enabled():
        return
    host = np.asarray(x)  # concrete; numpy, so that nothing is staged into an enclosing trace
    lo, hi, finite = host.min(), host.max(), np.isfinite(host).all()
    if not finite:
        raise InputError(f"{who}: images contain NaN or infinite values; remove or repair them "
                         "(np.isfinite(x).all() must hold)")
    if lo < -_SLACK or hi > 1 + _SLACK:
        raise InputError(f"{who}: image values span [{float(lo):.4g}, {float(hi):.4g}], outside "
                         f"[0, 1]; {_fix()} (ZOO_CHECK_INPUTS=0 skips this check)")


def check_images(x: jax.Array, image_shape: tuple[int, int, int], who: str) -> None:
    """Raise :class:`~zoo.errors.InputError` unless ``x`` is a non-empty batch [B, *image_shape]
    of float images in [0, 1] (:func:`check_image_values`; jit-safe)."""
    if x.ndim != 4 or tuple(x.shape[1:]) != tuple(image_shape):
        raise InputError(
            f"{who}: expected images of shape [batch, {', '.join(map(str, image_shape))}] "
            f"(NHWC), got {tuple(x.shape)}; resize the data or build the model with matching "
            "height/width/channels"
        )
    check_image_values(x, who)


def check_labels(labels: Any, batch: int, num_classes: int, who: str) -> jax.Array:
    """Return ``labels`` as an integer array [batch], or raise :class:`InputError`.

    Dtype and shape are checked always (they are static); the range ``[0, num_classes)`` only
    when the values are concrete, i.e. not while being traced by ``jit``.
    """
    import jax
    import jax.numpy as jnp
    import numpy as np

    expected = f"integer class labels of shape [{batch}] with values in [0, {num_classes})"
    if labels is None:
        raise InputError(f"{who}: labels are required; pass {expected}")
    traced = isinstance(labels, jax.core.Tracer)
    if not traced:
        try:
            labels = np.asarray(labels)
        except (TypeError, ValueError, OverflowError):
            raise InputError(
                f"{who}: expected {expected}, got an object of type {type(labels).__name__}"
            ) from None
    if not jnp.issubdtype(labels.dtype, jnp.integer):
        raise InputError(
            f"{who}: labels must have an integer dtype, got {labels.dtype}; pass {expected} "
            "(e.g. labels.astype(jnp.int32) if they are whole numbers)"
        )
    if labels.ndim != 1 or labels.shape[0] != batch:
        raise InputError(
            f"{who}: labels must have shape [{batch}] (one label per example of the batch), "
            f"got {tuple(labels.shape)}"
        )
    if traced:
        return labels
    bad = labels[(labels < 0) | (labels >= num_classes)]
    if bad.size:
        shown = ", ".join(str(v) for v in np.unique(bad)[:5])
        raise InputError(
            f"{who}: label values must be in [0, {num_classes}) (num_classes={num_classes}), "
            f"got out-of-range value(s) {shown}"
        )
    return jnp.asarray(labels, jnp.int32)

"""Image grids: NHWC float images in [0, 1] -> uint8 RGB grids, and labelled PNG files.

Layout of a grid of R x C cells of H x W images upscaled by ``scale`` (nearest neighbour), with
``pad`` pixels of ``pad_value`` grey around and between the cells::

    Hout = R * H * scale + (R + 1) * pad        Wout = C * W * scale + (C + 1) * pad

Cell (r, c) starts at pixel ``(pad + r * (H * scale + pad), pad + c * (W * scale + pad))``.
:func:`save_grid` adds a white margin for labels on the left and top only, so the grid always
sits flush with the bottom-right corner of the PNG.
"""

from __future__ import annotations

import functools
import io
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from zoo._io import atomic_write_bytes
from zoo.errors import InputError

__all__ = ["image_grid", "save_grid"]

_GAP = 4  # pixels between a label and the grid
_FONT_SIZE = 12
_WHITE = (255, 255, 255)
_BLACK = (0, 0, 0)


# -- checking and arranging ------------------------------------------------------------------------
def as_rgb_images(images: Any, who: str, ndims: tuple[int, ...] = (4,)) -> np.ndarray:
    """Images [..., H, W, C] (C = 1 or 3; float in [0, 1], uint8 or bool) -> float32 [..., H, W, 3]
    in [0, 1]. Values are clipped; NaN renders black. ``ndims`` are the accepted ranks."""
    arr = np.asarray(images)
    if arr.dtype == np.uint8:
        arr = arr.astype(np.float32) / 255.0
    elif arr.dtype == np.bool_ or np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float32)
    else:
        raise InputError(
            f"{who}: expected float images in [0, 1] (or uint8), got dtype {arr.dtype}; "
            "convert with x.astype(np.float32) / 255 for 8-bit data"
        )
    ranks = " or ".join(f"{n}-d" for n in ndims)
    if arr.ndim not in ndims:
        raise InputError(f"{who}: expected {ranks} images (channels last), got shape {arr.shape}")
    if arr.shape[-1] not in (1, 3):
        raise InputError(
            f"{who}: expected 1 or 3 channels last (NHWC), got shape {arr.shape}; for NCHW "
            "images move the channel axis last, e.g. x.transpose(0, 2, 3, 1)"
        )
    if 0 in arr.shape:
        raise InputError(f"{who}: got an empty image array of shape {arr.shape}")
    arr = np.clip(np.nan_to_num(arr, nan=0.0, posinf=1.0, neginf=0.0), 0.0, 1.0)
    if arr.shape[-1] == 1:
        arr = np.repeat(arr, 3, axis=-1)
    return arr


def arrange(images: Any, ncols: int | None, who: str) -> tuple[np.ndarray, np.ndarray]:
    """[R, C, H, W, Ch] or [N, H, W, Ch] -> (cells float32 [R, C, H, W, 3], present bool [R, C]).

    Flat images fill rows of ``ncols`` (default: a near-square grid); the tail of the last row is
    empty (``present`` False).
    """
    arr = as_rgb_images(images, who, ndims=(4, 5))
    if arr.ndim == 5:
        if ncols is not None and ncols != arr.shape[1]:
            raise InputError(
                f"{who}: images of shape [R, C, H, W, Ch] = {arr.shape[:2]} rows x columns "
                f"already fix the columns; drop ncols={ncols} or pass flat [N, H, W, Ch] images"
            )
        return arr, np.ones(arr.shape[:2], dtype=bool)
    n = arr.shape[0]
    if ncols is None:
        ncols = math.ceil(math.sqrt(n))
    _check_int(ncols, "ncols", 1, who)
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    cells = np.zeros((nrows * ncols, *arr.shape[1:]), np.float32)
    cells[:n] = arr
    present = np.arange(nrows * ncols) < n
    return cells.reshape(nrows, ncols, *arr.shape[1:]), present.reshape(nrows, ncols)


def _check_int(value: Any, name: str, low: int, who: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise InputError(f"{who}: {name} must be an integer >= {low}, got {value!r}")


def compose(
    cells: np.ndarray, present: np.ndarray, *, pad: int, scale: int, pad_value: float, who: str
) -> np.ndarray:
    """Cells float [R, C, H, W, 3] (and which are present [R, C]) -> uint8 grid [Hout, Wout, 3]."""
    _check_int(pad, "pad", 0, who)
    _check_int(scale, "scale", 1, who)
    if not 0.0 <= float(pad_value) <= 1.0:
        raise InputError(f"{who}: pad_value must be a grey level in [0, 1], got {pad_value!r}")
    rows, cols, h, w, _ = cells.shape
    ch, cw = h * scale, w * scale
    grey = round(float(pad_value) * 255)
    out = np.full((rows * ch + (rows + 1) * pad, cols * cw + (cols + 1) * pad, 3), grey, np.uint8)
    pixels = np.round(cells * 255.0).astype(np.uint8)
    if scale > 1:
        pixels = pixels.repeat(scale, axis=2).repeat(scale, axis=3)
    for r in range(rows):
        for c in range(cols):
            if present[r, c]:
                y, x = pad + r * (ch + pad), pad + c * (cw + pad)
                out[y : y + ch, x : x + cw] = pixels[r, c]
    return out


def image_grid(
    images: Any,
    *,
    ncols: int | None = None,
    pad: int = 2,
    scale: int = 2,
    pad_value: float = 0.5,
) -> np.ndarray:
    """Tile images into one RGB picture.

    Args:
        images: [R, C, H, W, Ch] (one cell per row and column) or [N, H, W, Ch] (rows of
            ``ncols``; default a near-square grid), Ch = 1 or 3, floats in [0, 1].
        ncols: columns for flat images (capped at N).
        pad: grey pixels around and between cells (not scaled).
        scale: nearest-neighbour upscaling factor of each image.
        pad_value: grey level of the padding and of empty cells, in [0, 1].
    Returns:
        uint8 [R * H * scale + (R + 1) * pad, C * W * scale + (C + 1) * pad, 3].
    """
    cells, present = arrange(images, ncols, "image_grid")
    return compose(cells, present, pad=pad, scale=scale, pad_value=pad_value, who="image_grid")


# -- labels ----------------------------------------------------------------------------------------
@functools.cache
def _font() -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """PIL's default font (the built-in FreeType font at a readable size when available)."""
    return ImageFont.load_default(size=_FONT_SIZE)


def _text_image(text: str) -> Image.Image:
    """``text`` in black on white, cropped to its bounding box."""
    left, top, right, bottom = _font().getbbox(text)
    w, h = max(1, math.ceil(right - left)), max(1, math.ceil(bottom - top))
    img = Image.new("RGB", (w, h), _WHITE)
    ImageDraw.Draw(img).text((-left, -top), text, font=_font(), fill=_BLACK)
    return img


def check_labels(labels: Sequence[Any] | None, count: int, what: str, who: str) -> list[str] | None:
    """``labels`` as ``count`` strings (None entries become ""), or None; else an InputError."""
    if labels is None:
        return None
    if isinstance(labels, str):
        raise InputError(f"{who}: {what} must be a list of {count} strings, got one string")
    labels = ["" if v is None else str(v) for v in labels]
    if len(labels) != count:
        raise InputError(f"{who}: got {len(labels)} {what} for a grid of {count}; pass {count}")
    return labels


def annotate(
    grid: np.ndarray,
    *,
    cell: tuple[int, int],
    pad: int,
    row_labels: list[str] | None = None,
    col_labels: list[str] | None = None,
    title: str | None = None,
) -> np.ndarray:
    """Add a white margin with row labels (left), column labels and a title (top) to ``grid``.

    ``cell`` is the (height, width) of one upscaled cell. Column labels wider than a column are
    written vertically. The grid ends up flush with the bottom-right corner.
    """
    if not (row_labels or col_labels or title):
        return grid
    gh, gw = grid.shape[:2]
    ch, cw = cell
    row_imgs = [_text_image(t) for t in row_labels] if row_labels else []
    col_imgs = [_text_image(t) for t in col_labels] if col_labels else []
    if any(img.width > cw + pad - 2 for img in col_imgs):
        col_imgs = [img.rotate(90, expand=True) for img in col_imgs]
    title_img = _text_image(title) if title else None

    left = max((img.width for img in row_imgs), default=0)
    left = left + 2 * _GAP if row_imgs else 0
    col_h = max((img.height for img in col_imgs), default=0)
    col_h = col_h + 2 * _GAP if col_imgs else 0
    title_h = title_img.height + 2 * _GAP if title_img else 0
    width = max(left + gw, title_img.width + 2 * _GAP if title_img else 0)
    height = title_h + col_h + gh
    canvas = Image.new("RGB", (width, height), _WHITE)
    gx, gy = width - gw, height - gh
    canvas.paste(Image.fromarray(grid, "RGB"), (gx, gy))
    for r, img in enumerate(row_imgs):
        cy = gy + pad + r * (ch + pad) + ch // 2
        canvas.paste(img, (gx - _GAP - img.width, cy - img.height // 2))
    for c, img in enumerate(col_imgs):
        cx = gx + pad + c * (cw + pad) + cw // 2
        canvas.paste(img, (cx - img.width // 2, gy - _GAP - img.height))
    if title_img:
        canvas.paste(title_img, ((width - title_img.width) // 2, _GAP))
    return np.asarray(canvas)


# -- files -----------------------------------------------------------------------------------------
def write_png(path: str | os.PathLike[str], rgb: np.ndarray) -> Path:
    """Encode uint8 [H, W, 3] as PNG in memory, then write it atomically to ``path`` (.png)."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise InputError(f"zoo.viz writes PNG files; give a path ending in .png, got {str(path)!r}")
    buf = io.BytesIO()
    Image.fromarray(rgb, "RGB").save(buf, format="PNG")
    return atomic_write_bytes(path, buf.getvalue())


def render(
    cells: np.ndarray,
    present: np.ndarray,
    *,
    pad: int,
    scale: int,
    pad_value: float,
    row_labels: Sequence[Any] | None,
    col_labels: Sequence[Any] | None,
    title: str | None,
    who: str,
) -> np.ndarray:
    """:func:`compose` then :func:`annotate`, with label counts checked against the grid."""
    rows, cols = present.shape
    row_labels = check_labels(row_labels, rows, "row_labels", who)
    col_labels = check_labels(col_labels, cols, "col_labels", who)
    grid = compose(cells, present, pad=pad, scale=scale, pad_value=pad_value, who=who)
    h, w = cells.shape[2:4]
    return annotate(grid, cell=(h * scale, w * scale), pad=pad, row_labels=row_labels,
                    col_labels=col_labels, title=title)


def save_grid(
    path: str | os.PathLike[str],
    images: Any,
    *,
    ncols: int | None = None,
    pad: int = 2,
    scale: int = 2,
    pad_value: float = 0.5,
    row_labels: Sequence[Any] | None = None,
    col_labels: Sequence[Any] | None = None,
    title: str | None = None,
) -> Path:
    """Write :func:`image_grid` of ``images`` to the PNG ``path`` (atomically), with optional
    row labels (left margin), column labels and title (top margin), one per grid row/column.

    Returns the path written.
    """
    cells, present = arrange(images, ncols, "save_grid")
    rgb = render(cells, present, pad=pad, scale=scale, pad_value=pad_value,
                 row_labels=row_labels, col_labels=col_labels, title=title, who="save_grid")
    return write_png(path, rgb)

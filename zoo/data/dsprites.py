"""dSprites, generated: 64x64 binary images of one white shape on black, 737,280 of them.

Five independent factors, in the canonical order (``shape`` slowest ... ``pos_y`` fastest, so the
image of factor indices ``f`` has index ``ravel_multi_index(f, FACTOR_SIZES)``):

=========== ====== ======================================================
factor      values value grid (:data:`FACTOR_VALUES`)
=========== ====== ======================================================
shape       3      square, ellipse, heart (also the label)
scale       6      linspace(0.5, 1.0, 6)
orientation 40     2*pi*k/40, k = 0..39, i.e. [0, 2*pi), counter-clockwise
pos_x       32     linspace(0, 1, 32): left to right
pos_y       32     linspace(0, 1, 32): top to bottom (image rows)
=========== ====== ======================================================

How it is drawn. Positions are 4/3 pixel apart and symmetric about the frame's centre (shape
centres from 11.33 to 52.67 px), so every pixel centre lies on a grid of 1/6 pixel relative to
every possible shape centre. Each of the 720 (shape, scale, orientation) masks is therefore
rendered once, analytically at pixel-centre sample points, on that 1/6-pixel grid (a 146x146
array); an image is then a gather of 64-byte rows from its mask at its position's offset. A
pixel is white when its centre falls inside the shape, as in the original (binary) dSprites.
At scale 1.0 the shapes stay inside the frame at every position and orientation (the square's
half side is 8 px, the ellipse's semi-axes 10 and 5 px, the heart about 20 px across).

Storage choice: nothing is stored on disk. The lookup tables take 35 MB and 0.4 s to build;
any subset of images is rendered directly from them (about 12 us an image), so factor
selections and samples never build the whole set, and the whole set renders in about 10 s on
2 CPU cores -- about what reading and unpacking the 377 MB packed-bit file of a disk cache
would cost, without the file. Materialised in memory, the full set takes 3 GB as uint8 (0/255).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np

from zoo.data.core import DataSource, check_options

__all__ = [
    "FACTOR_NAMES",
    "FACTOR_SIZES",
    "FACTOR_VALUES",
    "NUM_IMAGES",
    "SHAPE_NAMES",
    "all_factors",
    "factors_to_indices",
    "indices_to_factors",
    "load",
    "render",
]

FACTOR_NAMES = ("shape", "scale", "orientation", "pos_x", "pos_y")
FACTOR_SIZES = (3, 6, 40, 32, 32)
SHAPE_NAMES = ("square", "ellipse", "heart")
NUM_IMAGES = int(np.prod(FACTOR_SIZES))
FACTOR_VALUES = {
    "shape": np.arange(3, dtype=np.float64) + 1.0,  # 1, 2, 3 as in the original latents_values
    "scale": np.linspace(0.5, 1.0, 6),
    "orientation": 2 * np.pi * np.arange(40) / 40,
    "pos_x": np.linspace(0.0, 1.0, 32),
    "pos_y": np.linspace(0.0, 1.0, 32),
}

SIZE = 64
_Q = 6  # fine-grid points per pixel
_U = 72  # mask half-width in fine-grid points (12 px)
_PAD = 2 * _U + 1  # index of the all-zero row/column of a padded mask
_SQUARE_HALF = 8.0  # px at scale 1
_ELLIPSE_AXES = (10.0, 5.0)
_HEART_SIZE = 8.5  # px per unit of the implicit heart curve at scale 1


def _heart_inside(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The classic heart (x^2 + y^2 - 1)^3 <= x^2 y^3 (y up), centred on its bounding box."""
    y = y + 0.118  # its bounding box spans y in [-1, 1.236]; centre it
    r = x * x + y * y - 1.0
    return r * r * r <= x * x * y * y * y


def _masks() -> np.ndarray:
    """uint8 ``[720, 146, 146]`` (0/255): mask (shape, scale, orientation) sampled at offsets
    ``(v, u) / 6`` px from the shape centre (rows down, columns right); index 145 is zero."""
    u = np.arange(-_U, _U + 1, dtype=np.float64) / _Q
    dx = u[None, :]  # right
    dy = -u[:, None]  # up (rows go down)
    out = np.zeros((3, 6, 40, _PAD + 1, _PAD + 1), dtype=np.uint8)
    for si, scale in enumerate(FACTOR_VALUES["scale"]):
        for oi, theta in enumerate(FACTOR_VALUES["orientation"]):
            c, s = np.cos(theta), np.sin(theta)
            lx = (c * dx + s * dy) / scale  # rotate the sample points by -theta
            ly = (-s * dx + c * dy) / scale
            square = np.maximum(np.abs(lx), np.abs(ly)) <= _SQUARE_HALF
            a, b = _ELLIPSE_AXES
            ellipse = (lx / a) ** 2 + (ly / b) ** 2 <= 1.0
            heart = _heart_inside(lx / _HEART_SIZE, ly / _HEART_SIZE)
            for shape, mask in enumerate((square, ellipse, heart)):
                out[shape, si, oi, :_PAD, :_PAD] = mask * np.uint8(255)
    return out.reshape(720, _PAD + 1, _PAD + 1)


def _fine_index(k: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Fine-grid offset ``6 * ((j + 0.5) - centre_k)`` of pixel j from the centre of position
    k, where ``centre_k = (34 + 4k) / 3`` px."""
    return 6 * j - 65 - 8 * k


@functools.lru_cache(maxsize=1)
def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Lookup tables of :func:`render` (about 35 MB, built in about half a second).

    Rows: ``rows[k, i]`` is the mask row of image row i at pos_y index k (or the zero row).
    Columns: the fine columns of image column j at pos_x index k are ``6 (j + q_k) + phase_k``
    with one of three phases, so each mask is stored column-decimated once per phase and
    zero-padded (``windows``: every 64-wide window of that); an image row is then the window
    at ``start[k]`` of phase ``phase[k]``: one contiguous 64-byte copy.
    """
    masks = _masks()
    k = np.arange(32)
    u = _fine_index(k[:, None], np.arange(SIZE)[None, :])
    rows = np.where(np.abs(u) <= _U, u + _U, _PAD).astype(np.intp)
    base = _fine_index(k, 0)
    phase = base % _Q
    q = (base - phase) // _Q
    phases = sorted(set(phase.tolist()))
    shift = -int(q.min())
    t = np.arange(SIZE + int(q.max()) + shift)
    cols = []
    for ph in phases:
        fine = _Q * (t - shift) + ph + _U
        cols.append(np.where((fine >= 0) & (fine < _PAD), fine, _PAD))
    decimated = np.ascontiguousarray(masks[:, :, np.stack(cols)].transpose(0, 2, 1, 3))
    windows = np.lib.stride_tricks.sliding_window_view(decimated, SIZE, axis=-1)
    phase_index = np.searchsorted(phases, phase).astype(np.intp)
    return windows, rows, phase_index, (q + shift).astype(np.intp)


def indices_to_factors(indices: Any) -> np.ndarray:
    """int64 ``[N, 5]`` factor value indices of image ``indices``."""
    idx = np.asarray(indices, dtype=np.int64)
    return np.stack(np.unravel_index(idx, FACTOR_SIZES), axis=-1).astype(np.int64)


def factors_to_indices(factors: Any) -> np.ndarray:
    """int64 ``[N]`` image indices of factor value indices ``[N, 5]``."""
    f = np.asarray(factors, dtype=np.int64)
    return np.ravel_multi_index(tuple(f.T), FACTOR_SIZES).astype(np.int64)


def all_factors() -> np.ndarray:
    """int64 ``[737280, 5]``: the factors of every image, in canonical order."""
    return indices_to_factors(np.arange(NUM_IMAGES))


def render(factors: Any, *, chunk: int = 8192) -> np.ndarray:
    """uint8 ``[N, 64, 64, 1]`` (0/255) images of factor value indices ``[N, 5]``."""
    f = np.asarray(factors, dtype=np.int64).reshape(-1, 5)
    if f.size and ((f < 0).any() or (f >= np.asarray(FACTOR_SIZES)).any()):
        raise ValueError(f"factor indices must lie below {FACTOR_SIZES}")
    windows, rows, phase, start = _tables()
    mask_id = (f[:, 0] * 6 + f[:, 1]) * 40 + f[:, 2]
    out = np.empty((len(f), SIZE, SIZE, 1), dtype=np.uint8)
    for lo in range(0, len(f), chunk):
        sl = slice(lo, lo + chunk)
        px = f[sl, 3]
        out[sl, :, :, 0] = windows[mask_id[sl, None], phase[px][:, None], rows[f[sl, 4]],
                                   start[px][:, None]]
    return out


def _take(indices: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    factors = indices_to_factors(indices)
    return render(factors), factors[:, 0].copy(), factors


def load(partition: str, *, cache_dir: Path, **options: Any) -> DataSource:
    """The whole grid as a lazily rendered :class:`~zoo.data.DataSource` (partition "train")."""
    check_options("dsprites", options, ())
    return DataSource(num_examples=NUM_IMAGES, take=_take, all_factors=all_factors)

"""Your own images as an :class:`ArrayDataset`: arrays, an ``.npz`` file or a folder of PNGs,
checked the way models check their inputs (:mod:`zoo.inputs`: dtype, [0, 1], finite, shapes),
each refusal saying what is wrong and how to fix it.

- arrays: uint8 ``[N, H, W]`` or ``[N, H, W, C]`` (0..255), or floats in [0, 1] (kept as uint8,
  ``round(x * 255)``, like every zoo dataset); labels: optional integers ``[N]``, >= 0.
- ``.npz`` (``np.savez``; read with ``allow_pickle=False``): the images in ``images`` (or
  ``x``), the labels, optional, in ``labels`` (or ``y``).
- a folder: PNGs (one size and channel count; sorted by name), or one subfolder of PNGs per
  class (labels are the subfolders' indices in name order; their names are the class names).

numpy and Pillow are imported inside the functions so that ``import zoo`` stays cheap.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoo.data.dataset import ArrayDataset
from zoo.data.errors import DatasetError

if TYPE_CHECKING:
    import numpy as np

__all__ = ["IMAGE_KEYS", "LABEL_KEYS", "from_arrays", "from_folder", "from_npz", "read_path"]

#: The ``.npz`` keys read as images, and as labels, in order of preference.
IMAGE_KEYS = ("images", "x")
LABEL_KEYS = ("labels", "y")
_SLACK = 1e-6  # as zoo.inputs: float rounding of a correct scaling
_SAVE = "np.savez(path, images=images, labels=labels)"


def _images_uint8(value: Any, where: str) -> np.ndarray:
    """Images as uint8 ``[N, H, W, C]``, or :class:`DatasetError` saying what to fix."""
    import numpy as np

    x = np.asarray(value)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4:
        raise DatasetError(f"{where}: images must be [N, H, W] or [N, H, W, C] (N images), got "
                           f"shape {x.shape}; one image needs a leading axis (x[None])")
    n, h, w, c = x.shape
    if n == 0:
        raise DatasetError(f"{where}: there are no images (shape {x.shape}); pass at least one")
    if h == 0 or w == 0 or not 1 <= c <= 4:
        hint = "; for channels-first data use x.transpose(0, 2, 3, 1)" if c > 4 else ""
        raise DatasetError(f"{where}: images of shape {x.shape} are not [N, H, W, C] with "
                           f"H, W >= 1 and 1..4 channels{hint}")
    if x.dtype == np.uint8:
        return x
    if not np.issubdtype(x.dtype, np.floating):
        raise DatasetError(f"{where}: images are {x.dtype}; zoo takes uint8 pixels (0..255) or "
                           "floats in [0, 1]: x.astype(np.uint8) if they are 0..255 "
                           "pixels, else floats scaled to [0, 1]")
    if not np.isfinite(x).all():
        raise DatasetError(f"{where}: images contain NaN or infinite values; remove or repair "
                           "them (np.isfinite(x).all() must hold)")
    lo, hi = float(x.min()), float(x.max())
    if lo < -_SLACK or hi > 1 + _SLACK:
        raise DatasetError(f"{where}: float image values span [{lo:.4g}, {hi:.4g}], outside "
                           "[0, 1]; scale them first: x / 255 for 0..255 pixels, (x + 1) / 2 "
                           "for [-1, 1] data, or pass uint8 pixels")
    return np.rint(np.clip(x, 0.0, 1.0) * 255.0).astype(np.uint8)


def _labels(value: Any, n: int, where: str) -> np.ndarray | None:
    """Labels as int64 ``[n]`` (>= 0), or :class:`DatasetError`."""
    import numpy as np

    if value is None:
        return None
    y = np.asarray(value)
    if y.ndim != 1 or len(y) != n:
        raise DatasetError(f"{where}: labels of shape {y.shape} for {n} images; pass one "
                           f"integer label per image, shape ({n},)")
    if not np.issubdtype(y.dtype, np.integer):
        raise DatasetError(f"{where}: labels are {y.dtype}; they must be integer class "
                           "indices 0..K-1 (labels.astype(np.int64) if they are whole numbers)")
    if y.min() < 0:
        raise DatasetError(f"{where}: labels must be class indices >= 0, got {int(y.min())}")
    return y.astype(np.int64)


def from_arrays(images: Any, labels: Any = None, *, name: str = "arrays",
                source: str = "the arrays") -> ArrayDataset:
    """Images (and labels) as a checked :class:`ArrayDataset`.

    Args:
        images: uint8 ``[N, H, W]`` or ``[N, H, W, C]`` (C in 1..4) in 0..255, or floats in
            [0, 1] (finite), stored as uint8 ``round(x * 255)``.
        labels: optional integer class indices ``[N]``, >= 0; ``num_classes`` is the largest
            plus one (at least 2).
        name: the dataset's name; ``source``: what error messages call the data.

    Returns:
        An :class:`ArrayDataset` with uint8 images ``[N, H, W, C]`` and int64 labels ``[N]``.
    """
    x = _images_uint8(images, source)
    y = _labels(labels, len(x), source)
    num_classes = None if y is None else max(int(y.max()) + 1, 2)
    return ArrayDataset(images=x, labels=y, name=name, num_classes=num_classes)


def from_npz(path: str | os.PathLike[str], *, name: str | None = None) -> ArrayDataset:
    """The images (``images`` or ``x``) and labels (``labels`` or ``y``, optional) of an
    ``.npz`` file, checked as :func:`from_arrays` does; never unpickles."""
    import zipfile

    import numpy as np

    path = Path(path)
    where = str(path)
    try:
        if not zipfile.is_zipfile(path):
            raise DatasetError(f"{where} is not an .npz archive (a zip of named arrays; .npz "
                               f"files np.savez_compressed writes work too); save your data with "
                               f"{_SAVE}")
        with np.load(path, allow_pickle=False) as npz:
            keys = list(npz.files)
            image_key = next((k for k in IMAGE_KEYS if k in keys), None)
            if image_key is None:
                raise DatasetError(
                    f"{where} has no 'images' array (nor 'x'); it holds "
                    f"{', '.join(repr(k) for k in keys) or 'no arrays'}. Save your data with "
                    f"{_SAVE} (labels optional)")
            label_key = next((k for k in LABEL_KEYS if k in keys), None)
            images = npz[image_key]
            labels = None if label_key is None else npz[label_key]
    except DatasetError:
        raise
    except ValueError as exc:  # object arrays: numpy refuses them without pickle
        raise DatasetError(f"{where} holds object arrays ({exc}), which only pickle can read, "
                           f"and zoo never unpickles; save plain numeric arrays: {_SAVE}"
                           ) from None
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise DatasetError(f"cannot read {where} ({exc}); the file may be truncated: save it "
                           f"again with {_SAVE}") from None
    return from_arrays(images, labels, name=name or where, source=where)


def _png_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir()
                  if p.is_file() and p.suffix.lower() == ".png" and not p.name.startswith("."))


def _read_png(path: Path) -> np.ndarray:
    """One PNG as uint8 ``[H, W, C]`` (grey, grey+alpha, RGB or RGBA; a palette as RGB(A))."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im.load()
            if im.mode == "P":
                im = im.convert("RGBA" if "transparency" in im.info else "RGB")
            elif im.mode == "1":
                im = im.convert("L")
            if im.mode not in ("L", "LA", "RGB", "RGBA"):
                raise DatasetError(f"{path}: a {im.mode} PNG; zoo reads 8-bit grey, grey+alpha, "
                                   "RGB or RGBA images: convert it (e.g. to 8-bit grey)")
            arr = np.asarray(im, dtype=np.uint8)
    except (OSError, UnidentifiedImageError, SyntaxError) as exc:
        raise DatasetError(f"cannot read the PNG {path} ({exc}); repair or remove it") from None
    return arr[..., None] if arr.ndim == 2 else arr


def _stack(files: list[Path], folder: Path) -> np.ndarray:
    import numpy as np

    arrays = [_read_png(f) for f in files]
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        first = {}
        for f, a in zip(files, arrays, strict=True):
            first.setdefault(a.shape, f)
        seen = "; ".join(f"{f.relative_to(folder)} is {h}x{w} with {c} channel(s)"
                         for (h, w, c), f in list(first.items())[:3])
        raise DatasetError(f"{folder}: the PNGs differ in size or channels ({seen}); resize and "
                           "convert them to one size and mode (e.g. all 28x28 grey)")
    return np.stack(arrays)


def _read_folder(folder: Path) -> tuple[np.ndarray, np.ndarray | None, tuple[str, ...]]:
    """Images uint8 ``[N, H, W, C]``, labels int64 ``[N]`` (class subfolders) or None, and the
    class names."""
    import numpy as np

    files = _png_files(folder)
    subdirs = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    classes = [d for d in subdirs if _png_files(d)]
    if files and classes:
        raise DatasetError(f"{folder} mixes PNGs with class subfolders of PNGs; put every PNG in "
                           "the folder itself (unlabelled) or in one subfolder per class")
    if files:
        return _stack(files, folder), None, ()
    if len(classes) == 1:
        raise DatasetError(f"{folder} has one class subfolder ({classes[0].name}); put the PNGs "
                           "in the folder itself (unlabelled) or add a subfolder per class")
    if not classes:
        others = sum(1 for p in folder.rglob("*") if p.is_file())
        found = f"it holds {others} other file(s), none a PNG" if others else "it is empty"
        raise DatasetError(f"{folder} has no PNG images ({found}); put PNGs in it (or one "
                           f"subfolder of PNGs per class), or pass an .npz made with {_SAVE}")
    per_class = [_png_files(d) for d in classes]
    images = _stack([f for fs in per_class for f in fs], folder)
    labels = np.concatenate([np.full(len(fs), i, np.int64) for i, fs in enumerate(per_class)])
    return images, labels, tuple(d.name for d in classes)


def from_folder(path: str | os.PathLike[str], *, name: str | None = None) -> ArrayDataset:
    """The PNGs of a folder (sorted by name), or of its class subfolders (labelled by the
    subfolders' order by name), as a checked :class:`ArrayDataset`: uint8 ``[N, H, W, C]``."""
    return read_path(Path(path), name=name)[0]


def read_path(path: Path, *, name: str | None = None) -> tuple[ArrayDataset, tuple[str, ...]]:
    """The dataset at ``path`` (an ``.npz`` file or a folder of PNGs) and its class names
    (a labelled folder's subfolders; ``()`` otherwise)."""
    if path.is_dir():
        images, labels, classes = _read_folder(path)
        return from_arrays(images, labels, name=name or str(path), source=str(path)), classes
    if not path.exists():
        raise DatasetError(f"no file or folder {str(path)!r}; pass an .npz file or a folder of "
                           "PNGs (or a dataset name: zoo datasets)")
    if path.suffix.lower() != ".npz":
        raise DatasetError(f"{path}: zoo reads your own data from an .npz file or a folder of "
                           f"PNGs, not a {path.suffix or 'suffix-less'} file; save it with "
                           f"{_SAVE}")
    return from_npz(path, name=name), ()

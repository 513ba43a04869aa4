"""A small reader of IDX files (the MNIST / Fashion-MNIST format), gzipped or not.

Layout: two zero bytes, a type code, the number of dimensions, one big-endian uint32 per
dimension, then the data in C order, big-endian.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from zoo.data.errors import CorruptDataError, DatasetError, DataUnavailableError

__all__ = ["IDX_FILES", "parse_idx", "read_idx", "read_idx_partition"]

_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

#: partition -> (images file, labels file), the standard names (optionally ending in ``.gz``).
IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def parse_idx(data: bytes, *, source: str = "<bytes>") -> np.ndarray:
    """Decode the bytes of an (uncompressed) IDX file into an array of native byte order."""
    if len(data) < 4:
        raise CorruptDataError(f"{source}: {len(data)} bytes is too short for an IDX header; "
                               "the file is truncated, download or reinstall it")
    zero, code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or code not in _DTYPES:
        raise CorruptDataError(f"{source}: not an IDX file (magic bytes {data[:4].hex()}, "
                               "expected 0000 then a type code 08/09/0b/0c/0d/0e)")
    if ndim == 0:
        raise CorruptDataError(f"{source}: IDX header declares 0 dimensions")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise CorruptDataError(f"{source}: truncated IDX header ({len(data)} bytes, the "
                               f"{ndim} dimensions need {header})")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    dtype = _DTYPES[code]
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    found = len(data) - header
    if found < expected:
        raise CorruptDataError(f"{source}: truncated: dimensions {dims} need {expected} bytes of "
                               f"data, found {found}; download or reinstall the file")
    if found > expected:
        raise CorruptDataError(f"{source}: {found - expected} unexpected bytes after the data "
                               f"of dimensions {dims}; the file is corrupt")
    arr = np.frombuffer(data, dtype=dtype, count=expected // dtype.itemsize, offset=header)
    return arr.reshape(dims).astype(dtype.newbyteorder("="), copy=True)


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file; gzip compression is detected from the content, not the name."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataUnavailableError(f"IDX file {str(path)!r} does not exist") from None
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            raise CorruptDataError(f"{str(path)!r}: the gzip stream is truncated or corrupt "
                                   f"({exc}); download or reinstall the file") from None
    return parse_idx(data, source=repr(str(path)))


def _find(directory: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem):
        if (directory / name).is_file():
            return directory / name
    return None


def read_idx_partition(
    directory: str | os.PathLike[str], partition: str, *, dataset: str, install_hint: str
) -> tuple[np.ndarray, np.ndarray]:
    """Images uint8 ``[N, H, W, 1]`` and labels int64 ``[N]`` of the standard IDX files of
    ``partition`` (``"train"`` or ``"test"``) in ``directory``."""
    if partition not in IDX_FILES:
        raise DatasetError(f"IDX data has partitions 'train' and 'test', not {partition!r}")
    directory = Path(directory)
    paths = [_find(directory, stem) for stem in IDX_FILES[partition]]
    if None in paths:
        missing = [stem for stem, p in zip(IDX_FILES[partition], paths, strict=True) if p is None]
        raise DataUnavailableError(
            f"{dataset}: {', '.join(missing)}[.gz] not found in {str(directory)!r}. "
            f"{install_hint}"
        )
    images, labels = (read_idx(p) for p in paths)  # type: ignore[arg-type]
    if images.ndim != 3 or images.dtype != np.uint8:
        raise CorruptDataError(f"{dataset}: {str(paths[0])!r} holds {images.dtype} data of shape "
                               f"{images.shape}, expected uint8 [N, H, W]")
    if labels.ndim != 1 or len(labels) != len(images):
        raise CorruptDataError(f"{dataset}: {str(paths[1])!r} holds labels of shape "
                               f"{labels.shape} for {len(images)} images")
    return images[..., None], labels.astype(np.int64)

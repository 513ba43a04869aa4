"""Atomic writes: a file (a temporary file beside the target, fsync, rename) and a whole
directory (a temporary directory beside the target, filled, then swapped in)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Collection, Iterator
from pathlib import Path

__all__ = ["atomic_write_bytes", "atomic_write_text", "old_name", "recover_dir",
           "remove_temporaries", "writing_dir"]


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; use the usual mode
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """:func:`atomic_write_bytes` for UTF-8 text."""
    return atomic_write_bytes(path, text.encode("utf-8"))


#: Temporaries of a target this old are a killed writer's, removed by the next write.
STALE_AFTER_S = 3600.0


def _temp_prefix(target: Path) -> str:
    """``.NAME.PID-``: a temporary's name says which process writes it (see
    :func:`remove_temporaries`)."""
    return f".{target.name}.{os.getpid()}-"


def _writer_gone(name: str) -> bool:
    """True when the temporary ``name`` carries the pid of a process that no longer exists."""
    match = _PID.search(name)
    if match is None:
        return False
    try:
        os.kill(int(match.group(1)), 0)
    except ProcessLookupError:
        return True
    except (OSError, OverflowError, ValueError):
        return False
    return False


_PID = re.compile(r"\.(\d+)-[^.]*\.tmp$")


def old_name(target: Path) -> Path:
    """Where :func:`writing_dir` parks the previous ``target`` during its swap."""
    return target.with_name(f"{target.name}.old")


def recover_dir(target: str | os.PathLike[str]) -> bool:
    """Finish or undo a directory swap that a crash interrupted: when ``target`` is missing but
    its previous version was parked (:func:`old_name`), put it back. True when it did."""
    target = Path(target)
    old = old_name(target)
    if old.is_dir() and not target.exists():
        old.rename(target)
        return True
    return False


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem lets a directory be opened
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def writing_dir(target: str | os.PathLike[str], *,
                owned: Collection[str] | None = None) -> Iterator[Path]:
    """Yield a temporary directory beside ``target`` to fill; when the block succeeds it
    replaces ``target`` as a whole, so that readers (and a process killed at any point) see
    the old directory or the new one, never a mix. A failed block leaves ``target`` as it
    was and removes the temporary directory.

    The swap is two renames (``target`` to :func:`old_name`, the new one to ``target``); a
    crash between them leaves ``target`` missing, which :func:`recover_dir` (called here
    first, and by readers) undoes. Without ``owned`` the new directory is exactly what the
    block wrote; with it, entries of the old ``target`` not named in ``owned`` (a user's own
    files, not the writer's) are carried over (hard links where possible).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    recover_dir(target)
    # what killed writers of this target left (their process is gone, or an hour passed)
    remove_temporaries(target.parent, older_than=STALE_AFTER_S, prefix=f".{target.name}.")
    tmp = Path(tempfile.mkdtemp(prefix=_temp_prefix(target), suffix=".tmp", dir=target.parent))
    try:
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700 directories; use the usual mode
        yield tmp
        if owned is not None and target.is_dir():
            for entry in target.iterdir():
                if entry.name not in owned and not (tmp / entry.name).exists():
                    _carry(entry, tmp / entry.name)
        for path in tmp.rglob("*"):
            if path.is_file():
                with open(path, "rb") as fh:
                    os.fsync(fh.fileno())
        _fsync_dir(tmp)
        old = old_name(target)
        if old.exists():
            shutil.rmtree(old)
        if target.exists():
            target.rename(old)
        tmp.rename(target)
        _fsync_dir(target.parent)
        if old.exists():
            shutil.rmtree(old)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _carry(source: Path, dest: Path) -> None:
    """Hard-link (or copy) ``source`` to ``dest``, a directory recursively."""
    if source.is_dir() and not source.is_symlink():
        shutil.copytree(source, dest, symlinks=True, copy_function=_link_or_copy)
    else:
        _link_or_copy(source, dest)


def _link_or_copy(source: str | os.PathLike[str], dest: str | os.PathLike[str]) -> None:
    try:
        os.link(source, dest, follow_symlinks=False)
    except OSError:
        shutil.copy2(source, dest, follow_symlinks=False)


def remove_temporaries(directory: str | os.PathLike[str], *, older_than: float = 0.0,
                       prefix: str = ".") -> int:
    """Delete the temporaries of interrupted writes in ``directory`` (``.NAME.PID-*.tmp`` files
    of :func:`atomic_write_bytes`, directories of :func:`writing_dir`) whose names start with
    ``prefix`` and whose writer process is gone, or that were last modified more than
    ``older_than`` seconds ago (0: all; only safe when no other process is writing there).
    Returns how many were removed."""
    import time

    directory = Path(directory)
    if not directory.is_dir():
        return 0
    removed = 0
    now = time.time()
    for entry in directory.iterdir():
        if not (entry.name.startswith(prefix) and entry.name.startswith(".")
                and entry.name.endswith(".tmp")):
            continue
        with contextlib.suppress(OSError):
            if now - entry.lstat().st_mtime < older_than and not _writer_gone(entry.name):
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed += 1
    return removed

"""A training run's directory: identity, checkpoints written atomically, the metrics log.

Layout of ``DIR``::

    run.json                 variant, model config, train config (what makes the run this run)
    metrics.jsonl            one JSON object per logged step (training) or validation
    checkpoints/last/        model.safetensors + config.json (zoo.load-able), optimizer.safetensors,
                             trainer.json (step, epoch, batch, best validation loss)
    best/                    the model with the lowest validation loss so far (zoo.load-able);
                             the final model of a run without a validation split
    summary.json             written when the run finishes
    plots/                   pictures of the run
    .lock                    held (flock) by the process that trains the run, while it lives

A directory is claimed under an exclusive lock held for the life of the claiming process
(:func:`lock_directory`): a second process that tries to train, or resume, the same run is
refused at once instead of both writing. Temporaries a crashed process left behind are removed
by the next claim. A run that never got through a step (it failed building its model, or at
its first step) holds nothing to protect: a new run may take its directory, whatever its settings.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from zoo._io import atomic_write_text, recover_dir, remove_temporaries, writing_dir
from zoo.errors import ZooError

__all__ = ["LOCK_FILE", "RunDir", "RunError", "lock_directory", "model_directory",
           "release_directory"]

RUN_FILE = "run.json"
METRICS_FILE = "metrics.jsonl"
LOCK_FILE = ".lock"

#: This process's locks: resolved directory -> open file descriptor of its lock file.
_HELD: dict[Path, int] = {}


def _is_temporary(name: str) -> bool:
    """Whether ``name`` is a temporary of an interrupted atomic write (``.NAME.PID-*.tmp``,
    :func:`zoo._io.remove_temporaries`)."""
    return name.startswith(".") and name.endswith(".tmp")


class RunError(ZooError):
    """A run directory that cannot be used as asked (another run, a different config, ...)."""


def _changed_data(run: str, old: Any, new: Any) -> str | None:
    """Why a resume is refused when the run's own data (``run.json``'s ``data``: path, content
    sha256, size) differs from what it is given now; ``None`` when it does not."""
    if not (isinstance(old, dict) and isinstance(new, dict)) or old == new:
        return None
    was, now = old.get("path"), new.get("path")
    if old.get("sha256") == new.get("sha256"):
        return (f"cannot resume {run!r}: it trained on {was!r}; give that dataset again "
                f"(--dataset {was}; move the data back there), not {now!r}, which holds the "
                "same data")
    return (f"cannot resume {run!r}: its data changed since the run started ({was!r}: "
            f"{old.get('examples')} images, sha256 {str(old.get('sha256'))[:12]}...; now "
            f"{now!r}: {new.get('examples')} images, sha256 {str(new.get('sha256'))[:12]}...). "
            "A resume must see the same data: restore it, or train on the new data as a new "
            "run (another --out); nothing was changed")


def _clean(value: Any) -> Any:
    """JSON-ready scalars: floats stay floats (NaN/inf as strings), arrays become lists."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def lock_directory(path: str | os.PathLike[str], what: str = "run") -> None:
    """Take the exclusive lock of directory ``path`` (created if missing) for the life of this
    process, or until :func:`release_directory`; a no-op when this process holds it already.
    Raises :class:`RunError` naming the holder when another process does. The lock is an
    ``flock`` on ``path/.lock``: the OS drops it when its holder dies, however it dies."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    key = path.resolve()
    if key in _HELD:
        return
    fd = os.open(key / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        import fcntl  # POSIX; where it is missing (Windows) directories are not locked
    except ImportError:  # pragma: no cover
        _HELD[key] = fd
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = os.read(fd, 64).decode("ascii", "replace").strip() or "unknown"
        os.close(fd)
        raise RunError(f"{str(path)!r} is in use: another process (pid {holder}) is training "
                       f"this {what} now. Wait for it to finish (or stop it), or choose another "
                       "--out; nothing was changed") from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode("ascii"))
    _HELD[key] = fd


def release_directory(path: str | os.PathLike[str]) -> None:
    """Give back the lock of :func:`lock_directory` (no-op when this process holds none)."""
    fd = _HELD.pop(Path(path).resolve(), None)
    if fd is not None:
        os.close(fd)  # closing the descriptor drops the flock


class RunDir:
    """The files of one training run under ``path``."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.last = self.path / "checkpoints" / "last"
        self.best = self.path / "best"
        self.plots = self.path / "plots"
        self.metrics_path = self.path / METRICS_FILE

    # -- identity ----------------------------------------------------------------------------------
    def read_identity(self) -> dict[str, Any] | None:
        path = self.path / RUN_FILE
        if not path.is_file():
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise RunError(f"{str(path)!r} is corrupted ({exc}); it is not a usable run") from None

    def write_identity(self, identity: dict[str, Any]) -> None:
        """Replace ``run.json`` atomically (a claimed run changing its length)."""
        atomic_write_text(self.path / RUN_FILE, json.dumps(identity, indent=2) + "\n")

    def claim(self, identity: dict[str, Any], *, resume: bool) -> bool:
        """Make this directory the home of the run ``identity``; return True when resuming.

        A fresh run needs an empty or missing directory, one holding the same run stopped
        before its first checkpoint (started again), or one holding a run that failed before
        its first step (:meth:`never_trained`, whatever its identity: it is replaced);
        ``resume`` needs the same identity and a checkpoint. A directory holding a run with a
        checkpoint, a ``best/`` model or a logged step, of another identity, is refused. The
        directory stays locked by this process (:func:`lock_directory`). Nothing is written or
        deleted when the directory belongs to something else (a directory this call created is
        removed again).
        """
        created = not self.path.exists()
        lock_directory(self.path)
        try:
            return self._claim_locked(identity, resume)
        except BaseException:
            release_directory(self.path)
            if created:
                shutil.rmtree(self.path, ignore_errors=True)
            raise

    def release(self) -> None:
        """Give back this run's lock (the end of the process does it too)."""
        release_directory(self.path)

    def _claim_locked(self, identity: dict[str, Any], resume: bool) -> bool:
        existing = self.read_identity()
        if resume:
            if existing is None:
                raise RunError(
                    f"cannot resume: {str(self.path)!r} holds no run (run.json missing); "
                    "start a new run without --resume"
                )
            if existing != identity:
                data = _changed_data(str(self.path), existing.get("data"), identity.get("data"))
                if data:
                    raise RunError(data)
                diff = sorted(
                    k for k in set(existing) | set(identity) if existing.get(k) != identity.get(k)
                )
                raise RunError(
                    f"cannot resume {str(self.path)!r}: it was started with a different "
                    f"{', '.join(diff)}. Resume with the same arguments, or pick another --out"
                )
            if not (self.last.is_dir() or self._recover_last()):
                raise RunError(
                    f"cannot resume {str(self.path)!r}: it holds no checkpoint yet (the run "
                    "stopped before its first one); start it again without --resume (same "
                    "settings), or choose another --out"
                )
            self._remove_stale()
            return True
        if existing is not None and not (self.last.is_dir() or self._recover_last()) \
                and (existing == identity or self.never_trained()):
            # the same run stopped before its first checkpoint, or a run (of any settings) that
            # failed before its first step: nothing to keep, start this one afresh
            self._remove_stale()
            self.metrics_path.unlink(missing_ok=True)
            if existing != identity:
                self.write_identity(identity)
            return False
        if any(p.name != LOCK_FILE for p in self.path.iterdir()):
            what = "another run" if existing is not None else "other files"
            raise RunError(
                f"{str(self.path)!r} already holds {what}; pass --resume to continue that run "
                "or choose an empty --out directory (nothing was overwritten)"
            )
        self.write_identity(identity)
        return False

    def never_trained(self) -> bool:
        """Whether the run here never got through a step: no checkpoint, no ``best/`` model, no
        logged row, and nothing beside ``run.json`` but its lock, an empty metrics log and the
        temporaries of interrupted writes (a crash before the first step leaves no more). Such
        a directory is no run to protect: :meth:`claim` lets a new run of other settings take
        it. Call it holding the lock."""
        def run_files(directory: Path, names: set[str]) -> bool:
            return all(e.name in names or _is_temporary(e.name) for e in directory.iterdir())

        checkpoints = self.last.parent
        if not run_files(self.path, {RUN_FILE, LOCK_FILE, METRICS_FILE, checkpoints.name}):
            return False
        if checkpoints.is_dir() and not run_files(checkpoints, set()):
            return False
        return not (self.metrics_path.is_file()
                    and self.metrics_path.read_text(encoding="utf-8", errors="replace").strip())

    def _remove_stale(self) -> None:
        """Temporaries of writes a crashed process left behind (this process holds the lock,
        so nothing else is writing)."""
        remove_temporaries(self.path)
        remove_temporaries(self.path / "checkpoints")

    # -- checkpoints -------------------------------------------------------------------------------
    def _recover_last(self) -> bool:
        return recover_dir(self.last)

    @contextlib.contextmanager
    def writing_checkpoint(self, target: Path | None = None) -> Any:
        """Yield a temporary directory to fill; on success it atomically becomes ``target``
        (default: the last checkpoint). The previous one stays intact until the swap
        (:func:`zoo._io.writing_dir`)."""
        with writing_dir(self.last if target is None else target) as tmp:
            yield tmp

    # -- metrics -----------------------------------------------------------------------------------
    def log(self, rows: Iterable[dict[str, Any]]) -> None:
        """Append metric rows, flushed and fsynced (a crash loses at most the last line)."""
        lines = "".join(
            json.dumps({k: _clean(v) for k, v in row.items()}) + "\n" for row in rows
        )
        if not lines:
            return
        with open(self.metrics_path, "a", encoding="utf-8") as fh:
            fh.write(lines)
            fh.flush()
            os.fsync(fh.fileno())

    def truncate_metrics_after(self, step: int) -> None:
        """Drop logged rows past ``step`` (they will be recomputed by a resumed run)."""
        if not self.metrics_path.is_file():
            return
        kept = []
        for line in self.metrics_path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by a crash
            if int(row.get("step", 0)) <= step:
                kept.append(line + "\n")
        atomic_write_text(self.metrics_path, "".join(kept))

    def read_metrics(self) -> list[dict[str, Any]]:
        if not self.metrics_path.is_file():
            return []
        rows = []
        for line in self.metrics_path.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(json.JSONDecodeError):
                rows.append(json.loads(line))
        return rows


def model_directory(path: str | os.PathLike[str]) -> tuple[Path, dict[str, Any] | None]:
    """Where the model of ``path`` lives: a run directory's ``best/`` (with the run's identity),
    or ``path`` itself with ``None`` for any other directory. A run without ``best/`` yet is an
    error. The one place that maps a run to its model."""
    run = RunDir(path)
    identity = run.read_identity()
    if identity is None:
        return run.path, None
    if not run.best.is_dir():
        raise RunError(f"run {str(run.path)!r} has no best/ model yet; train it first (or "
                       "continue it with --resume)")
    return run.best, identity

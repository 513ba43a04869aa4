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
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from zoo._io import atomic_write_text
from zoo.errors import ZooError

__all__ = ["RunDir", "RunError", "model_directory"]

RUN_FILE = "run.json"
METRICS_FILE = "metrics.jsonl"


class RunError(ZooError):
    """A run directory that cannot be used as asked (another run, a different config, ...)."""


def _clean(value: Any) -> Any:
    """JSON-ready scalars: floats stay floats (NaN/inf as strings), arrays become lists."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


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

    def claim(self, identity: dict[str, Any], *, resume: bool) -> bool:
        """Make this directory the home of the run ``identity``; return True when resuming.

        A fresh run needs an empty or missing directory; ``resume`` needs the same identity.
        Nothing is written or deleted when the directory belongs to something else.
        """
        existing = self.read_identity()
        if resume:
            if existing is None:
                raise RunError(
                    f"cannot resume: {str(self.path)!r} holds no run (run.json missing); "
                    "start a new run without --resume"
                )
            if existing != identity:
                diff = sorted(
                    k for k in set(existing) | set(identity) if existing.get(k) != identity.get(k)
                )
                raise RunError(
                    f"cannot resume {str(self.path)!r}: it was started with a different "
                    f"{', '.join(diff)}. Resume with the same arguments, or pick another --out"
                )
            return self.last.is_dir() or self._recover_last()
        if self.path.exists() and any(self.path.iterdir()):
            what = "another run" if existing is not None else "other files"
            raise RunError(
                f"{str(self.path)!r} already holds {what}; pass --resume to continue that run "
                "or choose an empty --out directory (nothing was overwritten)"
            )
        self.path.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.path / RUN_FILE, json.dumps(identity, indent=2) + "\n")
        return False

    # -- checkpoints -------------------------------------------------------------------------------
    def _recover_last(self) -> bool:
        old = self.last.with_name("last.old")
        if old.is_dir() and not self.last.exists():
            old.rename(self.last)
            return True
        return False

    @contextlib.contextmanager
    def writing_checkpoint(self, target: Path | None = None) -> Any:
        """Yield a temporary directory to fill; on success it atomically becomes ``target``
        (default: the last checkpoint). The previous one stays intact until the swap."""
        target = self.last if target is None else target
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            yield tmp
            old = target.with_name(f"{target.name}.old")
            if old.exists():
                shutil.rmtree(old)
            if target.exists():
                target.rename(old)
            tmp.rename(target)
            if old.exists():
                shutil.rmtree(old)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)

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

"""Read a run's metrics history (``metrics.jsonl``: one JSON object per line)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from zoo.errors import ZooError

__all__ = ["read_history"]


def read_history(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The records of a JSON-lines metrics file, in file order.

    Blank lines are skipped. An unterminated last line that does not parse (a run killed while
    writing it) is dropped; any other line that is not a JSON object is an error naming its
    line number, because silently skipping it would hide a corrupt file.

    Raises:
        ZooError: the file is missing, or a line other than a torn last one is corrupt.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ZooError(
            f"no metrics file at {path}; pass the metrics.jsonl of a run directory (a run "
            "writes it once it has logged its first step)"
        ) from None
    except IsADirectoryError:
        raise ZooError(f"{path} is a directory; pass its metrics.jsonl file") from None
    lines = data.split(b"\n")
    torn = not data.endswith(b"\n")  # the last element is then an unterminated line
    last = max((i for i, line in enumerate(lines) if line.strip()), default=-1)
    records: list[dict[str, Any]] = []
    for i, raw in enumerate(lines):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except ValueError as exc:  # JSONDecodeError or UnicodeDecodeError
            if i == last and torn:
                break
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "not UTF-8"
            where = "lines follow it" if i < last else "it ends with a newline"
            raise ZooError(
                f"{path}, line {i + 1}: not valid JSON ({reason}): {_preview(raw)}; {where}, so "
                "the file is corrupt, not just cut short by a killed run. Delete or repair "
                "that line"
            ) from None
        if not isinstance(record, dict):
            if i == last and torn:
                break
            raise ZooError(
                f"{path}, line {i + 1}: expected one JSON object per line, got "
                f"{type(record).__name__} {_preview(raw)}; delete or repair that line"
            )
        records.append(record)
    return records


def _preview(raw: bytes, limit: int = 60) -> str:
    text = raw.decode("utf-8", errors="replace").strip()
    return repr(text if len(text) <= limit else text[:limit] + "...")

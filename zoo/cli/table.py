"""Plain aligned text tables for the command line's human-readable output (``--json`` is for
machines)."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["aligned"]


def aligned(rows: Sequence[Sequence[str]], *, indent: str = "", gap: str = "  ") -> list[str]:
    """The lines of ``rows`` with every cell but the last of its row padded to the widest such
    cell of its column; a row's last cell is never padded and never widens its column (a
    one-cell row is a heading that may run across). Trailing spaces are dropped."""
    widths: dict[int, int] = {}
    for row in rows:
        for i, cell in enumerate(row[:-1]):
            widths[i] = max(widths.get(i, 0), len(cell))
    lines = []
    for row in rows:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])] + list(row[-1:])
        lines.append((indent + gap.join(cells)).rstrip())
    return lines

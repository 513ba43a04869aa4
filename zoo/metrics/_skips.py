"""The ``note`` a disentanglement metric returns when it leaves factors out of its score."""

from __future__ import annotations

__all__ = ["skip_note"]


def skip_note(skipped: list[int], why: str) -> str | None:
    if not skipped:
        return None
    return (
        f"factor(s) {skipped} {why} and were left out of the score; sample data in which every "
        "factor varies to score them"
    )

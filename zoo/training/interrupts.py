"""Ctrl-C during training: a flag the loop reads between two dispatches, so a step is never cut
in half (its input buffers are donated) and the state it checkpoints is whole."""

from __future__ import annotations

import signal
import threading
from types import TracebackType
from typing import Any

__all__ = ["StopFlag"]


class StopFlag:
    """``with StopFlag() as stop:`` turns the first SIGINT into ``stop.requested = True``; a
    second one raises :class:`KeyboardInterrupt` at once. Off the main thread (where Python
    cannot install handlers) it never sets. Leaving the block restores the old handler."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None
        self._installed = False

    def _handler(self, signum: int, frame: Any) -> None:
        if self.requested:  # a second Ctrl-C: stop now
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> StopFlag:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handler)
            self._installed = True
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
            self._installed = False

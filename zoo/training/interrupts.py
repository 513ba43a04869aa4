"""Ctrl-C and SIGTERM during training: a flag the loop reads between two dispatches, so a step
is never cut in half (its input buffers are donated) and the state it checkpoints is whole.
SIGTERM is what ``kill``, ``timeout``, containers and cluster schedulers send: it saves the run
exactly as Ctrl-C does."""

from __future__ import annotations

import signal
import threading
from types import TracebackType
from typing import Any

__all__ = ["StopFlag"]


class StopFlag:
    """``with StopFlag() as stop:`` turns the first SIGINT or SIGTERM into ``stop.requested =
    True`` (``stop.signal_name`` says which); a second one raises :class:`KeyboardInterrupt` at
    once. Off the main thread (where Python cannot install handlers) it never sets. Leaving the
    block restores the old handlers."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.requested = False
        self.signal_name = ""
        self._previous: dict[int, Any] = {}

    def _handler(self, signum: int, frame: Any) -> None:
        if self.requested:  # a second signal: stop now
            raise KeyboardInterrupt
        self.requested = True
        self.signal_name = signal.Signals(signum).name

    def __enter__(self) -> StopFlag:
        if threading.current_thread() is threading.main_thread():
            for signum in self.SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handler)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous = {}

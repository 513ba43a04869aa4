"""One training run over several processes, one per host: ``jax.distributed`` with a deadline.

Every process runs the same ``zoo train`` command with the same ``--coordinator HOST:PORT``
(process 0's address, reachable from every host), ``--num-processes N`` and its own
``--process-id I``. Process 0 owns the run directory: it claims it, restores and writes the
checkpoints, the metrics, ``best/``, the summary and the pictures; the others only compute and
receive from process 0 what it read (:func:`share`, :func:`share_arrays`). The data order is a
function of the seed, so every process assembles the same global batches.

A process whose peers have not all joined within the timeout ends with an error (exit status 2)
instead of waiting forever; a peer that stops answering during the run ends the others through
JAX's heartbeat, after the same timeout. Importing this module does not import JAX.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

from zoo.errors import ConfigError, ZooError

__all__ = ["Cluster", "ClusterError", "from_writer", "is_writer", "peers_answering", "share",
           "share_arrays", "start"]

#: exit status of a process whose peers never all joined
EXIT_MISSING_PEERS = 2


class ClusterError(ZooError):
    """The processes of a multi-process run could not be connected."""


@dataclasses.dataclass(frozen=True)
class Cluster:
    """Where this process stands in a multi-process run.

    ``coordinator`` is ``"HOST:PORT"`` of process 0, ``timeout`` the seconds to wait for every
    process to join (and for a silent peer during the run) before ending with an error.
    """

    coordinator: str
    num_processes: int
    process_id: int
    timeout: int = 300

    def __post_init__(self) -> None:
        host, _, port = self.coordinator.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigError(f"coordinator must be HOST:PORT (process 0's address), got "
                              f"{self.coordinator!r}")
        if self.num_processes < 1:
            raise ConfigError(f"num_processes must be >= 1, got {self.num_processes}")
        if not 0 <= self.process_id < self.num_processes:
            raise ConfigError(f"process_id must be in 0..{self.num_processes - 1} "
                              f"(one per process), got {self.process_id}")
        if self.timeout < 1:
            raise ConfigError(f"the coordinator timeout must be >= 1 s, got {self.timeout}")


def _watchdog(cluster: Cluster, joined: threading.Event) -> None:
    """End the process with a clear message when ``joined`` is not set in time (JAX's own
    deadline aborts the process later, with a C++ stack trace)."""
    if joined.wait(cluster.timeout + 1):
        return
    sys.stderr.write(
        f"zoo: error: not every process of this run reached the coordinator "
        f"{cluster.coordinator} within {cluster.timeout} s (this is process "
        f"{cluster.process_id} of {cluster.num_processes}). Start all {cluster.num_processes} "
        "processes with the same --coordinator and --num-processes and each its own "
        "--process-id, check that process 0's host and port are reachable, or raise "
        "--coordinator-timeout\n")
    sys.stderr.flush()
    os._exit(EXIT_MISSING_PEERS)


def start(cluster: Cluster) -> None:
    """Join the run's processes (``jax.distributed.initialize``, CPU collectives over gloo).
    Call before any JAX computation; a second call with the same cluster does nothing."""
    import jax

    if jax.distributed.is_initialized():
        if (jax.process_count(), jax.process_index()) != (cluster.num_processes,
                                                          cluster.process_id):
            raise ClusterError("this Python process already joined another multi-process run; "
                               "start a new process for this one")
        return
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    joined = threading.Event()
    threading.Thread(target=_watchdog, args=(cluster, joined), name="zoo-coordinator-watchdog",
                     daemon=True).start()
    # the wait happens in C++, where Python's Ctrl-C handler cannot run: let Ctrl-C kill
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_DFL) if main else None
    try:
        jax.distributed.initialize(
            coordinator_address=cluster.coordinator, num_processes=cluster.num_processes,
            process_id=cluster.process_id, initialization_timeout=cluster.timeout,
            heartbeat_timeout_seconds=cluster.timeout)
    except (RuntimeError, ValueError) as exc:
        raise ClusterError(f"cannot join the run's processes at {cluster.coordinator}: {exc}. "
                           "Start multi-process training in a fresh Python process, before any "
                           "other JAX computation") from None
    finally:
        joined.set()
        if main:
            signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def peers_answering() -> Iterator[None]:
    """In a multi-process run, a runtime error of a step (typically a collective whose peer
    died) becomes a :class:`ClusterError` that says what to do. JAX's heartbeat then ends the
    process within the timeout in any case."""
    import jax

    try:
        yield
    except jax.errors.JaxRuntimeError as exc:
        if jax.process_count() == 1:
            raise
        raise ClusterError(
            f"process {jax.process_index()}: a step failed across the run's processes ({exc}); "
            "a peer probably died. Process 0's last checkpoint is intact: start every process "
            "again with --resume") from exc


def is_writer() -> bool:
    """Whether this process writes the run directory (process 0, or the only process)."""
    import jax

    return jax.process_index() == 0


def from_writer(produce: Callable[[], Any]) -> Any:
    """``produce()`` called by process 0 alone; its (JSON-serialisable) result on every
    process. A :class:`~zoo.errors.ZooError` it raises is raised on every process."""
    outcome: dict[str, Any] = {"value": None, "error": None}
    if is_writer():
        try:
            outcome["value"] = produce()
        except ZooError as exc:
            share({"value": None, "error": str(exc)})
            raise
    outcome = share(outcome)
    if outcome["error"] is not None:
        raise ClusterError(f"process 0 stopped the run: {outcome['error']}")
    return outcome["value"]


def share(value: Any) -> Any:
    """Process 0's ``value`` (JSON-serialisable) on every process; ``value`` elsewhere is
    ignored. Returns ``value`` itself when there is one process."""
    import jax
    import numpy as np
    from jax.experimental import multihost_utils

    if jax.process_count() == 1:
        return value
    data = np.frombuffer(json.dumps(value).encode(), np.uint8) if is_writer() else None
    size = int(multihost_utils.broadcast_one_to_all(np.int32(0 if data is None else data.size)))
    buffer = np.zeros(size, np.uint8)
    if data is not None:
        buffer[:] = data
    return json.loads(bytes(multihost_utils.broadcast_one_to_all(buffer)).decode())


def share_arrays(tree: Any) -> Any:
    """Process 0's tree of arrays on every process (same structure, shapes and dtypes on each
    process), as host numpy arrays; ``tree`` itself when there is one process."""
    import jax
    from jax.experimental import multihost_utils

    if jax.process_count() == 1:
        return tree
    return multihost_utils.broadcast_one_to_all(tree)

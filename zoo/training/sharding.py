"""Data parallelism over a one-axis device mesh: the same code on one CPU, several GPUs or a TPU
slice, in one process or one process per host (:mod:`zoo.training.multihost`).

The mesh has one axis, ``data``. A global batch ``x`` [B, H, W, C] (and its labels [B]) is split
along B over the mesh's devices, B / n examples each; the state (parameters, optimizer state),
the run's base key and the step number are replicated. Under ``jax.jit`` the gradient of the
batch mean is then the all-reduced mean of the shards' gradients, so a run on n devices
computes what a run on one device computes, up to the order of float additions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from zoo.errors import ConfigError

__all__ = ["DATA_AXIS", "DataParallel", "key_data", "resolve_device_count", "to_local"]

DATA_AXIS = "data"


def resolve_device_count(devices: int | str, batch_size: int) -> int:
    """The number of devices a run uses: ``devices`` (an int, or ``"all"`` for every device of
    every process), checked against the devices that exist and against ``batch_size`` (the
    global batch, split evenly)."""
    available = jax.device_count()
    where = f"{available} {jax.devices()[0].platform} device(s)"
    if jax.process_count() > 1:
        where += f" over {jax.process_count()} processes"
    if devices == "all":
        count = available
    elif isinstance(devices, bool) or not isinstance(devices, int | np.integer) or devices < 1:
        raise ConfigError(f"devices must be a positive number or 'all', got {devices!r}")
    elif devices > available:
        raise ConfigError(f"devices={devices} asked for, but only {where} exist here; use "
                          f"--devices all or a number up to {available}")
    else:
        count = int(devices)
    if jax.process_count() > 1 and count != available:
        raise ConfigError(f"a multi-process run uses every device ({where}); pass --devices all "
                          f"(or {available}), not {devices}")
    if batch_size % count:
        fit = max(count, batch_size // count * count)
        raise ConfigError(f"batch_size {batch_size} does not split evenly over {count} devices; "
                          f"use a multiple of {count} (e.g. batch_size={fit}) or other devices")
    return count


def key_data(seed: int) -> np.ndarray:
    """The raw data (uint32 [2]) of ``jax.random.key(seed)``, to replicate over a mesh."""
    return np.asarray(jax.random.key_data(jax.random.key(seed)))


def _is_key(array: Any) -> bool:
    return jnp.issubdtype(array.dtype, jax.dtypes.prng_key)


def to_local(tree: Any) -> Any:
    """Copies of a tree of replicated (or single-device) arrays as ordinary arrays of this
    process's default device: what a model handed to the caller, saved, or drawn holds. Reads
    one local shard of each array, so it needs no other process."""

    def local(array: Any) -> Any:
        if isinstance(array, jax.Array) and len(array.sharding.device_set) > 1:
            if not array.is_fully_replicated:
                raise ValueError(f"to_local needs replicated arrays, got {array.sharding}")
            array = array.addressable_shards[0].data
        if isinstance(array, jax.Array) and _is_key(array):
            data = jax.device_put(np.asarray(jax.random.key_data(array)))
            return jax.random.wrap_key_data(data, impl=jax.random.key_impl(array))
        # device_put of a host copy: no conversion computation to compile per shape
        return jax.device_put(np.asarray(array))

    return jax.tree.map(local, tree)


class DataParallel:
    """The first ``count`` devices as a mesh with one axis, :data:`DATA_AXIS`."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.mesh = Mesh(np.array(jax.devices()[:count]), (DATA_AXIS,))
        #: batch-major arrays: split along axis 0
        self.split = NamedSharding(self.mesh, PartitionSpec(DATA_AXIS))
        #: a chunk of batches [K, B, ...]: split along axis 1
        self.chunk_split = NamedSharding(self.mesh, PartitionSpec(None, DATA_AXIS))
        #: the state, keys, metrics: one whole copy per device
        self.replicated = NamedSharding(self.mesh, PartitionSpec())

    def _put(self, array: np.ndarray, sharding: NamedSharding) -> jax.Array:
        if sharding.is_fully_addressable:  # one process
            return jax.device_put(array, sharding)
        # several processes: each holds the same host value and places its own devices' parts
        return jax.make_array_from_callback(array.shape, sharding, lambda index: array[index])

    def batch(self, array: Any) -> jax.Array:
        """A host array [B, ...] as a global array split along B; replicated when B does not
        divide (the short last batch of a validation pass)."""
        array = np.asarray(array)
        return self._put(array, self.split if len(array) % self.count == 0 else self.replicated)

    def chunk(self, array: Any) -> jax.Array:
        """A host array [K, B, ...] (K batches of one dispatch) as a global array split along
        B."""
        return self._put(np.asarray(array), self.chunk_split)

    def replicate(self, tree: Any) -> Any:
        """A tree of host or single-device values as replicated global arrays (typed PRNG keys
        through their key data)."""

        def put(value: Any) -> Any:
            if isinstance(value, jax.Array) and _is_key(value):
                impl = jax.random.key_impl(value)
                data = self._put(np.asarray(jax.random.key_data(value)), self.replicated)
                return jax.random.wrap_key_data(data, impl=impl)
            return self._put(np.asarray(value), self.replicated)

        return jax.tree.map(put, tree)

    def jit(self, fn: Callable[..., Any], *, donate_state: bool = False) -> Callable[..., Any]:
        """``fn(state, x, labels, key, step)`` (:mod:`zoo.training.steps`) jitted for the mesh
        as ``g(state, x, labels, base_key_data, fold, step)``, with ``key = fold_in(base key,
        fold)`` computed inside (a host key would live on one device only). Inputs keep their
        shardings (:meth:`batch`, :meth:`replicate`); every output is replicated."""

        def keyed(state: Any, x: Any, labels: Any, base: Any, fold: Any, step: Any) -> Any:
            key = jax.random.fold_in(jax.random.wrap_key_data(base), fold)
            return fn(state, x, labels, key, step)

        return jax.jit(keyed, out_shardings=self.replicated,
                       donate_argnums=(0,) if donate_state else ())

    def jit_steps(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """A training function ``fn(state, ...) -> (state, ...)`` of :mod:`zoo.training.chunks`
        (it derives its keys itself) jitted for the mesh: the state is donated, every output
        replicated."""
        return jax.jit(fn, out_shardings=self.replicated, donate_argnums=(0,))

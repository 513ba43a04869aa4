"""Per-step cost of data parallelism (zoo.training.sharding) on this machine, printed as a table.

    python benchmarks/sharding.py [--batch 128] [--steps 30] [--rounds 3] [--devices 4]

Times the loop's real training step (zoo.training.steps, Adam) of a tiny and of the default MLP
beta-VAE on random 28x28x1 batches, host batch placement included, in four set-ups, two per
process with 1 or N devices (the device count is fixed when JAX starts):

    plain jit      the step jitted without a mesh, numpy batches (the loop before sharding)
    mesh 1         DataParallel over 1 device (what `zoo train` does by default)
    mesh 1 of N    the same in a process with N forced host devices (XLA_FLAGS)
    mesh N         DataParallel over N forced host devices, the batch split N ways

Forced host devices share the machine's cores, so "mesh N" measures the overhead of
partitioning and all-reducing on CPU, not a speed-up. The two set-ups of one process are timed
in alternating blocks of ``--steps`` steps (5 each, the quietest kept), and the table shows the
best of ``--rounds`` rounds: the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any

MODELS = {"tiny": {"hidden_dims": (8,), "latent_dim": 3}, "default MLP": {}}


def _stepper(model: str, setup: str, batch: int) -> Any:
    """A function ``run(i)`` doing training step ``i`` of ``setup`` (state kept inside)."""
    import jax
    import numpy as np
    from flax import nnx

    import zoo
    from zoo import building
    from zoo.training.config import TrainConfig, make_optimizer
    from zoo.training.sharding import DataParallel, key_data
    from zoo.training.steps import make_train_step

    spec = zoo.get_variant("beta-vae")
    config = spec.default_config.replace(**MODELS[model])
    net = building.build(spec, config, seed=0)
    opt = nnx.Optimizer(net, make_optimizer(TrainConfig(), 1000), wrt=nnx.Param)
    graphdef, state = nnx.split((net, opt))
    rng = np.random.default_rng(0)
    xs = [rng.random((batch, 28, 28, 1), dtype=np.float32) for _ in range(4)]
    labels = np.zeros(batch, np.int32)
    fn = make_train_step(spec, config, graphdef)
    box = {}
    if setup == "plain jit":
        step, base = jax.jit(fn, donate_argnums=0), jax.random.key(0)
        box["state"] = state

        def run(i: int) -> Any:
            box["state"], m = step(box["state"], xs[i % 4], labels, jax.random.fold_in(base, i), i)
            return m
    else:
        parallel = DataParallel(jax.device_count() if setup.startswith("mesh N") else 1)
        step, key = parallel.jit(fn, donate_state=True), parallel.replicate(key_data(0))
        box["state"] = parallel.replicate(state)

        def run(i: int) -> Any:
            box["state"], m = step(box["state"], parallel.batch(xs[i % 4]),
                                   parallel.batch(labels), key, i, i)
            return m

    for i in range(3):  # compile, warm up
        jax.block_until_ready(run(i))
    return run


def measure(model: str, setups: list[str], batch: int, steps: int) -> dict[str, float]:
    """Milliseconds per training step of each setup (in this process), measured in alternating
    blocks of ``steps`` steps, the quietest block of each kept (the machine is shared)."""
    import jax

    runs = {setup: _stepper(model, setup, batch) for setup in setups}
    best = dict.fromkeys(setups, float("inf"))
    for _ in range(5):
        for setup, run in runs.items():
            start = time.perf_counter()
            for i in range(steps):
                metrics = run(i)
            jax.block_until_ready(metrics)
            best[setup] = min(best[setup], (time.perf_counter() - start) / steps * 1e3)
    return best


def _child(model: str, setups: list[str], args: argparse.Namespace) -> dict[str, float]:
    env = dict(os.environ)
    if "mesh 1" in setups:
        env.pop("XLA_FLAGS", None)
    else:
        env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={args.devices}"
    cmd = [sys.executable, __file__, "--child", json.dumps([model, setups]),
           "--batch", str(args.batch), "--steps", str(args.steps)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    if out.returncode:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--devices", type=int, default=4, help="N, forced host devices")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(*json.loads(args.child), args.batch, args.steps)))
        return
    groups = [["plain jit", "mesh 1"], [f"mesh 1 of {args.devices}", f"mesh N={args.devices}"]]
    setups = [s for g in groups for s in g]
    best = {(m, s): float("inf") for m in MODELS for s in setups}
    for _ in range(args.rounds):
        for m in MODELS:
            for group in groups:
                for s, ms in _child(m, group, args).items():
                    best[(m, s)] = min(best[(m, s)], ms)
    print(f"beta-vae training step, batch {args.batch}, ms/step (images/s), best of "
          f"{args.rounds}; overhead vs plain jit")
    print(f"{'model':<12} " + " ".join(f"{s:>24}" for s in setups))
    for m in MODELS:
        base = best[(m, "plain jit")]
        cells = [f"{best[(m, s)]:6.2f} ({args.batch / best[(m, s)] * 1e3:6,.0f}) "
                 f"{(best[(m, s)] / base - 1) * 100:+4.0f}%" for s in setups]
        print(f"{m:<12} " + " ".join(f"{c:>24}" for c in cells))


if __name__ == "__main__":
    main()

"""Training throughput of an N-member sweep against N sequential runs, printed as a table.

    python benchmarks/sweep.py [--members 1 4 8] [--batch 128] [--chunk 16] [--dispatches 5]

Member-images per second (every member's images count) of the default MLP beta-VAE
(784-512-256, 10 latents) on random 28x28x1 batches, members differing in beta:

    sweep        zoo sweep's real program (zoo.training.sweep_program): the N members' stacked
                 states trained by one vmapped, jitted chunk of ``--chunk`` steps per dispatch
    sequential   the loop's real chunk (zoo.training.chunks.scan_steps over
                 zoo.training.steps.make_train_step) run for each member in turn, which is
                 what N separate `zoo train` runs cost per step

Compilation is excluded (one warm-up dispatch each); each set-up is timed over
``--dispatches`` dispatches, best of ``--rounds`` rounds (the machine is shared and noisy).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import zoo

IMAGE = (28, 28, 1)


class _RandomImages:
    """A 'bench-random' dataset of random 28x28x1 images, so no download is needed."""

    @zoo.hookimpl
    def zoo_register_datasets(self, register: Any) -> None:
        import numpy as np

        from zoo.data import ArrayDataset

        def loader(partition: str, *, cache_dir: Any = None, **options: Any) -> ArrayDataset:
            rng = np.random.default_rng(0)
            images = (rng.random((4096, *IMAGE)) * 255).astype(np.uint8)
            return ArrayDataset(images=images, labels=None, name="bench-random", split="")

        register(zoo.DatasetSpec(name="bench-random", loader=loader, image_shape=IMAGE))


def _sweep_program(members: int, batch: int, chunk: int, overrides: dict[str, Any],
                   out: Path) -> Any:
    import zoo.sweep as sweeping
    from zoo.training import TrainConfig
    from zoo.training.sweep_program import SweepProgram

    tc = TrainConfig(dataset="bench-random", batch_size=batch, max_steps=10_000,
                     validation_size=0, log_every=chunk, eval_every=10_000,
                     checkpoint_every=10_000)
    grid = sweeping.grid("beta-vae", {"beta": [1.0 + i for i in range(members)]},
                         train_config=tc, model_overrides=overrides)
    return SweepProgram(grid, out, resume=False, chunk=chunk)


def _time(run: Any, dispatches: int, rounds: int) -> float:
    """Best seconds per dispatch of ``run()`` (which blocks until done)."""
    run()  # compile
    best = float("inf")
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(dispatches):
            run()
        best = min(best, (time.perf_counter() - t) / dispatches)
    return best


def measure(members: int, *, batch: int = 128, chunk: int = 16, dispatches: int = 5,
            rounds: int = 3, overrides: dict[str, Any] | None = None) -> dict[str, float]:
    """Member-images per second of the sweep and of sequential runs, ``members`` members."""
    import jax
    import numpy as np
    from flax import nnx

    from zoo.training import chunks
    from zoo.training.steps import make_train_step

    with tempfile.TemporaryDirectory() as tmp:
        p = _sweep_program(members, batch, chunk, dict(overrides or {}), Path(tmp) / "s")
        rng = np.random.default_rng(0)
        shape = p.train_ds.images.shape[1:]
        xs = rng.random((1, chunk, batch, *shape), dtype=np.float32)
        labels = np.zeros((1, chunk, batch), np.int32)

        def sweep() -> None:
            p.state, metrics, p.flags = p.chunk(p.state, xs, labels, p.data_index, p.bases, 0,
                                                p.flags, p.settings)
            jax.block_until_ready(metrics)

        sweep_s = _time(sweep, dispatches, rounds)
        steps = [jax.jit(chunks.scan_steps(make_train_step(p.spec, r.config,
                                                          nnx.graphdef((r.model, r.opt)))),
                         donate_argnums=0) for r in p.runs]
        states = [r.state() for r in p.runs]
        flag = np.int32(chunks.ALL_FINITE)

        def sequential() -> None:
            for i, step in enumerate(steps):
                states[i], metrics, _ = step(states[i], xs[0], labels[0], p.bases[i], 0, flag)
                jax.block_until_ready(metrics)

        seq_s = _time(sequential, dispatches, rounds)
    images = members * chunk * batch
    return {"members": members, "sweep": images / sweep_s, "sequential": images / seq_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--chunk", type=int, default=16)
    parser.add_argument("--dispatches", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from zoo.plugins import get_manager

    get_manager().register(_RandomImages(), name="bench-random")
    print(f"beta-VAE MLP 784-512-256, batch {args.batch}, {args.chunk} steps per dispatch; "
          "member-images/s, best of "
          f"{args.rounds} rounds of {args.dispatches} dispatches")
    print(f"{'members':>8} {'sweep':>12} {'sequential':>12} {'speed-up':>9}")
    for n in args.members:
        r = measure(n, batch=args.batch, chunk=args.chunk, dispatches=args.dispatches,
                    rounds=args.rounds)
        print(f"{n:>8} {r['sweep']:>12,.0f} {r['sequential']:>12,.0f} "
              f"{r['sweep'] / r['sequential']:>8.2f}x")


if __name__ == "__main__":
    main()

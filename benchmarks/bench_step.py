"""Training-step throughput of every installed variant (zoo only), printed as a table.

    python benchmarks/bench_step.py [--batch 128] [--steps 30] [--rounds 3] [--variants a,b]
                                    [key=value ...]

Times zoo's real training step (:class:`zoo_side.ZooTrainer`: ``jax.jit(make_train_step(...),
donate_argnums=0)`` fed host numpy batches, as the training loop runs it) on random images of
each variant's default size, after a compiling warm-up step; reports the best of ``--rounds``
runs of ``--steps`` steps, in images/s. Earlier versions wrapped a copy of the step in
``nnx.jit`` per call, whose Python-side graph handling the loop does not pay; this one times
what the loop runs. For zoo against PyTorch, and third-party variants aside, use
``benchmarks/compare.py``. Compare numbers measured in one run only: machines are shared.
"""

from __future__ import annotations

import argparse

import jax
import numpy as np
from flax import nnx
from networks import Network
from zoo_side import ZooTrainer, synthetic_batches

import zoo


def bench(name: str, batch: int, steps: int, rounds: int,
          overrides: dict) -> tuple[float, int, str]:
    """(best images/s, parameter count, architecture) of variant ``name``."""
    trainer = ZooTrainer(Network(name, name, overrides, batch, ""))
    data = synthetic_batches(trainer.config, batch)
    trainer.run(data, 1)
    ips = max(batch * steps / trainer.run(data, steps) for _ in range(rounds))
    params = sum(int(np.prod(p.shape))
                 for p in jax.tree.leaves(nnx.state(trainer.model, nnx.Param)))
    return ips, params, str(getattr(trainer.config, "architecture", "-"))


def main() -> None:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--variants", default="", help="comma list; default: all")
    parser.add_argument("overrides", nargs="*", help="config overrides, e.g. use_ema=false")
    args = parser.parse_args()
    from zoo.config import parse_overrides

    raw = parse_overrides(args.overrides)
    names = args.variants.split(",") if args.variants else zoo.list_variants()
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}, batch {args.batch}, "
          f"best of {args.rounds} x {args.steps} steps")
    print(f"{'variant':<20} {'arch':<5} {'params':>10} {'images/s':>10}")
    for name in names:
        try:
            config = zoo.get_variant(name).default_config.replace_from_strings(raw)
            overrides = {k: getattr(config, k) for k in raw}
            ips, params, arch = bench(name, args.batch, args.steps, args.rounds, overrides)
        except zoo.ConfigError as exc:
            print(f"{name:<20} skipped: {exc}")
            continue
        print(f"{name:<20} {arch:<5} {params:>10,} {ips:>10,.0f}")


if __name__ == "__main__":
    main()

"""Training-step throughput of every installed variant (zoo only), printed as a table.

    python benchmarks/bench_step.py [--batch 128] [--steps 30] [--rounds 3] [--variants a,b]
                                    [--dispatch 1,16] [key=value ...]

Times zoo's real training step (:class:`zoo_side.ZooTrainer`: ``jax.jit(make_train_step(...),
donate_argnums=0)`` fed host numpy batches, as the training loop runs it) on random images of
each variant's default size, after a compiling warm-up step; reports the best of ``--rounds``
runs of ``--steps`` steps, in images/s. Earlier versions wrapped a copy of the step in
``nnx.jit`` per call, whose Python-side graph handling the loop does not pay; this one times
what the loop runs. ``--dispatch K1,K2,...`` adds a column per steps-per-dispatch value (the
lever ``zoo train --steps-per-dispatch``), timed interleaved. For zoo against PyTorch, and
third-party variants aside, use
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


def bench(name: str, batch: int, steps: int, rounds: int, overrides: dict,
          dispatch: tuple[int, ...] = (0,)) -> tuple[list[float], int, str]:
    """(best images/s per steps-per-dispatch value (0: the loop's default), parameter count,
    architecture) of variant ``name``; the values are timed interleaved, round by round."""
    net = Network(name, name, overrides, batch, "")
    trainers = [ZooTrainer(net, steps_per_dispatch=k or None) for k in dispatch]
    data = synthetic_batches(trainers[0].config, batch)
    for t in trainers:
        t.run(data, 1)
        t.run(data, t.steps_per_dispatch + 1)  # compiles the chunk program too
    best = [0.0] * len(trainers)
    for _ in range(rounds):
        for i, t in enumerate(trainers):
            best[i] = max(best[i], batch * steps / t.run(data, steps))
    params = sum(int(np.prod(p.shape))
                 for p in jax.tree.leaves(nnx.state(trainers[0].model, nnx.Param)))
    return best, params, str(getattr(trainers[0].config, "architecture", "-"))


def main() -> None:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--variants", default="", help="comma list; default: all")
    parser.add_argument("--dispatch", default="0",
                        help="comma list of steps per dispatch (0: the loop's default)")
    parser.add_argument("overrides", nargs="*", help="config overrides, e.g. use_ema=false")
    args = parser.parse_args()
    from zoo.config import parse_overrides

    raw = parse_overrides(args.overrides)
    names = args.variants.split(",") if args.variants else zoo.list_variants()
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}, batch {args.batch}, "
          f"best of {args.rounds} x {args.steps} steps")
    dispatch = tuple(int(k) for k in args.dispatch.split(","))
    heads = "".join(f" {'images/s' if k == 0 else f'K={k} img/s':>12}" for k in dispatch)
    print(f"{'variant':<20} {'arch':<5} {'params':>10}{heads}")
    for name in names:
        try:
            config = zoo.get_variant(name).default_config.replace_from_strings(raw)
            overrides = {k: getattr(config, k) for k in raw}
            ips, params, arch = bench(name, args.batch, args.steps, args.rounds, overrides,
                                      dispatch)
        except zoo.ConfigError as exc:
            print(f"{name:<20} skipped: {exc}")
            continue
        print(f"{name:<20} {arch:<5} {params:>10,}" + "".join(f" {v:>12,.0f}" for v in ips))


if __name__ == "__main__":
    main()

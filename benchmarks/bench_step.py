"""Training-step throughput of every installed variant (Adam, jitted), printed as a table.

    python benchmarks/bench_step.py [--batch 128] [--steps 30] [--variants a,b] [key=value ...]

Times ``--steps`` steps after two warm-up steps on random 28x28x1 images; reports images/s.
Compare numbers measured in one run only: machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

import zoo


def bench(name: str, batch: int, steps: int, overrides: dict) -> tuple[float, int]:
    spec = zoo.get_variant(name)
    model = zoo.create(name, **overrides)
    cfg = model.config
    opt = nnx.Optimizer(model, optax.adam(1e-3), wrt=nnx.Param)
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.random((batch, cfg.height, cfg.width, cfg.channels), dtype=np.float32))
    labels = jnp.asarray(rng.integers(0, getattr(cfg, "num_classes", 1), batch), jnp.int32)

    @nnx.jit
    def step(model, opt, key, i):
        def loss_fn(m):
            out = zoo.api.call_variant(m, "__call__", x, conditional=spec.conditional,
                                       labels=labels, rngs=key)
            return spec.loss(out, x, config=cfg, step=i)

        (loss, _), grads = nnx.value_and_grad(loss_fn, has_aux=True)(model)
        opt.update(model, grads)
        return loss

    for i in range(2):
        step(model, opt, jax.random.key(i), i).block_until_ready()
    start = time.perf_counter()
    for i in range(steps):
        loss = step(model, opt, jax.random.key(i), i)
    loss.block_until_ready()
    elapsed = time.perf_counter() - start
    params = sum(int(np.prod(p.shape)) for p in jax.tree.leaves(nnx.state(model, nnx.Param)))
    return batch * steps / elapsed, params


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--variants", default="", help="comma list; default: all")
    parser.add_argument("overrides", nargs="*", help="config overrides, e.g. use_ema=false")
    args = parser.parse_args()
    from zoo.config import parse_overrides

    raw = parse_overrides(args.overrides)
    names = args.variants.split(",") if args.variants else zoo.list_variants()
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}, batch {args.batch}")
    print(f"{'variant':<20} {'arch':<5} {'params':>10} {'images/s':>10}")
    for name in names:
        try:
            config = zoo.get_variant(name).default_config.replace_from_strings(raw)
            overrides = {k: getattr(config, k) for k in raw}
            ips, params = bench(name, args.batch, args.steps, overrides)
        except zoo.ConfigError as exc:
            print(f"{name:<20} skipped: {exc}")
            continue
        arch = zoo.create(name, **overrides).config.architecture
        print(f"{name:<20} {arch:<5} {params:>10,} {ips:>10,.0f}")


if __name__ == "__main__":
    main()

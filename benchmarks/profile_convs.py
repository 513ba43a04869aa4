"""Per-convolution profile of zoo's CNN networks: XLA:CPU against PyTorch (oneDNN), per op.

    python benchmarks/profile_convs.py [--networks vqvae,beta-vae-cnn,dsprites-cnn]
                                       [--rounds 5] [--seconds 0.2] [--frameworks zoo,torch]
                                       [--batch N] [--json]

For every convolution of each network (the ``conv_general_dilated`` ops of zoo's forward pass,
read from the model's jaxpr, so the list is the model's own) at the network's preset batch
(``--batch``: another; the CPU chunks of zoo.nn are switched off to read the layers):
the forward convolution, its input gradient (dx) and its weight gradient (dW), each timed
alone: in zoo as a jitted ``lax.conv_general_dilated`` (NHWC/HWIO, 'SAME', as ``nnx.Conv``) or
its VJP, in PyTorch as ``F.conv2d``, ``torch.nn.grad.conv2d_input`` and ``conv2d_weight``
(NCHW, ``torch.set_num_threads(cores)``). A column is the best of ``--rounds`` interleaved
rounds of about ``--seconds`` each, in ms, with GFLOP/s (2 * B * Ho * Wo * kh * kw * Cin * Cout
per op). The training step needs no dx of a network's first layer (its input is the data), so
the per-network totals leave it out. The machine's float32 matmul peak is measured the same
way (2048^3 in XLA and in PyTorch) and printed above the table.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from networks import Network, select
from report import cpu_count, environment, header_lines, table

__all__ = ["ConvLayer", "conv_layers", "main", "reference_conv", "time_best", "unchunked"]

DEFAULT_NETWORKS = "vqvae,beta-vae-cnn,dsprites-cnn"
OPS = ("fwd", "dx", "dW")


@dataclasses.dataclass(frozen=True)
class ConvLayer:
    """One convolution of a network: input [batch, h, w, cin], kernel [k, k, cin, cout]."""

    network: str
    index: int
    batch: int
    h: int
    w: int
    cin: int
    cout: int
    k: int
    stride: int

    @property
    def name(self) -> str:
        return (f"{self.network} #{self.index} {self.k}x{self.k}/{self.stride} "
                f"{self.h}x{self.w} {self.cin}->{self.cout}")

    @property
    def gflop(self) -> float:
        """Multiply-adds x 2 of one op (forward, dx and dW all cost the same)."""
        ho, wo = -(-self.h // self.stride), -(-self.w // self.stride)
        return 2 * self.batch * ho * wo * self.k * self.k * self.cin * self.cout / 1e9


def reference_conv(x: Any, kernel: Any, stride: int) -> Any:
    """What ``nnx.Conv(padding='SAME')`` computes (no bias): [B, H, W, Cin] -> [B, Ho, Wo, Cout]."""
    from jax import lax

    return lax.conv_general_dilated(x, kernel, (stride, stride), "SAME",
                                    dimension_numbers=("NHWC", "HWIO", "NHWC"))


@contextlib.contextmanager
def unchunked() -> Iterator[None]:
    """zoo.nn's conv stacks on the whole batch inside the block (no CPU chunks), so that the
    jaxpr shows each convolution once, at the batch size of the step."""
    import zoo.nn

    old = zoo.nn.CPU_CHUNKS
    zoo.nn.CPU_CHUNKS = 1
    try:
        yield
    finally:
        zoo.nn.CPU_CHUNKS = old


def _conv_eqns(jaxpr: Any) -> Iterator[Any]:
    from jax.extend import core

    for eqn in jaxpr.eqns:
        if eqn.primitive.name == "conv_general_dilated":
            yield eqn
        for sub in core.jaxprs_in_params(eqn.params):
            yield from _conv_eqns(sub)


def conv_layers(net: Network, batch: int | None = None) -> list[ConvLayer]:
    """The convolutions of ``net``'s forward pass (evaluation mode) at ``batch`` (default: the
    preset batch), in order."""
    import jax
    import jax.numpy as jnp

    from zoo import building

    batch = batch or net.preset_batch
    spec, config = __import__("zoo").get_variant(net.variant), net.config()
    model = building.build(spec, config, seed=0)
    model.eval()
    x = jnp.zeros((batch, config.height, config.width, config.channels), jnp.float32)
    with unchunked():
        jaxpr = jax.make_jaxpr(lambda images: model(images))(x).jaxpr
    layers = []
    for i, eqn in enumerate(_conv_eqns(jaxpr)):
        b, h, w, cin = eqn.invars[0].aval.shape
        k, _, _, cout = eqn.invars[1].aval.shape
        layers.append(ConvLayer(net.name, i + 1, b, h, w, cin, cout, k,
                                eqn.params["window_strides"][0]))
    return layers


def time_best(run: Callable[[], Any], *, rounds: int = 1, seconds: float = 0.2,
              sync: Callable[[Any], Any] = lambda out: out) -> float:
    """Seconds per call of ``run``: the best of ``rounds`` runs of about ``seconds`` each."""
    sync(run())
    start = time.perf_counter()
    sync(run())
    calls = max(2, round(seconds / max(time.perf_counter() - start, 1e-6)))
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            out = run()
        sync(out)
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def zoo_ops(layer: ConvLayer) -> dict[str, Callable[[], Any]]:
    """Forward, dx and dW of ``layer`` in XLA, each a jitted call on fixed random inputs."""
    import jax
    import numpy as np

    rng = np.random.default_rng(0)
    x = jax.numpy.asarray(rng.random((layer.batch, layer.h, layer.w, layer.cin), np.float32))
    kern = jax.numpy.asarray(rng.normal(0, 0.1, (layer.k, layer.k, layer.cin, layer.cout))
                             .astype(np.float32))
    def conv(a: Any, b: Any) -> Any:
        return reference_conv(a, b, layer.stride)

    g = jax.numpy.ones_like(conv(x, kern))
    fwd = jax.jit(conv)
    dx = jax.jit(lambda a, b, gy: jax.vjp(lambda a_: conv(a_, b), a)[1](gy)[0])
    dw = jax.jit(lambda a, b, gy: jax.vjp(lambda b_: conv(a, b_), b)[1](gy)[0])
    return {"fwd": lambda: fwd(x, kern), "dx": lambda: dx(x, kern, g),
            "dW": lambda: dw(x, kern, g)}


def torch_ops(layer: ConvLayer) -> dict[str, Callable[[], Any]]:
    """The same three ops in PyTorch (NCHW, OIHW), with 'SAME' padding made explicit."""
    import torch
    import torch.nn.functional as F
    from jax import lax

    pads = lax.padtype_to_pads((layer.h, layer.w), (layer.k, layer.k),
                               (layer.stride, layer.stride), "SAME")
    if any(lo != hi for lo, hi in pads):
        raise ValueError(f"{layer.name}: asymmetric SAME padding {pads}")
    pad, s = (pads[0][0], pads[1][0]), layer.stride
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(layer.batch, layer.cin, layer.h, layer.w, generator=gen)
    kern = torch.randn(layer.cout, layer.cin, layer.k, layer.k, generator=gen) * 0.1
    g = torch.ones_like(F.conv2d(x, kern, stride=s, padding=pad))
    return {"fwd": lambda: F.conv2d(x, kern, stride=s, padding=pad),
            "dx": lambda: torch.nn.grad.conv2d_input(x.shape, kern, g, stride=s, padding=pad),
            "dW": lambda: torch.nn.grad.conv2d_weight(x, kern.shape, g, stride=s, padding=pad)}


def matmul_peak(frameworks: list[str], rounds: int, seconds: float, n: int = 2048) -> dict:
    """GFLOP/s of an n^3 float32 matmul in each framework (best of ``rounds``)."""
    import jax
    import numpy as np

    out = {}
    a = np.random.default_rng(0).random((n, n), np.float32)
    if "zoo" in frameworks:
        xa = jax.numpy.asarray(a)
        mm = jax.jit(lambda p, q: p @ q)
        out["zoo"] = 2 * n**3 / 1e9 / time_best(lambda: mm(xa, xa), rounds=rounds,
                                                 seconds=seconds, sync=jax.block_until_ready)
    if "torch" in frameworks:
        import torch

        ta = torch.from_numpy(a)
        out["torch"] = 2 * n**3 / 1e9 / time_best(lambda: ta @ ta, rounds=rounds,
                                                   seconds=seconds)
    return out


def profile(nets: list[Network], frameworks: list[str], rounds: int, seconds: float,
            log: Any = print, batch: int | None = None) -> dict[str, Any]:
    """Time every (layer, op, framework), interleaved; the results as a dict."""
    import jax

    if "torch" in frameworks:
        import torch

        torch.set_num_threads(cpu_count())
    layers = [layer for net in nets for layer in conv_layers(net, batch)]
    runs: dict[tuple[int, str, str], Callable[[], Any]] = {}
    for i, layer in enumerate(layers):
        for fw, make in (("zoo", zoo_ops), ("torch", torch_ops)):
            if fw in frameworks:
                for op, fn in make(layer).items():
                    runs[(i, op, fw)] = fn
    sync = {"zoo": jax.block_until_ready, "torch": lambda out: out}
    best = {key: float("inf") for key in runs}
    for r in range(rounds):
        log(f"round {r + 1}/{rounds}")
        for key, fn in runs.items():
            t = time_best(fn, seconds=seconds, sync=sync[key[2]])
            best[key] = min(best[key], t)
    rows = []
    for i, layer in enumerate(layers):
        row = {**dataclasses.asdict(layer), "name": layer.name, "gflop": layer.gflop,
               "first": layer.index == 1, "ms": {}}
        for (j, op, fw), t in best.items():
            if j == i:
                row["ms"][f"{fw} {op}"] = t * 1e3
        rows.append(row)
    peak = matmul_peak(frameworks, rounds, seconds)
    return {"environment": environment(with_torch="torch" in frameworks), "rounds": rounds,
            "frameworks": frameworks, "matmul_gflops": peak, "layers": rows}


def render(report: dict[str, Any]) -> str:
    """The table of :func:`profile`'s result."""
    fws = report["frameworks"]
    lines = header_lines(report["environment"])
    peak = report["matmul_gflops"]
    lines.append("float32 matmul 2048^3 (peak reference): "
                 + ", ".join(f"{fw} {v:.0f} GFLOP/s" for fw, v in peak.items()))
    lines.append(f"ms per op (GFLOP/s), best of {report['rounds']} interleaved rounds; "
                 "dx of a first layer (*) is not part of training")
    headers = ["layer", "GFLOP"] + [f"{fw} {op}" for op in OPS for fw in fws]
    rows, totals = [], {}
    for r in report["layers"]:
        cells = [r["name"], f"{r['gflop']:.3f}"]
        for op in OPS:
            for fw in fws:
                ms = r["ms"][f"{fw} {op}"]
                star = "*" if r["first"] and op == "dx" else ""
                cells.append(f"{ms:.2f} ({r['gflop'] / ms * 1e3:.0f}){star}")
                if not star:
                    key = (r["network"], fw)
                    totals[key] = totals.get(key, 0.0) + ms
        rows.append(cells)
    lines += ["", table(headers, rows), ""]
    nets = list(dict.fromkeys(r["network"] for r in report["layers"]))
    trows = [[n, *(f"{totals[(n, fw)]:.1f}" for fw in fws),
              *([f"{totals[(n, 'zoo')] / totals[(n, 'torch')]:.2f}"] if len(fws) == 2 else [])]
             for n in nets]
    lines.append("sum over the layers of fwd + dx + dW (ms per training step's convolutions):")
    lines.append(table(["network", *fws, *(["zoo/torch time"] if len(fws) == 2 else [])], trows))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """The command line (see the module docstring); the exit status."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--networks", default=DEFAULT_NETWORKS)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=0.2)
    parser.add_argument("--frameworks", default="zoo,torch")
    parser.add_argument("--batch", type=int, default=0, help="default: each preset batch")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    frameworks = [f for f in args.frameworks.split(",") if f]
    if "zoo" not in frameworks or any(f not in ("zoo", "torch") for f in frameworks):
        parser.error("--frameworks: zoo, optionally torch")
    log = (lambda msg: print(msg, file=sys.stderr)) if args.json else print
    report = profile(select(args.networks), frameworks, args.rounds, args.seconds, log,
                     args.batch or None)
    print(json.dumps(report, indent=2) if args.json else "\n" + render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())

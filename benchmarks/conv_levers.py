"""Other ways to compute zoo's convolutions on XLA:CPU, checked and timed against ``lax.conv``.

    python benchmarks/conv_levers.py [--networks vqvae,beta-vae-cnn,dsprites-cnn] [--levers a,b]
                                     [--cpu-chunks 1,8] [--rounds 5] [--seconds 0.3]
                                     [--no-layers] [--no-step] [--json]

A lever (:data:`LEVERS`) is a function ``(x [B, H, W, Cin], kernel [k, k, Cin, Cout], stride) ->
[B, Ho, Wo, Cout]`` computing what ``nnx.Conv(padding='SAME')`` does (bias aside) another way.
Per convolution of each network (:func:`profile_convs.conv_layers`), each lever is checked
against ``lax.conv_general_dilated`` (output, dx and dW within 1e-4 of ``max|a - b| / max|a|``,
else WRONG and not timed), then its forward + backward as training runs it is timed, jitted
alone. Then the real training step (``zoo_side.ZooTrainer``) is timed with every ``nnx.Conv``
computed by the lever (swapped while the step is traced), for each ``zoo.nn.CPU_CHUNKS`` value
of ``--cpu-chunks`` (1: the whole batch, zoo before its CPU chunks). Best of ``--rounds``
interleaved rounds. XLA flags are fixed when JAX starts: compare them by running the step table
under ``XLA_FLAGS=...`` and without, alternately.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from jax import lax
from networks import Network, select
from profile_convs import DEFAULT_NETWORKS, ConvLayer, conv_layers, reference_conv, time_best
from report import environment, header_lines, table
from zoo_side import ZooTrainer, synthetic_batches

import zoo.nn

__all__ = ["LEVERS", "check_lever", "main", "swap_convs"]

TOLERANCE = 1e-4
DN = ("NHWC", "HWIO", "NHWC")


def _taps(x: Any, k: int, stride: int) -> list[Any]:
    """The k*k shifted (strided) views [B, Ho, Wo, C] of x padded as 'SAME' pads, (i, j) order."""
    _, h, w, _ = x.shape
    pads = lax.padtype_to_pads((h, w), (k, k), (stride, stride), "SAME")
    xp, ho, wo = jnp.pad(x, ((0, 0), *pads, (0, 0))), -(-h // stride), -(-w // stride)
    return [xp[:, i:i + stride * (ho - 1) + 1:stride, j:j + stride * (wo - 1) + 1:stride]
            for i in range(k) for j in range(k)]


def lax_nchw(x: Any, kernel: Any, stride: int) -> Any:
    """lax.conv in NCHW / OIHW (transposes around it)."""
    y = lax.conv_general_dilated(x.transpose(0, 3, 1, 2), kernel.transpose(3, 2, 0, 1),
                                 (stride, stride), "SAME",
                                 dimension_numbers=("NCHW", "OIHW", "NCHW"))
    return y.transpose(0, 2, 3, 1)


def im2col(x: Any, kernel: Any, stride: int) -> Any:
    """The k*k shifted views concatenated -> [B, Ho, Wo, k*k*Cin], one matmul with the kernel
    reshaped [k*k*Cin, Cout] (HWIO flattens in (i, j, c) order, the concatenation's)."""
    k, cout = kernel.shape[0], kernel.shape[3]
    return jnp.concatenate(_taps(x, k, stride), axis=-1) @ kernel.reshape(-1, cout)


def shift_sum(x: Any, kernel: Any, stride: int) -> Any:
    """Sum over the k*k taps of (shifted view [B, Ho, Wo, Cin]) @ kernel[i, j]."""
    k = kernel.shape[0]
    return sum(t @ kernel[n // k, n % k] for n, t in enumerate(_taps(x, k, stride)))


def patches(x: Any, kernel: Any, stride: int) -> Any:
    """lax.conv_general_dilated_patches (channels in (c, i, j) order) and one matmul."""
    k, cout = kernel.shape[0], kernel.shape[3]
    p = lax.conv_general_dilated_patches(x, (k, k), (stride, stride), "SAME",
                                         dimension_numbers=DN)
    return p @ kernel.transpose(2, 0, 1, 3).reshape(-1, cout)


def _s2d(x: Any, kernel: Any) -> tuple[Any, Any]:
    """4x4 stride-2 'SAME' (even sizes, pad 1) as a 2x2 stride-1 'VALID' problem: the padded
    input space-to-depth(2) [B, H/2 + 1, W/2 + 1, 4C] (channel (p * 2 + q) * C + c from pixel
    (2y + p, 2x + q)) and the kernel [2, 2, 4C, O], K'[a, b, (p, q, c)] = K[2a + p, 2b + q, c]."""
    xp = jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    b, h, w, c = xp.shape
    xs = xp.reshape(b, h // 2, 2, w // 2, 2, c).transpose(0, 1, 3, 2, 4, 5)
    ks = kernel.reshape(2, 2, 2, 2, c, -1).transpose(0, 2, 1, 3, 4, 5)
    return xs.reshape(b, h // 2, w // 2, 4 * c), ks.reshape(2, 2, 4 * c, -1)


def s2d_conv(x: Any, kernel: Any, stride: int) -> Any:
    """4x4/2: space-to-depth then a 2x2 stride-1 conv with 4x the channels; others lax.conv."""
    if stride != 2 or kernel.shape[0] != 4:
        return reference_conv(x, kernel, stride)
    return lax.conv_general_dilated(*_s2d(x, kernel), (1, 1), "VALID", dimension_numbers=DN)


def s2d_im2col(x: Any, kernel: Any, stride: int) -> Any:
    """4x4/2: space-to-depth, then its 2x2 conv as 4 unstrided views and one matmul; others
    :func:`im2col`."""
    if stride != 2 or kernel.shape[0] != 4:
        return im2col(x, kernel, stride)
    xs, ks = _s2d(x, kernel)
    ho, wo = xs.shape[1] - 1, xs.shape[2] - 1
    taps = [xs[:, i:i + ho, j:j + wo] for i in range(2) for j in range(2)]
    return jnp.concatenate(taps, axis=-1) @ ks.reshape(-1, ks.shape[3])


def batch_split(x: Any, kernel: Any, stride: int) -> Any:
    """lax.conv on each half of the batch (two independent ops XLA may run concurrently)."""
    half = x.shape[0] // 2
    return jnp.concatenate([reference_conv(x[:half], kernel, stride),
                            reference_conv(x[half:], kernel, stride)])


def _custom(fwd: Callable[..., Any], dx_of: Callable[..., Any] | None,
            dw_of: Callable[..., Any]) -> Callable[..., Any]:
    """A conv whose forward is ``fwd`` and whose dx / dW are the VJPs of ``dx_of`` (None: of
    ``fwd``) / ``dw_of``."""

    def conv(x: Any, kernel: Any, stride: int) -> Any:
        @jax.custom_vjp
        def f(a: Any, b: Any) -> Any:
            return fwd(a, b, stride)

        def f_bwd(res: Any, g: Any) -> Any:
            a, b = res
            dx = jax.vjp(lambda a_: (dx_of or fwd)(a_, b, stride), a)[1](g)[0]
            return dx, jax.vjp(lambda b_: dw_of(a, b_, stride), b)[1](g)[0]

        f.defvjp(lambda a, b: (fwd(a, b, stride), (a, b)), f_bwd)
        return f(x, kernel)

    return conv


#: name -> (function, what it is)
LEVERS: dict[str, tuple[Callable[..., Any], str]] = {
    "lax": (reference_conv, "lax.conv_general_dilated NHWC/HWIO (what nnx.Conv runs)"),
    "nchw": (lax_nchw, "lax.conv in NCHW/OIHW, transposes around it"),
    "batch-split": (batch_split, "lax.conv on each half of the batch"),
    "im2col": (im2col, "k*k shifted views concatenated, one matmul (fwd and autodiff bwd)"),
    "shift-sum": (shift_sum, "sum of k*k shifted matmuls"),
    "patches": (patches, "lax.conv_general_dilated_patches + one matmul"),
    "s2d-conv": (s2d_conv, "4x4/2: space-to-depth + 2x2 conv; others lax"),
    "s2d-im2col": (s2d_im2col, "4x4/2: space-to-depth + 2x2 im2col matmul; others im2col"),
    "vjp-im2col": (_custom(reference_conv, im2col, im2col), "custom_vjp: lax fwd, im2col bwd"),
    "vjp-im2col-dW": (_custom(reference_conv, None, im2col), "custom_vjp: lax fwd+dx, im2col dW"),
}


def _inputs(layer: ConvLayer) -> tuple[Any, Any]:
    rng = np.random.default_rng(layer.index)
    x = rng.random((layer.batch, layer.h, layer.w, layer.cin), np.float32)
    kernel = rng.normal(0, 0.1, (layer.k, layer.k, layer.cin, layer.cout)).astype(np.float32)
    return jnp.asarray(x), jnp.asarray(kernel)


def train_op(fn: Callable[..., Any], layer: ConvLayer) -> Callable[..., Any]:
    """Jitted forward + backward of one layer as training runs it: (x, kernel) -> (y, dW[, dx]),
    with the cotangent a fixed function of y (no dx for a first layer)."""
    def run(x: Any, kernel: Any) -> Any:
        y, vjp = jax.vjp(lambda a, b: fn(a, b, layer.stride), x, kernel)
        dx, dw = vjp(jax.numpy.cos(y))
        return (y, dw) if layer.index == 1 else (y, dw, dx)

    return jax.jit(run)


def check_lever(fn: Callable[..., Any], layer: ConvLayer) -> float:
    """Largest relative error of the lever's output, dx and dW against lax.conv's."""
    x, kernel = _inputs(layer)
    ref = train_op(reference_conv, layer)(x, kernel)
    got = train_op(fn, layer)(x, kernel)
    return max(float(np.max(np.abs(np.asarray(a) - np.asarray(b))) / np.max(np.abs(a)))
               for a, b in zip(ref, got, strict=True))


@contextlib.contextmanager
def swap_convs(fn: Callable[..., Any]) -> Iterator[None]:
    """Every ``nnx.Conv`` computes ``fn(x, kernel, stride) + bias`` inside the block."""
    original = nnx.Conv.__call__

    def call(self: Any, x: Any, *args: Any, **kwargs: Any) -> Any:
        y = fn(x, self.kernel[...], self.strides[0] if isinstance(self.strides, tuple)
               else self.strides or 1)
        return y + self.bias[...]

    nnx.Conv.__call__ = call
    try:
        yield
    finally:
        nnx.Conv.__call__ = original


def layer_table(nets: list[Network], levers: list[str], rounds: int, seconds: float,
                log: Any) -> list[dict[str, Any]]:
    """Per layer and lever: the check's error and the best fwd+bwd time in ms (None: wrong)."""
    rows, runs = [], {}
    for net in nets:
        for layer in conv_layers(net):
            row: dict[str, Any] = {"layer": layer.name, "error": {}, "ms": {}}
            x, kernel = _inputs(layer)
            for name in levers:
                row["error"][name] = err = check_lever(LEVERS[name][0], layer)
                row["ms"][name] = float("inf") if err <= TOLERANCE else None
                if err <= TOLERANCE:
                    op = train_op(LEVERS[name][0], layer)
                    runs[(len(rows), name)] = (lambda op=op, x=x, k=kernel: op(x, k))
            rows.append(row)
    for r in range(rounds):
        log(f"layers: round {r + 1}/{rounds}")
        for (i, name), run in runs.items():
            t = time_best(run, seconds=seconds, sync=jax.block_until_ready) * 1e3
            rows[i]["ms"][name] = min(rows[i]["ms"][name], t)
    return rows


def step_table(nets: list[Network], levers: list[str], chunks: list[int], rounds: int,
               seconds: float, log: Any) -> list[dict[str, Any]]:
    """Per network, lever and ``zoo.nn.CPU_CHUNKS`` value: the best training step in ms with
    every conv computed by the lever (inside the CPU chunks of zoo.nn; 1: the whole batch)."""
    cases, default = [], zoo.nn.CPU_CHUNKS
    for net in nets:
        for name in levers:
            for n in chunks:
                zoo.nn.CPU_CHUNKS = n
                with swap_convs(LEVERS[name][0]):
                    trainer = ZooTrainer(net)
                    data = synthetic_batches(trainer.config, net.preset_batch)
                    trainer.run(data, 2)  # traced and compiled with the lever
                steps = max(2, round(seconds / trainer.run(data, 1)))
                cases.append((net.name, f"{name}/{n}", trainer, data, steps))
    zoo.nn.CPU_CHUNKS = default
    best: dict[tuple[str, str], float] = {}
    for r in range(rounds):
        log(f"steps: round {r + 1}/{rounds}")
        for net_name, col, trainer, data, steps in cases:
            ms = trainer.run(data, steps) / steps * 1e3
            best[(net_name, col)] = min(best.get((net_name, col), ms), ms)
    return [{"network": n.name, "ms": {col: ms for (name, col), ms in best.items()
                                       if name == n.name}} for n in nets]


def render(report: dict[str, Any]) -> str:
    """The tables of :func:`main`'s report."""
    levers = report["levers"]
    lines = [*header_lines(report["environment"]),
             f"best of {report['rounds']} interleaved rounds; ms",
             *(f"  {name}: {LEVERS[name][1]}" for name in levers)]
    if report["layers"]:
        rows = [[r["layer"], *("WRONG" if r["ms"][n] is None else f"{r['ms'][n]:.2f}"
                               for n in levers)] for r in report["layers"]]
        lines += ["", "one layer's forward + backward (dW, and dx unless first), ms:",
                  table(["layer", *levers], rows)]
    if report["steps"]:
        steps, nets = report["steps"], [r["network"] for r in report["steps"]]
        rows = [[c, *(f"{r['ms'][c]:.1f}" for r in steps)] for c in steps[0]["ms"]]
        lines += ["", "training step, every conv computed by the lever, batch in N CPU chunks "
                  "(lever/N), ms:", table(["lever/N", *nets], rows)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """The command line (see the module docstring); the exit status."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--networks", default=DEFAULT_NETWORKS)
    parser.add_argument("--levers", default=",".join(LEVERS))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=0.3)
    parser.add_argument("--cpu-chunks", default="1,8", help="zoo.nn.CPU_CHUNKS values (steps)")
    parser.add_argument("--no-layers", action="store_true")
    parser.add_argument("--no-step", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    levers = [n for n in args.levers.split(",") if n]
    chunks = [int(n) for n in args.cpu_chunks.split(",") if n]
    unknown = [n for n in levers if n not in LEVERS]
    if unknown:
        parser.error(f"unknown levers {unknown}; choose from {list(LEVERS)}")
    log = (lambda msg: print(msg, file=sys.stderr)) if args.json else print
    nets = select(args.networks)
    report = {"environment": environment(with_torch=False), "rounds": args.rounds,
              "levers": levers,
              "layers": [] if args.no_layers else layer_table(nets, levers, args.rounds,
                                                               args.seconds, log),
              "steps": [] if args.no_step else step_table(nets, levers, chunks, args.rounds,
                                                          args.seconds, log)}
    print(json.dumps(report, indent=2) if args.json else "\n" + render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Training throughput of zoo against PyTorch twins of its networks, interleaved in one run.

    python benchmarks/compare.py [--batch 128] [--preset-batches] [--rounds 5] [--steps N]
                                 [--seconds 1.0] [--networks a,b] [--frameworks zoo,eager,compile]
                                 [--json]

Per network (:mod:`networks`) and batch size: zoo's real training step (:mod:`zoo_side`, what
the training loop runs), the PyTorch twin eager and under ``torch.compile``
(:mod:`torch_side`), each from the same initial weights, on the same random host batches.
Before anything is timed each twin is checked against zoo's function (:mod:`parity`); a twin
that does not match is not timed and the command exits with status 1.

Timing: after warm-up (compilation), ``--rounds`` rounds; in each, every (network, batch,
framework) runs ``--steps`` steps in turn (round-robin, a short pause between runs), so slow
phases of a shared machine hit all columns alike. A column is the best round, in images/s.
``--steps`` defaults to what takes about ``--seconds`` for zoo at that network and batch.
The first (compiling) call of each framework is timed too; torch.compile gets a fresh Inductor
cache directory per invocation, so its first call is a cold compile, as zoo's is.
Needs PyTorch for the eager and compile columns (``benchmarks/requirements.txt``); without it
only zoo's column is measured.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from typing import Any

from networks import Network, select
from report import cpu_count, environment, header_lines, table
from zoo_side import ZooTrainer, synthetic_batches, time_zoo

__all__ = ["main", "measure", "time_zoo"]

FRAMEWORKS = ("zoo", "eager", "compile")
PAUSE_S = 0.2  # lets the other framework's worker threads go idle before a timed run


def _torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


class _Case:
    """One (network, batch): its trainers, batches and the images/s of each round."""

    def __init__(self, net: Network, batch: int, frameworks: list[str]) -> None:
        self.net, self.batch = net, batch
        self.zoo = ZooTrainer(net)
        self.data = synthetic_batches(self.zoo.config, batch)
        self.runners: dict[str, Any] = {"zoo": lambda steps: self.zoo.run(self.data, steps)}
        self.rounds: dict[str, list[float]] = {fw: [] for fw in frameworks}
        self.compile_s: dict[str, float] = {}
        self.steps = 0
        if frameworks != ["zoo"]:
            from torch_side import TorchTrainer, torch_batches

            tdata = torch_batches(self.data)
            for fw in frameworks:
                if fw != "zoo":
                    trainer = TorchTrainer(net, self.zoo.model, compiled=fw == "compile")
                    self.runners[fw] = (lambda steps, t=trainer: t.run(tdata, steps))

    def warm_up(self, steps: int, seconds: float) -> None:
        """Compile (timing the first call) and pick the number of steps of a timed run."""
        for fw, run in self.runners.items():
            self.compile_s[fw] = run(1)
            run(self.zoo.steps_per_dispatch + 1)  # zoo's chunk of steps compiles here
        per_step = self.runners["zoo"](3) / 3
        self.steps = steps or max(3, round(seconds / per_step))

    def time_round(self) -> None:
        for fw, run in self.runners.items():
            time.sleep(PAUSE_S)
            self.rounds[fw].append(self.batch * self.steps / run(self.steps))

    def result(self) -> dict[str, Any]:
        best = {fw: max(v) for fw, v in self.rounds.items()}
        ratios = {f"zoo/{fw}": best["zoo"] / best[fw] for fw in best if fw != "zoo"}
        return {"network": self.net.name, "variant": self.net.variant,
                "overrides": {k: list(v) if isinstance(v, tuple) else v
                              for k, v in self.net.overrides.items()},
                "batch": self.batch, "steps_per_round": self.steps, "images_per_s": best,
                "ratios": ratios, "rounds": self.rounds, "first_call_s": self.compile_s}


def _check_twins(nets: list[Network], log: Any) -> tuple[dict[str, float], list[str]]:
    """Each network's worst parity error; the names of networks whose twin does not match."""
    from parity import TwinMismatch, check_twin

    worst: dict[str, float] = {}
    failed: list[str] = []
    for net in nets:
        try:
            errors = check_twin(net)
            if net.variant == "vqvae":
                errors |= check_twin(net, reset=True)
        except TwinMismatch as exc:
            log(f"REFUSED: {exc}")
            failed.append(net.name)
            continue
        worst[net.name] = max(errors.values())
        log(f"twin of {net.name}: matches zoo (max relative error {worst[net.name]:.1e})")
    return worst, failed


def measure(nets: list[Network], batches: list[int | None], *, rounds: int, steps: int,
            seconds: float, frameworks: list[str], log: Any = print) -> dict[str, Any]:
    """Check the twins, warm up, time ``rounds`` interleaved rounds; the results as a dict.
    A ``None`` batch stands for each network's preset batch size."""
    with_torch = frameworks != ["zoo"]
    if with_torch:
        import torch

        torch.set_num_threads(cpu_count())
    env = environment(with_torch=with_torch)
    parity, failed = _check_twins(nets, log) if with_torch else ({}, [])
    cases: list[_Case] = []
    for net in nets:
        sizes = list(dict.fromkeys(b or net.preset_batch for b in batches))
        fws = ["zoo"] if net.name in failed else frameworks
        for batch in sizes:
            case = _Case(net, batch, fws)
            log(f"warming up {net.name} at batch {batch} ({', '.join(fws)})...")
            case.warm_up(steps, seconds)
            cases.append(case)
    for r in range(rounds):
        log(f"round {r + 1}/{rounds}")
        for case in cases:
            case.time_round()
    results = [c.result() for c in cases]
    for row in results:
        row["twin_max_rel_error"] = parity.get(row["network"])
    return {"environment": env, "rounds": rounds, "frameworks": frameworks,
            "refused": failed, "results": results,
            "notes": {n.name: n.note for n in nets}}


def _fmt(value: float | None, ratio: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if ratio else f"{value:,.0f}"


def render(report: dict[str, Any]) -> str:
    """The human-readable table of :func:`measure`'s result."""
    rows = []
    for r in report["results"]:
        ips, ratios = r["images_per_s"], r["ratios"]
        rows.append([r["network"], r["batch"], _fmt(ips.get("zoo")), _fmt(ips.get("eager")),
                     _fmt(ips.get("compile")), _fmt(ratios.get("zoo/eager"), True),
                     _fmt(ratios.get("zoo/compile"), True)])
    lines = header_lines(report["environment"])
    lines.append(f"training images/s, best of {report['rounds']} interleaved rounds "
                 "(Adam 1e-3, float32, CPU)")
    lines += ["", table(["network", "batch", "zoo", "torch eager", "torch.compile",
                         "zoo/eager", "zoo/compile"], rows), ""]
    first = [[r["network"], r["batch"], *(f"{r['first_call_s'][fw]:.2f}" if fw in
                                           r["first_call_s"] else "-" for fw in FRAMEWORKS)]
             for r in report["results"]]
    lines += ["first (compiling) step, seconds:", table(["network", "batch", *FRAMEWORKS],
                                                         first), ""]
    lines += [f"{name}: {note}" for name, note in report["notes"].items()]
    errs = {r["network"]: r["twin_max_rel_error"] for r in report["results"]
            if r["twin_max_rel_error"] is not None}
    if errs:
        lines.append("twins checked against zoo (max relative error over outputs, loss, "
                     "gradients" + (", EMA state" if "vqvae" in errs else "") + "): "
                     + ", ".join(f"{k} {v:.1e}" for k, v in errs.items()))
    if report["refused"]:
        lines.append("NOT TIMED (twin does not match zoo): " + ", ".join(report["refused"]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """The command line (see the module docstring); the exit status."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--preset-batches", action="store_true",
                        help="also measure at each network's preset batch size")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=0, help="steps per timed run (0: auto)")
    parser.add_argument("--seconds", type=float, default=1.0,
                        help="target length of a timed run when --steps is 0")
    parser.add_argument("--networks", default="", help="comma list; default: all")
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS))
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    # A fresh Inductor cache, so that torch.compile's first call is a cold compile as zoo's
    # is (JAX's persistent compilation cache is off by default); kept if the caller set one.
    cache = tempfile.TemporaryDirectory(prefix="zoo-bench-inductor-")
    os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", cache.name)
    frameworks = [f for f in args.frameworks.split(",") if f]
    if "zoo" not in frameworks or any(f not in FRAMEWORKS for f in frameworks):
        parser.error(f"--frameworks: 'zoo' plus any of {FRAMEWORKS[1:]}")
    if frameworks != ["zoo"] and not _torch_available():
        print("torch is not installed (pip install -r benchmarks/requirements.txt): "
              "measuring zoo only", file=sys.stderr)
        frameworks = ["zoo"]
    batches: list[int | None] = [args.batch, None] if args.preset_batches else [args.batch]
    log = (lambda msg: print(msg, file=sys.stderr)) if args.json else print
    report = measure(select(args.networks), batches, rounds=args.rounds, steps=args.steps,
                     seconds=args.seconds, frameworks=frameworks, log=log)
    print(json.dumps(report, indent=2) if args.json else "\n" + render(report))
    cache.cleanup()
    return 1 if report["refused"] else 0


if __name__ == "__main__":
    sys.exit(main())

"""Peak memory (RSS) of training and of evaluation, and compile time of the first step.

    python benchmarks/memory.py [--networks a,b] [--steps 20] [--eval-examples 2000] [--json]

Per network (:mod:`networks`, default configs and the dSprites network), each measurement in a
fresh Python process, so that one's peak does not hide another's:

- ``imports``: peak RSS once jax, zoo and the variant's plugin are imported and the model is
  built (the floor under the two others);
- ``train``: ``--steps`` steps of zoo's real training step (:mod:`zoo_side`) at the network's
  preset batch size on random data; peak RSS (``ru_maxrss``, so XLA's compilation counts), the
  wall time of the first, compiling step, and the time per step of the others (the best of four
  equal chunks of them);
- ``eval``: ``zoo.evaluate.evaluate`` of the untrained model on an in-memory random dataset of
  ``--eval-examples`` labelled images (registered as the dataset ``bench-random``; batch 250,
  no disentanglement, no importance sampling), peak RSS and wall time.

The child measurement is ``python benchmarks/memory.py --child KIND --spec JSON`` printing one
JSON object (:func:`measure`); the parent only starts children and prints the table.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from networks import Network, select
from report import environment, header_lines, table

__all__ = ["KINDS", "measure", "run_child"]

KINDS = ("imports", "train", "eval")
_HERE = Path(__file__).resolve().parent


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def _network(spec: dict[str, Any]) -> Network:
    overrides = {k: tuple(v) if isinstance(v, list) else v
                 for k, v in spec.get("overrides", {}).items()}
    return Network(spec.get("name", spec["variant"]), spec["variant"], overrides,
                   int(spec["batch"]), "")


def _register_random_dataset(config: Any, examples: int) -> str:
    import numpy as np

    import zoo
    from zoo.data import ArrayDataset
    from zoo.plugins import get_manager

    shape = tuple(config.image_shape)
    classes = int(getattr(config, "num_classes", 10))

    class RandomImages:
        """uint8 noise images with labels, any partition."""

        @zoo.hookimpl
        def zoo_register_datasets(self, register: Any) -> None:
            def loader(partition: str, *, cache_dir: Any = None, **options: Any) -> Any:
                rng = np.random.default_rng(0)
                return ArrayDataset(
                    images=rng.integers(0, 256, (examples, *shape), dtype=np.uint8),
                    labels=rng.integers(0, classes, examples), name="bench-random",
                    split=partition, num_classes=classes)

            register(zoo.DatasetSpec(name="bench-random", loader=loader, image_shape=shape,
                                     num_classes=classes))

    get_manager().register(RandomImages(), name="bench-random")
    return "bench-random"


def measure(kind: str, spec: dict[str, Any], *, steps: int = 20,
            eval_examples: int = 2000) -> dict[str, Any]:
    """One measurement of this process (call it in a fresh one): ``kind`` is one of
    :data:`KINDS`; ``spec`` holds ``variant``, ``overrides`` and ``batch``."""
    from zoo_side import ZooTrainer, synthetic_batches

    net = _network(spec)
    result: dict[str, Any] = {"kind": kind, "network": net.name, "batch": net.preset_batch}
    if kind == "imports":
        ZooTrainer(net)
    elif kind == "train":
        trainer = ZooTrainer(net)
        data = synthetic_batches(trainer.config, net.preset_batch)
        result["first_step_s"] = trainer.run(data, 1)
        chunk = max(1, (steps - 1) // 4)
        runs = [trainer.run(data, chunk) / chunk for _ in range((steps - 1) // chunk)]
        if runs:  # the best of (about) four chunks: a shared machine's slow phases drop out
            result["step_ms"] = 1000.0 * min(runs)
        result["steps"] = steps
    elif kind == "eval":
        import zoo
        from zoo.evaluate import evaluate

        model = zoo.create(net.variant, **net.overrides)
        dataset = _register_random_dataset(model.config, eval_examples)
        start = time.perf_counter()
        evaluate(model, dataset, split="test", disentanglement=False)
        result["eval_s"] = time.perf_counter() - start
        result["examples"] = eval_examples
    else:
        raise ValueError(f"unknown kind {kind!r}; use one of {KINDS}")
    result["peak_rss_mib"] = _peak_mib()
    return result


def run_child(kind: str, spec: dict[str, Any], *, steps: int = 20, eval_examples: int = 2000,
              env: dict[str, str] | None = None, timeout: float = 1800) -> dict[str, Any]:
    """:func:`measure` in a fresh Python process; its JSON result."""
    cmd = [sys.executable, str(_HERE / "memory.py"), "--child", kind, "--spec", json.dumps(spec),
           "--steps", str(steps), "--eval-examples", str(eval_examples)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, check=False)
    if proc.returncode:
        raise RuntimeError(f"{kind} measurement of {spec} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _spec(net: Network) -> dict[str, Any]:
    return {"name": net.name, "variant": net.variant, "batch": net.preset_batch,
            "overrides": {k: list(v) if isinstance(v, tuple) else v
                          for k, v in net.overrides.items()}}


def render(report: dict[str, Any]) -> str:
    """The table of the parent's results."""
    rows = []
    for r in report["results"]:
        rows.append([r["network"], r["batch"], f"{r['imports']['peak_rss_mib']:,.0f}",
                     f"{r['train']['peak_rss_mib']:,.0f}", f"{r['eval']['peak_rss_mib']:,.0f}",
                     f"{r['train']['first_step_s']:.2f}", f"{r['train'].get('step_ms', 0):.1f}",
                     f"{r['eval']['eval_s']:.1f}"])
    lines = header_lines(report["environment"])
    lines.append(f"peak RSS (MiB) of a fresh process each; train: {report['steps']} steps at "
                 f"the preset batch; eval: zoo.evaluate on {report['eval_examples']} random "
                 "images")
    lines += ["", table(["network", "batch", "imports MiB", "train MiB", "eval MiB",
                         "first step s", "step ms", "eval s"], rows)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--networks", default="", help="comma list; default: all")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--eval-examples", type=int, default=2000)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.child, json.loads(args.spec), steps=args.steps,
                                 eval_examples=args.eval_examples)))
        return 0
    env, results = environment(with_torch=False), []
    for net in select(args.networks):
        row: dict[str, Any] = {"network": net.name, "batch": net.preset_batch}
        for kind in KINDS:
            print(f"{net.name}: {kind}...", file=sys.stderr)
            row[kind] = run_child(kind, _spec(net), steps=args.steps,
                                  eval_examples=args.eval_examples)
        results.append(row)
    report = {"environment": env, "steps": args.steps,
              "eval_examples": args.eval_examples, "results": results}
    print(json.dumps(report, indent=2) if args.json else render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""MIG against training steps for dSprites runs: the curve that justifies a recipe's budget.

    python scripts/mig_curve.py watch RUN [RUN ...]      # follow runs while they train
    python scripts/mig_curve.py plot RUN [RUN ...] --out mig_curve.png

``watch`` polls each run directory; whenever its checkpoint (``RUN/checkpoints/last``) has
moved on to a new step it encodes the same 10,000 points of the full dSprites factor grid that
``zoo eval`` scores (seed 0: the first 10,000 of a seeded permutation of the 737,280 images),
computes MIG (20 bins, as ``zoo eval``) and appends ``{"step", "images", "mig", "per_factor",
"kl_per_dim"}`` to ``RUN/mig_curve.jsonl``. It stops when every run has written its
``summary.json`` (finished) and been measured there, or after ``--hours``.
``plot`` draws MIG against images seen, one line per run.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

CURVE_FILE = "mig_curve.jsonl"
POINTS, SEED = 10_000, 0


def eval_points() -> tuple[np.ndarray, np.ndarray]:
    """The 10,000 images ``zoo eval --dataset dsprites --split train`` scores: [N, 64, 64, 1]
    float32 in {0, 1}, and their factor indices [N, 5]."""
    from zoo.data import dsprites
    from zoo.metrics.points import disentanglement_points

    idx = disentanglement_points(dsprites.NUM_IMAGES, SEED, POINTS)[0]
    factors = dsprites.indices_to_factors(idx)
    from zoo.inputs import pixels_to_unit

    return np.asarray(pixels_to_unit(dsprites.render(factors)), np.float32), factors


def measure(model_dir: Path, images: np.ndarray, factors: np.ndarray) -> dict[str, Any]:
    """MIG and KL per latent of the model saved in ``model_dir`` on the evaluation points."""
    import jax
    from flax import nnx

    import zoo
    from zoo.metrics import latents
    from zoo.metrics.mig import mig

    model = zoo.load(str(model_dir))
    encode = nnx.jit(lambda m, x: m.encode(x))
    means, logvars = [], []
    for start in range(0, len(images), 500):
        mean, logvar = encode(model, images[start:start + 500])
        means.append(np.asarray(mean))
        logvars.append(np.asarray(logvar))
    jax.clear_caches()
    mean, logvar = np.concatenate(means), np.concatenate(logvars)
    score = mig(mean, factors)
    return {"mig": score["mig"], "per_factor": score["per_factor"],
            "kl_per_dim": np.asarray(latents.kl_per_dimension(mean, logvar)).tolist()}


def _last(run: Path) -> Path:
    from zoo.runs import RunDir

    return RunDir(run).last


def _step_of(run: Path) -> int | None:
    try:
        return int(json.loads((_last(run) / "trainer.json").read_text())["step"])
    except (OSError, ValueError, KeyError):
        return None  # not yet written, or being swapped in: try again later


def _done_steps(run: Path) -> set[int]:
    path = run / CURVE_FILE
    if not path.exists():
        return set()
    return {json.loads(line)["step"] for line in path.read_text().splitlines() if line.strip()}


def cmd_watch(args: argparse.Namespace) -> None:
    images, factors = eval_points()
    runs = [Path(r) for r in args.runs]
    deadline = time.monotonic() + args.hours * 3600
    while time.monotonic() < deadline:
        for run in runs:
            step = _step_of(run)
            if step is None or step in _done_steps(run):
                continue
            batch = json.loads((run / "run.json").read_text())["train_config"]["batch_size"]
            try:
                row = {"step": step, "images": step * batch, **measure(_last(run), images,
                                                                      factors)}
            except Exception as err:  # a checkpoint swapped while it was read: next poll
                print(f"{run}: step {step}: {type(err).__name__}: {err}", flush=True)
                continue
            if _step_of(run) != step:  # replaced while it was read: measure the new one
                continue
            with open(run / CURVE_FILE, "a") as f:
                f.write(json.dumps(row) + "\n")
            print(f"{run}: step {step:>6}  MIG {row['mig']:.3f}", flush=True)
        if all((run / "summary.json").exists() and _step_of(run) in _done_steps(run)
               for run in runs):
            return
        time.sleep(args.interval)


def cmd_plot(args: argparse.Namespace) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for run in (Path(r) for r in args.runs):
        rows = sorted((json.loads(line) for line in (run / CURVE_FILE).read_text().splitlines()
                       if line.strip()), key=lambda r: r["step"])
        ax.plot([r["images"] / 1e6 for r in rows], [r["mig"] for r in rows], marker=".",
                label=f"{run.parent.name} / {run.name}")
    ax.axhline(0.2, color="grey", linestyle="--", linewidth=1, label="floor 0.2")
    ax.set_xlabel("images seen (millions)")
    ax.set_ylabel("MIG (10,000 points, 20 bins)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    watch = sub.add_parser("watch", help="measure MIG at each new checkpoint of the runs")
    watch.add_argument("runs", nargs="+")
    watch.add_argument("--interval", type=float, default=60.0, help="seconds between polls")
    watch.add_argument("--hours", type=float, default=12.0, help="stop after this long")
    watch.set_defaults(func=cmd_watch)
    plot = sub.add_parser("plot", help="draw MIG against images seen")
    plot.add_argument("runs", nargs="+")
    plot.add_argument("--out", default="mig_curve.png")
    plot.set_defaults(func=cmd_plot)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()

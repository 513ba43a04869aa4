"""``zoo sample``, ``traverse``, ``reconstruct`` and ``plot-run``: PNG pictures of a model."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from zoo import api


def _load_for_pictures(args: argparse.Namespace) -> tuple[Any, Any]:
    from zoo.data import load_dataset

    model = api.load(args.model)
    ds = load_dataset(args.dataset, args.split) if getattr(args, "dataset", None) else None
    return model, ds


def cmd_reconstruct(args: argparse.Namespace) -> int:
    from zoo import viz
    from zoo.viz.pictures import model_labels

    model, ds = _load_for_pictures(args)
    x = ds.images[: args.n].astype("float32") / 255.0
    out = viz.reconstruct_model(model, x, model_labels(model, ds, args.n))
    print(viz.save_reconstructions(args.out, x, out))
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    from zoo import viz

    model = api.load(args.model)
    if viz.models.is_conditional(model) and args.label is None:
        grid = viz.sample_classes(model, args.per_class, seed=args.seed)
        print(viz.save_class_grid(args.out, grid, [str(c) for c in range(grid.shape[0])]))
        return 0
    images = viz.sample_model(model, args.n, seed=args.seed, labels=args.label)
    print(viz.save_samples(args.out, images))
    return 0


def cmd_traverse(args: argparse.Namespace) -> int:
    from zoo.viz.pictures import traversal_picture

    model, ds = _load_for_pictures(args)
    print(traversal_picture(model, ds, Path(args.out), index=args.index))
    return 0


def cmd_plot_run(args: argparse.Namespace) -> int:
    from zoo.viz.pictures import run_pictures

    for path in run_pictures(args.run):
        print(path)
    return 0


def add_reconstruct(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("reconstruct", help="PNG of inputs over their reconstructions")
    p.add_argument("model")
    p.add_argument("--dataset", required=True)
    p.add_argument("--split", default="test")
    p.add_argument("--n", type=int, default=16)
    p.add_argument("--out", required=True, help="PNG file to write")
    p.set_defaults(func=cmd_reconstruct)


def add_sample(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sample", help="PNG of samples from the prior (a class grid for a CVAE)")
    p.add_argument("model")
    p.add_argument("--n", type=int, default=64)
    p.add_argument("--label", type=int, help="the class to generate (conditional models)")
    p.add_argument("--per-class", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="PNG file to write")
    p.set_defaults(func=cmd_sample)


def add_traverse(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("traverse", help="PNG of a latent traversal, rows ordered by KL (on data "
                       "with factors: labelled by the factor each latent captures most)")
    p.add_argument("model")
    p.add_argument("--dataset", required=True)
    p.add_argument("--split", default="test")
    p.add_argument("--index", type=int, default=0, help="the example whose code is the base")
    p.add_argument("--out", required=True, help="PNG file to write")
    p.set_defaults(func=cmd_traverse)


def add_plot_run(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plot-run", help="(re)draw a run directory's pictures into DIR/plots")
    p.add_argument("run")
    p.set_defaults(func=cmd_plot_run)

"""The ``zoo`` command line: a thin layer over the public API."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from zoo import api
from zoo.errors import ZooError
from zoo.plugins import get_manager
from zoo.registry import PretrainedSpec, VariantSpec


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, sort_keys=True))


def cmd_list(args: argparse.Namespace) -> int:
    registry = get_manager().registry
    names = registry.list_models(args.pattern)
    rows = []
    for name in names:
        spec = registry.lookup(name)
        kind = "variant" if isinstance(spec, VariantSpec) else "pretrained"
        rows.append({"name": name, "kind": kind, "plugin": spec.plugin,
                     "description": spec.description})
    if args.json:
        _print_json(rows)
        return 0
    if not rows:
        print(f"no models match {args.pattern!r}; `zoo plugins` shows what is installed")
        return 0
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        print(f"{r['name']:<{width}}  {r['kind']:<10}  {r['plugin']:<12}  {r['description']}")
    return 0


def _variant_info(spec: VariantSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "kind": "variant",
        "plugin": spec.plugin,
        "description": spec.description,
        "conditional": spec.conditional,
        "config_class": f"{spec.config_class.__module__}.{spec.config_class.__qualname__}",
        "default_config": spec.default_config.to_dict(),
    }


def cmd_info(args: argparse.Namespace) -> int:
    spec = get_manager().registry.lookup(args.name)
    if isinstance(spec, PretrainedSpec):
        info: dict[str, Any] = {
            "name": spec.name, "kind": "pretrained", "plugin": spec.plugin,
            "variant": spec.variant, "config": dict(spec.config), "repo_id": spec.repo_id,
            "revision": spec.revision, "files": dict(spec.files), "license": spec.license,
            "dataset": spec.dataset, "description": spec.description, "bundled": spec.bundled,
        }
    else:
        info = _variant_info(spec)
    if args.json:
        _print_json(info)
        return 0
    for key, value in info.items():
        if isinstance(value, dict):
            print(f"{key}:")
            for k, v in value.items():
                print(f"  {k} = {json.dumps(v)}")
        else:
            print(f"{key}: {value}")
    return 0


def cmd_plugins(args: argparse.Namespace) -> int:
    plugins = [p.to_dict() for p in get_manager().plugins.values()]
    plugins.sort(key=lambda p: p["name"])
    if args.json:
        _print_json(plugins)
        return 0
    if not plugins:
        print("no zoo plugins loaded (check ZOO_PLUGINS / ZOO_DISABLE_PLUGIN_AUTOLOAD)")
    for p in plugins:
        dist = f"{p['distribution']} {p['version']}" if p["distribution"] else "(not installed)"
        print(f"{p['name']}  [{dist}]  module {p['module']}")
        print(f"  hooks: {', '.join(p['hooks']) or '-'}")
        print(f"  variants: {', '.join(p['variants']) or '-'}")
        print(f"  pretrained: {', '.join(p['pretrained']) or '-'}")
        print(f"  datasets: {', '.join(p.get('datasets', [])) or '-'}")
        for err in p["errors"]:
            print(f"  ERROR: {err}")
    return 0


def split_overrides(variant: str, items: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Route ``key=value`` strings to the train config or the model config by field name."""
    from zoo.config import parse_overrides
    from zoo.errors import ConfigError
    from zoo.train import TrainConfig

    spec = api.get_variant(variant)
    train_keys = set(TrainConfig.field_types())
    model_keys = set(spec.config_class.field_types())
    train, model = {}, {}
    for key, value in parse_overrides(items).items():
        if key in train_keys:
            train[key] = value
        elif key in model_keys:
            model[key] = value
        else:
            import difflib

            close = difflib.get_close_matches(key, sorted(train_keys | model_keys), n=3)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise ConfigError(
                f"unknown setting {key!r}.{hint} Training settings: "
                f"{', '.join(sorted(train_keys))}. Model settings ({variant}): "
                f"{', '.join(sorted(model_keys))}"
            )
    return train, model


def cmd_train(args: argparse.Namespace) -> int:
    from zoo.presets import get_preset
    from zoo.train import TrainConfig, train

    train_over, model_over = split_overrides(args.variant, args.overrides)
    preset = get_preset(args.preset, args.variant) if args.preset else {}
    tc = TrainConfig().replace(**preset.get("train", {}))
    if args.dataset:
        tc = tc.replace(dataset=args.dataset)
    tc = tc.replace_from_strings(train_over)
    spec = api.get_variant(args.variant)
    model_config = spec.default_config.replace(**preset.get("model", {}))
    model_config = model_config.replace_from_strings(model_over)
    explicit = {**preset.get("model", {}), **{k: getattr(model_config, k) for k in model_over}}
    try:
        result = train(args.variant, out=args.out, train_config=tc, model_overrides=explicit,
                       resume=args.resume, until_step=args.until_step,
                       progress=not args.no_progress)
    except KeyboardInterrupt as exc:
        print(f"zoo: {exc or 'interrupted'}", file=sys.stderr)
        return 130
    state = "finished" if result.finished else "stopped (resume with --resume)"
    print(f"{state} at step {result.step}; run directory {result.run_dir}")
    if result.best_validation is not None:
        print(f"best validation score {result.best_validation:.4f} -> {result.run_dir / 'best'}")
    print(f"training throughput {result.images_per_second:,.0f} images/s")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from zoo._io import atomic_write_text
    from zoo.evaluate import evaluate

    result = evaluate(args.model, args.dataset, split=args.split, batch_size=args.batch_size,
                      max_examples=args.max_examples, binarize=args.binarize,
                      iw_samples=args.iw_samples, iw_examples=args.iw_examples, seed=args.seed,
                      disentanglement_points=args.points, dci_model=args.dci_model)
    text = json.dumps(result, indent=2, sort_keys=True)
    if args.output:
        atomic_write_text(args.output, text + "\n")
    print(text)
    return 0


def cmd_train_classifier(args: argparse.Namespace) -> int:
    from zoo.data import load_dataset
    from zoo.metrics.bundled import save_classifier
    from zoo.metrics.classifier import accuracy, train_classifier

    train_ds = load_dataset(args.dataset, "train", validation_size=0)
    test_ds = load_dataset(args.dataset, "test")
    model = train_classifier(train_ds.images, train_ds.labels, epochs=args.epochs,
                             seed=args.seed, log=lambda row: print(json.dumps(row)))
    acc = accuracy(model, test_ds.images, test_ds.labels)
    command = (f"zoo train-classifier --dataset {args.dataset} --epochs {args.epochs} "
               f"--seed {args.seed}")
    save_classifier(model, args.out, {"dataset": args.dataset, "test_accuracy": acc,
                                      "epochs": args.epochs, "seed": args.seed,
                                      "command": command})
    print(f"test accuracy {acc:.4f}; saved to {args.out}")
    return 0


def cmd_datasets(args: argparse.Namespace) -> int:
    registry = get_manager().registry
    rows = []
    for name in sorted(registry.datasets):
        spec = registry.datasets[name]
        rows.append({"name": name, "plugin": spec.plugin, "image_shape": list(spec.image_shape),
                     "num_classes": spec.num_classes, "factors": list(spec.factor_names),
                     "splits": list(spec.splits), "description": spec.description})
    if args.json:
        _print_json(rows)
        return 0
    for r in rows:
        shape = "x".join(map(str, r["image_shape"]))
        print(f"{r['name']:<14} {shape:<8} {r['plugin']:<13} {r['description']}")
    return 0


def _load_for_pictures(args: argparse.Namespace) -> tuple[Any, Any]:
    from zoo.data import load_dataset

    model = api.load(args.model)
    ds = load_dataset(args.dataset, args.split) if getattr(args, "dataset", None) else None
    return model, ds


def cmd_reconstruct(args: argparse.Namespace) -> int:
    from zoo import viz
    from zoo.pictures import model_labels

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
    from zoo.pictures import traversal_picture

    model, ds = _load_for_pictures(args)
    print(traversal_picture(model, ds, Path(args.out), index=args.index))
    return 0


def cmd_plot_run(args: argparse.Namespace) -> int:
    from zoo import viz
    from zoo.data import load_dataset
    from zoo.pictures import model_pictures
    from zoo.runs import RunDir

    run = RunDir(args.run)
    identity = run.read_identity()
    if identity is None:
        raise ZooError(f"{args.run!r} is not a run directory (run.json missing)")
    run.plots.mkdir(exist_ok=True)
    written = [viz.save_training_curves(run.plots / "training_curves.png",
                                        viz.read_history(run.metrics_path))]
    source = run.best if run.best.is_dir() else run.last
    if source.is_dir():
        tc = identity["train_config"]
        split = "validation" if tc.get("validation_size") else "train"
        ds = load_dataset(tc["dataset"], split, validation_size=tc.get("validation_size"))
        written += model_pictures(api.load(source), ds, run.plots)
    for path in written:
        print(path)
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    path = api.download(args.name, args.revision, cache_dir=args.cache_dir, force=args.force)
    print(path)
    return 0


def _read_mapping(path: str, what: str) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))  # JSON is YAML too
    except (OSError, yaml.YAMLError) as exc:
        raise ZooError(f"cannot read {what} {path!r}: {exc}") from None
    if not isinstance(data, dict):
        raise ZooError(f"{what} {path!r} must hold a mapping (JSON object or YAML mapping)")
    return data


def cmd_push(args: argparse.Namespace) -> int:
    from zoo import cards

    card: dict[str, Any] | None = None
    if args.eval:
        model = args.model
        if (Path(model) / "run.json").is_file():
            model = str(Path(model) / "best")
        card = cards.card_from_eval(_read_mapping(args.eval, "eval result"), model=model)
    if args.card_template:
        card = {**(card or {}), **_read_mapping(args.card_template, "card template")}
    result = api.push(args.model, args.repo_id, revision=args.revision, create_pr=args.create_pr,
                      private=args.private, card=card, commit_message=args.message)
    where = f"{args.repo_id}@{args.revision or 'main'}"
    if not result.changed:
        print(f"unchanged: {where} already holds these files; no new commit")
    elif result.pr_revision:
        print(f"opened pull request {result.pr_revision} against {where}: {result.pr_url}")
    else:
        print(f"pushed to {where}")
    print(f'pin it: zoo.load("hf-hub:{args.repo_id}@{result}")')
    print(result)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zoo", description="A model zoo of variational autoencoders (JAX + Flax NNX)."
    )
    parser.add_argument("--version", action="version", version=f"zoo {api.zoo_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("list", help="list variants and pretrained models")
    p.add_argument("pattern", nargs="?", default="*", help="fnmatch pattern, e.g. 'beta*'")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("info", help="show a variant's default config or a pretrained entry")
    p.add_argument("name")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("plugins", help="show loaded plugins, what they registered, their errors")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_plugins)

    p = sub.add_parser("train", help="train a variant on a dataset into a run directory")
    p.add_argument("variant")
    p.add_argument("overrides", nargs="*", metavar="key=value",
                   help="training or model settings, e.g. epochs=5 latent_dim=8")
    p.add_argument("--dataset", help="dataset name (default: the train config's, mnist)")
    p.add_argument("--preset", help="a named recipe from zoo.presets, e.g. smoke")
    p.add_argument("--out", required=True, help="run directory (must be new unless --resume)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--until-step", type=int, help="stop (with a checkpoint) at this step")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("eval", help="measure a trained model on a dataset split (JSON)")
    p.add_argument("model", help="a model directory (e.g. RUN/best) or a pretrained name")
    p.add_argument("--dataset", required=True)
    p.add_argument("--split", default="test")
    p.add_argument("--batch-size", type=int, default=250)
    p.add_argument("--max-examples", type=int, default=0, help="evaluate on a seeded random N")
    p.add_argument("--binarize", action="store_true",
                   help="binarise the images once (seeded) - the protocol for binarised MNIST")
    p.add_argument("--iw-samples", type=int, default=0,
                   help="K for the importance-weighted NLL (e.g. 1000); 0 skips it")
    p.add_argument("--iw-examples", type=int, default=2000)
    p.add_argument("--points", type=int, default=10_000,
                   help="points for MIG/DCI/SAP (disentanglement_lib: 10,000)")
    p.add_argument("--dci-model", default="gbt", choices=["gbt", "random_forest", "lasso"],
                   help="DCI importance model (gbt is the reference and takes minutes)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--output", help="also write the JSON to this file")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("train-classifier",
                       help="train the evaluation classifier (conditional accuracy, FID)")
    p.add_argument("--dataset", default="mnist")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_train_classifier)

    p = sub.add_parser("datasets", help="list registered datasets")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_datasets)

    p = sub.add_parser("reconstruct", help="PNG of inputs over their reconstructions")
    p.add_argument("model")
    p.add_argument("--dataset", required=True)
    p.add_argument("--split", default="test")
    p.add_argument("--n", type=int, default=16)
    p.add_argument("--out", required=True, help="PNG file to write")
    p.set_defaults(func=cmd_reconstruct)

    p = sub.add_parser("sample", help="PNG of samples from the prior (a class grid for a CVAE)")
    p.add_argument("model")
    p.add_argument("--n", type=int, default=64)
    p.add_argument("--label", type=int, help="the class to generate (conditional models)")
    p.add_argument("--per-class", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="PNG file to write")
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("traverse", help="PNG of a latent traversal, rows ordered by KL")
    p.add_argument("model")
    p.add_argument("--dataset", required=True)
    p.add_argument("--split", default="test")
    p.add_argument("--index", type=int, default=0, help="the example whose code is the base")
    p.add_argument("--out", required=True, help="PNG file to write")
    p.set_defaults(func=cmd_traverse)

    p = sub.add_parser("plot-run", help="(re)draw a run directory's pictures into DIR/plots")
    p.add_argument("run")
    p.set_defaults(func=cmd_plot_run)

    p = sub.add_parser("download", help="fetch a pretrained model into the HF cache (offline use)")
    p.add_argument("name", help="a pretrained name or hf-hub:org/repo[@revision]")
    p.add_argument("--revision", help="another revision than the pinned one")
    p.add_argument("--cache-dir", help="HF cache directory (default: HF_HUB_CACHE)")
    p.add_argument("--force", action="store_true", help="download again (after a hash mismatch)")
    p.set_defaults(func=cmd_download)

    p = sub.add_parser("push", help="publish a model with its card to the Hugging Face Hub")
    p.add_argument("model", help="a model directory, or a run directory (its best/ is pushed)")
    p.add_argument("repo_id", help="org/name on the Hub (created if missing)")
    p.add_argument("--revision", help="branch to commit to (default main; created if missing)")
    p.add_argument("--create-pr", action="store_true", help="open a pull request instead")
    p.add_argument("--private", action="store_true", help="create the repo private")
    p.add_argument("--eval", help="JSON written by `zoo eval ... --output eval.json` (metrics)")
    p.add_argument("--card-template",
                   help="YAML/JSON mapping of card fields (description, license, limitations, "
                        "name, tags, ...) merged over what --eval gives")
    p.add_argument("--message", help="commit message")
    p.set_defaults(func=cmd_push)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``zoo`` console script; returns the exit status."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    # key=value settings may come after options (argparse stops collecting positionals there)
    if extra and hasattr(args, "overrides") and all("=" in e and not e.startswith("-")
                                                   for e in extra):
        args.overrides = [*args.overrides, *extra]
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return int(args.func(args))
    except ZooError as exc:
        print(f"zoo: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

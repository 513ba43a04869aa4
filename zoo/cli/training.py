"""``zoo train`` (and ``train-classifier``, its deprecated alias for the classifier's preset):
fit a model into a run directory."""

from __future__ import annotations

import argparse
import difflib
import sys

from zoo import api
from zoo.config import parse_overrides
from zoo.errors import ConfigError
from zoo.presets import get_preset
from zoo.training import TrainConfig


def split_overrides(variant: str, items: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Route ``key=value`` strings to the train config or the model config by field name."""
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
            close = difflib.get_close_matches(key, sorted(train_keys | model_keys), n=3)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise ConfigError(
                f"unknown setting {key!r}.{hint} Training settings: "
                f"{', '.join(sorted(train_keys))}. Model settings ({variant}): "
                f"{', '.join(sorted(model_keys))}"
            )
    return train, model


def cmd_train(args: argparse.Namespace) -> int:
    from zoo.train import train  # imports numpy and the pictures

    train_over, model_over = split_overrides(args.variant, args.overrides)
    preset = get_preset(args.preset, args.variant) if args.preset else None
    preset_train = dict(preset.train) if preset else {}
    preset_model = dict(preset.model) if preset else {}
    tc = TrainConfig().replace(**preset_train)
    if args.dataset:
        tc = tc.replace(dataset=args.dataset)
    tc = tc.replace_from_strings(train_over)
    spec = api.get_variant(args.variant)
    model_config = spec.default_config.replace(**preset_model)
    model_config = model_config.replace_from_strings(model_over)
    explicit = {**preset_model, **{k: getattr(model_config, k) for k in model_over}}
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


def cmd_train_classifier(args: argparse.Namespace) -> int:
    """Deprecated alias: ``zoo train classifier --preset classifier-mnist`` (the generic loop),
    with ``--dataset``, ``--epochs`` and ``--seed`` as overrides of the preset."""
    overrides = [f"{k}={v}" for k, v in (("epochs", args.epochs), ("seed", args.seed))
                 if v is not None]
    dataset = f" --dataset {args.dataset}" if args.dataset else ""
    print(f"zoo: `zoo train-classifier` is deprecated; running `zoo train classifier{dataset} "
          f"--preset classifier-mnist {' '.join([*overrides, ''])}--out {args.out}`",
          file=sys.stderr)
    parser = argparse.ArgumentParser(prog="zoo")  # `zoo train`'s own options and defaults
    add_train(parser.add_subparsers())
    argv = ["train", "classifier", *overrides, "--preset", "classifier-mnist", "--out", args.out]
    argv += ["--dataset", args.dataset] if args.dataset else []
    argv += ["--no-progress"] if args.no_progress else []
    return cmd_train(parser.parse_args(argv))


def add_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a variant on a dataset into a run directory")
    p.add_argument("variant")
    p.add_argument("overrides", nargs="*", metavar="key=value",
                   help="training or model settings, e.g. epochs=5 latent_dim=8")
    p.add_argument("--dataset", help="dataset name (default: the train config's, mnist)")
    p.add_argument("--preset", help="a named training recipe (`zoo list --presets`), e.g. smoke")
    p.add_argument("--out", required=True, help="run directory (must be new unless --resume)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--until-step", type=int, help="stop (with a checkpoint) at this step")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train)


def add_train_classifier(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train-classifier",
                       help="deprecated: zoo train classifier --preset classifier-mnist")
    p.add_argument("--dataset", help="dataset name (default: the preset's, mnist)")
    p.add_argument("--epochs", type=int, help="default: the preset's, 3")
    p.add_argument("--seed", type=int, help="default: the preset's, 0")
    p.add_argument("--out", required=True, help="run directory (must be new)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train_classifier)

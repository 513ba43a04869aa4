"""``zoo train`` (and ``train-classifier``, its deprecated alias for the classifier's preset):
fit a model into a run directory."""

from __future__ import annotations

import argparse
import difflib
import sys

from zoo import api
from zoo.cli.logger_options import add_logger_options, loggers_from_args
from zoo.config import parse_overrides
from zoo.errors import ConfigError
from zoo.presets import get_preset
from zoo.training import DEFAULT_STEPS_PER_DISPATCH, Cluster, TrainConfig, parse_devices


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


def run_settings(variant: str, train_over: dict[str, str], model_over: dict[str, str],
                 preset_name: str | None, dataset: str | None) -> tuple[TrainConfig, dict]:
    """The train config and the explicit model overrides of a run: the preset's (if any),
    then ``--dataset``, then the ``key=value`` strings (as :func:`split_overrides` routed
    them)."""
    preset = get_preset(preset_name, variant) if preset_name else None
    preset_train = dict(preset.train) if preset else {}
    preset_model = dict(preset.model) if preset else {}
    tc = TrainConfig().replace(**preset_train)
    if dataset:
        tc = tc.replace(dataset=dataset)
    tc = tc.replace_from_strings(train_over)
    spec = api.get_variant(variant)
    model_config = spec.default_config.replace(**preset_model)
    model_config = model_config.replace_from_strings(model_over)
    explicit = {**preset_model, **{k: getattr(model_config, k) for k in model_over}}
    return tc, explicit


def cluster_from_args(args: argparse.Namespace) -> Cluster | None:
    """``--coordinator``, ``--num-processes``, ``--process-id``: all three, or none."""
    given = [args.coordinator, args.num_processes, args.process_id]
    if all(v is None for v in given):
        return None
    if any(v is None for v in given):
        raise ConfigError("a multi-process run needs all of --coordinator HOST:PORT, "
                          "--num-processes N and --process-id I (one per process)")
    return Cluster(args.coordinator, args.num_processes, args.process_id,
                   args.coordinator_timeout)


def cmd_train(args: argparse.Namespace) -> int:
    from zoo.train import train  # imports numpy and the pictures

    devices, cluster = parse_devices(args.devices), cluster_from_args(args)
    train_over, model_over = split_overrides(args.variant, args.overrides)
    tc, explicit = run_settings(args.variant, train_over, model_over, args.preset, args.dataset)
    loggers = loggers_from_args(args)
    try:
        result = train(args.variant, out=args.out, train_config=tc, model_overrides=explicit,
                       resume=args.resume, until_step=args.until_step,
                       progress=not args.no_progress, devices=devices, cluster=cluster,
                       steps_per_dispatch=args.steps_per_dispatch, loggers=loggers)
    except KeyboardInterrupt as exc:
        print(f"zoo: {exc or 'interrupted'}", file=sys.stderr)
        return 130
    if result.process_index:
        print(f"process {result.process_index}: done at step {result.step} (process 0 writes "
              "the run directory)")
        return 0
    state = "finished" if result.finished else "stopped (resume with --resume)"
    print(f"{state} at step {result.step}; run directory {result.run_dir}")
    if result.best_validation is not None:
        print(f"best validation score {result.best_validation:.4f} -> {result.run_dir / 'best'}")
    devices = f" on {result.devices} devices" if result.devices > 1 else ""
    print(f"training throughput {result.images_per_second:,.0f} images/s{devices}")
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


_TRAIN_EPILOG = """\
several devices: --devices N (or all) splits each global batch of batch_size examples evenly
over N devices (data-parallel; parameters and optimizer state replicated). The count is part of
the run: the same seed, settings and count give the same weights, --resume needs the same count,
and the checkpoints load on one device.

several hosts: start the same command once per host, adding --coordinator HOST:PORT (process
0's host and a free port, reachable from every host), --num-processes N and --process-id I
(0 .. N-1) and --devices all. Process 0 writes the run directory; the others only compute.
A process whose peers have not all joined within --coordinator-timeout seconds, or that loses
one during the run, ends with an error. Send Ctrl-C to every process. E.g. on two hosts:
  zoo train beta-vae --devices all --coordinator 10.0.0.1:4455 --num-processes 2 \\
      --process-id 0 --out runs/b      # on 10.0.0.1; the other host: --process-id 1
"""


def add_run_options(p: argparse.ArgumentParser, kind: str) -> None:
    """The options ``zoo train`` and ``zoo sweep`` share; ``kind`` ("run" or "sweep") names
    what ``--out`` holds."""
    p.add_argument("--dataset", help="dataset name (default: the train config's, mnist), or "
                   "your own data: an .npz (images [N,H,W(,C)], labels) or a folder of PNGs")
    p.add_argument("--preset", help="a named training recipe (`zoo list --presets`), e.g. smoke")
    p.add_argument("--out", required=True, help=f"{kind} directory (must be new unless --resume)")
    longer = " (with only a larger max_steps/epochs: train it longer)" if kind == "run" else ""
    p.add_argument("--resume", action="store_true", help=f"continue the {kind} in --out{longer}")
    p.add_argument("--until-step", type=int, help="stop at this step, checkpointed")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def add_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a variant on a dataset into a run directory",
                       epilog=_TRAIN_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("variant")
    p.add_argument("overrides", nargs="*", metavar="key=value",
                   help="training or model settings, e.g. epochs=5 latent_dim=8")
    add_run_options(p, "run")
    add_logger_options(p)
    p.add_argument("--devices", default="1", metavar="N|all",
                   help="devices sharing each step, data-parallel (default 1; all: every one)")
    p.add_argument("--steps-per-dispatch", type=int, default=DEFAULT_STEPS_PER_DISPATCH,
                   metavar="K", help="training steps per jitted call (default 0: auto, "
                   "16, or 1 for a model with convolutions on CPU)")
    g = p.add_argument_group("one process per host (see below)")
    g.add_argument("--coordinator", metavar="HOST:PORT", help="process 0's address")
    g.add_argument("--num-processes", type=int, metavar="N", help="processes in the run")
    g.add_argument("--process-id", type=int, metavar="I", help="this process, 0 .. N-1")
    g.add_argument("--coordinator-timeout", type=int, default=300, metavar="SECONDS",
                   help="how long to wait for every process, or a silent one (default 300)")
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

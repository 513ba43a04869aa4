"""``zoo sweep``: train every combination of the listed settings as one program, one run
directory per member, and print the members' summary table."""

from __future__ import annotations

import argparse
import json
import sys

from zoo import api
from zoo import sweep as sweeping
from zoo.cli.logger_options import add_logger_options, member_loggers_from_args
from zoo.cli.training import add_run_options, run_settings, split_overrides
from zoo.config import parse_overrides
from zoo.errors import ConfigError
from zoo.training import TrainConfig


def cmd_sweep(args: argparse.Namespace) -> int:
    if args.devices not in (None, "1"):
        raise ConfigError("zoo sweep trains every member on one device (the members share one "
                          "program, vmapped); drop --devices, or train the members separately "
                          "with zoo train --devices N")
    spec = api.get_variant(args.variant)
    train_over, model_over = split_overrides(args.variant, args.overrides)
    train_axes, train_fixed = sweeping.split_axes(train_over, TrainConfig.field_types())
    model_axes, model_fixed = sweeping.split_axes(model_over, spec.config_class.field_types())
    found = {**train_axes, **model_axes}
    axes = {k: found[k] for k in parse_overrides(args.overrides) if k in found}  # as given
    tc, explicit = run_settings(args.variant, train_fixed, model_fixed, args.preset,
                                args.dataset)
    loggers = member_loggers_from_args(args)
    try:
        result = sweeping.sweep(args.variant, axes, out=args.out, train_config=tc,
                                model_overrides=explicit, resume=args.resume,
                                until_step=args.until_step, progress=not args.no_progress,
                                chunk=args.chunk, loggers=loggers)
    except KeyboardInterrupt as exc:
        print(f"zoo: {exc or 'interrupted'}", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(result.summary, indent=2))
    else:
        print(sweeping.format_table(result.summary))
        state = "finished" if result.finished else "stopped (resume with --resume)"
        print(f"{state} at step {result.step}; {len(result.members)} run directories under "
              f"{result.out}; summary {result.out / 'summary.json'}")
        print(f"training throughput {result.images_per_second:,.0f} member-images/s")
    for message in result.diverged.values():
        print(f"zoo: error: {message}", file=sys.stderr)
    return 1 if result.diverged else 0


_EPILOG = """\
A setting with several comma-separated values is swept; a single value is shared by every
member (like zoo train's key=value). Sweepable: seed, learning_rate, and the int, float and
bool model settings that only the loss reads (beta, beta_start, beta_anneal_steps,
capacity_max, capacity_num_iter, gamma, commitment_cost...). A setting that changes the
model's shapes or the loss's Python control flow is refused, naming it.

Each member gets an ordinary run directory OUT/<member> (e.g. OUT/beta-2.0_seed-1): zoo eval,
zoo.load and `zoo train VARIANT <its settings> --out OUT/<member> --resume` work on it.
  zoo sweep beta-vae beta=1,2,4,8 seed=0,1,2 epochs=2 --dataset mnist --out runs/betas
--tensorboard DIR writes each member's metrics into DIR/<member>: tensorboard --logdir DIR
shows the members side by side.
"""


def add_sweep(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sweep", help="train every combination of settings as one program",
                       epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("variant")
    p.add_argument("overrides", nargs="*", metavar="key=v1,v2",
                   help="swept settings (several values) and shared ones (one value)")
    add_run_options(p, "sweep")
    add_logger_options(p, "sweep")
    p.add_argument("--chunk", type=int, help="steps per dispatch (default: a log interval, at "
                   "most 50; 1 for a model with convolutions on CPU)")
    p.add_argument("--json", action="store_true", help="print summary.json instead of a table")
    p.add_argument("--devices", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_sweep)

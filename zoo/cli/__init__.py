"""The ``zoo`` command line: a thin layer over the public API."""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence

from zoo import api
from zoo.cli import evaluation, hub, models, pictures, plugins_cmd, pretrained, sweep, training
from zoo.cli.evaluation import cmd_eval
from zoo.cli.hub import cmd_download, cmd_push
from zoo.cli.models import cmd_datasets, cmd_info, cmd_list, cmd_plugins
from zoo.cli.pictures import cmd_plot_run, cmd_reconstruct, cmd_sample, cmd_traverse
from zoo.cli.training import cmd_train, cmd_train_classifier, split_overrides
from zoo.errors import ZooError
from zoo.plugins import ZooPluginWarning
from zoo.training.loggers import MetricsLoggerWarning

__all__ = [
    "build_parser", "main", "split_overrides",
    "cmd_list", "cmd_info", "cmd_plugins", "cmd_train", "cmd_eval", "cmd_train_classifier",
    "cmd_datasets", "cmd_reconstruct", "cmd_sample", "cmd_traverse", "cmd_plot_run",
    "cmd_download", "cmd_push",
]

# Each adds one subcommand (its options and ``func``), in the order ``zoo --help`` lists them.
SUBCOMMANDS = (
    models.add_list,
    models.add_info,
    models.add_plugins,
    training.add_train,
    sweep.add_sweep,
    evaluation.add_eval,
    training.add_train_classifier,
    models.add_datasets,
    pictures.add_reconstruct,
    pictures.add_sample,
    pictures.add_traverse,
    pictures.add_plot_run,
    hub.add_download,
    hub.add_push,
    pretrained.add_bundle,
    pretrained.add_check_cards,
    plugins_cmd.add_new_plugin,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zoo", description="A model zoo of variational autoencoders (JAX + Flax NNX)."
    )
    parser.add_argument("--version", action="version", version=f"zoo {api.zoo_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    for add_subcommand in SUBCOMMANDS:
        add_subcommand(sub)
    return parser


_python_showwarning = warnings.showwarning


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Plugin and metrics-logger problems read as one ``zoo: warning:`` line, not as a Python
    source location."""
    if issubclass(category, ZooPluginWarning | MetricsLoggerWarning):
        print(f"zoo: warning: {message}", file=sys.stderr)
    else:
        _python_showwarning(message, category, filename, lineno, file, line)


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
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            return int(args.func(args))
    except ZooError as exc:
        print(f"zoo: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a read-only or full disk, a missing directory: not a traceback
        print(f"zoo: error: {_os_error(exc)}", file=sys.stderr)
        return 2


def _os_error(exc: OSError) -> str:
    """What an operating-system error means for the user, and what to do."""
    import errno

    where = f" ({exc.filename})" if exc.filename else ""
    advice = {
        errno.ENOSPC: "the disk is full: free some space (or choose another --out); the last "
                      "complete checkpoint and saved files are intact, resume with --resume",
        errno.EDQUOT: "the disk quota is exhausted: free some space, then resume with --resume",
        errno.EROFS: "the file system is read-only: choose a writable --out",
        errno.EACCES: "permission denied: choose a directory you may write to",
        errno.EPERM: "operation not permitted: choose a directory you may write to",
    }.get(exc.errno or 0, "check the path and try again")
    return f"{exc.strerror or exc}{where}: {advice}"

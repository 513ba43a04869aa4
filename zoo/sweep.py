"""Sweeps, as the public API offers them: train every combination of the listed settings as
one jitted program, one ordinary run directory per member, then the summary plot.

    result = zoo.sweep.sweep("beta-vae", {"beta": [1, 2, 4, 8], "seed": [0, 1, 2]},
                             out="runs/betas", train_config=TrainConfig(epochs=2))

The sweep itself is the service :mod:`zoo.training.sweep` (its grid:
:mod:`zoo.training.sweep_grid`); this façade builds the grid, runs it and draws
``summary.png`` (:mod:`zoo.training.sweep_report`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from zoo.plugins import manager_for
from zoo.training import TrainConfig
from zoo.training.loggers import MemberLoggers
from zoo.training.runlog import resolve_data
from zoo.training.sweep_grid import Grid, make_grid, split_axes
from zoo.training.sweep_report import format_table, plot_members

__all__ = ["MemberLoggers", "format_table", "grid", "split_axes", "sweep"]


def grid(variant: str, axes: Mapping[str, Sequence[Any]], *,
         train_config: TrainConfig | None = None,
         model_overrides: Mapping[str, Any] | None = None) -> Grid:
    """The checked grid of a sweep: ``axes`` maps each swept setting to its values (Python
    values, or strings parsed by the setting's type); every member's configs are validated.
    Your own data (a path) is read and checked here (:func:`zoo.training.runlog.resolve_data`)."""
    spec = manager_for(variant, "variant").registry.get_variant(variant)
    return make_grid(variant, spec.config_class, axes, resolve_data(train_config or TrainConfig()),
                     dict(model_overrides or {}), spec.default_config)


def sweep(variant: str, axes: Mapping[str, Sequence[Any]], *, out: str | Path,
          train_config: TrainConfig | None = None,
          model_overrides: Mapping[str, Any] | None = None, resume: bool = False,
          until_step: int | None = None, progress: bool = True, pictures: bool = True,
          chunk: int | None = None, loggers: MemberLoggers | None = None) -> Any:
    """Train every combination of ``axes`` (e.g. ``{"beta": [1, 2], "seed": [0, 1]}``) of
    ``variant`` into ``out/<member>`` run directories; ``train_config`` and
    ``model_overrides`` are the settings every member shares.

    Sweepable: ``seed``, ``learning_rate`` and the int, float and bool model settings that
    only the loss reads (beta and its annealing, capacity C_max and gamma, commitment cost...);
    anything else is refused with a :class:`~zoo.errors.ConfigError` naming it, before
    anything is written. Returns a :class:`zoo.training.sweep.SweepResult`; members that
    diverged are in its ``diverged`` (the others finished). ``pictures`` draws
    ``out/summary.png``; ``resume``, ``until_step`` as in :func:`zoo.train.train`.

    ``loggers`` sends each member's metrics elsewhere too (default: nowhere but its
    ``metrics.jsonl``): a function called once per member, with the member's name (that of its
    run directory, e.g. ``"beta-2.0_seed-1"``), before anything is written, returning that
    member's own metrics loggers (:class:`~zoo.training.loggers.MetricsLogger`; a factory, as
    each member needs its own sink), e.g. one TensorBoard log dir per member::

        loggers=lambda name: [zoo.train.TensorBoardLogger(f"tb/betas/{name}")]

    Each member's loggers get exactly the rows of its ``metrics.jsonl``, as
    :func:`zoo.train.train`'s do: its training rows and its ``val/...`` rows; a resumed sweep
    sends only the rows it computes, and a member that diverged sends nothing after its last
    good row. A logger that raises is warned about once (naming it and its member) and dropped;
    the sweep goes on. All are closed when the sweep ends, however it ends.
    """
    from zoo.training.sweep import run_sweep  # imports JAX

    checked = grid(variant, axes, train_config=train_config, model_overrides=model_overrides)
    result = run_sweep(checked, out, resume=resume, until_step=until_step, progress=progress,
                       chunk=chunk, loggers=loggers)
    if pictures:
        plot_members(result.out, result.summary)
    return result

"""Training, as the public API offers it: train a variant into a run directory, then draw the
run's pictures.

    result = zoo.train.train("vqvae", out="runs/vq", train_config=TrainConfig(epochs=2))

The loop itself is the service :mod:`zoo.training.loop`; this façade composes it with the
pictures of :mod:`zoo.viz.pictures`, so that the loop never draws.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from zoo.data import register_arrays
from zoo.errors import InputError
from zoo.training import (
    DEFAULT_STEPS_PER_DISPATCH,
    Cluster,
    MetricsLogger,
    TensorBoardLogger,
    TrainConfig,
    TrainingDiverged,
    TrainResult,
    make_optimizer,
    run_training,
)
from zoo.viz.pictures import run_pictures

__all__ = ["Cluster", "MetricsLogger", "TensorBoardLogger", "TrainConfig", "TrainResult",
           "TrainingDiverged", "make_optimizer", "train"]


def train(
    variant: str,
    *,
    out: str | Path,
    train_config: TrainConfig | None = None,
    model_overrides: Mapping[str, Any] | None = None,
    resume: bool = False,
    until_step: int | None = None,
    progress: bool = True,
    pictures: bool = True,
    devices: int | str = 1,
    cluster: Cluster | None = None,
    steps_per_dispatch: int = DEFAULT_STEPS_PER_DISPATCH,
    loggers: Iterable[MetricsLogger] = (),
    images: Any = None,
    labels: Any = None,
) -> TrainResult:
    """Train ``variant`` into the run directory ``out``; see :mod:`zoo.runs` for its layout.

    Args:
        model_overrides: typed overrides of the variant's default config.
        resume: continue the run in ``out`` (same variant and configs required).
        until_step: stop (with a checkpoint) once this step is reached, without changing the
            run's length: a later ``resume=True`` continues it.
        progress: show a progress bar.
        pictures: when the run finishes, draw its training curves and the model's pictures into
            ``out/plots`` (:func:`zoo.viz.pictures.run_pictures`).
        devices: how many devices share each step (data-parallel: ``batch_size`` stays the
            global batch and must divide evenly), or ``"all"``. Part of the run's identity: the
            same seed, configs and device count give the same weights; a resume needs the same
            count. Its checkpoints and ``best/`` load on one device.
        cluster: this process's place in a run over several processes, one per host
            (:class:`zoo.training.multihost.Cluster`); process 0 writes the run directory and
            draws the pictures, the others only compute. Call in a fresh process.
        steps_per_dispatch: training steps per jitted call (one ``lax.scan``; the steps next to
            a log, validation or checkpoint point run one by one); 0: auto, 16, but 1 for a model
            with convolutions on CPU (where a scanned step's convolutions run 14x slower). Not
            part of the run's identity: any value computes the same steps, up to float
            rounding.
        loggers: metrics loggers (:class:`zoo.training.loggers.MetricsLogger`: ``log(step,
            metrics)`` and ``close()``, e.g. :class:`~zoo.training.loggers.TensorBoardLogger`).
            Each gets every row written to ``metrics.jsonl`` (training rows every ``log_every``
            steps, ``val/...`` rows at validations), from process 0 only; a resumed run sends
            only the rows it computes. One that raises is warned about once and dropped, the run
            goes on. All are closed when the run ends, however it ends.
        images, labels: train on your own arrays instead of ``train_config.dataset``: images
            uint8 ``[N, H, W]`` or ``[N, H, W, C]`` (0..255) or floats in [0, 1], labels
            optional integers ``[N]`` (:func:`zoo.data.register_arrays`, checked before
            anything is written). ``run.json`` records their content hash: resume by passing
            the same arrays. A path works too: ``TrainConfig(dataset="data.npz")`` (an ``.npz``
            or a folder of PNGs, :mod:`zoo.data.own`), as ``zoo train --dataset PATH``.
    """
    if images is not None:
        train_config = (train_config or TrainConfig()).replace(
            dataset=register_arrays(images, labels))
    elif labels is not None:
        raise InputError("labels= goes with images= (your own arrays); pass both, or neither")
    result = run_training(variant, out, train_config, dict(model_overrides or {}),
                          resume=resume, until_step=until_step, progress=progress,
                          devices=devices, cluster=cluster,
                          steps_per_dispatch=steps_per_dispatch, loggers=loggers)
    if result.finished and pictures and result.process_index == 0:
        run_pictures(result.run_dir)
    return result

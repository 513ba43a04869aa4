"""A run's last checkpoint: the model (``zoo.load``-able), the optimizer state and the loop's
position (``trainer.json``: step, epoch, batch, best validation loss, metrics not yet logged).

Works on host-local models (:func:`zoo.training.sharding.to_local`); in a multi-process run only
process 0 calls it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from zoo import building, serialization
from zoo._io import atomic_write_text
from zoo.checkpoint import load_weights, read_safetensors, save_weights
from zoo.runs import RunDir
from zoo.serialization import WEIGHTS_FILE
from zoo.training.config import read_trainer_state

__all__ = ["OPTIMIZER_FILE", "position", "promote", "restore", "save", "save_model",
           "trainer_json", "write_summary"]

OPTIMIZER_FILE = "optimizer.safetensors"
TRAINER_FILE = "trainer.json"


def trainer_json(step: int, epoch: int, batch_index: int, best: float,
                 pending: list[dict[str, Any]]) -> dict[str, Any]:
    """``trainer.json``: the loop's position (``batch_index`` within ``epoch``), the best
    validation loss (inf before any) and the per-step metrics not yet logged (host values)."""
    return {"step": step, "epoch": epoch, "batch_index": batch_index,
            "best_validation": None if math.isinf(best) else best,
            "pending": [{k: float(v) for k, v in row.items()} for row in pending]}


def position(trainer: dict[str, Any]) -> tuple[int, int, int, float, list[dict[str, Any]]]:
    """``(step, epoch, batch_index, best, pending)`` of a ``trainer.json``."""
    best = trainer["best_validation"]
    return (trainer["step"], trainer["epoch"], trainer["batch_index"],
            math.inf if best is None else best,
            [{k: np.float32(v) for k, v in row.items()} for row in trainer["pending"]])


def save_model(model: Any, directory: Path) -> None:
    serialization.write_files(model, directory, building.model_meta(model))


def promote(run_dir: RunDir, model: Any) -> None:
    """Make ``model`` the run's ``best/`` (what ``zoo.load(RUN)`` and ``zoo eval RUN`` use),
    atomically."""
    with run_dir.writing_checkpoint(run_dir.best) as tmp:
        save_model(model, tmp)


def write_summary(run_dir: RunDir, variant: str, step: int, epoch: int, best: float,
                  images_per_second: float) -> None:
    """``summary.json`` of a finished run: its length, last train and validation rows, best
    validation loss and training throughput."""
    history = run_dir.read_metrics()
    last_train = next((r for r in reversed(history) if "loss" in r), {})
    last_val = next((r for r in reversed(history) if "val/loss" in r), {})
    summary = {"variant": variant, "steps": step, "epochs": epoch,
               "final_train": last_train, "final_validation": last_val,
               "best_validation": None if math.isinf(best) else best,
               "images_per_second": images_per_second}
    atomic_write_text(run_dir.path / "summary.json", json.dumps(summary, indent=2))


def save(run_dir: RunDir, model: Any, optimizer: Any, trainer: dict[str, Any]) -> None:
    """Write the last checkpoint atomically (the previous one stays until the swap)."""
    with run_dir.writing_checkpoint() as tmp:
        save_model(model, tmp)
        save_weights(optimizer, tmp / OPTIMIZER_FILE)
        atomic_write_text(tmp / TRAINER_FILE, json.dumps(trainer, indent=2) + "\n")


def restore(run_dir: RunDir, model: Any, optimizer: Any) -> dict[str, Any]:
    """Fill ``model`` and ``optimizer`` from the last checkpoint, drop the metrics logged after
    it (a resumed run logs them again) and return its ``trainer.json``."""
    last = run_dir.last
    load_weights(model, read_safetensors(last / WEIGHTS_FILE), source=str(last))
    load_weights(optimizer, read_safetensors(last / OPTIMIZER_FILE), source=str(last))
    state = read_trainer_state(last)
    run_dir.truncate_metrics_after(state["step"])
    return state

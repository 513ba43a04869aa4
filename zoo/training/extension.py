"""Training a run for longer: ``--resume`` with a larger ``max_steps`` (or ``epochs``).

A run's weights at step ``s`` depend on its length only through a learning-rate schedule that
decays towards the end (``cosine``): with a constant rate (warm-up included) and schedules of
beta or capacity that count steps, not fractions of the run, the first 30,000 steps of a
60,000-step run are exactly those of a 30,000-step run. So a finished (or stopped) run can be
extended: resuming it with only its length changed continues from its last checkpoint, and the
weights at every later step are those of a run started with the longer length. ``run.json``
then records the new length and ``summary.json`` goes until the longer run finishes.

What the extension cannot make the same: validation scores logged before it took beta and
capacity schedules at the old end of the run (the loop ranks checkpoints by the objective at the
run's end); where a schedule was still moving at the old end, those early scores, and the
``best/`` chosen among them, are on the old objective.
"""

from __future__ import annotations

from typing import Any

from zoo.runs import RunDir, RunError
from zoo.training.config import read_trainer_state

__all__ = ["LENGTH_FIELDS", "claim_extended", "only_length_differs"]

#: The train-config fields that say how long a run is.
LENGTH_FIELDS = ("max_steps", "epochs")


def only_length_differs(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether run identity ``new`` differs from ``old`` (``run.json`` dicts) in the train
    config's :data:`LENGTH_FIELDS` and nothing else."""
    if old == new:
        return False
    rest_old, rest_new = dict(old), dict(new)
    tc_old, tc_new = dict(rest_old.pop("train_config", {})), dict(rest_new.pop("train_config", {}))
    for field in LENGTH_FIELDS:
        tc_old.pop(field, None)
        tc_new.pop(field, None)
    return rest_old == rest_new and tc_old == tc_new


def claim_extended(run_dir: RunDir, old: dict[str, Any], new: dict[str, Any],
                   total: int) -> bool:
    """Claim ``run_dir`` (identity ``old``, with a checkpoint) to continue it as ``new``, a run
    of ``total`` steps; returns True (resuming). Refuses, changing nothing, a run whose
    learning rate decays over its length (``cosine``) or whose checkpoint lies past ``total``.
    """
    schedule = old["train_config"].get("lr_schedule", "constant")
    if schedule == "cosine":
        raise RunError(
            f"cannot change the length of {str(run_dir.path)!r}: its cosine learning-rate "
            "schedule decays over the whole run, so a longer run would have trained "
            "differently from its first step. Start a new run with the longer length")
    resuming = run_dir.claim(old, resume=True)  # locks; needs a checkpoint
    try:
        step = int(read_trainer_state(run_dir.last)["step"])
        if step > total:
            raise RunError(
                f"cannot shorten {str(run_dir.path)!r} to {total} steps: its last checkpoint is "
                f"at step {step}. Resume with a length of at least {step} steps")
        run_dir.write_identity(new)
        (run_dir.path / "summary.json").unlink(missing_ok=True)
    except BaseException:
        run_dir.release()
        raise
    return resuming

"""What a diverged run tells its user: which metrics went non-finite, whether a checkpoint
survives, and what to try (lower the learning rate, clip gradients, suspect the plugin)."""

from __future__ import annotations

from pathlib import Path

from zoo.specs import VariantSpec
from zoo.training.config import TrainingDiverged

__all__ = ["diverged"]


def diverged(spec: VariantSpec, bad: list[str], step: int, last: Path) -> TrainingDiverged:
    """The error for metrics ``bad`` turning NaN/inf by ``step``; ``last`` is the run's last
    checkpoint directory (intact when it exists)."""
    culprit = (
        f"the loss of variant {spec.name!r} (plugin {spec.plugin!r}) may be at fault: its tests "
        "can run zoo's conformance kit (zoo_check_plugin), which checks the loss is finite"
    )
    if last.exists():
        advice = (
            f"the run stopped and the last good checkpoint in {str(last)!r} is intact. Lower "
            "learning_rate or set grad_clip_norm (e.g. 1.0), then --resume or start anew; if it "
            f"happens from the first steps, {culprit}"
        )
    else:
        advice = (
            "the run stopped before its first checkpoint, so there is nothing to resume (start "
            f"anew with a new --out). So early, {culprit}; otherwise lower learning_rate or set "
            "grad_clip_norm (e.g. 1.0)"
        )
    return TrainingDiverged(f"{', '.join(bad)} became non-finite by step {step}; {advice}")

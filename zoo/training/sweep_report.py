"""A sweep's summary across members: ``summary.json`` (for machines), a short table (for
people: one row per member with its swept settings, final training loss, best validation loss,
key metrics and status) and ``summary.png`` (each member's loss curve)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from zoo._io import atomic_write_text
from zoo.runs import RunDir

__all__ = ["KEY_METRICS", "format_table", "plot_members", "summarise"]

#: Metrics of the last training row shown in the table when the members have them.
KEY_METRICS = ("kl_loss", "negative_elbo", "perplexity", "codes_used", "capacity_loss")
SUMMARY_FILE = "summary.json"
PLOT_FILE = "summary.png"


def _status(member: Any, total: int) -> str:
    if member.diverged_at is not None:
        return f"diverged at step {member.diverged_at}"
    return "finished" if member.final_step >= total else f"stopped at step {member.final_step}"


def summarise(out: Path, variant: str, axes: dict[str, tuple[Any, ...]], members: list[Any],
              total: int, images_per_second: float) -> dict[str, Any]:
    """Write and return ``out/summary.json``: the variant, axes, throughput and one entry per
    member (:class:`~zoo.training.sweep_members.MemberRun`)."""
    rows = []
    for m in members:
        history = m.run_dir.read_metrics()
        last_train = next((r for r in reversed(history) if "loss" in r), {})
        rows.append({"member": m.name, "settings": m.member.values, "status": _status(m, total),
                     "step": m.final_step, "diverged_at": m.diverged_at,
                     "final_train": last_train,
                     "best_validation": None if math.isinf(m.best) else m.best,
                     "run_dir": str(m.run_dir.path)})
    summary = {"variant": variant, "axes": {k: list(v) for k, v in axes.items()},
               "steps": total, "images_per_second": images_per_second, "members": rows}
    atomic_write_text(out / SUMMARY_FILE, json.dumps(summary, indent=2) + "\n")
    return summary


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def format_table(summary: dict[str, Any]) -> str:
    """The summary as an aligned text table, one row per member."""
    rows = summary["members"]
    extra = [k for k in KEY_METRICS if any(k in r["final_train"] for r in rows)]
    header = [*summary["axes"], "train loss", "best val loss", *extra, "status"]
    body = [[*(_cell(r["settings"][k]) for k in summary["axes"]),
             _cell(r["final_train"].get("loss")), _cell(r["best_validation"]),
             *(_cell(r["final_train"].get(k)) for k in extra), r["status"]] for r in rows]
    widths = [max(len(line[c]) for line in [header, *body]) for c in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True))
                     .rstrip() for line in [header, *body])


def plot_members(out: Path, summary: dict[str, Any]) -> Path:
    """``out/summary.png``: each member's validation loss against the step (its training loss
    when the sweep has no validation split)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    key = "loss"
    histories = {r["member"]: RunDir(r["run_dir"]).read_metrics() for r in summary["members"]}
    if any("val/loss" in row for h in histories.values() for row in h):
        key = "val/loss"
    for name, history in histories.items():
        points = [(row["step"], row[key]) for row in history
                  if isinstance(row.get(key), int | float)]
        if points:
            ax.plot(*zip(*points, strict=True), marker=".", label=name)
    ax.set_xlabel("step")
    ax.set_ylabel("validation loss" if key == "val/loss" else "training loss")
    ax.set_title(f"zoo sweep {summary['variant']}")
    if ax.has_data():
        ax.legend(fontsize="small")
    fig.tight_layout()
    path = out / PLOT_FILE
    tmp = path.with_name(f".{PLOT_FILE}.tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(path)
    return path

"""zoo.viz metrics history: reading metrics.jsonl and plotting training curves."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from zoo import viz
from zoo.errors import InputError, ZooError
from zoo.viz.plots import collect_series, plan_panels


def write_lines(path: Path, lines: list[str], *, end: str = "\n") -> Path:
    path.write_text("\n".join(lines) + end, encoding="utf-8")
    return path


def rows(n: int) -> list[str]:
    return [json.dumps({"step": i, "loss": 1.0 / (i + 1)}) for i in range(n)]


# -- read_history ----------------------------------------------------------------------------------
def test_reads_every_record_and_skips_blank_lines(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "m.jsonl", [*rows(2), "", json.dumps({"step": 2, "loss": "nan"})])
    history = viz.read_history(path)
    assert [r["step"] for r in history] == [0, 1, 2]
    assert history[2]["loss"] == "nan"


def test_a_truncated_last_line_is_dropped(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "m.jsonl", [*rows(3), '{"step": 3, "lo'], end="")
    assert [r["step"] for r in viz.read_history(path)] == [0, 1, 2]
    # an unterminated but complete last line is kept
    path = write_lines(tmp_path / "n.jsonl", rows(3), end="")
    assert len(viz.read_history(path)) == 3


def test_a_corrupt_middle_line_is_an_error_naming_it(tmp_path: Path) -> None:
    lines = rows(4)
    lines[1] = '{"step": 1, "lo'
    path = write_lines(tmp_path / "m.jsonl", lines)
    with pytest.raises(ZooError, match=r"line 2: not valid JSON.*lines follow it"):
        viz.read_history(path)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ('{"step": 0}\n{"step": 1, "lo\n', r"line 2: .*ends with a newline"),  # terminated
        ('{"step": 0}\n[1, 2]\n{"step": 2}\n', r"line 2: expected one JSON object"),
        (b'{"step": 0}\n{"step": "\xff"}\n{"step": 2}\n', r"line 2: .*not UTF-8"),
    ],
)
def test_other_corruption_is_strict(tmp_path: Path, content: str | bytes, match: str) -> None:
    path = tmp_path / "m.jsonl"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    with pytest.raises(ZooError, match=match):
        viz.read_history(path)


def test_missing_file_says_what_to_pass(tmp_path: Path) -> None:
    with pytest.raises(ZooError, match=r"metrics\.jsonl"):
        viz.read_history(tmp_path / "nope.jsonl")
    assert viz.read_history(write_lines(tmp_path / "e.jsonl", [], end="")) == []


# -- training curves -------------------------------------------------------------------------------
def capacity_history(steps: int = 30) -> list[dict]:
    history = []
    for s in range(steps):
        capacity = 25.0 * s / steps
        history.append({
            "step": s, "loss": 500.0 - s, "reconstruction_loss": 400.0 - s,
            "kl_loss": capacity + 0.5, "capacity_loss": 1000.0 * 0.5,
            "current_capacity": capacity, "negative_elbo": 410.0, "kl_per_dim": [0.1] * 4,
            "note": "text is skipped", "flag": True, "missing": None,
        })
        if s % 10 == 9:
            history.append({"step": s, "val/loss": 505.0 - s, "val/kl_loss": capacity})
    return history


def vq_history(steps: int = 20) -> list[dict]:
    return [
        {"step": s, "loss": 2.0 / (s + 1), "reconstruction_loss": 1.5 / (s + 1),
         "vq_loss": 0.1, "commitment_loss": 0.4, "codebook_loss": 0.0,
         "perplexity": 5.0 + s, "codes_used": min(1.0, 0.1 * s)}
        for s in range(steps)
    ]


def test_series_skip_non_scalars_and_map_nan_strings() -> None:
    history = [*capacity_history(3), {"step": 3, "loss": "NaN"}, {"loss": 1.0}]
    series = collect_series(history)
    assert "kl_per_dim" not in series and "note" not in series and "flag" not in series
    assert "missing" not in series and "step" not in series
    steps, values = series["loss"]
    assert steps.tolist() == [0, 1, 2, 3] and math.isnan(values[-1])


def test_capacity_panel_puts_kl_and_capacity_together() -> None:
    panels = dict(plan_panels(collect_series(capacity_history())))
    assert panels["KL vs capacity C(step) (nats)"] == ["kl_loss", "current_capacity"]
    assert panels["loss"] == ["loss", "negative_elbo"]  # val/loss shares the loss panel
    assert "val/loss" not in panels and "beta" not in panels


def test_vq_and_beta_panels() -> None:
    history = vq_history()
    history[0]["beta"] = 1.0
    titles = [title for title, _ in plan_panels(collect_series(history))]
    assert titles == ["loss", "loss terms", "beta", "VQ perplexity", "codes_used"]


@pytest.mark.parametrize(("make", "panels"), [(capacity_history, 3), (vq_history, 4)])
def test_training_curves_render(tmp_path: Path, make, panels: int) -> None:
    path = viz.save_training_curves(tmp_path / "c.png", make(), title="run")
    with Image.open(path) as img:  # 2 columns of 6 in, rows of 2.8 in, at 100 dpi
        assert img.size == (1200, round(280 * math.ceil(panels / 2)))
        assert np.asarray(img).std() > 0


def test_training_curves_need_something_to_plot(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no scalar metrics"):
        viz.save_training_curves(tmp_path / "c.png", [{"step": 1, "kl_per_dim": [1.0]}])
    with pytest.raises(InputError, match="not a dict"):
        viz.save_training_curves(tmp_path / "c.png", [[1, 2]])
    assert not (tmp_path / "c.png").exists()


def test_curves_from_a_torn_metrics_file(tmp_path: Path) -> None:
    lines = [json.dumps(r) for r in capacity_history(12)]
    path = write_lines(tmp_path / "metrics.jsonl", [*lines, lines[-1][:10]], end="")
    out = viz.save_training_curves(tmp_path / "curves.png", viz.read_history(path))
    assert out.is_file()

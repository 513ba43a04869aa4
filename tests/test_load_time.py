"""benchmarks/load_time.py measures fresh-process loads and reports what they imported (no
speed is asserted: the numbers are only checked to be measurements)."""

from __future__ import annotations

import importlib
import math
from pathlib import Path

import pytest

from zoo.plugins import PluginManager, register_builtins, use_manager

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def test_load_time_measures_and_lists_imports(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    load_time = importlib.import_module("load_time")
    builtins_only = PluginManager(strict=True)
    register_builtins(builtins_only)
    with use_manager(builtins_only):
        assert load_time.bundled_names() == ["classifier-mnist"]  # the core's own
    rows = load_time.measure([load_time.IMPORT_ONLY, "classifier-mnist"], runs=1)
    assert [row["name"] for row in rows] == [load_time.IMPORT_ONLY, "classifier-mnist"]
    for row in rows:
        assert math.isfinite(row["median_s"]) and row["median_s"] > 0
        assert row["imported"] == []  # no huggingface_hub, matplotlib, sklearn or plugin

"""Make ``zoo_betatcvae`` importable from a source checkout where it is not pip-installed, so
that ``pytest`` from the repository root collects these tests either way. The tests never rely
on the installed entry point: each registers the plugin into a fresh ``PluginManager``."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

if importlib.util.find_spec("zoo_betatcvae") is None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

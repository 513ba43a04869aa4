"""Fake installed distributions for plugin tests: a module plus a ``.dist-info`` folder whose
``entry_points.txt`` declares it in the ``zoo`` group. Put the folder on ``sys.path`` (or
``PYTHONPATH`` for a subprocess) and ``importlib.metadata`` finds it like a pip-installed one."""

from __future__ import annotations

import textwrap
from pathlib import Path


def make_distribution(root: Path, dist: str, version: str, module: str, body: str) -> None:
    """Write ``root/module.py`` (``body``, dedented) and ``root/<dist>-<version>.dist-info``."""
    (root / f"{module}.py").write_text(textwrap.dedent(body))
    info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[zoo]\n{dist} = {module}\n")

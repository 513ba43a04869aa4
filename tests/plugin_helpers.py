"""Fake installed distributions for plugin tests: a module plus a ``.dist-info`` folder whose
``entry_points.txt`` declares it in the ``zoo`` group. Put the folder on ``sys.path`` (or
``PYTHONPATH`` for a subprocess) and ``importlib.metadata`` finds it like a pip-installed one."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path


def make_distribution(root: Path, dist: str, version: str, module: str, body: str,
                      names: Sequence[str] = ()) -> None:
    """Write ``root/module.py`` (``body``, dedented) and ``root/<dist>-<version>.dist-info``;
    ``names`` are declared in group ``zoo.names`` (the plugin index), each with ``module``."""
    (root / f"{module}.py").write_text(textwrap.dedent(body))
    info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    declared = "".join(f"{name} = {module}\n" for name in names)
    index = f"\n[zoo.names]\n{declared}" if names else ""
    (info / "entry_points.txt").write_text(f"[zoo]\n{dist} = {module}\n{index}")


def light_plugin(variants: tuple[str, ...] = (), datasets: tuple[str, ...] = (),
                 head: str = "", hook_error: str = "") -> str:
    """The source of a light fake plugin module (no JAX) registering ``variants`` and
    ``datasets``; ``head`` goes first (e.g. a failing import), ``hook_error`` makes its variants
    hook raise."""
    return textwrap.dedent(f"""
        {head}
        import dataclasses
        import zoo

        @dataclasses.dataclass(frozen=True)
        class Cfg(zoo.Config):
            size: int = 1

        def _load(partition, *, cache_dir=None, **options):
            raise NotImplementedError

        @zoo.hookimpl
        def zoo_register_variants(register):
            if {hook_error!r}:
                raise RuntimeError({hook_error!r})
            for name in {variants!r}:
                register(zoo.VariantSpec(name=name, config_class=Cfg, default_config=Cfg(),
                                         factory=lambda config, *, rngs: None,
                                         loss=lambda *args, **kwargs: None))

        @zoo.hookimpl
        def zoo_register_datasets(register):
            for name in {datasets!r}:
                register(zoo.DatasetSpec(name=name, loader=_load))
    """)

"""``zoo new-plugin``: the skeleton it writes is a working plugin that passes the conformance kit;
names are checked and nothing is ever overwritten or left half-written."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from zoo.cli import main
from zoo.scaffold import ScaffoldError, new_plugin, plugin_names

FILES = ["README.md", "pyproject.toml", "src/zoo_demo/__init__.py", "src/zoo_demo/config.py",
         "src/zoo_demo/loss.py", "src/zoo_demo/model.py", "src/zoo_demo/plugin.py",
         "tests/test_zoo_demo.py"]


def _tree(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


@pytest.fixture
def forget_package() -> Iterator[list[str]]:
    """Names of generated packages to drop from sys.modules after the test."""
    packages: list[str] = []
    yield packages
    for name in [m for m in sys.modules if m.split(".")[0] in packages]:
        del sys.modules[name]


def test_names() -> None:
    names = plugin_names("demo")
    assert (names.distribution, names.package, names.variant, names.title) == (
        "zoo-demo", "zoo_demo", "demo", "Demo")
    assert plugin_names("zoo-demo") == names
    names = plugin_names("my-vae2", variant="my-vae.v2")
    assert (names.name, names.distribution, names.package, names.variant, names.title) == (
        "my-vae2", "zoo-my-vae2", "zoo_my_vae2", "my-vae.v2", "MyVae2")


@pytest.mark.parametrize("name", ["", "Demo", "1demo", "de_mo", "demo-", "-demo", "de--mo",
                                  "zoo-", "dé", "de mo", "a/b", "x" * 61])
def test_bad_names_are_refused(name: str, tmp_path: Path) -> None:
    with pytest.raises(ScaffoldError, match="invalid"):
        new_plugin(name, tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("variant", ["", "My-VAE", "-x", "a b"])
def test_bad_variant_names_are_refused(variant: str, tmp_path: Path) -> None:
    with pytest.raises(ScaffoldError, match="variant name"):
        new_plugin("demo", tmp_path, variant=variant)
    assert list(tmp_path.iterdir()) == []


def test_skeleton_passes_the_conformance_kit(tmp_path: Path, forget_package: list[str]) -> None:
    from zoo.testing import check_plugin

    root = new_plugin("demo", tmp_path)
    assert root == tmp_path / "zoo-demo" and _tree(root) == FILES
    assert [p.name for p in tmp_path.iterdir()] == ["zoo-demo"]  # no staging left behind
    pyproject = (root / "pyproject.toml").read_text()
    assert '[project.entry-points.zoo]\ndemo = "zoo_demo.plugin"' in pyproject
    assert '[project.entry-points."zoo.names"]\n"demo" = "zoo_demo.plugin"' in pyproject
    assert 'name = "zoo-demo"' in pyproject
    forget_package.append("zoo_demo")
    sys.path.insert(0, str(root / "src"))
    try:
        plugin = importlib.import_module("zoo_demo.plugin")
    finally:
        sys.path.remove(str(root / "src"))
    assert check_plugin(plugin, tmp_path / "kit", name="demo") == ["demo"]


def test_skeleton_variant_option_and_a_light_entry_point(tmp_path: Path) -> None:
    root = new_plugin("zoo-fancy-vae", tmp_path, variant="fancy")
    src = root / "src"
    assert (src / "zoo_fancy_vae" / "model.py").read_text().count("class FancyVaeVAE(") == 1
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import zoo_fancy_vae.plugin as p; "
            "from zoo.plugins import PluginManager; m = PluginManager(strict=True); "
            "m.register(p, name='fancy-vae'); "
            "print(sorted(m.registry.variants), 'jax' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(src)], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["['fancy']", "False"]


def test_generated_code_passes_ruff(tmp_path: Path) -> None:
    ruff = Path(sys.executable).with_name("ruff")
    if not ruff.exists():
        pytest.skip("ruff is not installed next to this Python")
    root = new_plugin("demo", tmp_path)
    out = subprocess.run([str(ruff), "check", "--isolated", "--select", "E,F,W,B,UP,SIM,RUF",
                          "--line-length", "100", "--target-version", "py311", str(root)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_refuses_an_existing_directory(tmp_path: Path) -> None:
    (tmp_path / "zoo-demo").mkdir()
    (tmp_path / "zoo-demo" / "mine.txt").write_text("keep me")
    with pytest.raises(ScaffoldError, match="already exists"):
        new_plugin("demo", tmp_path)
    assert _tree(tmp_path) == ["zoo-demo/mine.txt"]
    (tmp_path / "zoo-other").symlink_to(tmp_path / "nowhere")  # even a dangling link
    with pytest.raises(ScaffoldError, match="already exists"):
        new_plugin("other", tmp_path)


def test_a_failure_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "rename", refuse)
    with pytest.raises(ScaffoldError, match="disk full"):
        new_plugin("demo", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_creates_a_missing_parent_and_refuses_a_file(tmp_path: Path) -> None:
    """The README runs `zoo new-plugin demo --dir plugins-wip` in a fresh clone."""
    assert new_plugin("demo", tmp_path / "new" / "dir") == tmp_path / "new" / "dir" / "zoo-demo"
    (tmp_path / "file").write_text("x")
    with pytest.raises(ScaffoldError, match="is a file, not a directory"):
        new_plugin("demo", tmp_path / "file")
    assert (tmp_path / "file").read_text() == "x"


def test_cli(manager: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new-plugin", "demo", "--dir", str(tmp_path), "--variant", "demo-vae"]) == 0
    out = capsys.readouterr().out
    assert "zoo-demo" in out and "zoo_demo" in out and "'demo-vae'" in out
    assert _tree(tmp_path / "zoo-demo") == FILES
    assert 'name="demo-vae"' in (tmp_path / "zoo-demo/src/zoo_demo/plugin.py").read_text()
    assert main(["new-plugin", "demo", "--dir", str(tmp_path)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["new-plugin", "Demo!", "--dir", str(tmp_path)]) == 2
    assert "invalid" in capsys.readouterr().err



def test_cli_refuses_names_already_in_use(toy_manager: Any, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new-plugin", "toy", "--dir", str(tmp_path)]) == 2
    assert "name 'toy' is registered by plugin 'toy-plugin'" in capsys.readouterr().err
    assert main(["new-plugin", "other", "--variant", "toy", "--dir", str(tmp_path)]) == 2
    assert main(["new-plugin", "zoo-pytest", "--dir", str(tmp_path)]) == 0  # nothing clashes
    assert list(tmp_path.iterdir()) == [tmp_path / "zoo-pytest"]

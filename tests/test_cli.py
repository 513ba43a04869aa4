from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from zoo.cli import main


def test_list_info_plugins(toy_manager, capsys) -> None:
    assert main(["list"]) == 0
    assert "toy" in capsys.readouterr().out
    assert main(["list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows == [{"name": "toy", "kind": "variant", "plugin": "toy-plugin",
                     "description": ""}]
    assert main(["info", "toy", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["default_config"] == {"features": 4, "scale": 1.0}
    assert main(["plugins", "--json"]) == 0
    plugins = json.loads(capsys.readouterr().out)
    assert plugins[0]["name"] == "toy-plugin" and plugins[0]["variants"] == ["toy"]


def test_info_shows_the_declared_capabilities(first_party, capsys) -> None:
    for name, spec in first_party.registry.variants.items():
        assert main(["info", name, "--json"]) == 0
        info = json.loads(capsys.readouterr().out)
        assert (info["latent"], info["conditional"], info["architectures"], info["can_sample"]) \
            == (spec.latent, spec.conditional, list(spec.architectures), spec.has_prior), name
    assert main(["info", "cvae"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert {"latent: gaussian", "conditional: True", "architectures: mlp, cnn"} \
        <= {" ".join(line.split()) for line in out}


def _starts(lines: list[str], column: int) -> set[int]:
    """Where the ``column``-th cell (cells 2+ spaces apart) of each line starts."""
    return {[m.start() for m in re.finditer(r"\S+(?: \S+)*", line)][column] for line in lines}


def test_list_info_plugins_datasets_print_aligned_tables(first_party, capsys) -> None:
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) > 3 and all(len(_starts(lines, i)) == 1 for i in (1, 2, 3))
    assert main(["list", "--presets"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert all(len(_starts(lines, i)) == 1 for i in (1, 2, 3))
    assert main(["info", "beta-vae"]) == 0
    lines = capsys.readouterr().out.splitlines()
    top = [line for line in lines if not line.startswith(" ") and not line.endswith(":")]
    assert len(top) > 5 and len(_starts(top, 1)) == 1
    nested = [line for line in lines if line.startswith("  ")]
    assert len(nested) > 5 and len({line.index("=") for line in nested}) == 1
    assert main(["plugins"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [line for line in lines if line.startswith("  ")]
    assert len(rows) >= 5 and len(_starts(rows, 1)) == 1
    assert main(["datasets"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) >= 3 and all(len(_starts(lines, i)) == 1 for i in (1, 2, 3))


def test_unknown_name_exits_2_with_message(toy_manager, capsys) -> None:
    assert main(["info", "tyo"]) == 2
    assert "Did you mean 'toy'" in capsys.readouterr().err


def test_bad_usage_exits_nonzero(toy_manager) -> None:
    with pytest.raises(SystemExit):
        main(["frobnicate"])


def test_console_script_shows_first_party_plugins_from_their_distributions() -> None:
    """The installed `zoo` command finds the first-party plugins through entry points."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZOO_")}
    env["ZOO_STRICT_PLUGINS"] = "1"
    out = subprocess.run([sys.executable, "-m", "zoo.cli", "plugins", "--json"], env=env,
                         capture_output=True, text=True, check=True).stdout
    by_name = {p["name"]: p for p in json.loads(out)}
    assert by_name["beta-vae"]["distribution"] == "zoo-beta-vae"
    assert by_name["beta-vae"]["variants"] == ["beta-vae", "beta-vae-capacity"]
    assert by_name["cvae"]["distribution"] == "zoo-cvae"
    assert by_name["vqvae"]["distribution"] == "zoo-vqvae"
    listing = subprocess.run([sys.executable, "-m", "zoo.cli", "list"], env=env,
                             capture_output=True, text=True, check=True).stdout
    for name in ("beta-vae", "beta-vae-capacity", "cvae", "vqvae"):
        assert name in listing

"""Presets (training recipes) come from plugins through ``zoo_register_presets``: a third-party
plugin's recipe trains with ``zoo train --preset``, conflicts are reported on both plugins, and a
preset's unknown keys are errors naming the preset, its plugin and the key."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

import zoo
from zoo.cli import main
from zoo.plugins import PluginManager, ZooPluginWarning, register_builtins
from zoo.presets import SMOKE, get_preset, list_presets, preset_configs

from .conftest import ToyPlugin

TINY_STRIPES = zoo.PresetSpec(
    name="tiny-stripes",
    variants=("beta-vae",),
    description="a few steps on stripes",
    model={"hidden_dims": (8,), "latent_dim": 2},
    train={"dataset": "stripes", "max_steps": 3, "batch_size": 32, "validation_size": 64,
           "eval_every": 3, "checkpoint_every": 3, "log_every": 1},
)


class RecipePlugin:
    """A third-party plugin that only ships training recipes."""

    def __init__(self, *presets: zoo.PresetSpec) -> None:
        self.presets = presets

    @zoo.hookimpl
    def zoo_register_presets(self, register: Any) -> None:
        for preset in self.presets:
            register(preset)


def _preset(name: str, **kwargs: Any) -> zoo.PresetSpec:
    return zoo.PresetSpec(name=name, **kwargs)


def test_third_party_preset_trains_with_zoo_train(world, tmp_path, capsys) -> None:
    world.register(RecipePlugin(TINY_STRIPES), name="recipes")
    out = tmp_path / "r"
    assert main(["train", "beta-vae", "--preset", "tiny-stripes", "--out", str(out),
                 "--no-progress"]) == 0
    assert "finished at step 3" in capsys.readouterr().out
    assert zoo.load(out / "best").config.latent_dim == 2
    # key=value settings win over the preset's
    assert main(["train", "beta-vae", "--preset", "tiny-stripes", "--out", str(tmp_path / "o"),
                 "--no-progress", "latent_dim=3", "max_steps=2"]) == 0
    assert "finished at step 2" in capsys.readouterr().out
    assert zoo.load(tmp_path / "o" / "best").config.latent_dim == 3
    # listed by `zoo plugins` and `zoo list --presets`
    assert main(["plugins", "--json"]) == 0
    plugins = {p["name"]: p for p in json.loads(capsys.readouterr().out)}
    assert plugins["recipes"]["presets"] == ["tiny-stripes"]
    assert plugins["zoo-presets"]["presets"] == ["smoke"]
    assert main(["list", "--presets", "tiny*", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["name"], row["plugin"], row["variants"]) == ("tiny-stripes", "recipes",
                                                             ["beta-vae"])
    assert main(["list", "--presets"]) == 0
    assert "smoke" in capsys.readouterr().out


def test_zoo_train_preset_errors(world, tmp_path, capsys) -> None:
    world.register(RecipePlugin(TINY_STRIPES), name="recipes")
    args = ["--out", str(tmp_path / "r"), "--no-progress"]
    assert main(["train", "beta-vae", "--preset", "tiny-stripe", *args]) == 2
    err = capsys.readouterr().err
    assert "unknown preset 'tiny-stripe'" in err and "Did you mean 'tiny-stripes'" in err
    assert "smoke" in err and "zoo list --presets" in err
    assert main(["train", "cvae", "--preset", "tiny-stripes", *args]) == 2
    err = capsys.readouterr().err
    assert "preset 'tiny-stripes' (plugin 'recipes') is for variant 'beta-vae', not 'cvae'" in err
    assert "Presets for 'cvae': cvae-mnist, smoke" in err
    assert not (tmp_path / "r").exists()


def test_preset_name_conflict_is_reported_on_both_plugins() -> None:
    m = PluginManager(strict=False)
    m.register(RecipePlugin(_preset("shared"), _preset("only-a")), name="plugin-a")
    with pytest.warns(ZooPluginWarning, match="plugin-a"):
        m.register(RecipePlugin(_preset("shared"), _preset("only-b")), name="plugin-b")
    with pytest.raises(zoo.NameConflictError, match=r"preset name 'shared'.*'plugin-a' and "
                                                   r"'plugin-b'"):
        m.registry.get_preset("shared")
    assert sorted(m.registry.presets) == ["only-a", "only-b"]  # the rest keeps working
    for name in ("plugin-a", "plugin-b"):
        info = m.plugins[name]
        assert "shared" not in info.presets
        assert any("'shared'" in e and "plugin-a" in e and "plugin-b" in e for e in info.errors)
    strict = PluginManager(strict=True)
    strict.register(RecipePlugin(_preset("shared")), name="plugin-a")
    with pytest.raises(zoo.NameConflictError, match="plugin-a"):
        strict.register(RecipePlugin(_preset("shared")), name="plugin-b")


def test_presets_have_their_own_namespace(manager) -> None:
    """A preset may share its name with a variant or pretrained model (``vqvae-mnist`` is both
    a recipe and the model it makes), but not with another preset of the same plugin."""
    manager.register(ToyPlugin("toy"), name="toy-plugin")
    manager.register(RecipePlugin(_preset("toy", variants=("toy",))), name="recipes")
    assert zoo.get_variant("toy").plugin == "toy-plugin"
    assert get_preset("toy", "toy").plugin == "recipes"
    with pytest.raises(zoo.PluginError, match="registered twice by this plugin"):
        manager.register(RecipePlugin(_preset("twice"), _preset("twice")), name="twice")


@pytest.mark.parametrize(("table", "key", "kind"), [
    ("train", "epochz", "training"), ("model", "featurez", "model (toy)")])
def test_unknown_key_in_a_preset_is_an_error(manager, tmp_path, capsys, table, key,
                                             kind) -> None:
    manager.register(ToyPlugin("toy"), name="toy-plugin")
    manager.register(RecipePlugin(_preset("typo", **{table: {key: 3}})), name="typo-plugin")
    pattern = (rf"preset 'typo' \(plugin 'typo-plugin'\) sets unknown {kind.split()[0]}.* "
               rf"setting '{key}'\. Did you mean")
    with pytest.raises(zoo.ConfigError, match=pattern):
        get_preset("typo", "toy")
    assert main(["train", "toy", "--preset", "typo", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "'typo-plugin'" in err and repr(key) in err and "zoo_register_presets" in err


def test_bad_value_in_a_preset_names_the_preset(manager) -> None:
    manager.register(ToyPlugin("toy"), name="toy-plugin")
    manager.register(RecipePlugin(_preset("zero", train={"batch_size": 0})), name="zero-plugin")
    with pytest.raises(zoo.ConfigError, match=r"preset 'zero' \(plugin 'zero-plugin'\).*"
                                              r"batch_size must be >= 1"):
        preset_configs("zero", "toy")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"name": "Bad Name"}, "preset name 'Bad Name' is invalid"),
    ({"variants": ["toy"]}, "variants must be a tuple"),
    ({"train": {"not an identifier": 1}}, "train must be a mapping"),
    ({"release": {"summary": "s"}}, "release needs 'description'"),
    ({"release": {"summary": "s", "description": "d", "limitations": "l", "eval": {},
                  "figures": {}}}, "must name the 'dataset'"),
    ({"release": {"summary": "s", "description": "d", "limitations": "l",
                  "eval": {"dataset": "mnist"}, "licence": "x"}}, "unknown release key"),
    ({"release": {"summary": "s", "description": "d", "limitations": "l",
                  "eval": {"dataset": "mnist"}}}, "exactly one variant"),
])
def test_malformed_preset_specs_are_refused(kwargs, message) -> None:
    m = PluginManager(strict=True)
    with pytest.raises(zoo.PluginError, match=message):
        m.register(RecipePlugin(_preset(**{"name": "p", **kwargs})), name="bad")
    assert "p" not in m.registry.presets


def test_builtin_presets_and_listing(first_party) -> None:
    """The core registers only ``smoke``; each first-party recipe comes from its plugin."""
    registry = first_party.registry
    assert first_party.plugins["zoo-presets"].presets == ["smoke"]
    assert registry.presets["smoke"] == dataclasses.replace(SMOKE, plugin="zoo-presets")
    assert registry.presets["classifier-mnist"].plugin == "zoo-classifier"
    assert registry.presets["vqvae-mnist"].plugin == "vqvae"
    assert [p.name for p in list_presets("cvae")] == ["cvae-mnist", "smoke"]
    for preset in list_presets():
        for variant in preset.variants or list(registry.variants):
            train_config, model_config = preset_configs(preset.name, variant)
            train_config.validate()
            model_config.validate()
    with pytest.warns(DeprecationWarning, match="presets come from plugins"):
        from zoo.presets import PRESETS
    assert PRESETS["smoke"]["train"] == dict(SMOKE.train)


def test_core_registers_only_its_own_presets() -> None:
    """Without any plugin: the generic ``smoke`` and its own classifier's recipe."""
    m = PluginManager(strict=True)
    register_builtins(m)
    assert sorted(m.registry.presets) == ["classifier-mnist", "smoke"]


def test_preset_functions_are_public(first_party) -> None:
    """``zoo.list_presets``, ``zoo.get_preset`` and ``zoo.preset_configs`` are the ones of
    :mod:`zoo.presets`, exported where users look first."""
    assert (zoo.list_presets, zoo.get_preset, zoo.preset_configs) == (
        list_presets, get_preset, preset_configs)
    assert {"list_presets", "get_preset", "preset_configs"} <= set(zoo.__all__)
    assert zoo.get_preset("cvae-mnist", "cvae").name == "cvae-mnist"

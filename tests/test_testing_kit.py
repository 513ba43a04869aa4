"""The conformance kit (zoo.testing) and its pytest fixtures: broken plugins are reported with
the plugin's name, the rule and the fix; pretrained entries are checked against their files and
cards."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import pytest
from flax import nnx

import zoo
from zoo.cards import render_card
from zoo.losses import reconstruction_nll
from zoo.testing import (
    ConformanceError,
    check_plugin,
    check_preset,
    check_pretrained,
    plugin_manager,
    tiny_config,
)
from zoo.vae import GaussianVAE


@dataclasses.dataclass(frozen=True)
class KitConfig(zoo.ImageModelConfig):
    latent_dim: int = 2
    scale: float = 1.0


KIT_TINY = KitConfig(height=8, width=8, hidden_dims=(8,))


class KitModel(GaussianVAE):
    """zoo's Gaussian VAE, pixel logits scaled by ``config.scale``."""

    def __call__(self, x: jax.Array, *, rngs: Any = None) -> dict[str, jax.Array]:
        out = super().__call__(x, rngs=rngs)
        logits = out["logits"] * self.config.scale
        return {**out, "logits": logits, "reconstruction": jax.nn.sigmoid(logits)}


def kit_loss(outputs: dict, x: jax.Array, *, config: KitConfig, step: Any) -> Any:
    rec = reconstruction_nll(outputs["logits"], x, "bernoulli").mean()
    return rec, {"loss": rec, "reconstruction_loss": rec}


def kit_factory(config: KitConfig, *, rngs: nnx.Rngs) -> KitModel:
    return KitModel(config, rngs=rngs)


class KitPlugin:
    """An inline plugin registering variant ``kit`` (with the given factory and loss, and spec
    fields ``spec``: a Gaussian latent, architectures mlp and cnn and a tiny config unless
    overridden) and the given pretrained entries."""

    def __init__(self, factory: Callable = kit_factory, loss: Callable = kit_loss,
                 pretrained: tuple[zoo.PretrainedSpec, ...] = (),
                 spec: dict[str, Any] | None = None) -> None:
        self.factory, self.loss, self.pretrained = factory, loss, pretrained
        self.spec = {"latent": "gaussian", "architectures": ("mlp", "cnn"),
                     "tiny_config": KIT_TINY, **(spec or {})}

    @zoo.hookimpl
    def zoo_register_variants(self, register: Any) -> None:
        register(zoo.VariantSpec(name="kit", config_class=KitConfig, default_config=KitConfig(),
                                 factory=self.factory, loss=self.loss, **self.spec))

    @zoo.hookimpl
    def zoo_register_pretrained(self, register: Any) -> None:
        for spec in self.pretrained:
            register(spec)


def test_a_conforming_variant_passes(tmp_path: Path) -> None:
    assert check_plugin(KitPlugin(), tmp_path, name="kit-plugin") == ["kit"]


def _nan_loss(outputs: dict, x: jax.Array, **kw: Any) -> Any:
    loss = jnp.log(-jnp.abs(outputs["logits"]).sum() - 1.0)  # log of a negative number
    return loss, {"loss": loss, "reconstruction_loss": loss}


def _per_example_loss(outputs: dict, x: jax.Array, **kw: Any) -> Any:
    loss = reconstruction_nll(outputs["logits"], x, "bernoulli")  # [B], not reduced
    return loss, {"loss": loss, "reconstruction_loss": loss}


def _python_if_on_step(outputs: dict, x: jax.Array, *, config: Any, step: Any) -> Any:
    loss, metrics = kit_loss(outputs, x, config=config, step=step)
    if step > 100:  # a Python branch on a traced value
        loss = loss * 2
    return loss, metrics


def _wrong_shape(config: KitConfig, *, rngs: nnx.Rngs) -> nnx.Module:
    class Half(KitModel):
        def __call__(self, x: jax.Array, *, rngs: Any = None) -> dict[str, jax.Array]:
            out = super().__call__(x)
            return {k: v[:, ::2] for k, v in out.items()}

    return Half(config, rngs=rngs)


class _Forgetful(KitModel):
    def __init__(self, config: KitConfig, *, rngs: nnx.Rngs) -> None:
        super().__init__(config, rngs=rngs)
        self.config = None


BROKEN = {
    "factory-not-a-module": (dict(factory=lambda config, *, rngs: {"w": jnp.zeros(3)}),
                             "factory", "not a flax.nnx.Module"),
    "factory-forgets-config": (dict(factory=lambda config, *, rngs: _Forgetful(config, rngs=rngs)),
                               "factory", "self.config = config"),
    "factory-raises": (dict(factory=lambda config, *, rngs: 1 / 0), "factory",
                       "ZeroDivisionError"),
    "outputs-wrong-shape": (dict(factory=_wrong_shape), "outputs", "decode to the input"),
    "loss-nan": (dict(loss=_nan_loss), "loss", "nan"),
    "loss-not-scalar": (dict(loss=_per_example_loss), "loss", "not a scalar"),
    "loss-not-a-pair": (dict(loss=lambda outputs, x, **kw: kit_loss(outputs, x, **kw)[0]),
                        "loss", "not a (loss, metrics) pair"),
    "loss-python-branch": (dict(loss=_python_if_on_step), "jit", "jnp.where"),
}


class _NoPosterior(KitModel):
    """Returns only pixels: no mean or logvar."""

    def __call__(self, x: jax.Array, *, rngs: Any = None) -> dict[str, jax.Array]:
        out = super().__call__(x, rngs=rngs)
        return {"logits": out["logits"], "reconstruction": out["reconstruction"]}


class _NoSample(KitModel):
    sample = None  # no prior to sample from


class _Codes(KitModel):
    """Also returns code indices [B, 2] (the sign of the first two posterior means)."""

    def __call__(self, x: jax.Array, *, rngs: Any = None) -> dict[str, jax.Array]:
        out = super().__call__(x, rngs=rngs)
        return {**out, "indices": (out["mean"][:, :2] > 0).astype(jnp.int32)}


class _CodesWithSize(_Codes):
    codebook_size = 2


class _CodesBoolSize(_Codes):
    codebook_size = True  # a bool is not a codebook size


def _factory(cls: type) -> Callable:
    return lambda config, *, rngs: cls(config, rngs=rngs)


BROKEN |= {
    "gaussian-without-mean": (dict(factory=_factory(_NoPosterior)), "capabilities", "'mean'"),
    "gaussian-without-sample": (dict(factory=_factory(_NoSample)), "capabilities",
                                "has no sample"),
    "discrete-without-indices": (dict(spec={"latent": "discrete"}), "capabilities",
                                 "returned no 'indices'"),
    "discrete-without-codebook-size": (dict(factory=_factory(_Codes), spec={"latent": "discrete"}),
                                       "capabilities", "codebook_size"),
    "discrete-bool-codebook-size": (dict(factory=_factory(_CodesBoolSize),
                                         spec={"latent": "discrete"}), "capabilities",
                                    "not a positive int"),
    "architecture-that-does-not-build": (dict(spec={"architectures": ("mlp", "transformer")}),
                                         "capabilities", "'transformer'"),
    "default-architecture-undeclared": (dict(spec={"architectures": ("cnn",)}), "capabilities",
                                        "default config has architecture 'mlp'"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_plugins_are_named_with_rule_and_fix(case: str, tmp_path: Path) -> None:
    kwargs, rule, detail = BROKEN[case]
    with pytest.raises(ConformanceError) as info:
        check_plugin(KitPlugin(**kwargs), tmp_path, name="broken-plugin")
    message = str(info.value)
    assert info.value.rule == rule, message
    assert message.startswith(f"variant 'kit' (plugin 'broken-plugin'): [{rule}] "), message
    assert "Fix: " in message and detail in message, message


def test_a_discrete_latent_with_indices_and_codebook_size_conforms(tmp_path: Path) -> None:
    plugin = KitPlugin(factory=_factory(_CodesWithSize), spec={"latent": "discrete"})
    assert check_plugin(plugin, tmp_path, name="kit-plugin") == ["kit"]


def test_tiny_config_is_the_declared_one_or_the_default() -> None:
    with plugin_manager(KitPlugin(), "kit-plugin"):
        assert tiny_config(zoo.get_variant("kit")) == KIT_TINY
    with plugin_manager(KitPlugin(spec={"tiny_config": None}), "kit-plugin"):
        assert tiny_config(zoo.get_variant("kit")) == KitConfig()


def test_create_names_the_plugin_of_a_factory_that_returns_no_module() -> None:
    plugin = KitPlugin(factory=lambda config, *, rngs: {"w": jnp.zeros(3)})
    with plugin_manager(plugin, "broken-plugin"), pytest.raises(zoo.PluginError) as info:
        zoo.create("kit")
    assert "plugin 'broken-plugin'" in str(info.value) and "nnx.Module" in str(info.value)


# -- pretrained entries --------------------------------------------------------------------------


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A package on sys.path shipping a saved ``kit`` model, its entry and its model card."""
    package = f"kitpkg_{uuid.uuid4().hex[:8]}"
    root = tmp_path / "site" / package
    directory = root / "pretrained" / "kit-demo"
    (root / "__init__.py").parent.mkdir(parents=True)
    (root / "__init__.py").write_text("")
    with plugin_manager(KitPlugin(), "kit-plugin"):
        zoo.save(zoo.create("kit", height=4, width=4), directory)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    files = {name: _sha(directory / name) for name in ("model.safetensors", "config.json")}
    spec = zoo.PretrainedSpec(
        name="kit-demo", variant="kit", config={"height": 4, "width": 4}, repo_id="org/kit-demo",
        revision="", files=files, license="apache-2.0", dataset="stripes",
        bundled=f"{package}:pretrained/kit-demo")
    cards = tmp_path / "cards"
    cards.mkdir()
    card = {"name": "kit-demo", "variant": "kit", "metrics": {"reconstruction_mse": 0.1},
            "dataset": "stripes", "files": files, "repo_id": "org/kit-demo"}
    (cards / "kit-demo.md").write_text(render_card(card), encoding="utf-8")
    yield {"spec": spec, "dir": directory, "cards": cards, "card": card}
    for name in [m for m in sys.modules if m.startswith(package)]:
        del sys.modules[name]


def _check(spec: zoo.PretrainedSpec, cards: Path | None = None) -> None:
    with plugin_manager(KitPlugin(), "kit-plugin"):
        check_pretrained(spec, cards)


def test_a_good_pretrained_entry_passes_through_the_plugin(bundle: dict, tmp_path: Path) -> None:
    names = check_plugin(KitPlugin(pretrained=(bundle["spec"],)), tmp_path / "kit",
                         cards_dir=bundle["cards"], name="kit-plugin")
    assert names == ["kit", "kit-demo"]


def _tamper_config(bundle: dict) -> zoo.PretrainedSpec:
    (bundle["dir"] / "config.json").write_text("{}")
    return bundle["spec"]


def _other_variant(bundle: dict) -> zoo.PretrainedSpec:
    path = bundle["dir"] / "config.json"
    meta = json.loads(path.read_text())
    path.write_text(json.dumps({**meta, "variant": "kat"}))
    spec = bundle["spec"]
    return dataclasses.replace(spec, files={**spec.files, "config.json": _sha(path)})


def _missing_file(bundle: dict) -> zoo.PretrainedSpec:
    (bundle["dir"] / "model.safetensors").unlink()
    return bundle["spec"]


def _card_lists_other_hash(bundle: dict) -> zoo.PretrainedSpec:
    card = {**bundle["card"], "files": {**bundle["card"]["files"], "model.safetensors": "0" * 64}}
    (bundle["cards"] / "kit-demo.md").write_text(render_card(card), encoding="utf-8")
    return bundle["spec"]


def _no_card(bundle: dict) -> zoo.PretrainedSpec:
    (bundle["cards"] / "kit-demo.md").unlink()
    return bundle["spec"]


BAD_ENTRIES = {
    "unknown-variant": (lambda b: dataclasses.replace(b["spec"], variant="kat"),
                        "pretrained-variant", "not registered"),
    "malformed-sha256": (lambda b: dataclasses.replace(
        b["spec"], files={**b["spec"].files, "config.json": "ABC"}), "pretrained-files", "ABC"),
    "missing-config-file": (lambda b: dataclasses.replace(
        b["spec"], files={"model.safetensors": b["spec"].files["model.safetensors"]}),
        "pretrained-files", "config.json"),
    "branch-revision": (lambda b: dataclasses.replace(b["spec"], revision="main"),
                        "pretrained-revision", "40-hex"),
    "bad-repo-id": (lambda b: dataclasses.replace(b["spec"], repo_id="no-slash"),
                    "pretrained-spec", "org/name"),
    "unknown-config-key": (lambda b: dataclasses.replace(b["spec"], config={"sclae": 2.0}),
                           "pretrained-config", "sclae"),
    "config-differs-from-bundle": (lambda b: dataclasses.replace(
        b["spec"], config={**b["spec"].config, "scale": 2.0}), "pretrained-config", "['scale']"),
    "bundle-other-variant": (_other_variant, "pretrained-config", "'kat'"),
    "bundle-tampered": (_tamper_config, "pretrained-bundle", "sha256"),
    "bundle-missing-file": (_missing_file, "pretrained-bundle", "model.safetensors"),
    "bundle-unknown-package": (lambda b: dataclasses.replace(b["spec"], bundled="nopkg_xyz:p/d"),
                               "pretrained-bundle", "nopkg_xyz"),
    "card-other-hash": (_card_lists_other_hash, "pretrained-card", "0000"),
    "card-missing": (_no_card, "pretrained-card", "no model card"),
}


@pytest.mark.parametrize("case", sorted(BAD_ENTRIES))
def test_bad_pretrained_entries_are_reported(case: str, bundle: dict) -> None:
    make, rule, detail = BAD_ENTRIES[case]
    spec = make(bundle)
    with pytest.raises(ConformanceError) as info:
        _check(spec, bundle["cards"])
    message = str(info.value)
    assert info.value.rule == rule, message
    assert message.startswith(f"pretrained model 'kit-demo': [{rule}] "), message
    assert "Fix: " in message and detail in message, message


def test_a_card_is_only_checked_with_cards_dir(bundle: dict) -> None:
    _no_card(bundle)
    _check(bundle["spec"])  # no cards_dir: no card needed


# -- the pytest plugin ---------------------------------------------------------------------------


def test_the_fixtures_come_from_the_installed_pytest_plugin(request: pytest.FixtureRequest) -> None:
    from importlib.metadata import entry_points

    import zoo.pytest_plugin

    assert [ep.value for ep in entry_points(group="pytest11", name="zoo")] == ["zoo.pytest_plugin"]
    assert request.config.pluginmanager.get_plugin("zoo") is zoo.pytest_plugin


def test_loading_the_pytest_plugin_imports_no_jax() -> None:
    code = ("import sys, zoo.pytest_plugin; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('jax', 'flax')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_zoo_check_variant_fixture(zoo_check_variant: Any) -> None:
    zoo_check_variant("kit", plugin=KitPlugin(), plugin_name="kit-plugin")
    with pytest.raises(ConformanceError, match=r"plugin 'kit-plugin'\): \[loss\]"):
        zoo_check_variant("kit", plugin=KitPlugin(loss=_nan_loss), plugin_name="kit-plugin")


def test_zoo_fresh_manager_fixture(zoo_fresh_manager: Any) -> None:
    assert zoo.list_variants() == []
    zoo_fresh_manager.register(KitPlugin(), name="kit-plugin")
    assert zoo.list_variants() == ["kit"]
    assert zoo.create("kit", height=4, width=4).config.height == 4


# -- presets ---------------------------------------------------------------------------------

class _PresetPlugin:
    """Registers one preset and, optionally, a pretrained entry of the same name."""

    def __init__(self, preset: zoo.PresetSpec, pretrained_config: dict | None = None) -> None:
        self.preset, self.pretrained_config = preset, pretrained_config

    @zoo.hookimpl
    def zoo_register_presets(self, register: Any) -> None:
        register(self.preset)

    @zoo.hookimpl
    def zoo_register_pretrained(self, register: Any) -> None:
        if self.pretrained_config is not None:
            register(zoo.PretrainedSpec(
                name=self.preset.name, variant="kit", config=self.pretrained_config,
                repo_id="org/kit-recipe", revision="", license="apache-2.0", dataset="mnist",
                files={"model.safetensors": "0" * 64, "config.json": "1" * 64}))


def _check_preset(preset: zoo.PresetSpec, pretrained_config: dict | None = None) -> None:
    with plugin_manager([KitPlugin(), _PresetPlugin(preset, pretrained_config)]) as manager:
        check_preset(manager.registry.presets[preset.name])


def test_a_preset_that_is_the_recipe_of_its_weights_passes() -> None:
    preset = zoo.PresetSpec(name="kit-recipe", variants=("kit",), model={"latent_dim": 3},
                            train={"dataset": "mnist", "epochs": 1})
    _check_preset(preset, {"latent_dim": 3})
    _check_preset(preset)  # no weights of that name: configs only


def test_a_preset_with_an_unknown_setting_fails_preset_config() -> None:
    preset = zoo.PresetSpec(name="kit-recipe", variants=("kit",), train={"epoch": 1})
    with pytest.raises(ConformanceError, match=r"\[preset-config\].*'epoch'.*Fix:") as info:
        _check_preset(preset)
    assert info.value.rule == "preset-config"


def test_a_preset_that_is_not_the_recipe_of_its_weights_fails_preset_recipe() -> None:
    preset = zoo.PresetSpec(name="kit-recipe", variants=("kit",), model={"latent_dim": 3},
                            train={"dataset": "mnist"})
    with pytest.raises(ConformanceError, match=r"\[preset-recipe\].*latent_dim.*Fix:"):
        _check_preset(preset, {"latent_dim": 4})
    other_data = dataclasses.replace(preset, train={"dataset": "fashion-mnist"})
    with pytest.raises(ConformanceError, match=r"\[preset-recipe\].*'fashion-mnist'"):
        _check_preset(other_data, {"latent_dim": 3})


"""Rules for one preset: it makes valid configs for each variant it names, and a preset that
shares its name with a pretrained model is exactly the recipe of those weights."""

from __future__ import annotations

from zoo.plugins import get_manager
from zoo.presets import preset_configs
from zoo.specs import PresetSpec
from zoo.testing._rules import _about, _fail, _rule

__all__ = ["check_preset"]

_IMAGE_FIELDS = ("height", "width", "channels")  # set from the dataset when training


def _who(preset: PresetSpec) -> str:
    return f"preset {preset.name!r}" + (f" (plugin {preset.plugin!r})" if preset.plugin else "")


def check_preset(preset: PresetSpec) -> None:
    """Raise :class:`~zoo.testing.ConformanceError` unless ``preset`` fits its variants (and the
    pretrained model of the same name, if any)."""
    registry = get_manager().registry
    with _about(_who(preset)):
        variants = preset.variants or tuple(sorted(registry.variants))
        fix = "make the preset's train and model settings fields of TrainConfig and the config"
        for variant in variants:
            with _rule("preset-config", f"building the configs for {variant!r}", fix):
                train_config, model_config = preset_configs(preset.name, variant)
                train_config.validate()
                model_config.validate()
            made = {k: getattr(model_config, k) for k in preset.model}
            if made != dict(preset.model):
                raise _fail("preset-config", f"the model settings became {made} for "
                            f"{variant!r}, not {dict(preset.model)}", fix)
        _check_recipe_of_weights(preset)


def _check_recipe_of_weights(preset: PresetSpec) -> None:
    """A pretrained model named like the preset was made by it: same variant, dataset and
    config (but the image shape, which training takes from the dataset)."""
    registry = get_manager().registry
    pretrained = registry.pretrained.get(preset.name)
    if pretrained is None:
        return
    fix = ("record the exact recipe of the published weights in the preset of the same name, "
           "or rename one of them")
    if preset.variants != (pretrained.variant,):
        raise _fail("preset-recipe", f"it is for {preset.variants}, but the pretrained model "
                    f"of that name is a {pretrained.variant!r}", fix)
    spec = registry.get_variant(pretrained.variant)
    train_config, model_config = preset_configs(preset.name, pretrained.variant)
    if train_config.dataset != pretrained.dataset:
        raise _fail("preset-recipe", f"it trains on {train_config.dataset!r}, the weights were "
                    f"trained on {pretrained.dataset!r}", fix)
    published = spec.default_config.replace(**dict(pretrained.config))
    fitted = model_config.replace(**{k: getattr(published, k) for k in _IMAGE_FIELDS
                                     if hasattr(published, k)})
    if fitted != published:
        diff = sorted(k for k, v in published.to_dict().items() if fitted.to_dict()[k] != v)
        raise _fail("preset-recipe", f"its model config differs from the weights' in {diff}",
                    fix)

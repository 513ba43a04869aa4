"""Every registered variant (core built-ins and first-party plugins) passes the conformance kit
(tests parametrized over the registry)."""

from __future__ import annotations

from zoo.testing import check_variant, tiny_config


def test_first_party_registry_has_the_four_variants(first_party) -> None:
    assert {"beta-vae", "beta-vae-capacity", "cvae", "vqvae"} <= set(first_party.registry.variants)


def test_variant_conformance(variant_case, first_party, tmp_path) -> None:
    name, architecture = variant_case
    spec = first_party.registry.get_variant(name)
    config = tiny_config(spec)
    if architecture is not None:
        config = config.replace(architecture=architecture)
    check_variant(spec, tmp_path, config=config)


def test_default_config_builds_abstractly(variant_name, first_party) -> None:
    """The default (full-size) config of every variant builds under nnx.eval_shape."""
    from flax import nnx

    from zoo import api

    spec = first_party.registry.get_variant(variant_name)
    model = nnx.eval_shape(lambda: api.build(spec, spec.default_config))
    assert model.config == spec.default_config

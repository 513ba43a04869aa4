"""Reliability: raw or broken images never run silently. uint8 pixels, unscaled floats, NaN and
empty batches are refused with the fix, by the core (zoo.inputs), on every path zoo calls a
model through (training, evaluation, the kit: zoo.building.call_variant) and on direct calls of
the first-party models (zoo.nn.check_images)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import zoo
from zoo.building import call_variant
from zoo.errors import InputError
from zoo.inputs import input_checks

RNG = np.random.default_rng(0)
GOOD = RNG.random((4, 28, 28, 1), dtype=np.float32)


@pytest.fixture(scope="module")
def models() -> dict:
    from zoo.plugins import use_manager

    from ..conftest import world_manager

    with use_manager(world_manager()):
        yield {name: zoo.create(name, seed=0) for name in ("beta-vae", "cvae", "vqvae")}


BAD = [
    ((GOOD * 255).astype(np.uint8), r"uint8 \(0\.\.255 pixels\).*/ 255.*float_images"),
    (GOOD * 255, r"span \[[\d.e-]+, 2\d\d\.?\d*\], outside \[0, 1\].*/ 255"),
    (GOOD * 2 - 1, r"outside \[0, 1\].*\(x \+ 1\) / 2"),
    (np.where(GOOD > 0.5, np.nan, GOOD).astype(np.float32), "NaN or infinite"),
    (GOOD[:0], "the batch is empty"),
    (GOOD.astype(np.int32), "int32 .*not floating point"),
]


@pytest.mark.parametrize("images, message", BAD)
@pytest.mark.parametrize("name", ["beta-vae", "cvae", "vqvae"])
def test_bad_images_are_refused_with_the_fix(models, name, images, message) -> None:
    model = models[name]
    labels = jnp.zeros(len(images), jnp.int32)
    spec_conditional = name == "cvae"
    with pytest.raises(InputError, match=message):  # how zoo calls a model
        call_variant(model, "__call__", images, conditional=spec_conditional, labels=labels)
    with pytest.raises(InputError, match=message):  # a user's direct call
        model(images, labels) if spec_conditional else model(images)


def test_value_checks_can_be_turned_off_the_dtype_check_cannot(models) -> None:
    model = models["beta-vae"]
    with input_checks(False):
        model(GOOD * 255)  # runs: the caller asked for speed
        with pytest.raises(InputError, match="uint8"):
            model((GOOD * 255).astype(np.uint8))
    model(GOOD)


def test_under_jit_the_dtype_is_checked_and_values_are_not_traced(models) -> None:
    from flax import nnx

    model = models["beta-vae"]
    step = nnx.jit(lambda m, x: m(x, rngs=jax.random.key(0))["logits"])
    assert step(model, jnp.asarray(GOOD)).shape == GOOD.shape
    with pytest.raises(InputError, match="uint8"):
        step(model, jnp.asarray((GOOD * 255).astype(np.uint8)))


def test_float_images_of_a_dataset_are_what_models_take(world) -> None:
    ds = zoo.load_dataset("stripes", "train", limit=8)
    x = ds.float_images()
    assert x.dtype == np.float32 and x.shape == (8, *ds.image_shape)
    assert x.min() >= 0.0 and x.max() <= 1.0
    np.testing.assert_array_equal(x * 255, ds.images.astype(np.float32))

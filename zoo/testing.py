"""Conformance checks any variant plugin can run in its own test suite.

    from zoo.testing import check_variant
    check_variant(spec, tmp_path)          # raises ConformanceError naming the broken rule

Each rule is a small function; :func:`check_variant` runs them all on a tiny config.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from zoo import api
from zoo.checkpoint import flat_state
from zoo.config import Config, ImageModelConfig
from zoo.registry import VariantSpec

__all__ = ["ConformanceError", "check_variant", "example_batch", "tiny_config"]


class ConformanceError(AssertionError):
    """A variant broke a rule of the plugin contract."""


def _fail(rule: str, what: str, fix: str) -> ConformanceError:
    return ConformanceError(f"[{rule}] {what}. Fix: {fix}")


def tiny_config(spec: VariantSpec) -> Config:
    """A small config for fast tests: 8x8 images, narrow layers, small latent."""
    cfg = spec.default_config
    fields = {f.name for f in dataclasses.fields(cfg)}
    changes: dict[str, Any] = {}
    if isinstance(cfg, ImageModelConfig):
        changes |= {"height": 8, "width": 8, "hidden_dims": (8,)}
    for name, value in (("latent_dim", 3), ("num_embeddings", 8), ("embedding_dim", 4),
                        ("label_embedding_dim", 4)):
        if name in fields and getattr(cfg, name):
            changes[name] = value
    return cfg.replace(**changes)


def example_batch(spec: VariantSpec, config: Config, batch: int = 4, seed: int = 0) -> dict:
    """Random images in [0, 1] (and labels for conditional variants) that fit ``config``."""
    rng = np.random.default_rng(seed)
    shape = config.image_shape if isinstance(config, ImageModelConfig) else (8, 8, 1)
    out = {"x": jnp.asarray(rng.random((batch, *shape), dtype=np.float32))}
    if spec.conditional:
        classes = getattr(config, "num_classes", 2)
        out["labels"] = jnp.asarray(rng.integers(0, classes, size=batch), jnp.int32)
    return out


def _call(model: Any, spec: VariantSpec, batch: dict, **kwargs: Any) -> Any:
    if spec.conditional:
        return model(batch["x"], batch["labels"], **kwargs)
    return model(batch["x"], **kwargs)


def check_builds(spec: VariantSpec, config: Config) -> Any:
    model = api.build(spec, config)
    abstract = nnx.eval_shape(lambda: api.build(spec, config))
    leaves = jax.tree.leaves(nnx.state(abstract))
    if not all(isinstance(leaf, jax.ShapeDtypeStruct) for leaf in leaves):
        raise _fail("eval_shape", "building under nnx.eval_shape allocated arrays",
                    "create every array from the rngs/shape inside __init__, no eager numpy data")
    return model


def check_config_roundtrip(config: Config) -> None:
    again = type(config).from_json(config.to_json())
    if again != config:
        raise _fail("config-json", f"JSON round trip changed the config: {config} -> {again}",
                    "use only supported field types (int, float, bool, str, Literal, tuple)")


def check_forward(spec: VariantSpec, model: Any, config: Config, batch: dict) -> dict:
    outputs = _call(model, spec, batch, rngs=nnx.Rngs(1))
    if not isinstance(outputs, dict):
        raise _fail("outputs", f"__call__ returned {type(outputs).__name__}",
                    "return a dict of arrays")
    for key in ("logits", "reconstruction"):
        if key not in outputs:
            raise _fail("outputs", f"missing output {key!r}", "return logits and reconstruction")
        if outputs[key].shape != batch["x"].shape:
            raise _fail("outputs", f"{key} has shape {outputs[key].shape}, input "
                        f"{batch['x'].shape}", "decode to the input image shape")
    return outputs


def check_loss_and_grads(spec: VariantSpec, model: Any, config: Config, batch: dict) -> None:
    def loss_fn(m: Any) -> Any:
        out = _call(m, spec, batch, rngs=jax.random.key(2))
        return spec.loss(out, batch["x"], config=config, step=3)

    @nnx.jit
    def step(m: Any) -> Any:
        return nnx.value_and_grad(loss_fn, has_aux=True)(m)

    (loss, metrics), grads = step(model)
    if jnp.shape(loss) != ():
        raise _fail("loss", f"loss has shape {jnp.shape(loss)}", "reduce the loss to a scalar")
    for name in ("loss", "reconstruction_loss"):
        if name not in metrics:
            raise _fail("metrics", f"metric {name!r} missing", "return it in the metrics dict")
    if not bool(jnp.isfinite(loss)):
        raise _fail("loss", f"loss is {float(loss)}", "check the loss for log(0) or overflow")
    bad = [jax.tree_util.keystr(p) for p, g in jax.tree_util.tree_leaves_with_path(grads)
           if not bool(jnp.all(jnp.isfinite(g)))]
    if bad:
        raise _fail("grads", f"non-finite gradients at {bad}", "stabilise the loss")
    if not any(bool(jnp.any(g != 0)) for g in jax.tree.leaves(grads)):
        raise _fail("grads", "all gradients are zero", "make the loss depend on the parameters")


def check_save_load(spec: VariantSpec, model: Any, batch: dict, directory: Path) -> None:
    api.save(model, directory)
    loaded = api.load(directory)
    if loaded.config != model.config:
        raise _fail("save-load", "loaded config differs", "keep every field JSON-serialisable")
    before, after = flat_state(model), flat_state(loaded)
    for key, var in before.items():
        a, b = np.asarray(var.get_value()), np.asarray(after[key].get_value())
        if a.dtype != b.dtype or a.shape != b.shape or a.tobytes() != b.tobytes():
            raise _fail("save-load", f"{key} is not bit-exact after save/load",
                        "store state in nnx Variables only")
    model.eval()
    ref = _call(model, spec, batch)["reconstruction"]
    got = _call(loaded, spec, batch)["reconstruction"]
    model.train()
    if not np.array_equal(np.asarray(ref), np.asarray(got)):
        raise _fail("save-load", "the loaded model computes different outputs",
                    "keep all state that affects outputs in nnx Variables")


def check_variant(spec: VariantSpec, directory: str | Path, config: Config | None = None) -> None:
    """Run every rule on ``spec`` (with :func:`tiny_config` unless ``config`` is given).

    The variant must be registered in the active plugin manager (for the save/load rule).
    """
    config = tiny_config(spec) if config is None else config
    check_config_roundtrip(config)
    model = check_builds(spec, config)
    batch = example_batch(spec, config)
    check_forward(spec, model, config, batch)
    check_loss_and_grads(spec, model, config, batch)
    check_save_load(spec, model, batch, Path(directory))

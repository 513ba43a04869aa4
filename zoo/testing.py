"""Conformance checks any variant plugin can run in its own test suite.

    from zoo.testing import check_variant
    check_variant(spec, tmp_path)          # raises ConformanceError naming the broken rule

Each rule is a small function; :func:`check_variant` runs those of the variant's kind on a tiny
config: a VAE (``kind="vae"``) is checked for its outputs (``logits`` and ``reconstruction``),
loss metrics, gradients and a bit-exact save/load round trip; a classifier
(``kind="classifier"``) for its output shapes (``logits`` [B, num_classes], ``labels`` [B]), a
finite loss with useful gradients, a training step that changes its parameters and the same
save/load round trip.
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
    elif {"height", "width"} <= fields:
        changes |= {"height": 8, "width": 8}
    if {"conv_channels", "conv_strides"} <= fields:  # the classifier's convolutions
        changes |= {"conv_channels": (4, 8), "conv_strides": (2, 2)}
    if "feature_dim" in fields:
        changes["feature_dim"] = 16
    for name, value in (("latent_dim", 3), ("num_embeddings", 8), ("embedding_dim", 4),
                        ("label_embedding_dim", 4)):
        if name in fields and getattr(cfg, name):
            changes[name] = value
    return cfg.replace(**changes)


def example_batch(spec: VariantSpec, config: Config, batch: int = 4, seed: int = 0) -> dict:
    """Random images in [0, 1] (and labels for conditional variants) that fit ``config``."""
    rng = np.random.default_rng(seed)
    shape = tuple(getattr(config, "image_shape", (8, 8, 1)))
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


def check_classifier_forward(spec: VariantSpec, model: Any, config: Config, batch: dict) -> dict:
    outputs = _call(model, spec, batch, rngs=nnx.Rngs(1))
    if not isinstance(outputs, dict):
        raise _fail("outputs", f"__call__ returned {type(outputs).__name__}",
                    "return a dict with logits and labels")
    b = batch["x"].shape[0]
    num_classes = getattr(config, "num_classes", None)
    want = {"logits": (b, num_classes), "labels": (b,)}
    for key, shape in want.items():
        if key not in outputs:
            raise _fail("outputs", f"missing output {key!r}",
                        "return logits [B, num_classes] and the labels [B] the loss compares with")
        got = tuple(outputs[key].shape)
        if got != shape and not (key == "logits" and num_classes is None and len(got) == 2
                                 and got[0] == b):
            raise _fail("outputs", f"{key} has shape {got}, expected {shape}",
                        "return one row of class logits and one label per image")
    return outputs


def check_train_step(spec: VariantSpec, model: Any, config: Config, batch: dict) -> None:
    """One optimizer step on the variant's loss changes the trainable parameters."""
    import optax

    before = {k: np.asarray(v.get_value()).copy()
              for k, v in flat_state(model).items() if isinstance(v, nnx.Param)}
    opt = nnx.Optimizer(model, optax.sgd(0.1), wrt=nnx.Param)

    def loss_fn(m: Any) -> Any:
        out = _call(m, spec, batch, rngs=jax.random.key(4))
        return spec.loss(out, batch["x"], config=config, step=0)[0]

    @nnx.jit
    def step(m: Any, o: Any) -> Any:
        loss, grads = nnx.value_and_grad(loss_fn)(m)
        o.update(m, grads)
        return loss

    step(model, opt)
    after = flat_state(model)
    if all(np.array_equal(before[k], np.asarray(after[k].get_value())) for k in before):
        raise _fail("train-step", "one SGD step left every parameter unchanged",
                    "make the loss depend on the nnx.Param variables of the model")


def check_loss_and_grads(spec: VariantSpec, model: Any, config: Config, batch: dict,
                         required: tuple[str, ...] = ("loss", "reconstruction_loss")) -> None:
    def loss_fn(m: Any) -> Any:
        out = _call(m, spec, batch, rngs=jax.random.key(2))
        return spec.loss(out, batch["x"], config=config, step=3)

    @nnx.jit
    def step(m: Any) -> Any:
        return nnx.value_and_grad(loss_fn, has_aux=True)(m)

    (loss, metrics), grads = step(model)
    if jnp.shape(loss) != ():
        raise _fail("loss", f"loss has shape {jnp.shape(loss)}", "reduce the loss to a scalar")
    for name in required:
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


def check_save_load(spec: VariantSpec, model: Any, batch: dict, directory: Path,
                    output: str = "reconstruction") -> None:
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
    ref = _call(model, spec, batch)[output]
    got = _call(loaded, spec, batch)[output]
    model.train()
    if not np.array_equal(np.asarray(ref), np.asarray(got)):
        raise _fail("save-load", "the loaded model computes different outputs",
                    "keep all state that affects outputs in nnx Variables")


def check_variant(spec: VariantSpec, directory: str | Path, config: Config | None = None) -> None:
    """Run the rules of the variant's kind on ``spec`` (with :func:`tiny_config` unless
    ``config`` is given); see the module docstring.

    The variant must be registered in the active plugin manager (for the save/load rule).
    """
    config = tiny_config(spec) if config is None else config
    check_config_roundtrip(config)
    model = check_builds(spec, config)
    batch = example_batch(spec, config)
    if spec.kind == "classifier":
        check_classifier_forward(spec, model, config, batch)
        check_loss_and_grads(spec, model, config, batch, required=("loss",))
        check_train_step(spec, model, config, batch)
        check_save_load(spec, model, batch, Path(directory), output="logits")
        return
    check_forward(spec, model, config, batch)
    check_loss_and_grads(spec, model, config, batch)
    check_save_load(spec, model, batch, Path(directory))

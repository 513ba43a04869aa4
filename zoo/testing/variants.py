"""Rules for one variant: builds, config, outputs, declared capabilities, loss and gradients,
training step, save/load."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from zoo import api, building
from zoo.checkpoint import flat_state
from zoo.config import Config
from zoo.registry import VariantSpec
from zoo.testing._rules import _about, _fail, _rule, _who
from zoo.testing.capabilities import check_capabilities


def tiny_config(spec: VariantSpec) -> Config:
    """The variant's declared small config for fast tests (``spec.tiny_config``: 8x8 images,
    narrow layers), or its ``default_config`` when it declares none."""
    return spec.default_config if spec.tiny_config is None else spec.tiny_config


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
    return building.call_variant(model, "__call__", batch["x"], conditional=spec.conditional,
                            labels=batch.get("labels"), **kwargs)


_FACTORY_FIX = ("make factory(config, *, rngs) return the model instance, a flax.nnx.Module "
                "that stores the config as self.config")


def _check_module(spec: VariantSpec, model: Any, config: Config, rule: str) -> None:
    if not isinstance(model, nnx.Module):
        raise _fail(rule, f"the factory returned {type(model).__name__}, not a flax.nnx.Module",
                    _FACTORY_FIX)
    if getattr(model, "config", None) != config:
        raise _fail(rule, "the model does not keep the config it was built from as "
                    "`model.config`", "assign self.config = config in __init__")


def check_builds(spec: VariantSpec, config: Config) -> Any:
    """The factory builds a module keeping ``config``, and builds under nnx.eval_shape
    without allocating; returns the model (tagged as :func:`zoo.create` tags it)."""
    with _rule("factory", "factory(config, rngs=nnx.Rngs(0))", _FACTORY_FIX):
        model = spec.factory(config, rngs=nnx.Rngs(0))
    _check_module(spec, model, config, "factory")
    model = building.build(spec, config)
    with _rule("eval_shape", "nnx.eval_shape(factory)",
               "build only from the config and rngs; no Python side effects on arrays"):
        abstract = nnx.eval_shape(lambda: building.build(spec, config))
    leaves = jax.tree.leaves(nnx.state(abstract))
    if not all(isinstance(leaf, jax.ShapeDtypeStruct) for leaf in leaves):
        raise _fail("eval_shape", "building under nnx.eval_shape allocated arrays",
                    "create every array from the rngs/shape inside __init__, no eager numpy data")
    return model


def check_default_config(spec: VariantSpec) -> None:
    """The default config round-trips through JSON and builds (abstractly, no allocation)."""
    cfg = spec.default_config
    check_config_roundtrip(cfg)
    with _rule("default-config", "building the default config under nnx.eval_shape",
               "make the factory build from default_config alone"):
        model = nnx.eval_shape(lambda: spec.factory(cfg, rngs=nnx.Rngs(0)))
    _check_module(spec, model, cfg, "default-config")


def check_config_roundtrip(config: Config) -> None:
    with _rule("config-json", "the JSON round trip",
               "use only supported field types (int, float, bool, str, Literal, tuple)"):
        again = type(config).from_json(config.to_json())
    if again != config:
        raise _fail("config-json", f"JSON round trip changed the config: {config} -> {again}",
                    "use only supported field types (int, float, bool, str, Literal, tuple)")


def _forward(spec: VariantSpec, model: Any, batch: dict, what: str) -> dict:
    with _rule("outputs", "__call__", f"make __call__(x{', labels' if spec.conditional else ''}, "
               "*, rngs=None) accept images [B, H, W, C] in [0, 1]"):
        outputs = _call(model, spec, batch, rngs=nnx.Rngs(1))
    if not isinstance(outputs, Mapping):
        raise _fail("outputs", f"__call__ returned {type(outputs).__name__}", f"return {what}")
    return dict(outputs)


def _shape(outputs: Mapping, key: str) -> tuple[int, ...]:
    if not hasattr(outputs[key], "shape"):
        raise _fail("outputs", f"output {key!r} is a {type(outputs[key]).__name__}",
                    "return jax arrays")
    return tuple(outputs[key].shape)


def check_forward(spec: VariantSpec, model: Any, config: Config, batch: dict) -> dict:
    outputs = _forward(spec, model, batch, "a dict with logits and reconstruction [B, H, W, C]")
    for key in ("logits", "reconstruction"):
        if key not in outputs:
            raise _fail("outputs", f"missing output {key!r}", "return logits and reconstruction")
        if _shape(outputs, key) != batch["x"].shape:
            raise _fail("outputs", f"{key} has shape {outputs[key].shape}, input "
                        f"{batch['x'].shape}", "decode to the input image shape")
    return outputs


def check_classifier_forward(spec: VariantSpec, model: Any, config: Config, batch: dict) -> dict:
    outputs = _forward(spec, model, batch, "a dict with logits and labels")
    b = batch["x"].shape[0]
    num_classes = getattr(config, "num_classes", None)
    want = {"logits": (b, num_classes), "labels": (b,)}
    for key, shape in want.items():
        if key not in outputs:
            raise _fail("outputs", f"missing output {key!r}",
                        "return logits [B, num_classes] and the labels [B] the loss compares with")
        got = _shape(outputs, key)
        if got != shape and not (key == "logits" and num_classes is None and len(got) == 2
                                 and got[0] == b):
            raise _fail("outputs", f"{key} has shape {got}, expected {shape}",
                        "return one row of class logits and one label per image")
    return outputs


def check_loss_value(spec: VariantSpec, outputs: Mapping, x: Any, config: Config) -> None:
    """Called eagerly, the loss returns ``(scalar float loss, dict of metrics)``."""
    with _rule("loss", "loss(outputs, x, config=..., step=3)",
               "make loss(outputs, x, *, config, step) return (loss, metrics)"):
        result = spec.loss(outputs, x, config=config, step=jnp.asarray(3, jnp.int32))
    if not (isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], Mapping)):
        raise _fail("loss", f"the loss returned {type(result).__name__}, not a (loss, metrics) "
                    "pair", "return (scalar loss, dict of metrics), e.g. (loss, {'loss': loss})")
    loss = result[0]
    shape = jnp.shape(loss)
    if shape != ():
        raise _fail("loss", f"the loss has shape {shape}, not a scalar",
                    "reduce it to one number (e.g. the mean over the batch)")
    if not jnp.issubdtype(jnp.result_type(loss), jnp.floating):
        raise _fail("loss", f"the loss has dtype {jnp.result_type(loss)}",
                    "compute it in floating point")


def check_train_step(spec: VariantSpec, model: Any, config: Config, batch: dict) -> None:
    """One optimizer step on the variant's loss changes the trainable parameters."""
    import optax

    before = {k: np.asarray(v.get_value()).copy()
              for k, v in flat_state(model).items() if isinstance(v, nnx.Param)}
    opt = nnx.Optimizer(model, optax.sgd(0.1), wrt=nnx.Param)

    def loss_fn(m: Any, step: Any) -> Any:
        out = _call(m, spec, batch, rngs=jax.random.key(4))
        return spec.loss(out, batch["x"], config=config, step=step)[0]

    @nnx.jit
    def train_step(m: Any, o: Any, step: Any) -> Any:
        loss, grads = nnx.value_and_grad(loss_fn)(m, step)
        o.update(m, grads)
        return loss

    with _rule("train-step", "an SGD step under nnx.jit", "keep model and loss jit-traceable"):
        train_step(model, opt, jnp.asarray(0, jnp.int32))
    after = flat_state(model)
    if all(np.array_equal(before[k], np.asarray(after[k].get_value())) for k in before):
        raise _fail("train-step", "one SGD step left every parameter unchanged",
                    "make the loss depend on the nnx.Param variables of the model")


def check_loss_and_grads(spec: VariantSpec, model: Any, config: Config, batch: dict,
                         required: tuple[str, ...] = ("loss", "reconstruction_loss")) -> None:
    def loss_fn(m: Any, step: Any) -> Any:
        out = _call(m, spec, batch, rngs=jax.random.key(2))
        return spec.loss(out, batch["x"], config=config, step=step)

    @nnx.jit
    def grad_step(m: Any, step: Any) -> Any:  # step is traced, as in zoo's training loop
        return nnx.value_and_grad(loss_fn, has_aux=True)(m, step)

    with _rule("jit", "the loss and its gradient under jax.jit (with a traced step)",
               "keep model and loss traceable: no Python `if` on array values or on `step` "
               "(use jnp.where), no numpy conversions, no float() of arrays"):
        (loss, metrics), grads = grad_step(model, jnp.asarray(3, jnp.int32))
    if jnp.shape(loss) != ():
        raise _fail("loss", f"loss has shape {jnp.shape(loss)}", "reduce the loss to a scalar")
    for name in required:
        if name not in metrics:
            raise _fail("metrics", f"metric {name!r} missing", "return it in the metrics dict")
    if not bool(jnp.isfinite(loss)):
        raise _fail("loss", f"loss is {float(loss)} under jax.jit",
                    "check the loss for log(0), division by zero or overflow (compute "
                    "likelihoods from logits, e.g. zoo.losses.bernoulli_nll)")
    bad = [jax.tree_util.keystr(p) for p, g in jax.tree_util.tree_leaves_with_path(grads)
           if not bool(jnp.all(jnp.isfinite(g)))]
    if bad:
        raise _fail("grads", f"non-finite gradients at {bad}", "stabilise the loss")
    if not any(bool(jnp.any(g != 0)) for g in jax.tree.leaves(grads)):
        raise _fail("grads", "all gradients are zero", "make the loss depend on the parameters")


def check_save_load(spec: VariantSpec, model: Any, batch: dict, directory: Path,
                    output: str = "reconstruction") -> None:
    with _rule("save-load", "zoo.save then zoo.load", "store state in nnx Variables only and "
               "keep every config field JSON-serialisable"):
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
    with _about(_who(spec)):
        if config is None:
            with _rule("default-config", "shrinking the default config for the test",
                       "give every config field a valid default"):
                config = tiny_config(spec)
        check_config_roundtrip(config)
        model = check_builds(spec, config)
        check_default_config(spec)
        batch = example_batch(spec, config)
        if spec.kind == "classifier":
            outputs = check_classifier_forward(spec, model, config, batch)
            check_capabilities(spec, model, config, outputs, batch)
            check_loss_value(spec, outputs, batch["x"], config)
            check_loss_and_grads(spec, model, config, batch, required=("loss",))
            check_train_step(spec, model, config, batch)
            check_save_load(spec, model, batch, Path(directory), output="logits")
            return
        outputs = check_forward(spec, model, config, batch)
        check_capabilities(spec, model, config, outputs, batch)
        check_loss_value(spec, outputs, batch["x"], config)
        check_loss_and_grads(spec, model, config, batch)
        check_save_load(spec, model, batch, Path(directory))



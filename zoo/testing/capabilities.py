"""The ``capabilities`` rule: what a variant declares in its spec (``latent``, ``architectures``)
is what its model does, since every consumer (evaluation, pictures, the CLI) trusts the
declaration instead of probing the model."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from zoo import building
from zoo.config import Config
from zoo.registry import VariantSpec
from zoo.testing._rules import _fail, _rule

RULE = "capabilities"

#: Methods the core calls on a model of each latent kind (see :class:`zoo.specs.VariantSpec`).
LATENT_METHODS = {
    "gaussian": ("encode", "decode_logits", "decode", "reconstruct", "sample"),
    "discrete": ("encode", "reconstruct"),
    "none": (),
}


def _labels(spec: VariantSpec, batch: Mapping[str, Any]) -> Any:
    return batch.get("labels") if spec.conditional else None


def _check_methods(spec: VariantSpec, model: Any) -> None:
    missing = [m for m in LATENT_METHODS[spec.latent] if not callable(getattr(model, m, None))]
    if missing:
        raise _fail(RULE, f"the variant declares latent={spec.latent!r} but its model has no "
                    f"{', '.join(missing)}", f"give the model {', '.join(missing)} (a Gaussian "
                    "model can subclass zoo.vae.GaussianVAE), or declare the latent it has")


def _array(outputs: Mapping[str, Any], key: str, latent: str, fix: str) -> Any:
    if key not in outputs:
        raise _fail(RULE, f"the variant declares latent={latent!r} but __call__ returned no "
                    f"{key!r} (outputs: {sorted(outputs)})", fix)
    value = outputs[key]
    if not hasattr(value, "shape") or not hasattr(value, "dtype"):
        raise _fail(RULE, f"output {key!r} is a {type(value).__name__}", "return jax arrays")
    return value


def check_gaussian(spec: VariantSpec, model: Any, outputs: Mapping[str, Any],
                   batch: Mapping[str, Any]) -> None:
    """Outputs ``mean`` and ``logvar`` [B, D]; ``encode``, ``decode_logits``, ``decode``,
    ``reconstruct`` and ``sample``; ``sample(2, [labels], rngs=key)`` gives images [2, H, W, C]."""
    fix = ("return the posterior's mean and logvar [B, D] from __call__, or declare "
           "latent='discrete' for a codebook model")
    b = batch["x"].shape[0]
    mean = _array(outputs, "mean", "gaussian", fix)
    logvar = _array(outputs, "logvar", "gaussian", fix)
    if mean.ndim != 2 or mean.shape[0] != b or logvar.shape != mean.shape:
        raise _fail(RULE, f"mean {tuple(mean.shape)} and logvar {tuple(logvar.shape)} are not "
                    f"both [B, D] with B = {b}", "return one latent vector [D] per image")
    _check_methods(spec, model)
    labels = _labels(spec, batch)
    with _rule(RULE, "sample(2, rngs=jax.random.key(0))", "make sample(n, [labels], *, rngs) "
               "decode n draws from the prior into images [n, H, W, C]"):
        images = building.call_variant(model, "sample", 2, conditional=spec.conditional,
                                       labels=None if labels is None else labels[:2],
                                       rngs=jax.random.key(0))
    want = (2, *batch["x"].shape[1:])
    if tuple(getattr(images, "shape", ())) != want:
        raise _fail(RULE, f"sample(2) returned shape {getattr(images, 'shape', None)}, expected "
                    f"{want}", "decode n prior draws into images shaped like the input")


def check_discrete(spec: VariantSpec, model: Any, outputs: Mapping[str, Any],
                   batch: Mapping[str, Any]) -> None:
    """Outputs integer ``indices`` [B, ...] in ``[0, codebook_size)``; the model has an int
    ``codebook_size``, ``encode`` and ``reconstruct``."""
    fix = ("return the code indices [B, ...] (integers) as outputs['indices'], or declare "
           "latent='gaussian' for a model with a posterior mean and logvar")
    indices = _array(outputs, "indices", "discrete", fix)
    b = batch["x"].shape[0]
    if indices.ndim < 1 or indices.shape[0] != b or not jnp.issubdtype(indices.dtype,
                                                                         jnp.integer):
        raise _fail(RULE, f"indices have shape {tuple(indices.shape)} and dtype {indices.dtype}",
                    f"return integer code indices with the batch first [B={b}, ...]")
    size = getattr(model, "codebook_size", None)
    if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1:
        raise _fail(RULE, f"the variant declares latent='discrete' but model.codebook_size is "
                    f"{size!r}, not a positive int", "give the model a codebook_size property "
                    "returning the number of codes (an int read from the config)")
    flat = np.asarray(indices).reshape(-1)
    if flat.size and (flat.min() < 0 or flat.max() >= size):
        raise _fail(RULE, f"indices range from {flat.min()} to {flat.max()}, outside "
                    f"[0, codebook_size={size})", "index codes from 0 to codebook_size - 1")
    _check_methods(spec, model)


def check_architectures(spec: VariantSpec, config: Config, batch: Mapping[str, Any]) -> None:
    """The default config's ``architecture`` is declared, and every declared one builds from
    ``config.replace(architecture=a)`` and runs a forward pass."""
    if not spec.architectures:
        return
    default = getattr(spec.default_config, "architecture", None)
    if default not in spec.architectures:
        raise _fail(RULE, f"the variant declares architectures {spec.architectures} but its "
                    f"default config has architecture {default!r}",
                    "list every architecture the config can take in `architectures`, the "
                    "default one included")
    for arch in spec.architectures:
        fix = (f"make architecture={arch!r} build and run on the tiny config, or drop it from "
               "the spec's `architectures`")
        with _rule(RULE, f"building and calling architecture {arch!r}", fix):
            model = building.build(spec, config.replace(architecture=arch))
            outputs = building.call_variant(model, "__call__", batch["x"],
                                            conditional=spec.conditional,
                                            labels=_labels(spec, batch))
        if not isinstance(outputs, Mapping) or "logits" not in outputs:
            raise _fail(RULE, f"architecture {arch!r}: __call__ returned no 'logits'", fix)


def check_capabilities(spec: VariantSpec, model: Any, config: Config,
                       outputs: Mapping[str, Any], batch: Mapping[str, Any]) -> None:
    """The declared latent matches the model's outputs and methods (``outputs`` is what
    ``model`` returned for ``batch``), and every declared architecture builds and runs."""
    if spec.latent == "gaussian":
        check_gaussian(spec, model, outputs, batch)
    elif spec.latent == "discrete":
        check_discrete(spec, model, outputs, batch)
    check_architectures(spec, config, batch)

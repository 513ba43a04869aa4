"""Model-facing helpers: call a zoo model's public API and return numpy images for the
renderers of :mod:`zoo.viz`.

Every helper reads what the model can do from its variant's declared capabilities
(:func:`zoo.building.spec_of`: ``conditional``, ``latent``, ``has_prior``), so the model must come
from :func:`zoo.create` or :func:`zoo.load`. The methods called are those of the latent's
protocol (:class:`~zoo.specs.VariantSpec`): ``encode``, ``decode``, ``reconstruct``, ``sample``.
JAX is imported on first use.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from zoo.building import spec_of
from zoo.errors import InputError, ZooError
from zoo.specs import VariantSpec
from zoo.viz.figures import order_by_kl

__all__ = ["DEFAULT_VALUES", "posterior_kl_per_dim", "reconstruct_model", "sample_classes",
           "sample_model", "traverse_model"]

#: Default traversal values: 9 points evenly spaced in [-3, 3] (prior standard deviations).
DEFAULT_VALUES = np.linspace(-3.0, 3.0, 9)


def _name(model: Any) -> str:
    return type(model).__name__


def _vae_spec(model: Any, what: str) -> VariantSpec:
    """The variant spec of a VAE built by zoo; a clear error for anything else."""
    spec = spec_of(model)
    if spec is None:
        raise ZooError(
            f"{_name(model)} carries no zoo variant, so zoo.viz cannot tell what it can do (to "
            f"{what}): build it with zoo.create(name, ...) or load it with zoo.load(...), which "
            "attach the variant whose declared capabilities zoo.viz reads"
        )
    if spec.latent == "none":
        raise ZooError(
            f"{_name(model)} (variant {spec.name!r}) is a classifier, not a VAE: it has "
            f"no decoder, latent space or prior, so it cannot {what}. Measure it with "
            "`zoo eval MODEL --dataset DATA` (accuracy, cross-entropy) instead"
        )
    return spec


def is_conditional(model: Any) -> bool:
    """Whether the model's variant is conditional (``VariantSpec.conditional``: its ``encode``,
    ``decode``, ``reconstruct`` and ``sample`` take integer ``labels`` [B])."""
    return _vae_spec(model, "make VAE pictures (samples, reconstructions, traversals)").conditional


def _require_gaussian(model: Any, what: str) -> None:
    spec = _vae_spec(model, f"produce {what}")
    if spec.latent != "gaussian":
        raise ZooError(
            f"{what} need a Gaussian latent, and {_name(model)} (variant {spec.name!r}) declares "
            f"latent={spec.latent!r} (discrete codes have no posterior mean to move along): use "
            "a Gaussian-latent variant (`zoo info VARIANT` shows its latent), or look at this "
            "model's reconstructions and codebook usage instead"
        )


def _batch_labels(model: Any, labels: Any, n: int, who: str) -> Any:
    """Labels for a batch of ``n``: None for an unconditional model, else int32 [n] (a scalar
    label is repeated)."""
    if not is_conditional(model):
        if labels is not None:
            raise InputError(f"{who}: {_name(model)} is not conditional; drop labels=")
        return None
    if labels is None:
        raise InputError(
            f"{who}: {_name(model)} is conditional; pass labels= (one integer class for all "
            f"{n} images, or integer labels of shape [{n}])"
        )
    arr = np.asarray(labels)
    if arr.ndim == 0:
        arr = np.full((n,), arr)
    if not np.issubdtype(arr.dtype, np.integer):
        raise InputError(f"{who}: labels must be integer classes, got dtype {arr.dtype}")
    return arr.astype(np.int32)


def _images(x: Any, who: str) -> Any:
    import jax.numpy as jnp

    x = jnp.asarray(x)
    if x.ndim != 4:
        hint = " (add the batch axis: x[None])" if x.ndim == 3 else ""
        raise InputError(f"{who}: expected images [N, H, W, C], got shape {x.shape}{hint}")
    return x


def _encode(model: Any, x: Any, labels: Any, who: str) -> tuple[Any, Any]:
    out = model.encode(x) if labels is None else model.encode(x, labels)
    mean, logvar = out if isinstance(out, tuple) and len(out) == 2 else (None, None)
    if mean is None or mean.ndim != 2 or logvar.shape != mean.shape:
        raise ZooError(
            f"{who}: {_name(model)}.encode did not return a Gaussian posterior (mean, logvar) of "
            "shape [N, D]; traversals and KL need a Gaussian-latent variant"
        )
    return mean, logvar


def posterior_kl_per_dim(model: Any, x: Any, labels: Any = None) -> np.ndarray:
    """Mean over the batch of KL(q(z_d|x) || N(0, 1)) for each latent dimension d.

    Args:
        x: images [N, H, W, C] in [0, 1]; labels as the model needs them (conditional models).
    Returns:
        float [D] in nats; the informative dimensions have the largest values.
    """
    who = "posterior_kl_per_dim"
    _require_gaussian(model, "per-dimension KLs")
    x = _images(x, who)
    mean, logvar = _encode(model, x, _batch_labels(model, labels, x.shape[0], who), who)
    mean, logvar = np.asarray(mean, np.float64), np.asarray(logvar, np.float64)
    return (0.5 * (np.exp(logvar) + mean**2 - 1.0 - logvar)).mean(axis=0)


def traverse_model(
    model: Any,
    base: Any,
    *,
    values: Sequence[float] | np.ndarray = DEFAULT_VALUES,
    kl_per_dim: Sequence[float] | np.ndarray | None = None,
    labels: Any = None,
    dims: Sequence[int] | None = None,
    max_dims: int | None = None,
) -> tuple[np.ndarray, list[int]]:
    """Decode a latent traversal: each latent dimension in turn set to each of ``values``, the
    others held at the base code.

    Args:
        base: one image [1, H, W, C] (its posterior mean is the base code) or a code [D] / [1, D].
            Never modified.
        values: the V values each dimension takes (absolute, not offsets).
        kl_per_dim: [D] KL per latent dimension that orders the rows, largest first; a
            dataset average (e.g. :func:`posterior_kl_per_dim` of a batch) gives a stable
            order. Default: the base image's own posterior KL, or index order for a base code.
        labels: the class (one integer) of a conditional model, fed to encode and decode.
        dims: only these latent dimensions (default all); ``max_dims`` keeps the first ones.
    Returns:
        (images float32 [R, V, H, W, C] in [0, 1], the R dimensions in row order).
    """
    import jax.numpy as jnp

    from zoo.nn import traversal_codes

    who = "traverse_model"
    _require_gaussian(model, "latent traversals")
    label = None
    if is_conditional(model):
        if labels is None or np.size(labels) != 1:
            raise InputError(
                f"{who}: {_name(model)} is conditional; pass labels= one integer class to "
                f"traverse, got {labels!r}"
            )
        label = np.asarray(labels).reshape(1)
        if not np.issubdtype(label.dtype, np.integer):
            raise InputError(f"{who}: labels must be an integer class, got {labels!r}")
    elif labels is not None:
        raise InputError(f"{who}: {_name(model)} is not conditional; drop labels=")

    base = jnp.asarray(base)
    if base.ndim == 4:
        if base.shape[0] != 1:
            raise InputError(f"{who}: pass one base image [1, H, W, C], got {base.shape}")
        mean, logvar = _encode(model, base, label, who)
        code = mean[0]
        if kl_per_dim is None:
            kl_per_dim = np.asarray(0.5 * (jnp.exp(logvar) + mean**2 - 1.0 - logvar))[0]
    elif base.ndim == 1 or (base.ndim == 2 and base.shape[0] == 1):
        code = base.reshape(-1)
        expected = _latent_size(model, label)
        if expected is not None and code.shape[0] != expected:
            raise InputError(f"{who}: base code has {code.shape[0]} dimensions, "
                             f"{_name(model)} has {expected}")
    else:
        raise InputError(
            f"{who}: base must be one image [1, H, W, C] or one latent code [D], got {base.shape}"
        )
    d = code.shape[0]

    order = list(range(d)) if kl_per_dim is None else order_by_kl(kl_per_dim)
    if len(order) != d:
        raise InputError(f"{who}: kl_per_dim has {len(order)} entries for {d} latent dimensions")
    if dims is not None:
        wanted = [int(i) for i in dims]
        if any(not 0 <= i < d for i in wanted):
            raise InputError(f"{who}: dims must be in [0, {d}), got {wanted}")
        order = [i for i in order if i in set(wanted)]
    if max_dims is not None:
        order = order[: max(int(max_dims), 0)]
    if not order:
        raise InputError(f"{who}: no latent dimensions to traverse (check dims / max_dims)")
    vals = jnp.asarray(np.asarray(values, np.float32).reshape(-1))
    if vals.shape[0] == 0:
        raise InputError(f"{who}: values is empty; pass e.g. np.linspace(-3, 3, 9)")

    codes = traversal_codes(code, order, vals).reshape(-1, d)  # [R * V, D], base untouched
    if label is None:
        images = model.decode(codes)
    else:
        images = model.decode(codes, jnp.full((codes.shape[0],), int(label[0]), jnp.int32))
    images = np.asarray(images, np.float32)
    return images.reshape(len(order), vals.shape[0], *images.shape[1:]), order


def _latent_size(model: Any, label: Any) -> int | None:
    """D, a Gaussian model's latent size: the last axis of its posterior mean [1, D] for one
    image of ``config.image_shape``, found abstractly; ``None`` without an image shape."""
    import jax
    import jax.numpy as jnp

    shape = getattr(model.config, "image_shape", None)
    if shape is None:
        return None
    x = jax.ShapeDtypeStruct((1, *shape), jnp.float32)
    if label is None:
        mean = jax.eval_shape(lambda x: model.encode(x)[0], x)
    else:
        mean = jax.eval_shape(lambda x, y: model.encode(x, y)[0], x,
                              jax.ShapeDtypeStruct((1,), jnp.int32))
    return int(mean.shape[-1])


def reconstruct_model(model: Any, x: Any, labels: Any = None) -> np.ndarray:
    """Deterministic reconstructions of images ``x`` [N, H, W, C]: float32 [N, H, W, C] in
    [0, 1]. Conditional models need ``labels`` (one class, or integer labels [N])."""
    who = "reconstruct_model"
    _vae_spec(model, "reconstruct images")
    x = _images(x, who)
    labels = _batch_labels(model, labels, x.shape[0], who)
    out = model.reconstruct(x) if labels is None else model.reconstruct(x, labels)
    return np.asarray(out, np.float32)


def _require_sample(model: Any, who: str) -> None:
    spec = _vae_spec(model, "sample images")
    if not spec.has_prior:
        raise ZooError(
            f"{who}: {_name(model)} (variant {spec.name!r}, latent={spec.latent!r}) has no "
            "sample(): it has no learned prior to sample from (discrete codes need a separate "
            "prior over them); show its reconstructions instead (zoo.viz.reconstruct_model)"
        )


def sample_model(model: Any, n: int, *, seed: int, labels: Any = None) -> np.ndarray:
    """``n`` images decoded from prior samples: float32 [n, H, W, C] in [0, 1].

    Args:
        seed: integer seed of the prior noise (the same seed gives the same images).
        labels: required for a conditional model: one class for all, or integer labels [n].
    """
    import jax

    who = "sample_model"
    _require_sample(model, who)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InputError(f"{who}: n must be an integer >= 1, got {n!r}")
    labels = _batch_labels(model, labels, n, who)
    key = jax.random.key(seed)
    out = model.sample(n, rngs=key) if labels is None else model.sample(n, labels, rngs=key)
    return np.asarray(out, np.float32)


def sample_classes(
    model: Any, per_class: int, *, seed: int, classes: Sequence[int] | None = None
) -> np.ndarray:
    """``per_class`` samples of each class of a conditional model, for
    :func:`~zoo.viz.save_class_grid`: float32 [K, per_class, H, W, C].

    ``classes`` default to every class, ``range(model.config.num_classes)``.
    """
    who = "sample_classes"
    if not is_conditional(model):
        raise InputError(f"{who}: {_name(model)} is not conditional; use sample_model")
    if classes is None:
        num = getattr(getattr(model, "config", None), "num_classes", None)
        if num is None:
            raise InputError(f"{who}: pass classes=; {_name(model)}.config has no num_classes")
        classes = range(num)
    classes = [int(c) for c in classes]
    if isinstance(per_class, bool) or not isinstance(per_class, int) or per_class < 1:
        raise InputError(f"{who}: per_class must be an integer >= 1, got {per_class!r}")
    labels = np.repeat(np.asarray(classes, np.int32), per_class)
    images = sample_model(model, labels.shape[0], seed=seed, labels=labels)
    return images.reshape(len(classes), per_class, *images.shape[1:])

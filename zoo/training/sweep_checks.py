"""Which swept settings one program can serve, decided before training, cheaply (abstract
builds and one trace per setting, no compilation):

- a setting that changes the model (parameter shapes, or a value the model keeps as a static
  attribute: the graph definition) is refused, naming it;
- a setting whose use needs a concrete value (a Python ``if``, a shape, ``range``) raises a JAX
  concretization error while the loss is traced with that setting as an array: refused, naming
  it;
- a setting the model itself reads from ``model.config`` while running: the program's model
  holds a config whose swept fields refuse any use (:func:`guarded_config`), so this is refused
  too instead of silently using one member's value for all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from zoo import building
from zoo.config import Config
from zoo.errors import ConfigError
from zoo.specs import VariantSpec
from zoo.training.steps import with_values

__all__ = ["guarded_config", "refuse_control_flow", "refuse_model_changes", "setting_dtype"]

_ADVICE = "train separate runs (zoo train) for its values instead"


class _SweptField:
    """Stands for a swept setting in the config the program's model keeps: any use raises."""

    def __init__(self, field: str) -> None:
        self.field = field

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise ConfigError(f"cannot sweep {self.field!r}: the model reads it from its config "
                          f"while running (only the loss receives swept values); {_ADVICE}")

    def __repr__(self) -> str:
        return f"<swept {self.field}>"


for _name in ("__bool__", "__float__", "__int__", "__index__", "__array__", "__jax_array__",
              "__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__",
              "__truediv__", "__rtruediv__", "__floordiv__", "__rfloordiv__", "__mod__",
              "__pow__", "__rpow__", "__neg__", "__abs__", "__lt__", "__le__", "__gt__",
              "__ge__"):
    setattr(_SweptField, _name, _SweptField._refuse)


def guarded_config(config: Config, fields: Sequence[str]) -> Config:
    """``config`` with each swept field replaced by a value that refuses any use."""
    return with_values(config, {f: _SweptField(f) for f in fields})


def setting_dtype(value: Any) -> Any:
    """The array dtype a swept value travels as: bool, int32 or float32."""
    if isinstance(value, bool | np.bool_):
        return np.bool_
    return np.int32 if isinstance(value, int | np.integer) else np.float32


def _signature(spec: VariantSpec, config: Config) -> tuple[Any, Any]:
    """(graph definition without the configs the modules keep, parameter shapes) of the model
    ``config`` builds, built abstractly."""
    model = nnx.eval_shape(lambda: building.build(spec, config, seed=0))
    for _, node in nnx.iter_graph(model):
        if isinstance(node, nnx.Module):
            for key, value in list(vars(node).items()):
                if isinstance(value, Config):
                    setattr(node, key, None)
    graphdef, state = nnx.split(model)
    return graphdef, jax.tree.map(lambda a: (a.shape, str(a.dtype)), state)


def refuse_model_changes(spec: VariantSpec, base: Config,
                         axes: Mapping[str, Sequence[Any]]) -> None:
    """Raise :class:`ConfigError` naming the first model setting of ``axes`` whose values
    build models of different shapes or structure than ``base``'s."""
    reference = _signature(spec, base)
    for field, values in axes.items():
        for value in values:
            graphdef, shapes = _signature(spec, base.replace(**{field: value}))
            if shapes != reference[1]:
                what = "its parameter shapes"
            elif graphdef != reference[0]:
                what = "its structure (the model keeps the value as a static attribute)"
            else:
                continue
            raise ConfigError(f"cannot sweep {field!r}: {field}={value!r} changes the model "
                              f"({what}), and one program trains models of one shape; "
                              f"{_ADVICE}")


def refuse_control_flow(step_fn: Any, example: tuple[Any, ...], fields: Mapping[str, Any],
                        variant: str) -> None:
    """Trace ``step_fn(*example, settings)`` once per swept model field with that field as an
    array (the others as the example's Python values) and raise :class:`ConfigError` naming a
    field whose use needs a concrete value. ``fields`` maps each field to an example value."""
    concrete = (jax.errors.ConcretizationTypeError, jax.errors.TracerBoolConversionError,
                jax.errors.TracerIntegerConversionError, jax.errors.TracerArrayConversionError)
    for field, value in fields.items():
        settings = {"learning_rate": jnp.float32(1.0),
                    "model": {field: jax.ShapeDtypeStruct((), setting_dtype(value))}}
        try:
            jax.eval_shape(step_fn, *example, settings)
        except concrete:
            raise ConfigError(
                f"cannot sweep {field!r}: the {variant} loss needs its value in Python control "
                "flow (an `if`, a shape or a loop count), which one program for every member "
                f"cannot have; {_ADVICE}") from None

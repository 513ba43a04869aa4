"""zoo: a plugin-registry model zoo of variational autoencoders in JAX and Flax NNX.

Importing ``zoo`` is cheap: JAX and Flax are imported only when a model is built or loaded.
"""

from zoo.api import (
    create,
    download,
    get_variant,
    list_models,
    list_pretrained,
    list_variants,
    load,
    push,
    save,
    zoo_version,
)
from zoo.config import Config, ImageModelConfig
from zoo.data import DatasetError, get_dataset, list_datasets, load_dataset
from zoo.errors import (
    ConfigError,
    CorruptWeightsError,
    InputError,
    NameConflictError,
    PluginError,
    UnknownNameError,
    WeightsMismatchError,
    ZooError,
)
from zoo.hookspecs import PLUGIN_API_VERSION, hookimpl
from zoo.manifest import read_manifest
from zoo.presets import get_preset, list_presets, preset_configs
from zoo.registry import DatasetSpec, PresetSpec, PretrainedSpec, VariantSpec, lazy

__version__ = zoo_version()

__all__ = [
    "PLUGIN_API_VERSION",
    "Config",
    "ConfigError",
    "CorruptWeightsError",
    "DatasetError",
    "DatasetSpec",
    "ImageModelConfig",
    "InputError",
    "NameConflictError",
    "PluginError",
    "PresetSpec",
    "PretrainedSpec",
    "UnknownNameError",
    "VariantSpec",
    "WeightsMismatchError",
    "ZooError",
    "__version__",
    "create",
    "download",
    "get_dataset",
    "get_preset",
    "get_variant",
    "hookimpl",
    "lazy",
    "list_datasets",
    "list_models",
    "list_presets",
    "list_pretrained",
    "list_variants",
    "load",
    "load_dataset",
    "preset_configs",
    "push",
    "read_manifest",
    "save",
]

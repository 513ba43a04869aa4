"""What plugins register: the specs of variants, pretrained models, datasets and presets.

Each spec is a frozen dataclass that validates itself (``validate()``); the plugin manager
(:mod:`zoo.plugin_manager`) calls it before anything reaches the :class:`~zoo.registry.Registry`.
One module per spec: :mod:`~zoo.specs.variant`, :mod:`~zoo.specs.pretrained`,
:mod:`~zoo.specs.dataset`, :mod:`~zoo.specs.preset`; :mod:`~zoo.specs._common` holds
:func:`lazy` and the kinds.
"""

from zoo.specs._common import LATENT_KINDS, VARIANT_KINDS, lazy
from zoo.specs.dataset import DatasetSpec
from zoo.specs.preset import PUBLISHED_SCORES, RELEASE_KEYS, PresetSpec
from zoo.specs.pretrained import PretrainedSpec
from zoo.specs.variant import VariantSpec

__all__ = ["LATENT_KINDS", "PUBLISHED_SCORES", "RELEASE_KEYS", "VARIANT_KINDS", "DatasetSpec",
           "PresetSpec", "PretrainedSpec", "VariantSpec", "lazy"]

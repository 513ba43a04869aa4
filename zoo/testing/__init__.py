"""Conformance checks any variant plugin can run in its own test suite.

    from zoo.testing import check_plugin, check_pretrained, check_variant
    check_variant(spec, tmp_path)          # raises ConformanceError naming the broken rule
    check_plugin(my_package.plugin, tmp_path, cards_dir="model_cards")  # every variant + entry

With ``vae-zoo`` installed, pytest also offers these as fixtures (:mod:`zoo.pytest_plugin`):
``zoo_check_variant("my-vae", plugin=my_package.plugin)``, ``zoo_check_plugin(...)`` and
``zoo_fresh_manager``.

Each rule is a small function; :func:`check_variant` runs those of the variant's kind on its
tiny config (:func:`tiny_config`: the spec's ``tiny_config``, else its ``default_config``), after
checking that the factory builds a ``flax.nnx.Module`` keeping its ``config`` (from the tiny
config, and abstractly from the default one), that building under ``nnx.eval_shape`` allocates
nothing and that the config survives a JSON round trip. The ``capabilities`` rule
(:mod:`zoo.testing.capabilities`) checks what the spec declares against what the model does: a
``"gaussian"`` latent returns ``mean`` / ``logvar`` [B, D] and has ``encode``, ``decode_logits``,
``decode``, ``reconstruct`` and a working ``sample``; a ``"discrete"`` one returns integer
``indices`` and has an int ``codebook_size``; every name in ``architectures`` builds
(``config.replace(architecture=a)``) and runs a forward pass. A VAE (``kind="vae"``) is also
checked for its outputs (``logits`` and ``reconstruction`` shaped like the input), a loss that
returns ``(scalar, metrics)`` and is finite with finite gradients under ``jax.jit``, and a
bit-exact save/load round trip; a classifier (``kind="classifier"``) for its output shapes
(``logits`` [B, num_classes], ``labels`` [B]), a finite loss with useful gradients, a training
step that changes its parameters and the same save/load round trip.

:func:`check_pretrained` checks a pretrained entry: its variant is registered, its hashes and
revision are well-formed, its config overrides fit, its bundled files exist, match their sha256,
name the same variant and config and load strictly, and (with ``cards_dir``) its model card
parses with the Hub's parser and lists the same file hashes.

:func:`check_preset` checks a preset (``check_plugin`` runs it on each the plugin registers): it
makes valid train and model configs for every variant it names, and a preset named like a
pretrained model is exactly the recipe of those weights (variant, dataset, config).

Every failure is a :class:`ConformanceError` whose message starts with the variant (or entry)
and plugin, names the rule in brackets and ends with ``Fix: ...``.

:func:`check_names_available` is opt-in and looks at the installed environment: run it (or the
``zoo_check_names_available`` fixture) with your plugin installed to learn whether another
installed plugin (or the core) claims one of your names, and whether your
``[project.entry-points."zoo.names"]`` metadata lists every name you register.
"""

from zoo.testing._rules import ConformanceError
from zoo.testing.names import check_names_available
from zoo.testing.plugins import check_plugin, plugin_manager
from zoo.testing.presets import check_preset
from zoo.testing.pretrained import check_pretrained
from zoo.testing.variants import check_variant, example_batch, tiny_config

__all__ = ["ConformanceError", "check_names_available", "check_plugin", "check_preset",
           "check_pretrained",
           "check_variant", "example_batch", "plugin_manager", "tiny_config"]


"""The core's evaluation classifier as a registry model (plugin ``"zoo-classifier"``).

Registered through the ordinary hooks by :func:`zoo.plugins.register_builtins`, like the core's
datasets: the variant ``classifier`` (kind ``"classifier"``: :class:`MnistClassifier`, trained
with :func:`classifier_loss` by the generic loop, ``zoo train classifier --dataset mnist``) and
the pretrained ``classifier-mnist``, the copy shipped in ``zoo/metrics/weights/classifier-mnist``
that measures conditional accuracy and "FID (zoo MNIST classifier features)".

Kept light: the model and its loss are imported when the variant is first built or trained.
"""

from __future__ import annotations

from typing import Any

from zoo.hookspecs import hookimpl
from zoo.metrics.classifier_config import ClassifierConfig
from zoo.registry import PretrainedSpec, VariantSpec, lazy

CLASSIFIER_VARIANT = "classifier"
CLASSIFIER_MNIST = "classifier-mnist"
#: sha256 of the shipped files (``zoo.save`` format); ``classifier.json`` beside them is the
#: training record, not part of the model.
CLASSIFIER_MNIST_FILES = {
    "model.safetensors": "95e01cebaa19677bb4ec8a79c48a5e0f899a387c4cd8e47e9b6351f3806d39af",
    "config.json": "3e644b74c90b2a9860d69b68cfeeba17f514558388fb9427ca08ae68d5b614f7",
}


@hookimpl
def zoo_register_variants(register: Any) -> None:
    register(VariantSpec(
        name=CLASSIFIER_VARIANT,
        config_class=ClassifierConfig,
        default_config=ClassifierConfig(),
        factory=lazy("zoo.metrics.classifier:MnistClassifier"),
        loss=lazy("zoo.metrics.classifier:classifier_loss"),
        conditional=True,
        kind="classifier",
        latent="none",
        tiny_config=ClassifierConfig(height=8, width=8, conv_channels=(4, 8),
                                     conv_strides=(2, 2), feature_dim=16),
        description="Small CNN image classifier (softmax cross-entropy); the zoo's evaluation "
                    "classifier",
    ))


@hookimpl
def zoo_register_pretrained(register: Any) -> None:
    register(PretrainedSpec(
        name=CLASSIFIER_MNIST,
        variant=CLASSIFIER_VARIANT,
        config={},
        repo_id="vae-zoo/classifier-mnist",
        revision="",
        files=dict(CLASSIFIER_MNIST_FILES),
        license="apache-2.0",
        dataset="mnist",
        description="The zoo's MNIST evaluation classifier (test accuracy 0.9915): conditional "
                    "accuracy and FID on its features",
        bundled="zoo.metrics:weights/classifier-mnist",
    ))

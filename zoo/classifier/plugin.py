"""The hooks of the core's classifier plugin (``"zoo-classifier"``), registered by
:func:`zoo.plugins.register_builtins` like any plugin's entry-point module.

- variant ``classifier`` (kind ``"classifier"``, latent ``"none"``): :class:`MnistClassifier`
  trained with :func:`classifier_loss` by the one training loop;
- pretrained ``classifier-mnist``: the copy shipped in ``zoo/classifier/weights/classifier-mnist``
  that evaluation measures conditional accuracy and "FID (zoo MNIST classifier features)" with
  (found by its declared kind and dataset, :mod:`zoo.evaluate.conditional`);
- its training recipe, the preset ``classifier-mnist`` (:data:`CLASSIFIER_MNIST_TRAIN`).

Kept light (no JAX): the model and its loss are imported when the variant is first built or
trained.
"""

from __future__ import annotations

from typing import Any

from zoo.classifier.config import ClassifierConfig
from zoo.hookspecs import hookimpl
from zoo.specs import PresetSpec, PretrainedSpec, VariantSpec, lazy

__all__ = ["CLASSIFIER_MNIST", "CLASSIFIER_MNIST_FILES", "CLASSIFIER_MNIST_RELEASE",
           "CLASSIFIER_MNIST_TRAIN", "CLASSIFIER_VARIANT", "zoo_register_presets",
           "zoo_register_pretrained", "zoo_register_variants"]

CLASSIFIER_VARIANT = "classifier"
CLASSIFIER_MNIST = "classifier-mnist"
#: sha256 of the shipped files (``zoo.save`` format); ``classifier.json`` beside them is the
#: training record, not part of the model.
CLASSIFIER_MNIST_FILES = {
    "model.safetensors": "95e01cebaa19677bb4ec8a79c48a5e0f899a387c4cd8e47e9b6351f3806d39af",
    "config.json": "3e644b74c90b2a9860d69b68cfeeba17f514558388fb9427ca08ae68d5b614f7",
}
#: The recipe of ``classifier-mnist`` for the generic loop (``zoo train classifier --dataset
#: mnist --preset classifier-mnist``): Adam, cosine-decayed learning rate, 3 epochs, with the
#: model's own augmentation (random shifts) and dropout.
CLASSIFIER_MNIST_TRAIN: dict[str, Any] = {
    "optimizer": "adam", "learning_rate": 2e-3, "lr_schedule": "cosine", "epochs": 3,
    "batch_size": 128, "seed": 0, "dataset": "mnist", "validation_size": 0,
}
#: How ``scripts/pretrained.py`` publishes ``classifier-mnist``. The shipped weights predate the
#: preset: the old ``zoo train-classifier`` loop trained them (same recipe), so the card keeps
#: that command and only the card is (re)written from the bundled copy (``card_only``).
CLASSIFIER_MNIST_RELEASE: dict[str, Any] = {
    "summary": "the zoo's MNIST evaluation classifier",
    "pipeline_tag": "image-classification",
    "train_command": "zoo train-classifier --dataset mnist --epochs 3 --seed 0 --out DIR",
    "card_only": True,
    "eval": {"dataset": "mnist"},
    "figures": {},
    "description": "A small CNN (3x3 convolutions with 32, 64, 64 channels, strides 1, 2, 2; "
                   "a 128-d ReLU feature layer; a linear head) trained for 3 epochs with "
                   "2-pixel random shifts and dropout 0.25. zoo uses it to judge generated "
                   "digits: a CVAE's conditional accuracy, and FID on its 128-d features. "
                   "It ships inside the core (vae-zoo).",
    "limitations": "Judges 28x28 MNIST-like digits only. FID on its features is not "
                   "comparable with Inception FIDs. Trained by `zoo train-classifier` "
                   "(its own loop, before the `classifier` variant could be trained by "
                   "`zoo train`).",
}


@hookimpl
def zoo_register_variants(register: Any) -> None:
    register(VariantSpec(
        name=CLASSIFIER_VARIANT,
        config_class=ClassifierConfig,
        default_config=ClassifierConfig(),
        factory=lazy("zoo.classifier.model:MnistClassifier"),
        loss=lazy("zoo.classifier.loss:classifier_loss"),
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
        bundled="zoo.classifier:weights/classifier-mnist",
    ))


@hookimpl
def zoo_register_presets(register: Any) -> None:
    register(PresetSpec(
        name=CLASSIFIER_MNIST,
        variants=(CLASSIFIER_VARIANT,),
        train=dict(CLASSIFIER_MNIST_TRAIN),
        description="the recipe of classifier-mnist: Adam 2e-3 cosine, 3 epochs, batch 128",
        release=dict(CLASSIFIER_MNIST_RELEASE),
    ))

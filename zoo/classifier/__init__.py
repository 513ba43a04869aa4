"""The core's classifier, a built-in variant plugin (plugin ``"zoo-classifier"``).

Registered through the ordinary hooks by :func:`zoo.plugins.register_builtins`, like the core's
datasets, and written like any variant plugin:

| module | what |
|---|---|
| :mod:`zoo.classifier.plugin` | hooks: variant ``classifier``, pretrained ``classifier-mnist`` |
| :mod:`zoo.classifier.config` | :class:`~zoo.classifier.config.ClassifierConfig` (no JAX) |
| :mod:`zoo.classifier.model` | :class:`~zoo.classifier.model.MnistClassifier` |
| :mod:`zoo.classifier.loss` | :func:`~zoo.classifier.loss.classifier_loss` |

``weights/classifier-mnist/`` holds the bundled pretrained copy. The model is trained by the one
training loop (``zoo train classifier --dataset mnist --preset classifier-mnist --out RUN``) and
evaluation uses it through the registry; nothing in the core imports this package by name except
the list of built-ins in :mod:`zoo.plugins`.

Importing this package is cheap (no JAX): the model and loss are imported on first use.
"""

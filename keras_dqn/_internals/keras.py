"""Every use of Keras' private internals, and why.  ``tests/test_internals.py`` fails, saying
which, if an upgrade moves one of them."""

from __future__ import annotations

from collections.abc import Iterator

import keras


def all_layers(model: keras.Layer) -> Iterator[keras.Layer]:
    """``model`` and every layer inside it, nested ones too (a dueling head's streams), in a
    fixed order.

    Keras 3 has no public way: ``model.layers`` lists only the top level, and the layers a custom
    layer holds as attributes are tracked only by ``Layer._flatten_layers``.

    Raises:
        RuntimeError: this Keras has no ``Layer._flatten_layers`` (keras_dqn needs an update).
    """
    flatten = getattr(model, "_flatten_layers", None)
    if flatten is None:
        raise RuntimeError(
            f"Keras {keras.__version__} has no Layer._flatten_layers, which keras_dqn uses to find nested "
            "layers (noisy layers in a dueling head): keras_dqn needs an update for this Keras"
        )
    yield from flatten(include_self=True, recursive=True)

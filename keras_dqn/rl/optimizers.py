"""Keras' Adam under the argument keras-rl's examples gave it: Keras 2's ``lr``.

``dqn.compile(Adam(lr=1e-3))``, as the keras-rl walkthrough writes it, fails on Keras 3, whose
optimizers take ``learning_rate`` only.  With ``from keras_dqn.rl import Adam`` that line runs
unchanged.
"""

from __future__ import annotations

from typing import Any

import keras


@keras.saving.register_keras_serializable(package="keras_dqn.rl")
class Adam(keras.optimizers.Adam):
    """``keras.optimizers.Adam`` that also takes Keras 2's name for the learning rate.

    Args:
        learning_rate: as ``keras.optimizers.Adam``.
        lr: Keras 2's name for ``learning_rate`` (give one of the two).
        **kwargs: any other ``keras.optimizers.Adam`` argument.

    Raises:
        ValueError: both ``lr`` and a ``learning_rate`` other than the default are given.
    """

    def __init__(self, learning_rate: Any = 0.001, lr: float | None = None, **kwargs: Any):
        if lr is not None:
            if learning_rate != 0.001:
                raise ValueError(f"give the learning rate once: lr={lr!r} or learning_rate={learning_rate!r}")
            learning_rate = lr
        super().__init__(learning_rate=learning_rate, **kwargs)

"""Q-network builders, and a NumPy forward pass for small MLPs.

The blog builds its network in ``DQNAgent._build_model()``: a Keras ``Sequential`` of
Dense layers, compiled with an MSE loss and Adam. :func:`build_mlp` is that model, with
the hidden sizes and an initializer seed as arguments.

Why a NumPy forward pass?  On Keras 3 one ``model.predict`` call costs ~60 ms and even a
compiled ``tf.function`` call costs ~0.2 ms, while a 4-24-24-2 MLP is ~10 µs of NumPy
arithmetic.  Acting happens once per environment step, so :class:`NumpyMLP` computes the
Q-values of plain Dense models directly from a snapshot of their weights.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import keras
import numpy as np

_NUMPY_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0.0),
    "tanh": np.tanh,
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
}


def build_mlp(
    state_size: int,
    action_size: int,
    hidden: Sequence[int] = (24, 24),
    *,
    learning_rate: float = 0.001,
    loss: str = "mse",
    seed: int | None = None,
) -> keras.Sequential:
    """The blog's Q-network: ``state_size`` inputs, ReLU hidden layers, linear outputs.

    Args:
        state_size: length of the observation vector (4 for CartPole).
        action_size: number of discrete actions; one linear Q-value output per action.
        hidden: units of each hidden ReLU layer, in order (the blog uses ``(24, 24)``).
        learning_rate: Adam's learning rate.
        loss: Keras loss name used in ``compile`` (the blog's ``"mse"``).
        seed: seeds the weight initializers, so two models built with one seed are equal.

    Returns:
        A compiled ``keras.Sequential``.
    """
    seeds = np.random.SeedSequence(seed).generate_state(len(hidden) + 1) if seed is not None else None

    def init(i: int) -> keras.initializers.Initializer:
        return keras.initializers.GlorotUniform(seed=None if seeds is None else int(seeds[i]))

    model = keras.Sequential(name="q_network")
    model.add(keras.Input(shape=(state_size,), name="state"))
    for i, units in enumerate(hidden):
        model.add(keras.layers.Dense(units, activation="relu", kernel_initializer=init(i)))
    out_init = init(len(hidden))
    model.add(keras.layers.Dense(action_size, activation="linear", kernel_initializer=out_init, name="q_values"))
    model.compile(loss=loss, optimizer=keras.optimizers.Adam(learning_rate=learning_rate))
    return model


class NumpyMLP:
    """Forward pass of a Sequential stack of Dense (and Flatten) layers in NumPy.

    Build it with :meth:`from_model`, which returns ``None`` for any model it cannot
    reproduce exactly (other layer types, other activations); callers then fall back to a
    compiled Keras call.  ``weights`` is a list in ``model.weights`` order, so a snapshot
    taken with ``model.get_weights()`` can be swapped in without rebuilding.
    """

    def __init__(self, activations: list[Callable[[np.ndarray], np.ndarray]], input_shape: tuple[int, ...]):
        self.activations = activations
        self.input_shape = input_shape

    @classmethod
    def from_model(cls, model: keras.Model) -> NumpyMLP | None:
        """Return a NumPy twin of ``model``, or ``None`` if it has layers we do not mirror."""
        if not isinstance(model, keras.Sequential):
            return None
        activations = []
        for layer in model.layers:
            if isinstance(layer, keras.layers.Flatten):
                continue
            if not isinstance(layer, keras.layers.Dense) or not layer.use_bias:
                return None
            name = keras.activations.serialize(layer.activation)
            name = name if isinstance(name, str) else name.get("config", {}).get("name", name.get("class_name"))
            if name not in _NUMPY_ACTIVATIONS:
                return None
            activations.append(_NUMPY_ACTIVATIONS[name])
        return cls(activations, tuple(model.input_shape[1:]))

    def __call__(self, states: np.ndarray, weights: list[np.ndarray]) -> np.ndarray:
        """Q-values of a batch of ``states`` (shape ``(batch,) + input_shape``)."""
        h = states.reshape(len(states), -1)
        for i, activation in enumerate(self.activations):
            h = activation(h @ weights[2 * i] + weights[2 * i + 1])
        return h

""":class:`NumpyMLP`: a NumPy forward pass of a small Keras MLP, for acting.

Why a NumPy forward pass?  On Keras 3 one ``model.predict`` call costs ~60 ms and even a
compiled ``tf.function`` call costs ~0.2 ms, while a 4-24-24-2 MLP is ~10 µs of NumPy
arithmetic.  Acting happens once per environment step, so :class:`NumpyMLP` computes the
Q-values (or atom probabilities) of Dense and noisy MLPs directly from a snapshot of their weights.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import keras
import numpy as np

from keras_dqn.networks.heads import DistributionalHead, DuelingHead, activation_name
from keras_dqn.networks.noisy import NoisyDense

_NUMPY_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0.0),
    "tanh": np.tanh,
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
}
def _np_signed_sqrt(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.sqrt(np.abs(x))


def _np_softmax(logits: np.ndarray) -> np.ndarray:
    z = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


# A twin layer: (forward(h, weights, rng) -> h, number of weight arrays it takes).
_TwinLayer = tuple[Callable[[np.ndarray, Sequence[np.ndarray], "np.random.Generator | None"], np.ndarray], int]


def _twin_linear(layer: keras.layers.Layer) -> _TwinLayer | None:
    """A Dense (with bias) or NoisyDense layer with a NumPy activation, else ``None``."""
    if not isinstance(layer, (keras.layers.Dense, NoisyDense)) or layer.compute_dtype != "float32":
        return None
    activation = _NUMPY_ACTIVATIONS.get(activation_name(layer.activation))
    if activation is None:
        return None
    if isinstance(layer, NoisyDense):

        def noisy(h, w, rng):
            kernel_mu, bias_mu, kernel_sigma, bias_sigma = w
            out = h @ kernel_mu + bias_mu
            if rng is not None:  # one factorized draw, as the layer makes with training=True
                f_in = _np_signed_sqrt(rng.standard_normal(kernel_mu.shape[0], dtype=np.float32))
                f_out = _np_signed_sqrt(rng.standard_normal(kernel_mu.shape[1], dtype=np.float32))
                out = out + ((h * f_in) @ kernel_sigma + bias_sigma) * f_out
            return activation(out)

        return noisy, 4
    if not layer.use_bias:
        return None
    if _is_linear(layer):
        return (lambda h, w, rng: h @ w[0] + w[1]), 2
    return (lambda h, w, rng: activation(h @ w[0] + w[1])), 2


def _is_linear(layer: keras.layers.Layer) -> bool:
    return activation_name(layer.activation) == "linear"


def _dueling(h: np.ndarray, w: Sequence[np.ndarray], rng: np.random.Generator | None) -> np.ndarray:
    v_kernel, v_bias, a_kernel, a_bias = w
    advantage = h @ a_kernel + a_bias
    return (h @ v_kernel + v_bias) + advantage - advantage.mean(axis=-1, keepdims=True)


def _twin_dueling(head: DuelingHead) -> _TwinLayer | None:
    value, advantage = _twin_linear(head.value), _twin_linear(head.advantage)
    if value is None or advantage is None:
        return None
    (value_forward, n_value), (advantage_forward, n_advantage) = value, advantage
    actions, atoms = head.action_size, head.n_atoms
    if atoms == 1 and n_value == n_advantage == 2 and _is_linear(head.value) and _is_linear(head.advantage):
        return _dueling, 4  # the classic head, on the acting hot path: no calls per stream

    def forward(h, w, rng):
        v = value_forward(h, w[:n_value], rng)
        a = advantage_forward(h, w[n_value:], rng)
        if atoms == 1:
            return v + a - a.mean(axis=-1, keepdims=True)
        a = a.reshape(len(h), actions, atoms)
        return _np_softmax(v.reshape(len(h), 1, atoms) + a - a.mean(axis=1, keepdims=True))

    return forward, n_value + n_advantage


def _twin_distributional(head: DistributionalHead) -> _TwinLayer | None:
    logits = _twin_linear(head.logits)
    if logits is None:
        return None
    logits_forward, n = logits
    shape = (head.action_size, head.n_atoms)
    return (lambda h, w, rng: _np_softmax(logits_forward(h, w, rng).reshape(len(h), *shape))), n


def _twin_layer(layer: keras.layers.Layer) -> _TwinLayer | None:
    if layer.compute_dtype != "float32":  # bfloat16 and friends: a float32 twin would not be exact
        return None
    if isinstance(layer, DuelingHead):
        return _twin_dueling(layer)
    if isinstance(layer, DistributionalHead):
        return _twin_distributional(layer)
    if isinstance(layer, keras.layers.Activation):  # keras-rl style: Dense(16), Activation("relu")
        activation = _NUMPY_ACTIVATIONS.get(activation_name(layer.activation))
        return None if activation is None else ((lambda h, w, rng: activation(h)), 0)
    return _twin_linear(layer)


class NumpyMLP:
    """Forward pass in NumPy of a Sequential stack of Dense, NoisyDense, Activation, Flatten and head layers.

    Build it with :meth:`from_model`, which returns ``None`` for any model it cannot
    reproduce exactly (other layer types, other activations, a layer computing in another
    dtype than float32, a Dense layer before a ``Flatten`` of a multi-axis input); callers
    then fall back to a compiled Keras call.  ``weights`` is a list in ``model.weights``
    order, so a snapshot taken with ``model.get_weights()`` can be swapped in without
    rebuilding.

    It returns what the model returns with ``training=False``: Q-values ``(batch,
    action_size)``, or for distributional heads the atom probabilities ``(batch,
    action_size, n_atoms)``.  Noisy layers use their mean weights μ, unless a
    ``numpy.random.Generator`` is passed as ``rng``: then each noisy layer draws its own
    factorized noise from it, in layer order (for a head: value stream, then advantage),
    ε_in before ε_out.  That is the same distribution as the Keras model's
    ``training=True`` noise, not the same numbers.
    """

    def __init__(self, layers: list[_TwinLayer]):
        self.layers = layers  # (forward(h, weights, rng), number of weight arrays it takes)

    @classmethod
    def from_model(cls, model: keras.Model) -> NumpyMLP | None:
        """Return a NumPy twin of ``model``, or ``None`` if it has layers we do not mirror."""
        if not isinstance(model, keras.Sequential):
            return None
        # The twin flattens each state once, up front, and then multiplies matrices.  That is
        # exact only while every Dense layer sees a flat vector: a Dense layer on a (window, obs)
        # input acts on the last axis alone (keras-rl's layout Dense, Flatten, Dense with
        # window_length > 1), which a flat twin cannot mirror, so such models act in Keras.
        try:
            flat = len(model.input_shape) <= 2  # (batch, features): flat from the start
        except (AttributeError, ValueError):
            return None
        layers = []
        for layer in model.layers:
            if isinstance(layer, keras.layers.Flatten):
                flat = True
                continue
            if not flat and not isinstance(layer, keras.layers.Activation):
                return None  # a Dense (or anything else) before the Flatten
            twin = _twin_layer(layer)
            if twin is None:
                return None
            layers.append(twin)
        return cls(layers)

    def __call__(
        self, states: np.ndarray, weights: Sequence[np.ndarray], rng: np.random.Generator | None = None
    ) -> np.ndarray:
        """The model's output for a batch of ``states``, given its weights in ``model.weights`` order.

        Args:
            states: a batch of states, ``(batch, *state_shape)``.
            weights: the model's weights, e.g. ``model.get_weights()``.
            rng: ``None`` for the noisy layers' mean weights, or a generator to draw their noise from.
        """
        h = states.reshape(len(states), -1)
        i = 0
        for forward, n_weights in self.layers:
            h = forward(h, weights[i : i + n_weights], rng)
            i += n_weights
        return h

"""The Q-network's output heads: dueling (:class:`DuelingHead`) and distributional
(:class:`DistributionalHead`, C51).

* **Distributional outputs** (``n_atoms > 1``, "C51"; Bellemare et al., 2017).  Instead of one
  expected return per action, the network outputs a probability for each of ``n_atoms`` fixed
  returns z_1 < ... < z_N (the "atoms", evenly spaced between a v_min and v_max the agent
  chooses): a whole return distribution per action, whose mean is the Q-value,
  ``Q(s, a) = sum_i p_i(s, a) z_i``.  The agent fits it by cross-entropy against the Bellman
  target distribution projected onto the atoms.  Learning the distribution rather than only its
  mean gives the network a richer training signal; in Rainbow's ablation, removing it cost
  much of the final score.

Both combine with the dueling head (:class:`DuelingHead`), as in Rainbow.  With the defaults
(``noisy=False, n_atoms=1``) the builders make the blog's plain networks, whose weights files
(the blog's own Keras-2 file included) load into them.
"""

from __future__ import annotations

from typing import Any

import keras

from keras_dqn.checks import check_optional_int, check_positive_int, check_positive_number
from keras_dqn.networks.noisy import NoisyDense, child_seeds


def _atom_probabilities(logits):
    """Softmax over the last (atom) axis, in float32 whatever the layer computes in."""
    return keras.ops.softmax(keras.ops.cast(logits, "float32"), axis=-1)


def _linear_stream(
    units: int, *, noisy: bool, sigma0: float, seed: int | None, kernel_initializer: Any, name: str, dtype: Any
) -> keras.layers.Layer:
    """A head's linear layer: Dense, or NoisyDense when ``noisy``."""
    if noisy:
        return NoisyDense(units, sigma0=sigma0, seed=seed, name=name, dtype=dtype)
    return keras.layers.Dense(units, kernel_initializer=kernel_initializer, name=name, dtype=dtype)


def check_atoms(n_atoms: Any) -> int:
    return check_positive_int("n_atoms (atoms per action; 1 for plain Q-values)", n_atoms)


class _Head(keras.layers.Layer):
    """What :class:`DuelingHead` and :class:`DistributionalHead` share: their settings, checked
    here once, their linear streams and their config."""

    def __init__(self, action_size: int, n_atoms: int, kernel_initializer: Any, noisy: bool, sigma0: float,
                 seed: int | None, **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        self.action_size = check_positive_int("action_size", action_size)
        self.n_atoms = check_atoms(n_atoms)
        self.noisy = bool(noisy)
        self.sigma0 = check_positive_number("sigma0", sigma0)
        self.seed = check_optional_int("seed", seed)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def _stream(self, units: int, seed: int | None, name: str) -> keras.layers.Layer:
        settings = dict(noisy=self.noisy, sigma0=self.sigma0, kernel_initializer=self.kernel_initializer)
        return _linear_stream(units, seed=seed, name=name, dtype=self.dtype_policy, **settings)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "action_size": self.action_size,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "n_atoms": self.n_atoms,
            "noisy": self.noisy,
            "sigma0": self.sigma0,
            "seed": self.seed,
        }


@keras.saving.register_keras_serializable(package="keras_dqn")
class DuelingHead(_Head):
    """Dueling Q-values (Wang et al., 2016): ``Q(s, a) = V(s) + A(s, a) - mean_a' A(s, a')``.

    A value stream (one unit) and an advantage stream (one unit per action) read the same
    features; subtracting the mean advantage makes the split between V and A unique.  Being
    one layer, it keeps the whole network a ``keras.Sequential``.

    Distributional (``n_atoms > 1``, as in Rainbow): the streams give ``n_atoms`` logits each,
    ``logits(a, i) = V(i) + A(a, i) - mean_a' A(a', i)``, and a softmax over the atoms turns
    them into the probabilities of shape ``(batch, action_size, n_atoms)`` (in float32).

    Args:
        action_size: number of discrete actions.
        kernel_initializer: initializer of both streams' kernels (Dense streams only;
            noisy streams initialise themselves as :class:`NoisyDense` does).
        n_atoms: atoms per action; 1 gives plain Q-values of shape ``(batch, action_size)``.
        noisy: make both streams :class:`NoisyDense` layers.
        sigma0: initial noise scale of noisy streams.
        seed: seeds noisy streams (each gets its own seed derived from it).
        **kwargs: the usual Keras layer arguments (``name``, ``dtype``...).

    Its weights, in order: the value stream's, then the advantage stream's (``kernel, bias``
    each, or :class:`NoisyDense`'s four).
    """

    def __init__(
        self,
        action_size: int,
        kernel_initializer: Any = "glorot_uniform",
        *,
        n_atoms: int = 1,
        noisy: bool = False,
        sigma0: float = 0.5,
        seed: int | None = None,
        **kwargs: Any,
    ):
        super().__init__(action_size, n_atoms, kernel_initializer, noisy, sigma0, seed, **kwargs)
        value_seed, advantage_seed = child_seeds(self.seed, 2)
        self.value = self._stream(self.n_atoms, value_seed, "value")
        self.advantage = self._stream(self.action_size * self.n_atoms, advantage_seed, "advantage")

    def build(self, input_shape):
        self.value.build(input_shape)
        self.advantage.build(input_shape)

    def call(self, features, training=None):
        value = self.value(features, training=training)
        advantage = self.advantage(features, training=training)
        if self.n_atoms == 1:
            return value + advantage - keras.ops.mean(advantage, axis=-1, keepdims=True)
        value = keras.ops.reshape(value, (-1, 1, self.n_atoms))
        advantage = keras.ops.reshape(advantage, (-1, self.action_size, self.n_atoms))
        return _atom_probabilities(value + advantage - keras.ops.mean(advantage, axis=1, keepdims=True))

    def compute_output_shape(self, input_shape):
        atoms = () if self.n_atoms == 1 else (self.n_atoms,)
        return (*input_shape[:-1], self.action_size, *atoms)


@keras.saving.register_keras_serializable(package="keras_dqn")
class DistributionalHead(_Head):
    """C51's output (Bellemare et al., 2017): a probability over ``n_atoms`` returns for each action.

    One linear layer gives ``action_size * n_atoms`` logits, read as an
    ``(action_size, n_atoms)`` table; a softmax over the atoms (in float32) makes each row a
    distribution.  Output: ``(batch, action_size, n_atoms)``, each ``[b, a, :]`` summing to 1.
    The atoms' return values are the agent's business: ``Q(s, a) = sum_i p[a, i] * z_i``.

    Args:
        action_size: number of discrete actions.
        n_atoms: atoms per action, at least 2.
        kernel_initializer: initializer of the kernel (Dense only).
        noisy: make the layer a :class:`NoisyDense`.
        sigma0: its initial noise scale.
        seed: seeds it.
        **kwargs: the usual Keras layer arguments (``name``, ``dtype``...).

    Its weights are its one linear layer's, named ``logits``.
    """

    def __init__(
        self,
        action_size: int,
        n_atoms: int,
        kernel_initializer: Any = "glorot_uniform",
        *,
        noisy: bool = False,
        sigma0: float = 0.5,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(action_size, n_atoms, kernel_initializer, noisy, sigma0, seed, **kwargs)
        if self.n_atoms < 2:
            raise ValueError(f"a distributional head needs n_atoms >= 2, got {n_atoms!r}")
        self.logits = self._stream(self.action_size * self.n_atoms, self.seed, "logits")

    def build(self, input_shape):
        self.logits.build(input_shape)

    def call(self, features, training=None):
        logits = self.logits(features, training=training)
        return _atom_probabilities(keras.ops.reshape(logits, (-1, self.action_size, self.n_atoms)))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.action_size, self.n_atoms)


def q_head(
    action_size: int, *, dueling: bool, noisy: bool, n_atoms: int, sigma0: float, seed: int | None, dtype: Any = None
) -> keras.layers.Layer:
    """The output layer, always named ``q_values``: Dense, NoisyDense, DuelingHead or DistributionalHead."""
    init = keras.initializers.GlorotUniform(seed=seed)
    settings = dict(noisy=noisy, sigma0=sigma0, seed=seed, name="q_values", dtype=dtype)
    if dueling:
        return DuelingHead(action_size, kernel_initializer=init, n_atoms=n_atoms, **settings)
    if n_atoms > 1:
        return DistributionalHead(action_size, n_atoms, kernel_initializer=init, **settings)
    if noisy:
        return NoisyDense(action_size, sigma0=sigma0, seed=seed, name="q_values", dtype=dtype)
    return keras.layers.Dense(action_size, activation="linear", kernel_initializer=init, name="q_values", dtype=dtype)


def activation_name(activation: Any) -> str:
    """The name of a Keras activation, e.g. ``"relu"`` for ``"relu"``, ``keras.activations.relu`` or a layer's.

    ``None`` is ``"linear"``, as in Keras.  Anything that is not one of Keras's own activation
    functions (a lambda, a user's function even if it is called ``relu``, an activation layer)
    gets its qualified name, e.g. ``"mymodule.relu"``, which no built-in name equals.  Every
    module that asks what an activation is asks here.
    """
    activation = keras.activations.get(activation)
    name = getattr(activation, "__name__", "")
    try:
        if name and keras.activations.get(name) is activation:
            return name
    except ValueError:  # a name Keras does not know: not one of its own
        pass
    kind = activation if callable(activation) and name else type(activation)
    return f"{kind.__module__}.{kind.__qualname__}"

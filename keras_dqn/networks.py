"""Q-network builders, the network parts of Rainbow, and a NumPy forward pass for small MLPs.

The blog builds its network in ``DQNAgent._build_model()``: a Keras ``Sequential`` of
Dense layers, compiled with an MSE loss and Adam. :func:`build_mlp` is that model, with
the hidden sizes and an initializer seed as arguments; :func:`build_nature_cnn` is the
Atari network of the Nature DQN paper.

Rainbow (Hessel et al., 2018) changes the network in two ways; both are options of the builders.

* **Noisy nets** (``noisy=True``, :class:`NoisyDense`; Fortunato et al., 2018).  Epsilon-greedy
  explores by acting at random now and then, equally in every state, on a schedule someone
  has to tune.  A noisy layer instead perturbs its own weights with Gaussian noise whose scale
  σ is itself a weight: the greedy action of a noisy network varies from one forward pass to
  the next, and gradient descent learns, weight by weight, how much noise pays off.  Where
  the noise makes no difference to the loss σ is free to stay; where it hurts, σ shrinks.
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

Why a NumPy forward pass?  On Keras 3 one ``model.predict`` call costs ~60 ms and even a
compiled ``tf.function`` call costs ~0.2 ms, while a 4-24-24-2 MLP is ~10 µs of NumPy
arithmetic.  Acting happens once per environment step, so :class:`NumpyMLP` computes the
Q-values (or atom probabilities) of Dense and noisy MLPs directly from a snapshot of their weights.

bfloat16: :func:`build_nature_cnn` takes ``dtype_policy="mixed_bfloat16"`` to compute the
convolutions and the 512-unit layer in bfloat16 (half the memory traffic; fast on CPUs with
AVX512-BF16/AMX and on recent GPUs, see :func:`bf16_supported`) while the weights, the output
head and the softmax stay float32.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import keras
import numpy as np

from keras_dqn._keras_internals import all_layers
from keras_dqn.checks import check_optional_int, check_positive_int, check_positive_number

_NUMPY_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0.0),
    "tanh": np.tanh,
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
}


# ---------------------------------------------------------------- noisy layers
def _signed_sqrt(x):
    """``f(x) = sign(x) * sqrt(|x|)``, the scaling of factorized noise (Keras tensors)."""
    return keras.ops.sign(x) * keras.ops.sqrt(keras.ops.abs(x))


def _child_seeds(seed: int | None, n: int) -> list[int | None]:
    """``n`` independent seeds derived from ``seed`` (all ``None`` when it is ``None``)."""
    if seed is None:
        return [None] * n
    return [int(s) for s in np.random.SeedSequence(seed).generate_state(n)]


@keras.saving.register_keras_serializable(package="keras_dqn")
class NoisyDense(keras.layers.Layer):
    """A Dense layer whose weights carry learned Gaussian noise (factorized noisy nets, Fortunato et al., 2018).

    Each weight has a mean μ and a noise scale σ, both trained by gradient descent::

        y = activation((μ_W + σ_W ⊙ ε_W) x + μ_b + σ_b ⊙ ε_b)

    *Factorized* noise draws only ``in + units`` standard normals per forward pass, ε_in and
    ε_out, instead of one per weight: ``ε_W = f(ε_in) f(ε_out)ᵀ`` (an ``(in, units)`` matrix,
    in Keras's kernel layout) and ``ε_b = f(ε_out)``, with ``f(x) = sign(x) * sqrt(|x|)``.  The
    layer never builds ε_W: ``(σ_W ⊙ ε_W)ᵀ x = ((x ⊙ f(ε_in)) σ_W) ⊙ f(ε_out)`` costs one more
    matrix product.  One draw serves the whole batch.

    Initialisation follows the paper for factorized noise, with ``p`` the input size:
    ``μ ~ U(-1/√p, 1/√p)`` and ``σ = sigma0/√p`` for weights and biases alike.

    ``call(x, training=True)`` draws fresh noise on every call (from a
    ``keras.random.SeedGenerator``, so it also works inside ``tf.function`` and under XLA);
    ``training=False`` (or ``None``) uses the mean weights μ alone, a deterministic network
    for evaluation.  An agent that explores with noise must call the model with
    ``training=True`` when it acts.

    ``layer.weights`` is ``[kernel_mu, bias_mu, kernel_sigma, bias_sigma]``: exactly what weight
    files, ``get_weights``/``set_weights`` and target-network copies carry.  The noise
    generator's state (an int64 ``(2,)`` variable, ``layer.seed_generator.state``) is in
    ``layer.variables`` but deliberately not in ``layer.weights``, as with Keras's own
    ``Dropout``: it is no parameter of the network, an integer array among the float weights
    would break flat weight copies and soft target updates, and a target network must not
    inherit the online network's noise stream.  A loaded layer therefore restarts its noise
    stream from ``seed`` (an agent's target network from streams of its own, see
    :func:`reseed_noise`); a checkpoint that wants the exact stream saves :func:`noise_states`
    beside the weights.

    Args:
        units: number of outputs.
        activation: Keras activation (name or function); ``None`` is linear.
        sigma0: initial noise scale; σ starts at ``sigma0 / sqrt(input size)``.  Must be > 0
            (the paper's 0.5 by default).
        seed: seeds the initializers and the noise, so two layers built with one seed are
            equal and draw the same noise; ``None`` for fresh randomness.
        **kwargs: the usual Keras layer arguments (``name``, ``dtype``...).
    """

    def __init__(self, units: int, activation: Any = None, sigma0: float = 0.5, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.units = check_positive_int("units", units)
        self.activation = keras.activations.get(activation)
        self.sigma0 = check_positive_number("sigma0", sigma0)
        self.seed = check_optional_int("seed", seed)
        kernel_seed, bias_seed, noise_seed = _child_seeds(self.seed, 3)
        self._init_seeds = (kernel_seed, bias_seed)
        self.seed_generator = keras.random.SeedGenerator(noise_seed, name="noise")
        self.input_spec = keras.layers.InputSpec(min_ndim=2)

    def build(self, input_shape):
        inputs = input_shape[-1]
        if inputs is None:
            raise ValueError(f"NoisyDense {self.name!r} needs a known input size, got input shape {input_shape}")
        bound = 1.0 / math.sqrt(inputs)

        def uniform(seed):
            return keras.initializers.RandomUniform(-bound, bound, seed=seed)

        sigma = keras.initializers.Constant(self.sigma0 * bound)
        self.kernel_mu = self.add_weight(
            shape=(inputs, self.units), initializer=uniform(self._init_seeds[0]), name="kernel_mu"
        )
        self.bias_mu = self.add_weight(shape=(self.units,), initializer=uniform(self._init_seeds[1]), name="bias_mu")
        self.kernel_sigma = self.add_weight(shape=(inputs, self.units), initializer=sigma, name="kernel_sigma")
        self.bias_sigma = self.add_weight(shape=(self.units,), initializer=sigma, name="bias_sigma")
        self.input_spec = keras.layers.InputSpec(min_ndim=2, axes={-1: inputs})

    def sample_noise(self) -> tuple[Any, Any]:
        """Draw one noise sample: ``(f(ε_in), f(ε_out))``, float32 tensors of shapes ``(in,)`` and ``(units,)``.

        Each call advances the layer's noise generator."""
        eps_in = keras.random.normal((self.kernel_mu.shape[0],), dtype="float32", seed=self.seed_generator)
        eps_out = keras.random.normal((self.units,), dtype="float32", seed=self.seed_generator)
        return _signed_sqrt(eps_in), _signed_sqrt(eps_out)

    def noisy_weights(self, noise: tuple[Any, Any]) -> tuple[Any, Any]:
        """The kernel and bias one noisy pass uses, for a ``noise`` from :meth:`sample_noise`:
        ``(μ_W + σ_W ⊙ f(ε_in) f(ε_out)ᵀ, μ_b + σ_b ⊙ f(ε_out))``.  (``call`` gets the same result
        without building the matrix; this spells the definition out.)"""
        f_in, f_out = noise
        eps_kernel = keras.ops.outer(f_in, f_out)  # (in, units): factorized, rank one
        return self.kernel_mu + self.kernel_sigma * eps_kernel, self.bias_mu + self.bias_sigma * f_out

    def call(self, inputs, training=None):
        outputs = keras.ops.matmul(inputs, self.kernel_mu) + self.bias_mu
        if training:
            f_in, f_out = (keras.ops.cast(f, self.compute_dtype) for f in self.sample_noise())
            # ((x ⊙ f(ε_in)) σ_W + σ_b) ⊙ f(ε_out) = (σ_W ⊙ ε_W)ᵀ x + σ_b ⊙ ε_b
            outputs = outputs + (keras.ops.matmul(inputs * f_in, self.kernel_sigma) + self.bias_sigma) * f_out
        return self.activation(outputs)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "units": self.units,
            "activation": keras.activations.serialize(self.activation),
            "sigma0": self.sigma0,
            "seed": self.seed,
        }


def _noisy_dense_layers(model: keras.Layer) -> Iterator[NoisyDense]:
    """Every :class:`NoisyDense` in ``model``, heads' streams included, in a fixed order."""
    for layer in all_layers(model):
        if isinstance(layer, NoisyDense):
            yield layer


def noise_states(model: keras.Layer) -> list[np.ndarray]:
    """The noise generators' states of ``model``'s :class:`NoisyDense` layers (for checkpoints).

    Weight files leave them out (see :class:`NoisyDense`); save these beside the weights, and
    put them back with :func:`set_noise_states`, to resume the exact noise stream.

    Returns:
        One int64 array of shape ``(2,)`` per noisy layer, in layer order; ``[]`` without any.
    """
    return [np.array(layer.seed_generator.state.numpy()) for layer in _noisy_dense_layers(model)]


def set_noise_states(model: keras.Layer, states: Sequence[np.ndarray]) -> None:
    """Restore noise generator states taken with :func:`noise_states` from a model of the same build.

    Raises:
        ValueError: ``states`` does not have one ``(2,)`` array per noisy layer (nothing is set).
    """
    layers = list(_noisy_dense_layers(model))
    arrays = [np.asarray(s) for s in states]
    if [a.shape for a in arrays] != [tuple(layer.seed_generator.state.shape) for layer in layers]:
        raise ValueError(
            f"expected {len(layers)} noise states of shape (2,) (one per NoisyDense layer), "
            f"got shapes {[a.shape for a in arrays]}"
        )
    for array, layer in zip(arrays, layers, strict=True):
        layer.seed_generator.state.assign(array.astype(layer.seed_generator.state.dtype))


def reseed_noise(model: keras.Layer, seed: int | Sequence[int] | None) -> None:
    """Give ``model``'s :class:`NoisyDense` layers new noise streams, one per layer, derived from ``seed``.

    A target network cloned from the online one starts with the same generators, so it would
    draw the online network's noise again; the NoisyNet paper gives each network its own.

    Args:
        model: a network with noisy layers (one without any is left as it is).
        seed: an int or a sequence of ints (``numpy.random.SeedSequence`` entropy); ``None``
            draws fresh entropy.
    """
    layers = list(_noisy_dense_layers(model))
    seeds = np.random.SeedSequence(seed).generate_state(len(layers))
    set_noise_states(model, [np.array([int(s), 0]) for s in seeds])


# ---------------------------------------------------------------- output heads
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


def _check_atoms(n_atoms: Any) -> int:
    return check_positive_int("n_atoms (atoms per action; 1 for plain Q-values)", n_atoms)


class _Head(keras.layers.Layer):
    """What :class:`DuelingHead` and :class:`DistributionalHead` share: their settings, checked
    here once, their linear streams and their config."""

    def __init__(self, action_size: int, n_atoms: int, kernel_initializer: Any, noisy: bool, sigma0: float,
                 seed: int | None, **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        self.action_size = check_positive_int("action_size", action_size)
        self.n_atoms = _check_atoms(n_atoms)
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
        **kwargs,
    ):
        super().__init__(action_size, n_atoms, kernel_initializer, noisy, sigma0, seed, **kwargs)
        value_seed, advantage_seed = _child_seeds(self.seed, 2)
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


def _q_head(
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


# ---------------------------------------------------------------- the NumPy twin
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


# ---------------------------------------------------------------- builders
ADAM_EPSILON = 1e-7  # Keras' own default


def _adam(learning_rate: float, clipnorm: float | None, epsilon: float) -> keras.optimizers.Optimizer:
    """Every Q-network's optimizer: Adam, its gradients clipped to ``clipnorm`` (if set)."""
    return keras.optimizers.Adam(
        learning_rate=learning_rate, clipnorm=clipnorm, epsilon=check_positive_number("adam_epsilon", epsilon),
        name="adam",
    )  # fmt: skip


def build_mlp(
    state_size: int,
    action_size: int,
    hidden: Sequence[int] = (24, 24),
    *,
    learning_rate: float = 0.001,
    loss: str = "mse",
    dueling: bool = False,
    clipnorm: float | None = None,
    seed: int | None = None,
    noisy: bool = False,
    n_atoms: int = 1,
    sigma0: float = 0.5,
    adam_epsilon: float = ADAM_EPSILON,
    noisy_hidden: bool = True,
) -> keras.Sequential:
    """The blog's Q-network: ``state_size`` inputs, ReLU hidden layers, linear outputs.

    Layers (fixed names, so weight files read the same in every process): ``dense``,
    ``dense_1``, ... (the hidden layers) and ``q_values`` (the output head).

    Args:
        state_size: length of the observation vector (4 for CartPole).
        action_size: number of discrete actions; one linear Q-value output per action.
        hidden: units of each hidden ReLU layer, in order (the blog uses ``(24, 24)``).
        learning_rate: Adam's learning rate.
        loss: Keras loss name used in ``compile`` (the blog's ``"mse"``, or ``"huber"``).
        dueling: end in a :class:`DuelingHead` instead of one Dense layer.
        clipnorm: if set, Adam clips each gradient to this L2 norm.
        seed: seeds the weight initializers (and the noise), so two models built with one seed are equal.
        noisy: make every layer, hidden and output, a :class:`NoisyDense` (noisy nets).
        noisy_hidden: with ``noisy``, ``False`` keeps the hidden layers plain ``Dense`` and puts
            the noise in the output head alone.
        n_atoms: atoms per action; above 1 the model outputs C51 probabilities of shape
            ``(batch, action_size, n_atoms)`` (a :class:`DistributionalHead`, or a distributional
            :class:`DuelingHead`), at 1 Q-values of shape ``(batch, action_size)``.
        sigma0: initial noise scale of the noisy layers.
        adam_epsilon: Adam's epsilon, added to the root of its second-moment estimate; a larger
            one damps the steps when gradients are tiny (Keras' 1e-7; the Rainbow paper's 1.5e-4).

    Returns:
        A compiled ``keras.Sequential``.

    Raises:
        ValueError: ``n_atoms`` is not an integer >= 1, or ``sigma0`` is not > 0.
    """
    n_atoms = _check_atoms(n_atoms)
    sigma0 = check_positive_number("sigma0", sigma0)
    seeds = np.random.SeedSequence(seed).generate_state(len(hidden) + 1) if seed is not None else None

    def layer_seed(i: int) -> int | None:
        return None if seeds is None else int(seeds[i])

    model = keras.Sequential(name="q_network")
    model.add(keras.Input(shape=(state_size,), name="state"))
    for i, units in enumerate(hidden):
        if noisy and noisy_hidden:
            model.add(NoisyDense(units, activation="relu", sigma0=sigma0, seed=layer_seed(i), name=_nth("dense", i)))
        else:
            init = keras.initializers.GlorotUniform(seed=layer_seed(i))
            model.add(keras.layers.Dense(units, activation="relu", kernel_initializer=init, name=_nth("dense", i)))
    model.add(
        _q_head(action_size, dueling=dueling, noisy=noisy, n_atoms=n_atoms, sigma0=sigma0, seed=layer_seed(len(hidden)))
    )
    model.compile(loss=loss, optimizer=_adam(learning_rate, clipnorm, adam_epsilon))
    return model


def build_nature_cnn(
    state_shape: Sequence[int],
    action_size: int,
    *,
    learning_rate: float = 1e-4,
    loss: str = "huber",
    dueling: bool = False,
    clipnorm: float | None = None,
    channels_first: bool = True,
    seed: int | None = None,
    noisy: bool = False,
    n_atoms: int = 1,
    sigma0: float = 0.5,
    adam_epsilon: float = ADAM_EPSILON,
    dtype_policy: str | keras.DTypePolicy | None = None,
    noisy_hidden: bool = True,
) -> keras.Sequential:
    """The Nature-DQN network (Mnih et al., 2015) for stacks of Atari frames.

    ``uint8`` frames go in as they come from the environment; the model casts them and scales
    them to [0, 1] itself, so the replay memory can keep 1 byte per pixel.  Then: 32 filters
    8×8 stride 4, 64 filters 4×4 stride 2, 64 filters 3×3 stride 1 (all ReLU), a 512-unit ReLU
    layer, and one linear Q-value per action (or a :class:`DuelingHead`).

    Layers (fixed names): ``frames_last`` (channels first only), ``scale``, ``conv2d``,
    ``conv2d_1``, ``conv2d_2``, ``flatten``, ``dense`` (the 512 units) and ``q_values``.

    Args:
        state_shape: shape of one observation, e.g. ``(4, 84, 84)`` from gymnasium's
            ``FrameStackObservation`` (frames first) or ``(84, 84, 4)`` (frames last).
        action_size: number of discrete actions.
        learning_rate, loss, dueling, clipnorm, seed: as :func:`build_mlp`.
        channels_first: the stacked frames are the first axis.  TensorFlow's CPU
            convolutions need channels last, so the model starts with a ``Permute``.
        noisy: make the fully connected layers (the 512 units and the head) :class:`NoisyDense`.
        noisy_hidden: with ``noisy``, ``False`` keeps the 512-unit layer a plain ``Dense`` and
            puts the noise in the head alone.  The noisy 3136×512 layer is most of a noisy
            network's cost on a CPU: its second weight matrix doubles that layer's work and Adam's.
        n_atoms, sigma0, adam_epsilon: as :func:`build_mlp`.
        dtype_policy: ``None`` (the global Keras policy, float32 unless changed) or a Keras
            dtype policy such as ``"mixed_bfloat16"``, given to every layer but the output
            head: those layers compute in bfloat16 and keep float32 weights, while the head
            (and its softmax) computes in float32, so Q-values and probabilities come out
            float32.  Worth it where :func:`bf16_supported` says so.  The global policy is
            left alone.

    Returns:
        A compiled ``keras.Sequential`` taking ``uint8`` input.

    Raises:
        ValueError: ``n_atoms`` < 1, ``sigma0`` <= 0, or a ``dtype_policy`` Keras does not know.
    """
    n_atoms = _check_atoms(n_atoms)
    sigma0 = check_positive_number("sigma0", sigma0)
    policy = _dtype_policy(dtype_policy)
    head_policy = None if policy is None else keras.DTypePolicy("float32")
    seeds = np.random.SeedSequence(seed).generate_state(6) if seed is not None else None

    def layer_seed(i: int) -> int | None:
        return None if seeds is None else int(seeds[i])

    def init(i: int) -> keras.initializers.Initializer:  # He init suits ReLU conv stacks
        return keras.initializers.HeUniform(seed=layer_seed(i))

    model = keras.Sequential(name="nature_cnn")
    model.add(keras.Input(shape=tuple(state_shape), dtype="uint8", name="frames"))
    if channels_first:
        model.add(keras.layers.Permute((2, 3, 1), name="frames_last", dtype=policy))  # (k, H, W) -> (H, W, k)
    model.add(keras.layers.Rescaling(1.0 / 255.0, name="scale", dtype=policy))  # uint8 -> floats in [0, 1]
    for i, (filters, size, stride) in enumerate(((32, 8, 4), (64, 4, 2), (64, 3, 1))):
        model.add(keras.layers.Conv2D(
            filters, size, strides=stride, activation="relu", kernel_initializer=init(i), name=_nth("conv2d", i),
            dtype=policy,
        ))  # fmt: skip
    model.add(keras.layers.Flatten(name="flatten", dtype=policy))
    if noisy and noisy_hidden:
        model.add(NoisyDense(512, activation="relu", sigma0=sigma0, seed=layer_seed(3), name="dense", dtype=policy))
    else:
        model.add(keras.layers.Dense(512, activation="relu", kernel_initializer=init(3), name="dense", dtype=policy))
    model.add(
        _q_head(
            action_size,
            dueling=dueling,
            noisy=noisy,
            n_atoms=n_atoms,
            sigma0=sigma0,
            seed=layer_seed(4),
            dtype=head_policy,
        )
    )
    model.compile(loss=loss, optimizer=_adam(learning_rate, clipnorm, adam_epsilon))
    return model


def _dtype_policy(dtype_policy: Any) -> keras.DTypePolicy | None:
    """``None``, or ``dtype_policy`` as a ``keras.DTypePolicy`` (a name such as ``"mixed_bfloat16"``, or one)."""
    if dtype_policy is None or isinstance(dtype_policy, keras.DTypePolicy):
        return dtype_policy
    if not isinstance(dtype_policy, str):
        raise ValueError(
            f"dtype_policy must be None, a policy name such as 'mixed_bfloat16' or a "
            f"keras.DTypePolicy, got {dtype_policy!r}"
        )
    try:
        return keras.DTypePolicy(dtype_policy)
    except ValueError as error:
        raise ValueError(f"dtype_policy {dtype_policy!r} is not a Keras dtype policy: {error}") from None


# ---------------------------------------------------------------- bfloat16
_BF16_CPU_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


def _cpu_has_bf16(cpuinfo: str | os.PathLike = "/proc/cpuinfo") -> bool:
    """Whether the CPU flags in ``cpuinfo`` (Linux's format) include a bfloat16 instruction set."""
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "flags" and _BF16_CPU_FLAGS & set(value.split()):
                    return True
    except OSError:  # not Linux, or no /proc
        return False
    return False


def _gpu_runs_bf16() -> bool:
    """Whether TensorFlow sees a GPU that computes bfloat16 natively (compute capability 8.0+, or unknown)."""
    import tensorflow as tf

    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            capability = tf.config.experimental.get_device_details(gpu).get("compute_capability")
        except (RuntimeError, ValueError):
            capability = None
        if capability is None or tuple(capability) >= (8, 0):
            return True
    return False


def bf16_supported() -> bool:
    """Whether this machine runs bfloat16 fast enough for ``dtype_policy="mixed_bfloat16"`` to pay.

    True for a CPU with bfloat16 instructions (``avx512_bf16`` or ``amx_bf16`` among the flags
    of ``/proc/cpuinfo``, on Linux) or a GPU visible to TensorFlow that computes bfloat16
    natively (NVIDIA compute capability 8.0 and up, i.e. Ampere or later; a GPU that does not
    report one counts).  False elsewhere: there bfloat16 is emulated, slower than float32.
    """
    return _cpu_has_bf16() or _gpu_runs_bf16()


def _nth(kind: str, i: int) -> str:
    """The name Keras gives the ``i``-th layer of a kind in a fresh process (``dense``, ``dense_1``...).

    Our builders name every layer and the optimizer themselves.  Keras' automatic names count
    up through the process (``dense_57``), and each new variable name costs ~20 KB that
    TensorFlow never frees (its eager kernel cache keys the ``VarHandleOp`` by the name), so
    building many agents in one process grew without bound.  Fixed names also make saved
    files the same whatever the process built before."""
    return kind if i == 0 else f"{kind}_{i}"

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

import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import keras
import numpy as np

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
    stream from ``seed``; a checkpoint that wants the exact stream saves
    :func:`noise_states` beside the weights.

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
    for layer in model._flatten_layers(include_self=True, recursive=True):
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


@keras.saving.register_keras_serializable(package="keras_dqn")
class DuelingHead(keras.layers.Layer):
    """Dueling Q-values (Wang et al., 2016): ``Q(s, a) = V(s) + A(s, a) - mean_a' A(s, a')``.

    A value stream (one unit) and an advantage stream (one unit per action) read the same
    features; subtracting the mean advantage makes the split between V and A unique.  Being
    one layer, it keeps the whole network a ``keras.Sequential``.
    """

    def __init__(self, action_size: int, kernel_initializer: Any = "glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.action_size = int(action_size)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.value = keras.layers.Dense(1, kernel_initializer=self.kernel_initializer, name="value")
        self.advantage = keras.layers.Dense(
            self.action_size, kernel_initializer=self.kernel_initializer, name="advantage"
        )

    def build(self, input_shape):
        self.value.build(input_shape)
        self.advantage.build(input_shape)

    def call(self, features):
        value = self.value(features)
        advantage = self.advantage(features)
        return value + advantage - keras.ops.mean(advantage, axis=-1, keepdims=True)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.action_size)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "action_size": self.action_size,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        }


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
) -> keras.Sequential:
    """The blog's Q-network: ``state_size`` inputs, ReLU hidden layers, linear outputs.

    Args:
        state_size: length of the observation vector (4 for CartPole).
        action_size: number of discrete actions; one linear Q-value output per action.
        hidden: units of each hidden ReLU layer, in order (the blog uses ``(24, 24)``).
        learning_rate: Adam's learning rate.
        loss: Keras loss name used in ``compile`` (the blog's ``"mse"``, or ``"huber"``).
        dueling: end in a :class:`DuelingHead` instead of one Dense layer.
        clipnorm: if set, Adam clips each gradient to this L2 norm.
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
        model.add(keras.layers.Dense(units, activation="relu", kernel_initializer=init(i), name=_nth("dense", i)))
    out_init = init(len(hidden))
    if dueling:
        model.add(DuelingHead(action_size, kernel_initializer=out_init, name="q_values"))
    else:
        model.add(keras.layers.Dense(action_size, activation="linear", kernel_initializer=out_init, name="q_values"))
    optimizer = keras.optimizers.Adam(learning_rate=learning_rate, clipnorm=clipnorm, name="adam")
    model.compile(loss=loss, optimizer=optimizer)
    return model


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


def _dense(activation: Callable[[np.ndarray], np.ndarray]) -> Callable:
    def forward(h: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
        return activation(h @ kernel + bias)

    return forward


def _dueling(h: np.ndarray, v_kernel, v_bias, a_kernel, a_bias) -> np.ndarray:
    advantage = h @ a_kernel + a_bias
    return (h @ v_kernel + v_bias) + advantage - advantage.mean(axis=-1, keepdims=True)


class NumpyMLP:
    """Forward pass of a Sequential stack of Dense, Activation, Flatten and DuelingHead layers in NumPy.

    Build it with :meth:`from_model`, which returns ``None`` for any model it cannot
    reproduce exactly (other layer types, other activations, a Dense layer before a
    ``Flatten`` of a multi-axis input); callers then fall back to a compiled Keras call.
    ``weights`` is a list in ``model.weights`` order, so a snapshot taken with
    ``model.get_weights()`` can be swapped in without rebuilding.
    """

    def __init__(self, layers: list[tuple[Callable, int]]):
        self.layers = layers  # (forward function, number of weight arrays it takes)

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
            if isinstance(layer, DuelingHead):
                layers.append((_dueling, 4))
                continue
            if isinstance(layer, keras.layers.Activation):  # keras-rl style: Dense(16), Activation("relu")
                name = activation_name(layer.activation)
                if name not in _NUMPY_ACTIVATIONS:
                    return None
                layers.append((_NUMPY_ACTIVATIONS[name], 0))
                continue
            if not isinstance(layer, keras.layers.Dense) or not layer.use_bias:
                return None
            name = activation_name(layer.activation)
            if name not in _NUMPY_ACTIVATIONS:
                return None
            layers.append((_dense(_NUMPY_ACTIVATIONS[name]), 2))
        return cls(layers)

    def __call__(self, states: np.ndarray, weights: list[np.ndarray]) -> np.ndarray:
        """Q-values of a batch of ``states``, given the model's weights in ``model.weights`` order."""
        h = states.reshape(len(states), -1)
        i = 0
        for forward, n_weights in self.layers:
            h = forward(h, *weights[i : i + n_weights])
            i += n_weights
        return h


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
) -> keras.Sequential:
    """The Nature-DQN network (Mnih et al., 2015) for stacks of Atari frames.

    ``uint8`` frames go in as they come from the environment; the model casts them and scales
    them to [0, 1] itself, so the replay memory can keep 1 byte per pixel.  Then: 32 filters
    8×8 stride 4, 64 filters 4×4 stride 2, 64 filters 3×3 stride 1 (all ReLU), a 512-unit ReLU
    layer, and one linear Q-value per action (or a :class:`DuelingHead`).

    Args:
        state_shape: shape of one observation, e.g. ``(4, 84, 84)`` from gymnasium's
            ``FrameStackObservation`` (frames first) or ``(84, 84, 4)`` (frames last).
        action_size: number of discrete actions.
        learning_rate, loss, dueling, clipnorm, seed: as :func:`build_mlp`.
        channels_first: the stacked frames are the first axis.  TensorFlow's CPU
            convolutions need channels last, so the model starts with a ``Permute``.

    Returns:
        A compiled ``keras.Sequential`` taking ``uint8`` input.
    """
    seeds = np.random.SeedSequence(seed).generate_state(6) if seed is not None else None

    def init(i: int) -> keras.initializers.Initializer:  # He init suits ReLU conv stacks
        return keras.initializers.HeUniform(seed=None if seeds is None else int(seeds[i]))

    model = keras.Sequential(name="nature_cnn")
    model.add(keras.Input(shape=tuple(state_shape), dtype="uint8", name="frames"))
    if channels_first:
        model.add(keras.layers.Permute((2, 3, 1), name="frames_last"))  # (k, H, W) -> (H, W, k)
    model.add(keras.layers.Rescaling(1.0 / 255.0, name="scale"))  # uint8 -> float32 in [0, 1]
    for i, (filters, size, stride) in enumerate(((32, 8, 4), (64, 4, 2), (64, 3, 1))):
        model.add(keras.layers.Conv2D(
            filters, size, strides=stride, activation="relu", kernel_initializer=init(i), name=_nth("conv2d", i)
        ))  # fmt: skip
    model.add(keras.layers.Flatten(name="flatten"))
    model.add(keras.layers.Dense(512, activation="relu", kernel_initializer=init(3), name="dense"))
    out_init = keras.initializers.GlorotUniform(seed=None if seeds is None else int(seeds[4]))
    if dueling:
        model.add(DuelingHead(action_size, kernel_initializer=out_init, name="q_values"))
    else:
        model.add(keras.layers.Dense(action_size, kernel_initializer=out_init, name="q_values"))
    optimizer = keras.optimizers.Adam(learning_rate=learning_rate, clipnorm=clipnorm, name="adam")
    model.compile(loss=loss, optimizer=optimizer)
    return model


def _nth(kind: str, i: int) -> str:
    """The name Keras gives the ``i``-th layer of a kind in a fresh process (``dense``, ``dense_1``...).

    Our builders name every layer and the optimizer themselves.  Keras' automatic names count
    up through the process (``dense_57``), and each new variable name costs ~20 KB that
    TensorFlow never frees (its eager kernel cache keys the ``VarHandleOp`` by the name), so
    building many agents in one process grew without bound.  Fixed names also make saved
    files the same whatever the process built before."""
    return kind if i == 0 else f"{kind}_{i}"

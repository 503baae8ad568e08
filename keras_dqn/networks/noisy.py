""":class:`NoisyDense`, the noisy layer of Rainbow's noisy nets, and its noise state.

**Noisy nets** (``noisy=True``, :class:`NoisyDense`; Fortunato et al., 2018).  Epsilon-greedy
  explores by acting at random now and then, equally in every state, on a schedule someone
  has to tune.  A noisy layer instead perturbs its own weights with Gaussian noise whose scale
  σ is itself a weight: the greedy action of a noisy network varies from one forward pass to
  the next, and gradient descent learns, weight by weight, how much noise pays off.  Where
  the noise makes no difference to the loss σ is free to stay; where it hurts, σ shrinks.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import keras
import numpy as np

from keras_dqn._internals.keras import all_layers
from keras_dqn.checks import check_optional_int, check_positive_int, check_positive_number


def _signed_sqrt(x):
    """``f(x) = sign(x) * sqrt(|x|)``, the scaling of factorized noise (Keras tensors)."""
    return keras.ops.sign(x) * keras.ops.sqrt(keras.ops.abs(x))


def child_seeds(seed: int | None, n: int) -> list[int | None]:
    """``n`` independent seeds derived from ``seed`` (all ``None`` when it is ``None``).

    32-bit seeds; 31-bit on PyTorch, whose Keras seed state is int32 (each backend draws
    its own random numbers from a seed anyway)."""
    if seed is None:
        return [None] * n
    bits = 2**31 if keras.backend.backend() == "torch" else 2**32
    return [int(s) % bits for s in np.random.SeedSequence(seed).generate_state(n)]


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

    def __init__(self, units: int, activation: Any = None, sigma0: float = 0.5, seed: int | None = None,
                 **kwargs: Any):  # fmt: skip
        super().__init__(**kwargs)
        self.units = check_positive_int("units", units)
        self.activation = keras.activations.get(activation)
        self.sigma0 = check_positive_number("sigma0", sigma0)
        self.seed = check_optional_int("seed", seed)
        kernel_seed, bias_seed, noise_seed = child_seeds(self.seed, 3)
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

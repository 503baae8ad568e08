"""activation_name: the one reading of Keras activations (the NumPy twin and keras_dqn.rl use it)."""

import keras
import numpy as np
import pytest

from keras_dqn.networks import NumpyMLP, activation_name


def relu(x):  # a user's function that only shares the name
    return x * 2.0


@pytest.mark.parametrize(
    "activation, name",
    [
        ("relu", "relu"),
        (keras.activations.relu, "relu"),
        (None, "linear"),
        (keras.layers.Dense(3).activation, "linear"),
        (keras.layers.Activation("tanh").activation, "tanh"),
        ("swish", "silu"),  # Keras's alias
        (relu, f"{__name__}.relu"),
        (keras.layers.LeakyReLU(), "keras.src.layers.activations.leaky_relu.LeakyReLU"),
    ],
)
def test_activation_name(activation, name):
    assert activation_name(activation) == name


def test_numpy_twin_mirrors_keras_activations_only():
    def model(activation):
        return keras.Sequential(
            [keras.Input((3,)), keras.layers.Dense(4, activation=activation), keras.layers.Dense(2)]
        )

    builtin = model("tanh")
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    np.testing.assert_allclose(NumpyMLP.from_model(builtin)(x, builtin.get_weights()), builtin(x).numpy(), rtol=1e-5)
    assert NumpyMLP.from_model(model(relu)) is None  # named relu, but not Keras's: left to Keras
    assert NumpyMLP.from_model(model(lambda t: t)) is None

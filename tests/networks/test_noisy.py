"""NoisyDense: factorized Gaussian noise on the weights, deterministic mean weights, saving and loading."""

import math

import h5py
import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_dqn.files.weights import load_h5, save_h5
from keras_dqn.networks.builders import build_mlp
from keras_dqn.networks.noisy import NoisyDense, noise_states, set_noise_states

X = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)


def layer(units=3, inputs=4, **kwargs) -> NoisyDense:
    noisy = NoisyDense(units, **kwargs)
    noisy.build((None, inputs))
    return noisy


def mean_output(noisy: NoisyDense, x: np.ndarray) -> np.ndarray:
    return x @ noisy.kernel_mu.numpy() + noisy.bias_mu.numpy()


def test_weights_are_the_four_parameters_and_initialised_as_the_paper():
    noisy = layer(units=300, inputs=16, sigma0=0.5, seed=0)
    assert [w.name for w in noisy.weights] == ["kernel_mu", "bias_mu", "kernel_sigma", "bias_sigma"]
    assert [tuple(w.shape) for w in noisy.weights] == [(16, 300), (300,), (16, 300), (300,)]
    assert all(w.trainable for w in noisy.weights)
    # The noise generator's state is a variable of the layer, but not one of its weights.
    extra = [v for v in noisy.variables if all(v is not w for w in noisy.weights)]
    assert len(extra) == 1 and extra[0] is noisy.seed_generator.state
    bound = 1 / math.sqrt(16)
    for mu in (noisy.kernel_mu.numpy(), noisy.bias_mu.numpy()):
        assert np.abs(mu).max() <= bound and np.abs(mu).max() > 0.9 * bound  # U(-1/sqrt(in), 1/sqrt(in))
    for sigma in (noisy.kernel_sigma.numpy(), noisy.bias_sigma.numpy()):
        np.testing.assert_allclose(sigma, 0.5 * bound)


def test_seed_makes_layers_equal():
    a, b, c = layer(seed=3), layer(seed=3), layer(seed=4)
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)
    np.testing.assert_array_equal(a(X, training=True).numpy(), b(X, training=True).numpy())  # the same noise, too
    assert not np.allclose(a.get_weights()[0], c.get_weights()[0])


def test_training_false_is_deterministic_and_uses_the_mean_weights():
    noisy = layer(seed=0, activation="relu")
    expected = np.maximum(mean_output(noisy, X), 0)
    for training in (False, None):
        np.testing.assert_allclose(noisy(X, training=training).numpy(), expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(noisy(X).numpy(), noisy(X).numpy())


def test_training_true_draws_fresh_noise_each_call():
    noisy = layer(seed=0)
    first, second = noisy(X, training=True).numpy(), noisy(X, training=True).numpy()
    assert not np.allclose(first, second)
    assert not np.allclose(first, mean_output(noisy, X))
    # one draw serves the whole batch: equal inputs give equal outputs within a call
    same = noisy(np.repeat(X[:1], 3, axis=0), training=True).numpy()
    np.testing.assert_array_equal(same[0], same[2])

    twice = tf.function(lambda x: (noisy(x, training=True), noisy(x, training=True)))
    a, b = twice(X)
    c, _ = twice(X)
    assert not np.allclose(a.numpy(), b.numpy()) and not np.allclose(a.numpy(), c.numpy())


def test_noise_is_factorized():
    noisy = layer(units=3, inputs=4, seed=0)
    f_in, f_out = noisy.sample_noise()
    assert tuple(f_in.shape) == (4,) and tuple(f_out.shape) == (3,)
    kernel, bias = noisy.noisy_weights((f_in, f_out))
    assert tuple(kernel.shape) == (4, 3) and tuple(bias.shape) == (3,)
    eps_kernel = (kernel.numpy() - noisy.kernel_mu.numpy()) / noisy.kernel_sigma.numpy()
    assert np.linalg.matrix_rank(eps_kernel, tol=1e-5) == 1  # ε_W = f(ε_in) f(ε_out)ᵀ
    np.testing.assert_allclose(eps_kernel, np.outer(f_in.numpy(), f_out.numpy()), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        (bias.numpy() - noisy.bias_mu.numpy()) / noisy.bias_sigma.numpy(), f_out.numpy(), rtol=1e-5
    )

    # call(training=True) uses exactly such a draw, without building the matrix
    state = noisy.seed_generator.state.numpy()
    noise = noisy.sample_noise()
    noisy.seed_generator.state.assign(state)
    kernel, bias = noisy.noisy_weights(noise)
    np.testing.assert_allclose(noisy(X, training=True).numpy(), X @ kernel.numpy() + bias.numpy(), rtol=1e-5, atol=1e-6)


def test_noise_statistics():
    """Over many draws: mean ≈ the mean-weights output; variance as σ and the factorization say."""
    noisy = layer(units=3, inputs=4, sigma0=2.0, seed=1)
    x = X[:1]
    n = 4000

    @tf.function
    def draws():
        out = tf.TensorArray(tf.float32, size=n)
        for i in tf.range(n):
            out = out.write(i, noisy(x, training=True)[0])
        return out.stack()

    samples = draws().numpy()  # (n, units)
    assert len(np.unique(samples[:, 0])) == n
    # noise part = f(ε_out_j) (sum_i x_i σ_ij f(ε_in_i) + σ_bj), with E f(ε)² = E|ε| = sqrt(2/π)
    ef2 = math.sqrt(2 / math.pi)
    sigma_w, sigma_b = noisy.kernel_sigma.numpy(), noisy.bias_sigma.numpy()
    expected_var = ef2 * (ef2 * (x[0] ** 2) @ sigma_w**2 + sigma_b**2)
    mean = mean_output(noisy, x)[0]
    assert np.all(np.abs(samples.mean(axis=0) - mean) < 5 * np.sqrt(expected_var / n))
    np.testing.assert_allclose(samples.var(axis=0), expected_var, rtol=0.15)


def test_trains_under_xla_with_finite_gradients():
    noisy = layer(units=3, inputs=4, seed=0)
    variables = noisy.trainable_variables

    @tf.function(jit_compile=True)
    def gradients(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.square(noisy(x, training=True)))
        return loss, tape.gradient(loss, variables)

    state = noisy.seed_generator.state.numpy().copy()
    (loss_a, grads), (loss_b, _) = gradients(tf.constant(X)), gradients(tf.constant(X))
    assert np.isfinite(loss_a.numpy()) and loss_a.numpy() != loss_b.numpy()  # fresh noise per call under XLA too
    assert not np.array_equal(noisy.seed_generator.state.numpy(), state)
    names = [v.name for v in variables]
    assert names == ["kernel_mu", "bias_mu", "kernel_sigma", "bias_sigma"]
    for name, grad in zip(names, grads, strict=True):
        assert grad is not None and np.isfinite(grad.numpy()).all(), name
        assert np.abs(grad.numpy()).max() > 0, name  # σ learns too


def test_weight_file_round_trip_and_noise_states(tmp_path):
    model = build_mlp(4, 2, (8,), noisy=True, seed=0)
    model.layers[0].kernel_sigma.assign(np.full((4, 8), 0.3, np.float32))  # not the initial value
    path = save_h5(model, tmp_path / "noisy.h5")
    with h5py.File(path, "r") as f:  # the four parameters per layer, and no generator state
        names = [n.decode() for n in f["dense"].attrs["weight_names"]]
    assert names == ["dense/kernel_mu:0", "dense/bias_mu:0", "dense/kernel_sigma:0", "dense/bias_sigma:0"]

    other = build_mlp(4, 2, (8,), noisy=True, seed=1)
    load_h5(other, path)
    for a, b in zip(model.get_weights(), other.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(other(X, training=False).numpy(), model(X, training=False).numpy())

    # the noise stream is not in the file; noise_states carries it where exact resumption matters
    states = noise_states(model)
    assert len(states) == 2 and all(s.shape == (2,) for s in states)
    set_noise_states(other, states)
    np.testing.assert_array_equal(other(X, training=True).numpy(), model(X, training=True).numpy())
    with pytest.raises(ValueError, match="expected 2 noise states"):
        set_noise_states(other, states[:1])

    # a plain Dense model of the same shape does not take a noisy file, and says why
    with pytest.raises(ValueError, match="kernel_mu|expects shapes"):
        load_h5(build_mlp(4, 2, (8,), seed=0), path)


def test_get_config_round_trip():
    noisy = layer(units=3, inputs=4, activation="tanh", sigma0=0.25, seed=7, name="noisy")
    config = noisy.get_config()
    assert config["units"] == 3 and config["sigma0"] == 0.25 and config["seed"] == 7
    clone = NoisyDense.from_config(config)
    clone.build((None, 4))
    assert clone.get_config() == config
    for a, b in zip(noisy.get_weights(), clone.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(
        clone(X, training=True).numpy(), noisy(X, training=True).numpy()
    )  # the same seed, the same noise
    assert keras.saving.get_registered_name(NoisyDense) == "keras_dqn>NoisyDense"


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")  # inside Keras
def test_whole_keras_model_round_trip(tmp_path):
    model = build_mlp(4, 2, (8,), noisy=True, dueling=True, n_atoms=5, seed=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", compile=False)
    assert [type(layer).__name__ for layer in loaded.layers] == ["NoisyDense", "DuelingHead"]
    np.testing.assert_allclose(loaded(X).numpy(), model(X).numpy(), rtol=1e-6)


@pytest.mark.parametrize("sigma0", [0, -0.5, float("nan"), "big"])
def test_bad_sigma0(sigma0):
    with pytest.raises(ValueError, match="sigma0 must be"):
        NoisyDense(3, sigma0=sigma0)
    with pytest.raises(ValueError, match="sigma0 must be"):
        build_mlp(4, 2, noisy=True, sigma0=sigma0)


def test_bad_units_and_seed():
    with pytest.raises(ValueError, match="units must be a positive integer, got 0"):
        NoisyDense(0)
    with pytest.raises(ValueError, match="seed must be an integer or None"):
        NoisyDense(3, seed=1.5)

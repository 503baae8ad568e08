"""Networks: activation_name (the one reading of Keras activations), the builders' Rainbow options
(noisy layers, C51 heads, bfloat16) and the NumPy twin that mirrors them."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_dqn._internals.keras import all_layers
from keras_dqn.networks import precision
from keras_dqn.networks.builders import build_mlp, build_nature_cnn
from keras_dqn.networks.heads import DistributionalHead, DuelingHead, activation_name
from keras_dqn.networks.noisy import NoisyDense
from keras_dqn.networks.numpy_twin import NumpyMLP
from keras_dqn.networks.precision import bf16_supported


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
    # float32 both ways: an output near 0 differs by float rounding (~1e-8), hence an absolute tolerance too
    np.testing.assert_allclose(NumpyMLP.from_model(builtin)(x, builtin.get_weights()), builtin(x).numpy(), rtol=1e-5,
                               atol=1e-6)  # fmt: skip
    assert NumpyMLP.from_model(model(relu)) is None  # named relu, but not Keras's: left to Keras
    assert NumpyMLP.from_model(model(lambda t: t)) is None


# ---------------------------------------------------------------- Rainbow's networks
STATES = np.random.default_rng(1).normal(size=(7, 4)).astype(np.float32)
COMBINATIONS = [(noisy, dueling, n_atoms) for noisy in (False, True) for dueling in (False, True) for n_atoms in (1, 5)]


@pytest.mark.parametrize("noisy, dueling, n_atoms", COMBINATIONS)
def test_mlp_outputs_and_numpy_twin(noisy, dueling, n_atoms):
    model = build_mlp(4, 3, (16, 8), noisy=noisy, dueling=dueling, n_atoms=n_atoms, seed=0)
    assert [layer.name for layer in model.layers] == ["dense", "dense_1", "q_values"]
    kinds = {type(layer) for layer in all_layers(model)}
    assert (NoisyDense in kinds) == noisy and (keras.layers.Dense in kinds) == (not noisy)
    out = model(STATES, training=False).numpy()
    assert out.dtype == np.float32
    if n_atoms == 1:
        assert out.shape == (7, 3)
    else:
        assert out.shape == (7, 3, n_atoms) and np.all(out > 0)
        np.testing.assert_allclose(out.sum(axis=-1), 1.0, rtol=1e-6)
    twin = NumpyMLP.from_model(model)
    assert twin is not None
    np.testing.assert_allclose(twin(STATES, model.get_weights()), out, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dueling, n_atoms", [(False, 1), (True, 1), (False, 5), (True, 5)])
def test_numpy_twin_draws_noise_from_a_generator(dueling, n_atoms):
    model = build_mlp(4, 3, (16,), noisy=True, dueling=dueling, n_atoms=n_atoms, seed=0)
    twin, weights = NumpyMLP.from_model(model), model.get_weights()
    mean = twin(STATES, weights)
    a = twin(STATES, weights, rng=np.random.default_rng(5))
    b = twin(STATES, weights, rng=np.random.default_rng(5))
    c = twin(STATES, weights, rng=np.random.default_rng(6))
    np.testing.assert_array_equal(a, b)
    assert a.shape == mean.shape and not np.allclose(a, mean) and not np.allclose(a, c)
    if n_atoms > 1:
        np.testing.assert_allclose(a.sum(axis=-1), 1.0, rtol=1e-6)


def test_numpy_twin_noise_is_the_layer_formula():
    """One NoisyDense layer: the twin's draw is f(ε_in), f(ε_out) from the generator, in that order."""
    model = keras.Sequential([keras.Input((4,)), NoisyDense(3, seed=0, name="q_values")])
    kernel_mu, bias_mu, kernel_sigma, bias_sigma = model.get_weights()
    rng = np.random.default_rng(9)
    f_in, f_out = (np.sign(e) * np.sqrt(np.abs(e)) for e in (rng.standard_normal(4, np.float32),
                                                                rng.standard_normal(3, np.float32)))  # fmt: skip
    expected = STATES @ (kernel_mu + kernel_sigma * np.outer(f_in, f_out)) + bias_mu + bias_sigma * f_out
    got = NumpyMLP.from_model(model)(STATES, model.get_weights(), rng=np.random.default_rng(9))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    # and over many draws the twin's noisy outputs centre on the mean weights' outputs
    twin, rng = NumpyMLP.from_model(model), np.random.default_rng(0)
    draws = np.stack([twin(STATES[:1], model.get_weights(), rng=rng)[0] for _ in range(3000)])
    np.testing.assert_allclose(draws.mean(axis=0), (STATES[:1] @ kernel_mu + bias_mu)[0], atol=0.03)


def test_default_networks_are_unchanged():
    """noisy=False, n_atoms=1: plain Dense layers and the same weights as before, so old files load."""
    plain = build_mlp(4, 2, seed=0)
    assert [type(layer) for layer in plain.layers] == [keras.layers.Dense] * 3
    assert [tuple(w.shape) for w in plain.weights] == [(4, 24), (24,), (24, 24), (24,), (24, 2), (2,)]
    dueling = build_mlp(4, 2, seed=0, dueling=True)
    assert [w.path.removeprefix("q_network/") for w in dueling.layers[-1].weights] == [
        "q_values/value/kernel", "q_values/value/bias", "q_values/advantage/kernel", "q_values/advantage/bias"
    ]  # fmt: skip
    cnn = build_nature_cnn((4, 36, 36), 6, seed=0)
    assert type(cnn.layers[-1]) is keras.layers.Dense and cnn.output_shape == (None, 6)
    assert all(layer.dtype_policy.name == "float32" for layer in cnn.layers)


@pytest.mark.parametrize("noisy, dueling, n_atoms", COMBINATIONS)
def test_nature_cnn_heads(noisy, dueling, n_atoms):
    model = build_nature_cnn((4, 36, 36), 3, noisy=noisy, dueling=dueling, n_atoms=n_atoms, seed=0)
    names = ["frames_last", "scale", "conv2d", "conv2d_1", "conv2d_2", "flatten", "dense", "q_values"]
    assert [layer.name for layer in model.layers] == names
    assert isinstance(model.get_layer("dense"), NoisyDense) == noisy
    frames = np.random.default_rng(0).integers(0, 256, (2, 4, 36, 36), dtype=np.uint8)
    out = model(frames, training=False).numpy()
    assert out.shape == ((2, 3) if n_atoms == 1 else (2, 3, n_atoms))
    if noisy:
        assert not np.allclose(model(frames, training=True).numpy(), out)
    np.testing.assert_array_equal(model(frames, training=False).numpy(), out)


def test_adam_epsilon_reaches_the_optimizer_and_damps_tiny_gradients():
    assert build_mlp(4, 2, seed=0).optimizer.epsilon == 1e-7  # Keras' default, as before
    assert build_nature_cnn((4, 36, 36), 3, seed=0, adam_epsilon=1.5e-4).optimizer.epsilon == 1.5e-4
    steps = {}
    for epsilon in (1e-7, 1e-3):  # one Adam step on a gradient of 1e-4: the larger epsilon all but stops it
        model = build_mlp(4, 2, (3,), seed=0, learning_rate=0.01, adam_epsilon=epsilon)
        before = model.trainable_variables[0].numpy().copy()
        model.optimizer.apply_gradients([(tf.fill(v.shape, 1e-4), v) for v in model.trainable_variables])
        steps[epsilon] = np.abs(model.trainable_variables[0].numpy() - before).max()
    assert steps[1e-7] == pytest.approx(0.01, rel=0.05) and steps[1e-3] < 1e-4  # lr, then 300x less
    with pytest.raises(ValueError, match="adam_epsilon must be positive, got 0"):
        build_mlp(4, 2, adam_epsilon=0)


def test_heads_get_config_round_trip():
    for head in (
        DuelingHead(3, n_atoms=5, noisy=True, sigma0=0.3, seed=1, name="q_values"),
        DistributionalHead(3, 5, noisy=False, name="q_values"),
    ):
        clone = type(head).from_config(head.get_config())
        assert clone.get_config() == head.get_config()
    model = build_mlp(4, 3, (8,), noisy=True, dueling=False, n_atoms=5, seed=0)
    clone = keras.Sequential.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone(STATES).numpy(), model(STATES).numpy(), rtol=1e-6)


@pytest.mark.parametrize("n_atoms", [0, -1, 1.5, "5", None])
def test_bad_n_atoms(n_atoms):
    with pytest.raises(ValueError, match="n_atoms"):
        build_mlp(4, 2, n_atoms=n_atoms)
    with pytest.raises(ValueError, match="n_atoms"):
        build_nature_cnn((4, 36, 36), 2, n_atoms=n_atoms)


def test_distributional_head_needs_two_atoms():
    with pytest.raises(ValueError, match="n_atoms >= 2"):
        DistributionalHead(3, 1)


# ---------------------------------------------------------------- bfloat16
@pytest.mark.parametrize("noisy, dueling, n_atoms", [(False, False, 1), (True, True, 11)])
def test_bf16_cnn_outputs_float32_and_trains(noisy, dueling, n_atoms):
    before = keras.config.dtype_policy().name
    model = build_nature_cnn(
        (4, 36, 36), 3, noisy=noisy, dueling=dueling, n_atoms=n_atoms, seed=0, dtype_policy="mixed_bfloat16"
    )
    assert keras.config.dtype_policy().name == before  # the global policy is left alone
    assert {layer.name: layer.compute_dtype for layer in model.layers if layer.weights} == {
        "conv2d": "bfloat16", "conv2d_1": "bfloat16", "conv2d_2": "bfloat16", "dense": "bfloat16", "q_values": "float32"
    }  # fmt: skip
    assert {w.dtype for w in model.weights} == {"float32"}
    assert NumpyMLP.from_model(model) is None
    frames = tf.constant(np.random.default_rng(0).integers(0, 256, (8, 4, 36, 36), dtype=np.uint8))
    out = model(frames)
    assert out.dtype == tf.float32 and tuple(out.shape) == ((8, 3) if n_atoms == 1 else (8, 3, n_atoms))
    targets = tf.constant(np.random.default_rng(1).uniform(size=out.shape).astype(np.float32))

    @tf.function(jit_compile=False)
    def step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(frames, training=True) - targets))
        grads = tape.gradient(loss, model.trainable_variables)
        model.optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss

    start = [w.numpy() for w in model.trainable_weights]
    losses = [float(step()) for _ in range(3)]
    assert np.all(np.isfinite(losses))
    assert all(np.isfinite(w.numpy()).all() for w in model.trainable_weights)
    assert not np.array_equal(start[0], model.trainable_weights[0].numpy())


def test_mlp_with_a_bf16_layer_has_no_numpy_twin():
    policy = keras.DTypePolicy("mixed_bfloat16")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, dtype=policy), keras.layers.Dense(2)])
    assert NumpyMLP.from_model(model) is None


def test_bad_dtype_policy():
    with pytest.raises(ValueError, match="dtype_policy 'bfloat17'"):
        build_nature_cnn((4, 36, 36), 2, dtype_policy="bfloat17")
    with pytest.raises(ValueError, match="dtype_policy must be"):
        build_nature_cnn((4, 36, 36), 2, dtype_policy=16)


def test_bf16_supported_reads_cpu_flags(tmp_path, monkeypatch):
    assert isinstance(bf16_supported(), bool)
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse avx2 avx512f\n\nprocessor\t: 1\nflags\t\t: fpu avx2\n")
    assert not precision._cpu_has_bf16(cpuinfo)
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16\n")
    assert precision._cpu_has_bf16(cpuinfo)
    cpuinfo.write_text("flags\t\t: fpu amx_tile amx_bf16\n")
    assert precision._cpu_has_bf16(cpuinfo)
    assert not precision._cpu_has_bf16(tmp_path / "no-such-file")  # not Linux

    monkeypatch.setattr(precision, "_cpu_has_bf16", lambda: False)
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: [])
    assert bf16_supported() is False
    monkeypatch.setattr(precision, "_cpu_has_bf16", lambda: True)
    assert bf16_supported() is True


def _timed_models(step_ms: dict[str, float], built: list[str]):
    """A ``build`` for fastest_precision whose models take ``step_ms[precision]`` a training step."""
    import time

    def build(name: str) -> keras.Model:
        built.append(name)
        model = build_mlp(3, 2, (4,), seed=0)
        model.train_on_batch = lambda x, y: time.sleep(step_ms[name] / 1000)
        return model

    return build


@pytest.mark.parametrize(
    "step_ms, picked",
    [
        ({"float32": 6.0, "mixed_bfloat16": 1.0}, "mixed_bfloat16"),
        ({"float32": 1.0, "mixed_bfloat16": 6.0}, "float32"),
        ({"float32": 5.0, "mixed_bfloat16": 5.0}, "float32"),  # no gain beyond the margin: float32
    ],
)
def test_fastest_precision_picks_the_faster_step(monkeypatch, step_ms, picked):
    monkeypatch.setattr(precision, "bf16_supported", lambda: True)
    monkeypatch.setattr(precision, "_measured", {})
    built = []
    choice, timings = precision.fastest_precision(_timed_models(step_ms, built), (3,), input_dtype="float32",
                                                  steps=2, cache_key="mlp")  # fmt: skip
    assert choice == picked
    assert set(timings) == {"float32", "mixed_bfloat16"}
    assert all(ms >= 0.9 * step_ms[name] for name, ms in timings.items())  # what the steps took, in ms
    assert built == ["float32", "mixed_bfloat16"]
    again = precision.fastest_precision(_timed_models(step_ms, built), (3,), input_dtype="float32", cache_key="mlp")
    assert again == (choice, timings) and len(built) == 2  # kept for the process: nothing built or timed again
    precision.fastest_precision(_timed_models(step_ms, built), (3,), input_dtype="float32", steps=1)
    assert len(built) == 4  # no cache key: timed again


def test_fastest_precision_times_nothing_without_bfloat16(monkeypatch):
    monkeypatch.setattr(precision, "bf16_supported", lambda: False)
    built = []
    assert precision.fastest_precision(_timed_models({}, built), (3,)) == ("float32", {})
    assert built == []


@pytest.mark.parametrize("dueling", [False, True])
def test_noisy_hidden_false_puts_the_noise_in_the_head_alone(dueling):
    """``noisy_hidden=False``: the hidden layers are plain Dense, the head (both dueling streams) noisy."""
    mlp = build_mlp(4, 3, (16, 8), noisy=True, noisy_hidden=False, dueling=dueling, n_atoms=5, seed=0)
    cnn = build_nature_cnn((4, 36, 36), 3, noisy=True, noisy_hidden=False, dueling=dueling, n_atoms=5, seed=0)
    for model, hidden in ((mlp, ["dense", "dense_1"]), (cnn, ["dense"])):
        assert all(type(model.get_layer(name)) is keras.layers.Dense for name in hidden)
        head = model.get_layer("q_values")
        streams = [head.value, head.advantage] if dueling else [head.logits]  # C51 heads (5 atoms)
        assert all(isinstance(stream, NoisyDense) for stream in streams)
    states = {mlp: STATES, cnn: np.random.default_rng(0).integers(0, 256, (2, 4, 36, 36), dtype=np.uint8)}
    for model, x in states.items():  # the head's noise still moves the outputs; the mean is deterministic
        mean = model(x, training=False).numpy()
        assert not np.allclose(model(x, training=True).numpy(), mean)
        np.testing.assert_array_equal(model(x, training=False).numpy(), mean)
    twin, weights = NumpyMLP.from_model(mlp), mlp.get_weights()  # the NumPy twin that acts reads the mixed stack
    np.testing.assert_allclose(twin(STATES, weights), mlp(STATES, training=False).numpy(), rtol=1e-5, atol=1e-6)
    assert not np.allclose(twin(STATES, weights, rng=np.random.default_rng(0)), twin(STATES, weights))

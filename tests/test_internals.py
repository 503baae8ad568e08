"""The private internals of TensorFlow, Keras and gymnasium that keras_dqn uses are where it expects them.

Each lives in one module named for its library (keras_dqn/_tf_internals.py, _keras_internals.py,
_gym_internals.py); if an upgrade moves one, the test naming it fails here first."""

import gymnasium as gym
import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_dqn import DuelingHead, NoisyDense
from keras_dqn._internals.gym import can_set_autoreset_flags, set_autoreset_flags
from keras_dqn._internals.keras import all_layers
from keras_dqn._internals.tf import _registry, release_custom_gradients


def test_tensorflow_gradient_registry_is_where_release_custom_gradients_looks():
    assert _registry() is not None, "tensorflow moved ops._gradient_registry._registry"

    @tf.custom_gradient
    def identity(x):
        return tf.identity(x), lambda dy: dy

    before = set(_registry())
    with release_custom_gradients():
        tf.function(identity).get_concrete_function(tf.TensorSpec((), tf.float32))
        assert set(_registry()) - before, "tracing a custom gradient registers nothing: the registry moved"
    assert set(_registry()) == before


def test_tensorflow_concrete_functions_have_call_flat():
    function = tf.function(lambda x: x + 1).get_concrete_function(tf.TensorSpec((), tf.float32))
    assert callable(getattr(function, "_call_flat", None)), "tensorflow removed ConcreteFunction._call_flat"
    assert float(function._call_flat([tf.constant(1.0)], function.captured_inputs)) == 2.0


def test_keras_all_layers_finds_noisy_layers_nested_in_a_head():
    inputs = keras.Input((4,))
    outputs = DuelingHead(2, noisy=True, seed=0)(NoisyDense(8, seed=0)(inputs))
    model = keras.Model(inputs, outputs)
    found = [layer for layer in all_layers(model) if isinstance(layer, NoisyDense)]
    assert len(found) == 3  # the hidden layer and the head's two streams


def test_keras_all_layers_says_what_to_do_when_keras_moves_it(monkeypatch):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    monkeypatch.setattr(type(model), "_flatten_layers", None, raising=False)
    with pytest.raises(RuntimeError, match="has no Layer._flatten_layers.*needs an update"):
        list(all_layers(model))


def test_gymnasium_sync_vector_env_has_its_autoreset_flags():
    envs = gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync")
    assert can_set_autoreset_flags(envs), "gymnasium moved SyncVectorEnv._autoreset_envs"
    envs.reset(seed=0)
    set_autoreset_flags(envs, np.array([True, False]))
    _, rewards, terminated, truncated, _ = envs.step(np.zeros(2, dtype=np.int64))
    assert rewards[0] == 0.0 and rewards[1] == 1.0  # sub-env 0 only reset, as the flag said


def test_gymnasium_autoreset_flags_say_what_to_do_when_gymnasium_moves_them():
    class Bare:
        pass

    assert not can_set_autoreset_flags(Bare())
    with pytest.raises(RuntimeError, match="no _autoreset_envs.*needs an update"):
        set_autoreset_flags(Bare(), np.zeros(1, dtype=bool))

"""ConvDQNAgent: the Nature CNN on frame stacks; it learns a synthetic frame env, saves and loads, checks its input."""


import gymnasium as gym
import numpy as np
import pytest
from keras.ops import convert_to_numpy as to_numpy
from support import bar_env  # the synthetic frame env

import keras_dqn
from keras_dqn import ConvDQNAgent, FrameReplayBuffer


def test_conv_agent_network_and_defaults():
    agent = ConvDQNAgent((4, 84, 84), 6, seed=0)
    assert isinstance(agent, keras_dqn.TargetDQNAgent) and isinstance(agent.memory, FrameReplayBuffer)
    assert agent.model.input_shape == (None, 4, 84, 84) and agent.model.output_shape == (None, 6)
    assert agent.model.inputs[0].dtype == "uint8"
    convs = [layer for layer in agent.model.layers if "conv" in layer.name]
    assert [(c.filters, c.kernel_size, c.strides) for c in convs] == [(32, (8, 8), (4, 4)), (64, (4, 4), (2, 2)),
                                                                     (64, (3, 3), (1, 1))]  # fmt: skip
    assert agent.model.layers[-2].units == 512
    assert (agent.gamma, agent.learning_rate, agent.loss, agent.double) == (0.99, 1e-4, "huber", True)
    frames_last = ConvDQNAgent((84, 84, 4), 6, seed=0)
    assert isinstance(frames_last.memory, FrameReplayBuffer) and frames_last.memory.stack_axis == -1
    # the same pixels give the same Q-values whichever axis stacks them
    frames_last.model.set_weights(agent.model.get_weights())
    state = np.random.default_rng(0).integers(0, 256, (4, 84, 84), dtype=np.uint8)
    np.testing.assert_allclose(agent.q_values(state), frames_last.q_values(np.moveaxis(state, 0, -1)), rtol=1e-5)


def test_conv_agent_learns_the_synthetic_frame_env():
    """End to end with keras_dqn.train on a synthetic frame env: greedy play beats chance by far."""
    env = gym.vector.SyncVectorEnv([bar_env] * 4)
    eval_env = gym.vector.SyncVectorEnv([bar_env] * 4)
    agent = ConvDQNAgent(
        env.single_observation_space.shape, 2, seed=0, memory_size=2000, learning_rate=5e-4,
        target_update=50, epsilon_decay=0.98, gamma=0.5,
    )  # fmt: skip
    before = np.mean(keras_dqn.evaluate(agent, eval_env, 20, seed=123))
    history = keras_dqn.train(
        agent, env, 1600, train_every=4, learning_starts=200, eval_env=eval_env, eval_every=800, eval_episodes=8,
        progress=False, seed=0,
    )  # fmt: skip
    after = keras_dqn.evaluate(agent, eval_env, 20, seed=456)
    assert len(history.history["eval_mean"]) == 2
    assert np.mean(after) >= 7.0 > before + 1.0  # optimal 8, random 4
    assert np.isfinite(history.history["loss"]).all()


def test_save_and_load_round_trip(tmp_path):
    agent = ConvDQNAgent((4, 36, 36), 3, seed=0, dueling=True)
    agent.env_id = "ALE/Pong-v5"
    agent.save(tmp_path / "conv.h5")
    loaded = keras_dqn.load_agent(tmp_path / "conv.h5")
    assert type(loaded) is ConvDQNAgent and loaded.state_shape == (4, 36, 36) and loaded.dueling
    assert loaded.env_id == "ALE/Pong-v5"
    states = np.random.default_rng(1).integers(0, 256, (5, 4, 36, 36), dtype=np.uint8)
    np.testing.assert_allclose(loaded.q_values(states), agent.q_values(states), rtol=1e-6)
    np.testing.assert_allclose(to_numpy(loaded.target_model(states)), agent.q_values(states), rtol=1e-5)
    for n in (1, 3):  # any batch size (JAX pads to a power of two), each row its own
        np.testing.assert_allclose(agent.q_values(states[:n]), agent.q_values(states)[:n], rtol=1e-5)
    wrong = ConvDQNAgent((4, 36, 36), 4)
    with pytest.raises(ValueError, match="q_values"):
        wrong.load(tmp_path / "conv.h5")


def test_bad_inputs_get_clear_errors():
    with pytest.raises(ValueError, match=r"image observations.*got \(4,\).*use DQNAgent"):
        ConvDQNAgent((4,), 2)
    with pytest.raises(ValueError, match="image observations"):
        ConvDQNAgent(4, 2)
    with pytest.raises(TypeError, match="Nature CNN"):
        ConvDQNAgent((4, 84, 84), 2, hidden=(64,))
    with pytest.raises(ValueError, match="at least 36x36"):
        ConvDQNAgent((4, 20, 20), 2)
    agent = ConvDQNAgent((4, 36, 36), 2)
    frames = np.zeros((4, 36, 36), np.uint8)
    with pytest.raises(ValueError, match="expected uint8 frames.*float"):
        agent.act(frames.astype(np.float32) / 255)
    with pytest.raises(ValueError, match=r"shape \(4, 36, 36\).*\(4, 84, 84\)"):
        agent.act(np.zeros((4, 84, 84), np.uint8))
    with pytest.raises(ValueError, match="expected uint8 frames"):
        agent.remember(frames.astype(np.float64), 0, 0.0, frames, False)
    with pytest.raises(ValueError, match="observations have shape"):
        keras_dqn.train(agent, gym.vector.SyncVectorEnv([lambda: bar_env(size=40)]), 10, progress=False,
                        eval_episodes=0)  # fmt: skip


# --- the Atari environment ---------------------------------------------------------------

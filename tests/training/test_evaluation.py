"""evaluate(): greedy, seeded, batched across environments, Discrete only."""

import gymnasium as gym
import numpy as np
import pytest

import keras_dqn
from keras_dqn import DQNAgent


class CountingAgent:
    """Always pushes left; records how many states it was asked about."""

    def __init__(self):
        self.calls = 0

    def q_values(self, states):
        self.calls += 1
        return np.tile([1.0, 0.0], (len(states), 1))


def test_vector_and_single_env_agree_episode_by_episode():
    agent = DQNAgent(4, 2, seed=0)
    batched = keras_dqn.evaluate(agent, "CartPole-v1", episodes=12, seed=5, n_envs=5)
    single = keras_dqn.evaluate(agent, gym.make("CartPole-v1"), episodes=12, seed=5)
    assert len(batched) == 12
    assert batched == single  # episode i starts from reset(seed=5 + i) either way


def test_evaluate_is_greedy_whatever_epsilon():
    agent = DQNAgent(4, 2, seed=0, epsilon=1.0)
    a = keras_dqn.evaluate(agent, "CartPole-v1", episodes=5, seed=0)
    agent.epsilon = 0.0
    assert keras_dqn.evaluate(agent, "CartPole-v1", episodes=5, seed=0) == a


def test_batches_q_values_across_envs():
    agent = CountingAgent()
    returns = keras_dqn.evaluate(agent, "CartPole-v1", episodes=50, seed=0)
    # always-left CartPole episodes last ~10 steps: one batched call per step, not per episode
    assert agent.calls == max(returns)
    assert 8 <= np.mean(returns) <= 12


def test_rejects_non_discrete_env():
    with pytest.raises(ValueError, match="Discrete action space"):
        keras_dqn.evaluate(DQNAgent(3, 2), "Pendulum-v1", episodes=2)
    with pytest.raises(ValueError, match="Discrete action space"):
        keras_dqn.check_discrete(gym.make("MountainCarContinuous-v0"))


def test_rejects_bad_episode_count():
    with pytest.raises(ValueError, match="episodes"):
        keras_dqn.evaluate(DQNAgent(4, 2), "CartPole-v1", episodes=0)


def test_unknown_env_id():
    with pytest.raises(ValueError, match="unknown or unavailable gymnasium environment 'CartPole-v99'"):
        keras_dqn.evaluate(DQNAgent(4, 2), "CartPole-v99", episodes=2)
    with pytest.raises(ValueError, match="NoSuchEnv-v0"):
        keras_dqn.make_env("NoSuchEnv-v0")

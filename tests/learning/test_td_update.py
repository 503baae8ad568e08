"""A short run of the blog's loop must learn: greedy return far above random play (~22)."""

import gymnasium as gym
import numpy as np

import keras_dqn


def train_blog_loop(seed: int, steps: int) -> keras_dqn.DQNAgent:
    env = gym.make("CartPole-v1")
    agent = keras_dqn.DQNAgent(4, 2, seed=seed)
    state, _ = env.reset(seed=seed)
    for _ in range(steps):
        action = agent.act(state)
        next_state, reward, terminated, truncated, _ = env.step(action)
        agent.remember(state, action, -10.0 if terminated else reward, next_state, terminated)
        state = next_state
        if terminated or truncated:
            state, _ = env.reset()
        if len(agent.memory) > 32:
            agent.replay(32)
    return agent


def test_short_training_run_beats_random_play_by_far():
    random_returns = keras_dqn.evaluate(RandomAgent(), "CartPole-v1", episodes=50, seed=1000)
    agent = train_blog_loop(seed=0, steps=4000)
    returns = keras_dqn.evaluate(agent, "CartPole-v1", episodes=50, seed=1000)
    assert np.mean(random_returns) < 30
    assert np.mean(returns) > 3 * np.mean(random_returns), (np.mean(returns), np.mean(random_returns))


class RandomAgent:
    """Uniform random Q-values: greedy on them is random play."""

    rng = np.random.default_rng(0)

    def q_values(self, states):
        return self.rng.random((len(states), 2))

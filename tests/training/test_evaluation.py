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
        self.states = 0

    def q_values(self, states):
        self.calls += 1
        self.states += len(states)
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


class EndlessRally(gym.Env):
    """A point (reward +1 or -1, by the action) on each of the first three steps, then nothing,
    for good: an episode that never ends by itself, as greedy Pong's endless rallies."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (4,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(4, np.float32), {}

    def step(self, action):
        self.t += 1
        reward = (1.0 if action == 0 else -1.0) if self.t <= 3 else 0.0
        return np.zeros(4, np.float32), reward, False, False, {}


def test_stall_steps_end_an_episode_that_scores_nothing_any_more():
    agent = CountingAgent()  # action 0: +1 for each of the three points
    assert keras_dqn.evaluate(agent, EndlessRally(), episodes=2, seed=0, stall_steps=10) == [3.0, 3.0]
    assert agent.calls == 2 * (3 + 10)  # each ended 10 steps after its last point
    vector = gym.vector.SyncVectorEnv([EndlessRally for _ in range(3)])
    agent.calls = 0
    assert keras_dqn.evaluate(agent, vector, episodes=3, seed=0, stall_steps=10) == [3.0] * 3
    assert agent.calls == 3 + 10  # one batched call a step, for all three
    assert keras_dqn.evaluate(agent, EndlessRally(), episodes=1, seed=0, max_steps=50) == [3.0]  # else: to the cap
    with pytest.raises(ValueError, match="stall_steps"):
        keras_dqn.evaluate(agent, EndlessRally(), episodes=1, stall_steps=0)


def test_train_cuts_stalled_evaluation_games():
    agent = DQNAgent(4, 2, seed=0)
    history = keras_dqn.train(agent, EndlessRally(), 40, learning_starts=20, eval_every=40, eval_episodes=2,
                              eval_env=EndlessRally(), eval_stall_steps=5, progress=False, seed=0)  # fmt: skip
    assert abs(history.history["eval_mean"][-1]) == 3.0  # three points one way, then cut 5 steps on
    with pytest.raises(ValueError, match="eval_stall_steps"):
        keras_dqn.train(agent, EndlessRally(), 40, eval_env=EndlessRally(), eval_stall_steps=0, progress=False)


class SeedLength(gym.Env):
    """+1 a step for 50 steps from an even reset seed, for 1 step from an odd one: a return
    that is the episode's length, and long and short episodes in turn."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (4,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t, self.length = 0, 50 if (seed if seed is not None else int(self.np_random.integers(2))) % 2 == 0 else 1
        return np.zeros(4, np.float32), {}

    def step(self, action):
        self.t += 1
        return np.zeros(4, np.float32), 1.0, self.t >= self.length, False, {}


class WholeResetsOnly(gym.vector.VectorEnv):
    """A vector env of another library's kind: it resets all its sub-envs or none."""

    def __init__(self, n: int):
        self.inner = gym.vector.SyncVectorEnv([SeedLength] * n)
        self.num_envs, self.metadata = n, self.inner.metadata
        self.single_observation_space, self.single_action_space = SeedLength.observation_space, SeedLength.action_space
        self.observation_space, self.action_space = self.inner.observation_space, self.inner.action_space

    def reset(self, *, seed=None, options=None):
        assert options is None, "this vector env cannot reset one sub-env alone"
        return self.inner.reset(seed=seed)

    def step(self, actions):
        return self.inner.step(actions)


@pytest.mark.parametrize("mode", [gym.vector.AutoresetMode.NEXT_STEP, gym.vector.AutoresetMode.SAME_STEP,
                                  gym.vector.AutoresetMode.DISABLED])  # fmt: skip
def test_a_sub_env_that_finishes_starts_the_next_episode_without_waiting(mode):
    # seeds 0..3 on two sub-envs: lengths 50, 1, 50, 1.  In rounds, the short episodes wait for the
    # long ones (50 + 50 steps); reset alone, sub-env 1 plays episodes 1 and 2 while sub-env 0
    # plays episode 0, then episode 3: 51 steps.
    agent = CountingAgent()
    vector = gym.vector.SyncVectorEnv([SeedLength] * 2, autoreset_mode=mode)
    assert keras_dqn.evaluate(agent, vector, episodes=4, seed=0) == [50.0, 1.0, 50.0, 1.0]
    assert agent.calls == 51
    assert agent.states == 102  # Q-values only for the steps of episodes that count
    agent.calls = agent.states = 0
    assert keras_dqn.evaluate(agent, WholeResetsOnly(2), episodes=4, seed=0) == [50.0, 1.0, 50.0, 1.0]
    assert agent.calls == 100 and agent.states == 102  # in rounds: the same episodes, none over-counted
    single = keras_dqn.evaluate(agent, SeedLength(), episodes=7, seed=3)
    assert keras_dqn.evaluate(agent, gym.vector.SyncVectorEnv([SeedLength] * 3, autoreset_mode=mode), episodes=7,
                              seed=3) == single == [1.0, 50.0, 1.0, 50.0, 1.0, 50.0, 1.0]  # fmt: skip


def test_async_vector_env_resets_one_sub_env_too():
    agent = CountingAgent()
    vector = gym.vector.AsyncVectorEnv([SeedLength] * 2, context="fork")
    try:
        assert keras_dqn.evaluate(agent, vector, episodes=4, seed=0) == [50.0, 1.0, 50.0, 1.0]
    finally:
        vector.close()
    assert agent.calls == 51

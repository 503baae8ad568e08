"""keras_dqn.rl: keras-rl's API (DQNAgent, SequentialMemory, policies) on our compiled agent."""

import gymnasium as gym
import keras
import numpy as np
import pytest

from keras_dqn import DuelingHead
from keras_dqn.rl import (
    BoltzmannQPolicy,
    DQNAgent,
    EpsGreedyQPolicy,
    GreedyQPolicy,
    LinearAnnealedPolicy,
    SequentialMemory,
)


def tutorial_model(window_length=1, obs_shape=(4,), nb_actions=2, hidden=16):
    """The article's model: Flatten, Dense, Activation relu, Dense, Activation linear."""
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input((window_length, *obs_shape)),
            keras.layers.Flatten(),
            keras.layers.Dense(hidden),
            keras.layers.Activation("relu"),
            keras.layers.Dense(nb_actions),
            keras.layers.Activation("linear"),
        ]
    )


def make_agent(model=None, window_length=1, **kwargs):
    model = model if model is not None else tutorial_model(window_length)
    kwargs = {"nb_steps_warmup": 10, "target_model_update": 1e-2, "seed": 0, **kwargs}
    agent = DQNAgent(model=model, nb_actions=2, memory=SequentialMemory(1000, window_length=window_length), **kwargs)
    agent.compile(keras.optimizers.Adam(learning_rate=1e-3), metrics=["mae"])
    return agent


class CounterEnv(gym.Env):
    """Observations [episode number, step number + 1]; every episode terminates after 3 steps."""

    observation_space = gym.spaces.Box(-np.inf, np.inf, (2,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, length=3):
        self.length, self.episode, self.t = length, 0, 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.episode += 1
        self.t = 0
        return np.array([self.episode, 1], np.float32), {}

    def step(self, action):
        self.t += 1
        return np.array([self.episode, self.t + 1], np.float32), 1.0, self.t >= self.length, False, {}


# ---------------------------------------------------------------------------------- policies
def test_eps_greedy_explores_with_probability_eps_uniformly_over_actions():
    policy = EpsGreedyQPolicy(eps=0.3, seed=0)
    q = np.array([0.0, 1.0, 0.5])
    counts = np.bincount([policy.select_action(q) for _ in range(20_000)], minlength=3) / 20_000
    # greedy action 1: (1 - eps) + eps / 3; the others eps / 3 each
    np.testing.assert_allclose(counts, [0.1, 0.8, 0.1], atol=0.015)
    assert {EpsGreedyQPolicy(eps=0.0, seed=1).select_action(q) for _ in range(200)} == {1}


def test_eps_greedy_with_one_seed_repeats_and_without_follows_np_random_seed():
    q = np.zeros(4)
    p1, p2 = EpsGreedyQPolicy(1.0, seed=5), EpsGreedyQPolicy(1.0, seed=5)
    assert [p1.select_action(q) for _ in range(50)] == [p2.select_action(q) for _ in range(50)]
    np.random.seed(123)
    first = [EpsGreedyQPolicy(1.0).select_action(q) for _ in range(50)]
    np.random.seed(123)
    assert [EpsGreedyQPolicy(1.0).select_action(q) for _ in range(50)] == first
    assert len(set(first)) == 4


def test_boltzmann_samples_softmax_of_q_over_tau():
    q = np.array([1.0, 2.0, 3.0])
    policy = BoltzmannQPolicy(tau=2.0, seed=0)
    expected = np.exp(q / 2.0) / np.exp(q / 2.0).sum()
    np.testing.assert_allclose(policy.probabilities(q), expected, rtol=1e-12)
    counts = np.bincount([policy.select_action(q) for _ in range(20_000)], minlength=3) / 20_000
    np.testing.assert_allclose(counts, expected, atol=0.015)
    np.testing.assert_allclose(BoltzmannQPolicy(tau=1e6).probabilities(q), [1 / 3] * 3, atol=1e-5)
    # huge Q-values: clipped, no overflow
    assert np.isfinite(BoltzmannQPolicy().probabilities(np.array([1e6, 0.0]))).all()


def test_greedy_policy_and_bad_q_values():
    assert GreedyQPolicy().select_action(np.array([0.1, -2.0, 0.3])) == 2
    with pytest.raises(ValueError, match="shape \\(nb_actions,\\)"):
        GreedyQPolicy().select_action(np.zeros((1, 2)))
    with pytest.raises(ValueError, match="eps must be in"):
        EpsGreedyQPolicy(1.5)
    with pytest.raises(ValueError, match="tau must be positive"):
        BoltzmannQPolicy(0.0)


def test_linear_annealing_schedule_values_and_test_value():
    policy = LinearAnnealedPolicy(EpsGreedyQPolicy(), "eps", value_max=1.0, value_min=0.1, value_test=0.05,
                                  nb_steps=1000)  # fmt: skip
    assert policy.value_at(0) == 1.0
    assert policy.value_at(500) == pytest.approx(0.55)
    assert policy.value_at(1000) == pytest.approx(0.1)
    assert policy.value_at(5000) == pytest.approx(0.1)
    assert policy.value_at(200, training=False) == 0.05
    with pytest.raises(ValueError, match="no attribute 'tau'"):
        LinearAnnealedPolicy(EpsGreedyQPolicy(), "tau", 1.0, 0.1, 0.0, 10)


def test_linear_annealing_follows_the_agents_steps_during_fit_and_test():
    inner = EpsGreedyQPolicy(seed=0)
    policy = LinearAnnealedPolicy(inner, "eps", value_max=1.0, value_min=0.1, value_test=0.0, nb_steps=100)
    agent = make_agent(policy=policy, nb_steps_warmup=1000)
    agent.fit(gym.make("CartPole-v1"), nb_steps=40, verbose=0)
    assert agent.step == 40
    assert inner.eps == pytest.approx(1.0 - 0.9 * 39 / 100)  # set before the 40th step's action
    agent.test_policy = policy
    agent.test(gym.make("CartPole-v1"), nb_episodes=1, verbose=0)
    assert inner.eps == 0.0


# ---------------------------------------------------------------------------------- memory
def test_window_stacks_consecutive_observations_and_zero_pads_each_episode_start():
    model = tutorial_model(window_length=3, obs_shape=(2,))
    agent = make_agent(model, window_length=3, nb_steps_warmup=1000)
    history = agent.fit(CounterEnv(), nb_steps=6, verbose=0)
    assert history.history["nb_episode_steps"] == [3, 3]
    memory = agent.memory
    assert len(memory) == 6 and memory.states.shape == (1000, 3, 2)
    z = [0, 0]
    expected_states = [
        [z, z, [1, 1]], [z, [1, 1], [1, 2]], [[1, 1], [1, 2], [1, 3]],
        [z, z, [2, 1]], [z, [2, 1], [2, 2]], [[2, 1], [2, 2], [2, 3]],
    ]  # fmt: skip
    for i, expected in enumerate(expected_states):
        state, _, _, next_state, done = memory[i]
        np.testing.assert_array_equal(state, expected)
        np.testing.assert_array_equal(next_state[:2], expected[1:])
        assert done == (i % 3 == 2)
    np.testing.assert_array_equal(memory[2][3][-1], [1, 4])


def test_sequential_memory_checks_its_arguments():
    with pytest.raises(ValueError, match="window_length must be a positive integer"):
        SequentialMemory(100, window_length=0)
    with pytest.raises(TypeError, match="limit and window_length only"):
        SequentialMemory(100, ignore_episode_boundaries=True)


# ---------------------------------------------------------------------------------- agent
def test_model_whose_output_is_not_nb_actions_is_refused():
    with pytest.raises(ValueError, match=r"shape \(None, 2\) for nb_actions=2; got \(None, 3\)"):
        DQNAgent(model=tutorial_model(nb_actions=3), nb_actions=2, memory=SequentialMemory(100))


def test_model_input_without_the_window_axis_is_refused():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match=r"Flatten\(input_shape=\(1,\) \+ env.observation_space.shape\)"):
        DQNAgent(model=model, nb_actions=2, memory=SequentialMemory(100, window_length=1))


def test_env_that_does_not_fit_the_model_fit_before_compile_and_visualize_without_window():
    agent = DQNAgent(model=tutorial_model(obs_shape=(3,)), nb_actions=2, memory=SequentialMemory(100), seed=0)
    with pytest.raises(RuntimeError, match="call compile\\(\\) before fit"):
        agent.fit(gym.make("CartPole-v1"), nb_steps=10)
    agent.compile("adam")
    with pytest.raises(ValueError, match=r"observations have shape \(4,\).*must be \(1, 4\)"):
        agent.fit(gym.make("CartPole-v1"), nb_steps=10)
    good = make_agent()
    with pytest.raises(ValueError, match="render_mode='human'"):
        good.fit(gym.make("CartPole-v1"), nb_steps=10, visualize=True)
    with pytest.raises(ValueError, match="unknown Keras metric"):
        good.compile("adam", metrics=["not_a_metric"])


def test_fit_history_stores_terminated_only_and_learns_on_schedule():
    agent = make_agent(nb_steps_warmup=20, train_interval=2, batch_size=8)
    history = agent.fit(gym.make("CartPole-v1"), nb_steps=50, verbose=0, nb_max_episode_steps=5)
    assert history.history["nb_episode_steps"] == [5] * 10
    assert history.history["nb_steps"] == list(range(5, 55, 5))
    assert history.history["episode_reward"] == [5.0] * 10
    assert set(history.history) == {"episode_reward", "nb_episode_steps", "nb_steps"}
    assert len(agent.memory) == 50
    assert not agent.memory.dones[:50].any()  # cut by nb_max_episode_steps: truncated, not terminal
    assert agent.core.train_steps == len(range(22, 51, 2))  # steps 22, 24, ..., 50
    test = agent.test(gym.make("CartPole-v1"), nb_episodes=5, verbose=0)
    assert len(test.history["episode_reward"]) == 5 and set(test.history) == {"episode_reward", "nb_steps"}


def test_cartpole_terminations_are_stored_as_done():
    agent = make_agent()
    history = agent.fit(gym.make("CartPole-v1"), nb_steps=100, verbose=0)
    n_episodes = len(history.history["episode_reward"])
    assert n_episodes >= 2 and int(agent.memory.dones[:100].sum()) == n_episodes


def test_target_model_update_soft_and_hard_and_double_dqn():
    soft = make_agent(target_model_update=1e-2, batch_size=8)
    assert soft.core.tau == 0.01
    before = soft.target_model.get_weights()
    soft.fit(gym.make("CartPole-v1"), nb_steps=30, verbose=0)
    after, online = soft.target_model.get_weights(), soft.model.get_weights()
    assert not np.allclose(before[0], after[0]) and not np.allclose(after[0], online[0])
    hard = make_agent(target_model_update=10, train_interval=2, enable_double_dqn=True)
    assert hard.core.tau is None and hard.core.target_update_every == 5 and hard.core.double
    assert make_agent(target_model_update=1e4).core.target_update_every == 10_000
    assert not make_agent().core.double  # keras-rl's default


def test_delta_clip_selects_the_loss():
    assert make_agent().model.loss == "mse"
    huber = make_agent(delta_clip=2.0).model.loss
    assert isinstance(huber, keras.losses.Huber)
    # |error| = 3 > delta = 2: the linear branch, delta * (|error| - delta / 2)
    assert float(huber(np.zeros(1), np.full(1, 3.0))) == pytest.approx(2.0 * (3.0 - 1.0))


def test_dueling_network_replaces_the_output_layer_and_keeps_acting_in_numpy():
    user_model = tutorial_model()
    agent = make_agent(user_model, enable_dueling_network=True)
    assert isinstance(agent.model.layers[-1], DuelingHead) and agent.model.output_shape == (None, 2)
    assert agent.model.layers[1] is user_model.layers[1]  # the hidden layers are the user's
    assert isinstance(agent.target_model.layers[-1], DuelingHead)
    assert agent.core._numpy_model is not None
    agent.fit(gym.make("CartPole-v1"), nb_steps=40, verbose=0)
    x = np.random.default_rng(0).normal(size=(5, 1, 4)).astype(np.float32)
    np.testing.assert_allclose(agent.core.q_values(x), agent.model(x).numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="dueling_type='avg'"):
        DQNAgent(model=tutorial_model(), nb_actions=2, memory=SequentialMemory(10), dueling_type="max")


def test_numpy_twin_of_the_tutorial_model_matches_keras():
    agent = make_agent()
    assert agent.core._numpy_model is not None  # Dense + Activation layers act in NumPy
    x = np.random.default_rng(1).normal(size=(7, 1, 4)).astype(np.float32)
    np.testing.assert_allclose(agent.core.q_values(x), agent.model(x).numpy(), rtol=1e-5, atol=1e-6)


def test_save_and_load_weights_round_trip(tmp_path):
    agent = make_agent()
    agent.fit(gym.make("CartPole-v1"), nb_steps=30, verbose=0)
    agent.save_weights(tmp_path / "dqn.h5f")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        agent.save_weights(tmp_path / "dqn.h5f")
    other = make_agent()
    other.load_weights(tmp_path / "dqn.h5f")
    x = np.ones((1, 1, 4), np.float32)
    np.testing.assert_allclose(other.core.q_values(x), agent.core.q_values(x), rtol=1e-6)
    for w, t in zip(other.model.get_weights(), other.target_model.get_weights(), strict=True):
        np.testing.assert_array_equal(w, t)


def test_callbacks_get_keras_and_keras_rl_style_episode_calls():
    seen_keras, seen_rl = [], []

    class RLStyle:
        def on_episode_end(self, episode, logs):
            seen_rl.append((episode, logs["nb_episode_steps"]))

    keras_cb = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen_keras.append((epoch, dict(logs))))
    agent = make_agent()
    agent.fit(gym.make("CartPole-v1"), nb_steps=20, verbose=0, nb_max_episode_steps=5, callbacks=[keras_cb, RLStyle()])
    assert [e for e, _ in seen_keras] == [0, 1, 2, 3] and seen_rl == [(0, 5), (1, 5), (2, 5), (3, 5)]
    assert seen_keras[0][1] == {"episode_reward": 5.0, "nb_episode_steps": 5, "nb_steps": 5}


def test_verbose_2_prints_a_line_per_episode(capsys):
    agent = make_agent()
    agent.fit(gym.make("CartPole-v1"), nb_steps=20, verbose=2, nb_max_episode_steps=5)
    out = capsys.readouterr().out
    assert "Training for 20 steps ..." in out
    assert " 5/20: episode: 1, duration:" in out and "20/20: episode: 4," in out and "episode reward:  5.000" in out


def test_verbose_1_shows_a_bar_and_a_summary_per_interval(capsys):
    agent = make_agent()
    agent.fit(gym.make("CartPole-v1"), nb_steps=30, verbose=1, nb_max_episode_steps=5, log_interval=20)
    out = capsys.readouterr().out
    assert "Interval 1 (0 steps performed)" in out and "Interval 2 (20 steps performed)" in out
    assert out.count("4 episodes - episode_reward: 5.000 [5.000, 5.000]") == 1  # steps 1-20
    assert out.count("2 episodes - episode_reward: 5.000 [5.000, 5.000]") == 1  # steps 21-30

"""keras_dqn.rl: keras-rl's API (DQNAgent, SequentialMemory, policies) on our compiled agent."""

import gymnasium as gym
import keras
import numpy as np
import pytest
from keras.ops import convert_to_numpy as to_numpy

from keras_dqn import DuelingHead
from keras_dqn.files.checkpoint import load_checkpoint, save_checkpoint
from keras_dqn.replay.base import Batch, ReplayMemory
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


def test_boltzmann_keeps_differences_of_large_q_values_and_clips_only_the_exponent_from_below():
    # Q / tau = [1000, 900]: the softmax is [1, e^-100], not the coin flip of clipping to 500 first
    p = BoltzmannQPolicy(tau=0.1).probabilities(np.array([100.0, 90.0]))
    assert p[0] == pytest.approx(1.0) and p[1] == pytest.approx(np.exp(-100.0), rel=1e-9)
    np.testing.assert_allclose(BoltzmannQPolicy(tau=1.0).probabilities(np.array([100.0, 90.0])),
                               [1 / (1 + np.exp(-10)), np.exp(-10) / (1 + np.exp(-10))], rtol=1e-12)  # fmt: skip
    # huge Q-values: no overflow, and the exponent stops at clip[0] = -500 (never exactly 0)
    p = BoltzmannQPolicy().probabilities(np.array([1e6, 0.0]))
    assert p[0] == pytest.approx(1.0) and p[1] == pytest.approx(np.exp(-500.0), rel=1e-9)
    p = BoltzmannQPolicy(clip=(-5.0, 500.0)).probabilities(np.array([0.0, -100.0]))
    assert p[1] / p[0] == pytest.approx(np.exp(-5.0))
    with pytest.raises(ValueError, match="must be negative"):
        BoltzmannQPolicy(clip=(0.0, 1.0))


def test_greedy_policy_and_bad_q_values():
    assert GreedyQPolicy().select_action(np.array([0.1, -2.0, 0.3])) == 2
    with pytest.raises(ValueError, match="shape \\(nb_actions,\\)"):
        GreedyQPolicy().select_action(np.zeros((1, 2)))
    with pytest.raises(ValueError, match="eps must be in"):
        EpsGreedyQPolicy(1.5)
    with pytest.raises(ValueError, match="tau must be positive"):
        BoltzmannQPolicy(0.0)
    with pytest.raises(ValueError, match="eps must be a number, got None"):
        EpsGreedyQPolicy(None)


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
    with pytest.raises(ValueError, match="value_max >= value_min is expected; got value_max=0.1, value_min=1.0"):
        LinearAnnealedPolicy(BoltzmannQPolicy(), "tau", 0.1, 1.0, 0.1, 100)
    with pytest.raises(ValueError, match="nb_steps must be a positive integer"):
        LinearAnnealedPolicy(EpsGreedyQPolicy(), "eps", 1.0, 0.1, 0.0, 0)


def test_linear_annealing_follows_the_agents_steps_during_fit_and_test():
    inner = EpsGreedyQPolicy(seed=0)
    policy = LinearAnnealedPolicy(inner, "eps", value_max=1.0, value_min=0.1, value_test=0.0, nb_steps=100)
    agent = make_agent(policy=policy, nb_steps_warmup=1000)
    agent.fit(gym.make("CartPole-v1"), nb_steps=40, verbose=0)
    assert agent.step == 40
    assert inner.eps == pytest.approx(1.0 - 0.9 * 39 / 100)  # set before the 40th step's action
    agent.fit(gym.make("CartPole-v1"), nb_steps=1, verbose=0)
    assert agent.step == 1 and inner.eps == 1.0  # each fit() anneals from the start, as in keras-rl
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
    assert len(memory) == 6 and memory.maxlen == 1000 and memory.state_shape == (3, 2)
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
    unbound = SequentialMemory(100)
    assert len(unbound) == 0
    with pytest.raises(RuntimeError, match="allocated when a DQNAgent takes it"):
        unbound.append((np.zeros((1, 4)), 0, 1.0, np.zeros((1, 4)), False))
    with pytest.raises(RuntimeError, match="allocated when a DQNAgent takes it"):
        unbound.sample(1)
    with pytest.raises(RuntimeError, match="allocated when a DQNAgent takes it"):
        unbound.state_dict()
    assert not isinstance(unbound, ReplayMemory)  # no state shape yet


def test_sequential_memory_is_a_replay_memory_once_bound_and_round_trips_through_checkpoints(tmp_path):
    agent = make_agent(batch_size=8)
    assert isinstance(agent.memory, ReplayMemory) and agent.core.memory is agent.memory
    assert agent.memory.state_shape == (1, 4) and agent.memory.maxlen == 1000
    agent.fit(gym.make("CartPole-v1"), nb_steps=30, verbose=0)
    save_checkpoint(agent.core, tmp_path, {}, include_memory=True)
    other = make_agent(batch_size=8)
    assert len(other.memory) == 0
    load_checkpoint(other.core, tmp_path)
    assert len(other.memory) == len(agent.memory) == 30
    for i in range(30):
        for mine, theirs in zip(other.memory[i], agent.memory[i], strict=True):
            np.testing.assert_array_equal(mine, theirs)
    for mine, theirs in zip(other.memory.sample(8), agent.memory.sample(8), strict=True):
        np.testing.assert_array_equal(mine, theirs)  # the sampling generator was restored too
    assert weights_equal(other.model, agent.model) and weights_equal(other.target_model, agent.target_model)


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
    assert not any(agent.memory[i][4] for i in range(50))  # cut by nb_max_episode_steps: truncated, not terminal
    assert agent.core.train_steps == len(range(22, 51, 2))  # steps 22, 24, ..., 50
    test = agent.test(gym.make("CartPole-v1"), nb_episodes=5, verbose=0)
    assert len(test.history["episode_reward"]) == 5 and set(test.history) == {"episode_reward", "nb_steps"}


def test_cartpole_terminations_are_stored_as_done():
    agent = make_agent()
    history = agent.fit(gym.make("CartPole-v1"), nb_steps=100, verbose=0)
    n_episodes = len(history.history["episode_reward"])
    assert n_episodes >= 2 and sum(agent.memory[i][4] for i in range(100)) == n_episodes


def weights_equal(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a.get_weights(), b.get_weights(), strict=True))


def test_soft_target_update_blends_the_new_online_weights_after_each_gradient_step():
    agent = make_agent(target_model_update=0.1, batch_size=8, nb_steps_warmup=1000)
    assert agent.core.tau == 0.1
    agent.fit(gym.make("CartPole-v1"), nb_steps=20, verbose=0)  # fills memory, no gradient step
    assert agent.core.train_steps == 0
    target_before = agent.target_model.get_weights()
    for _ in range(2):
        agent.core.train_on_batch(agent.memory.sample(8))
        online, target = agent.model.get_weights(), agent.target_model.get_weights()
        for t, o, t0 in zip(target, online, target_before, strict=True):
            np.testing.assert_allclose(t, 0.1 * o + 0.9 * t0, rtol=1e-5, atol=1e-7)  # o: after the step
        assert not np.allclose(target[0], online[0])
        target_before = target


def test_hard_target_update_copies_every_c_gradient_steps_and_not_in_between():
    agent = make_agent(target_model_update=4, batch_size=8, nb_steps_warmup=1000)
    assert agent.core.tau is None and agent.core.target_update_every == 4
    agent.fit(gym.make("CartPole-v1"), nb_steps=20, verbose=0)
    synced = []
    for step in range(1, 10):
        agent.core.train_on_batch(agent.memory.sample(8))
        if weights_equal(agent.model, agent.target_model):
            synced.append(step)
    assert synced == [4, 8]
    # env steps -> gradient steps, rounded down (never copying later than keras-rl would)
    assert make_agent(target_model_update=10, train_interval=2).core.target_update_every == 5
    assert make_agent(target_model_update=7, train_interval=2).core.target_update_every == 3
    assert make_agent(target_model_update=1, train_interval=4).core.target_update_every == 1
    assert make_agent(target_model_update=1e4).core.target_update_every == 10_000


@pytest.mark.parametrize("double", [True, False])
def test_double_dqn_targets_value_the_online_argmax_with_the_target_network(double):
    agent = make_agent(target_model_update=10, enable_double_dqn=double)
    assert agent.core.double == double and make_agent().core.double is False  # keras-rl's default: off
    weights = agent.model.get_weights()
    weights[-2], weights[-1] = -weights[-2], -weights[-1]  # target Q = -online Q: the two disagree
    agent.target_model.set_weights(weights)
    next_states = np.random.default_rng(0).normal(size=(3, 1, 4)).astype(np.float32)
    rewards, dones = np.array([1.0, 2.0, 3.0], np.float32), np.array([0.0, 0.0, 1.0], np.float32)
    online_q = to_numpy(agent.model(next_states))
    assert (online_q.max(axis=1) != online_q.min(axis=1)).all()
    # double: the online argmax a*, valued by the target net, is -max Q; plain: the target's max, -min Q
    next_value = -online_q.max(axis=1) if double else -online_q.min(axis=1)
    expected = rewards + 0.99 * (1.0 - dones) * next_value
    batch = Batch(next_states, np.zeros(3, np.int32), rewards, next_states, dones, discounts=0.99 * (1.0 - dones))
    targets = to_numpy(agent.core.compute_targets(batch))
    np.testing.assert_allclose(targets, expected, rtol=1e-5)


def terminal_batch(reward, n=4):
    """Zero states (Q = 0 for the tutorial model: zero biases), terminal: every TD error is ``reward``."""
    zeros = np.zeros((n, 1, 4), np.float32)
    return Batch(zeros, np.zeros(n, np.int32), np.full(n, reward, np.float32), zeros, np.ones(n, np.float32))


@pytest.mark.parametrize(("delta_clip", "expected"), [(np.inf, 0.5 * 100.0**2), (1.0, 100.0 - 0.5),
                                                      (2.0, 2.0 * (100.0 - 1.0))])  # fmt: skip
def test_delta_clip_is_the_loss_of_the_training_step(delta_clip, expected):
    # keras-rl's huber_loss: 0.5 * x**2 inside the clip, clip * (|x| - clip / 2) outside; no clip: 0.5 * x**2
    agent = make_agent(delta_clip=delta_clip)
    assert np.all(to_numpy(agent.model(np.zeros((1, 1, 4), np.float32))) == 0.0)
    assert agent.core.train_on_batch(terminal_batch(100.0)) == pytest.approx(expected, rel=1e-6)
    assert agent.core.train_steps == 1


def test_bad_agent_arguments_get_one_clear_error():
    with pytest.raises(ValueError, match=r"delta_clip \(np.inf for no clipping\) must be a number, got None"):
        make_agent(delta_clip=None)
    with pytest.raises(ValueError, match="gamma, the discount rate, must be in"):
        make_agent(gamma=1.5)
    with pytest.raises(ValueError, match="target_model_update must be a number, got True"):
        make_agent(target_model_update=True)
    with pytest.raises(TypeError, match=r"keras-rl's \['processor'\] is not supported here"):
        make_agent(processor=object())
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) \['verbosity'\]"):
        make_agent().fit(gym.make("CartPole-v1"), 10, verbosity=0)
    with pytest.raises(TypeError, match=r"keras-rl's \['action_repetition'\] is not supported"):
        make_agent().test(gym.make("CartPole-v1"), action_repetition=2)


def test_dense_before_flatten_with_a_window_acts_in_keras_and_trains():
    # keras-rl's usual layout for window_length > 1: the first Dense acts on each observation
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2, 4)), keras.layers.Dense(8, activation="relu"), keras.layers.Flatten(),
                              keras.layers.Dense(2)])  # fmt: skip
    agent = make_agent(model, window_length=2, batch_size=8)
    assert agent.core.numpy_model is None  # a flat NumPy twin cannot mirror it
    agent.fit(gym.make("CartPole-v1"), nb_steps=30, verbose=0)
    assert agent.core.train_steps == 20
    x = np.random.default_rng(2).normal(size=(5, 2, 4)).astype(np.float32)
    np.testing.assert_allclose(agent.core.q_values(x), to_numpy(model(x)), rtol=1e-5, atol=1e-6)
    assert make_agent(tutorial_model(window_length=2), window_length=2).core.numpy_model is not None  # Flatten first


def test_fit_survives_ctrl_c_and_tells_the_callbacks():
    ends = []

    class EndLogger:
        def on_train_end(self, logs):
            ends.append(logs)

    class StopAtSecondEpisode(EndLogger):
        def on_episode_end(self, episode, logs):
            if episode == 1:
                raise KeyboardInterrupt

    agent = make_agent()
    history = agent.fit(gym.make("CartPole-v1"), nb_steps=1000, verbose=0, nb_max_episode_steps=5,
                        callbacks=[StopAtSecondEpisode()])  # fmt: skip
    assert isinstance(history, keras.callbacks.History)
    assert history.history["nb_steps"] == [5] and agent.step == 10 and not agent.training
    assert ends == [{"did_abort": True}]
    agent.fit(gym.make("CartPole-v1"), nb_steps=5, verbose=0, callbacks=[EndLogger()])
    assert ends[-1] == {"did_abort": False}


@pytest.mark.parametrize("annealed", [False, True])
def test_agent_seed_makes_fit_repeatable_whatever_the_global_numpy_state(annealed):
    runs = []
    for global_seed in (1, 2):
        model = tutorial_model()  # (keras.utils.set_random_seed also seeds np.random: so seed it after)
        np.random.seed(global_seed)
        policy = LinearAnnealedPolicy(EpsGreedyQPolicy(), "eps", 1.0, 0.1, 0.0, 100) if annealed else None
        agent = make_agent(model, policy=policy, seed=7, batch_size=8)
        env = gym.make("CartPole-v1")
        env.reset(seed=0)
        history = agent.fit(env, nb_steps=60, verbose=0)
        runs.append((history.history["episode_reward"], [agent.memory[i][1] for i in range(60)]))
    assert runs[0] == runs[1]
    assert len(set(runs[0][1])) == 2  # it did explore


def test_dueling_network_replaces_the_output_layer_and_keeps_acting_in_numpy():
    user_model = tutorial_model()
    agent = make_agent(user_model, enable_dueling_network=True)
    assert isinstance(agent.model.layers[-1], DuelingHead) and agent.model.output_shape == (None, 2)
    assert agent.model.layers[1] is user_model.layers[1]  # the hidden layers are the user's
    assert isinstance(agent.target_model.layers[-1], DuelingHead)
    assert agent.core.numpy_model is not None
    agent.fit(gym.make("CartPole-v1"), nb_steps=40, verbose=0)
    x = np.random.default_rng(0).normal(size=(5, 1, 4)).astype(np.float32)
    np.testing.assert_allclose(agent.core.q_values(x), to_numpy(agent.model(x)), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="dueling_type='avg'"):
        DQNAgent(model=tutorial_model(), nb_actions=2, memory=SequentialMemory(10), dueling_type="max")


def test_numpy_twin_of_the_tutorial_model_matches_keras():
    agent = make_agent()
    assert agent.core.numpy_model is not None  # Dense + Activation layers act in NumPy
    x = np.random.default_rng(1).normal(size=(7, 1, 4)).astype(np.float32)
    np.testing.assert_allclose(agent.core.q_values(x), to_numpy(agent.model(x)), rtol=1e-5, atol=1e-6)


def test_save_and_load_weights_round_trip(tmp_path):
    agent = make_agent(batch_size=8)
    agent.fit(gym.make("CartPole-v1"), nb_steps=30, verbose=0)
    assert agent.core.train_steps == 20  # steps 11..30 learn, so the weights moved
    agent.save_weights(tmp_path / "dqn.h5f")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        agent.save_weights(tmp_path / "dqn.h5f")
    other = make_agent(batch_size=8)
    x = np.ones((1, 1, 4), np.float32)
    assert not weights_equal(other.model, agent.model)
    assert not np.allclose(other.core.q_values(x), agent.core.q_values(x))
    other.load_weights(tmp_path / "dqn.h5f")
    assert weights_equal(other.model, agent.model)
    np.testing.assert_allclose(other.core.q_values(x), agent.core.q_values(x), rtol=1e-6)
    assert weights_equal(other.model, other.target_model)


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

"""Exploration schedules: the blog's multiplicative decay and the linear one, in the agent and train()."""

import gymnasium as gym
import numpy as np
import pytest

import keras_dqn
from keras_dqn.exploration import (
    LinearDecay,
    MultiplicativeDecay,
    linear_over_fraction,
    schedule_config,
    schedule_from_config,
)


def test_linear_schedule_values_at_the_start_the_end_of_its_fraction_and_after():
    schedule = linear_over_fraction(1.0, 0.1, fraction=0.2, total_steps=10_000)
    assert schedule == LinearDecay(1.0, 0.1, 2000)
    assert schedule(0.5, 0, 0) == pytest.approx(1.0)  # depends on the env step only
    assert schedule(0.5, 500, 7) == pytest.approx(1.0 - 0.9 * 0.25)
    assert schedule(0.5, 1000, 0) == pytest.approx(0.55)
    assert schedule(0.5, 2000, 0) == pytest.approx(0.1)
    assert schedule(0.5, 9999, 3) == pytest.approx(0.1)
    assert schedule(0.7, None, 5) == 0.7  # no env-step count (the blog's replay()): unchanged


def test_multiplicative_schedule_is_the_blogs_decay_per_gradient_step_down_to_its_floor():
    schedule = MultiplicativeDecay(0.5, 0.1)
    assert schedule(1.0, None, 1) == 0.5
    assert schedule(1.0, 123, 2) == 0.25
    assert schedule(0.3, None, 5) == 0.1  # the floor
    assert schedule(0.05, None, 1) == 0.05  # an epsilon set below the floor is never raised
    assert schedule(0.8, 1000, 0) == 0.8  # no gradient step: no decay


def test_agent_replay_follows_its_default_multiplicative_schedule():
    agent = keras_dqn.DQNAgent(4, 2, seed=0, epsilon_decay=0.9, epsilon_min=0.5)
    assert agent.exploration == MultiplicativeDecay(0.9, 0.5)
    rng = np.random.default_rng(0)
    for _ in range(40):
        agent.remember(rng.normal(size=4), int(rng.integers(2)), 1.0, rng.normal(size=4), False)
    agent.replay(32)
    assert agent.epsilon == pytest.approx(0.9)
    for _ in range(20):
        agent.replay(32)
    assert agent.epsilon == pytest.approx(0.5)


def test_an_injected_schedule_drives_decay_epsilon():
    agent = keras_dqn.DQNAgent(4, 2, seed=0, exploration=LinearDecay(1.0, 0.0, 100))
    agent.decay_epsilon(1, env_steps=25)
    assert agent.epsilon == pytest.approx(0.75)
    agent.decay_epsilon(1)  # replay()'s call: no env-step count, no change
    assert agent.epsilon == pytest.approx(0.75)


def test_train_with_exploration_fraction_falls_linearly_over_that_share_of_the_run():
    agent = keras_dqn.DQNAgent(4, 2, seed=0, epsilon_min=0.01)
    history = keras_dqn.train(agent, gym.make("CartPole-v1"), 800, learning_starts=64, eval_every=200,
                              eval_episodes=0, progress=False, seed=0, exploration_fraction=0.5,
                              exploration_final_eps=0.2)  # fmt: skip
    # rows at 200, 400, 600, 800 env steps: 1 -> 0.2 over the first 400
    assert history.history["epsilon"] == pytest.approx([0.6, 0.2, 0.2, 0.2])
    assert agent.exploration == MultiplicativeDecay(0.995, 0.01)  # the schedule was for that call only


def test_a_second_train_call_never_sends_epsilon_back_up():
    agent = keras_dqn.DQNAgent(4, 2, seed=0, epsilon_min=0.01)
    settings = dict(learning_starts=64, eval_every=200, eval_episodes=0, progress=False, seed=0)
    keras_dqn.train(agent, gym.make("CartPole-v1"), 400, exploration_fraction=0.5, exploration_final_eps=0.2,
                    **settings)  # fmt: skip
    assert agent.epsilon == pytest.approx(0.2)
    steps_before = agent.train_steps
    history = keras_dqn.train(agent, gym.make("CartPole-v1"), 400, **settings)  # the agent's own decay, from 0.2
    assert all(epsilon < 0.2 for epsilon in history.history["epsilon"])
    assert agent.epsilon == pytest.approx(max(0.01, 0.2 * 0.995 ** (agent.train_steps - steps_before)))


def test_train_without_exploration_fraction_keeps_the_blogs_decay():
    agent = keras_dqn.DQNAgent(4, 2, seed=0, epsilon_decay=0.99)
    keras_dqn.train(agent, gym.make("CartPole-v1"), 300, learning_starts=100, eval_every=300, eval_episodes=0,
                    progress=False, seed=0)  # fmt: skip
    assert 190 < agent.train_steps < 210
    assert agent.epsilon == pytest.approx(0.99**agent.train_steps)


@pytest.mark.parametrize(
    "config, message",
    [
        ({"kind": "cosine"}, "kind must be one of"),
        ({"kind": "linear", "start": 1.0, "end": 0.1}, "exploration schedule linear"),
        ({"kind": "linear", "start": 1.0, "end": 2.0, "steps": 10}, r"exploration_final_eps\) must be in \[0, 1\]"),
        ({"kind": "multiplicative", "decay": 0.0, "floor": 0.1}, r"epsilon_decay must be in \(0, 1\]"),
    ],
)
def test_bad_schedule_configs_are_one_clear_error(config, message):
    with pytest.raises(ValueError, match=message):
        schedule_from_config(config)


def test_schedule_configs_round_trip():
    for schedule in (MultiplicativeDecay(0.995, 0.01), LinearDecay(1.0, 0.05, 1000)):
        assert schedule_from_config(schedule_config(schedule)) == schedule
    assert schedule_config(lambda epsilon, env_steps, gradient_steps: 0.0) is None


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"exploration_fraction": 0.0}, r"exploration_fraction must be in \(0, 1\]"),
        ({"exploration_fraction": 1.5}, r"exploration_fraction must be in \(0, 1\]"),
        ({"exploration_fraction": "half"}, "exploration_fraction must be a number"),
        ({"exploration_fraction": 0.1, "exploration_final_eps": -0.1}, r"exploration_final_eps\) must be in"),
        ({"exploration_final_eps": 0.05}, "exploration_final_eps needs exploration_fraction"),
    ],
)
def test_bad_exploration_arguments_to_train_fail_before_any_step(kwargs, message):
    agent = keras_dqn.DQNAgent(4, 2, seed=0)
    with pytest.raises(ValueError, match=message):
        keras_dqn.train(agent, gym.make("CartPole-v1"), 100, eval_episodes=0, progress=False, **kwargs)
    assert agent.train_steps == 0 and len(agent.memory) == 0


def test_a_noisy_agent_refuses_an_epsilon_schedule():
    agent = keras_dqn.DQNAgent(4, 2, seed=0, noisy=True)
    with pytest.raises(ValueError, match="exploration_fraction: this DQNAgent is noisy"):
        keras_dqn.train(agent, gym.make("CartPole-v1"), 100, eval_episodes=0, progress=False,
                        exploration_fraction=0.1)  # fmt: skip
    assert agent.epsilon == 0.0


def test_a_noisy_agent_refuses_an_injected_schedule():
    with pytest.raises(ValueError, match="noisy agent explores with its noise"):
        keras_dqn.DQNAgent(4, 2, noisy=True, exploration=LinearDecay(1.0, 0.1, 100))


def test_an_exploration_that_is_not_callable_is_an_error():
    with pytest.raises(ValueError, match="exploration must be a schedule"):
        keras_dqn.DQNAgent(4, 2, exploration=0.1)

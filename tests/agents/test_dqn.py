"""DQNAgent: the blog's API, its learning rule, and its errors."""

import keras
import numpy as np
import pytest
from keras.ops import convert_to_numpy as to_numpy

from keras_dqn import DQNAgent
from keras_dqn.replay.base import Batch


def numpy_q(weights, states):
    """Reference forward pass of a ReLU MLP with a linear output layer."""
    h = np.asarray(states, dtype=np.float64)
    for i in range(0, len(weights), 2):
        h = h @ weights[i] + weights[i + 1]
        if i + 2 < len(weights):
            h = np.maximum(h, 0.0)
    return h


def test_blog_defaults_and_model():
    agent = DQNAgent(4, 2)
    assert (agent.state_size, agent.action_size) == (4, 2)
    assert agent.gamma == 0.95 and agent.epsilon == 1.0 and agent.epsilon_min == 0.01
    assert agent.epsilon_decay == 0.995 and agent.learning_rate == 0.001
    assert agent.memory.maxlen == 2000 and len(agent.memory) == 0
    assert isinstance(agent.model, keras.Sequential)
    assert [layer.units for layer in agent.model.layers] == [24, 24, 2]
    assert agent.model.input_shape == (None, 4) and agent.model.output_shape == (None, 2)
    assert float(agent.model.optimizer.learning_rate) == pytest.approx(0.001)


def test_act_returns_python_int_for_both_state_shapes():
    agent = DQNAgent(4, 3, seed=0)
    state = np.array([0.1, -0.2, 0.03, 0.4])
    for s in (state, state.reshape(1, 4), list(state)):
        for epsilon in (0.0, 1.0):
            agent.epsilon = epsilon
            a = agent.act(s)
            assert type(a) is int and 0 <= a < 3
    agent.epsilon = 0.0
    assert agent.act(state) == int(np.argmax(numpy_q(agent.model.get_weights(), state[None])[0]))


def test_q_values_match_keras_model():
    agent = DQNAgent(4, 2, seed=1)
    states = np.random.default_rng(0).normal(size=(7, 4)).astype(np.float32)
    np.testing.assert_allclose(agent.q_values(states), to_numpy(agent.model(states)), rtol=1e-5, atol=1e-6)


def test_epsilon_greedy_frequency():
    agent = DQNAgent(4, 2, seed=3, epsilon=0.3)
    state = np.zeros(4)
    greedy = agent.act(state, greedy=True)
    actions = np.array([agent.act(state) for _ in range(4000)])
    # random actions pick the non-greedy action half the time: expected rate epsilon / 2
    assert np.mean(actions != greedy) == pytest.approx(0.15, abs=0.03)


def test_same_seed_same_network_and_choices():
    a, b = DQNAgent(4, 2, seed=7), DQNAgent(4, 2, seed=7)
    for wa, wb in zip(a.model.get_weights(), b.model.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)
    assert [a.act(np.zeros(4)) for _ in range(50)] == [b.act(np.zeros(4)) for _ in range(50)]
    c = DQNAgent(4, 2, seed=8)
    assert not np.array_equal(a.model.get_weights()[0], c.model.get_weights()[0])


def _fill(agent, n, rng, done=False):
    for _ in range(n):
        agent.remember(rng.normal(size=4), int(rng.integers(2)), float(rng.normal()), rng.normal(size=4), done)


@pytest.mark.parametrize("done", [False, True])
def test_loss_is_squared_error_to_bellman_target(done):
    """The loss of a step is mean (target - Q(s,a))^2, target = r + gamma * max Q(s') or r if done."""
    agent = DQNAgent(4, 2, seed=0, gamma=0.9)
    rng = np.random.default_rng(0)
    batch = Batch(
        rng.normal(size=(16, 4)).astype(np.float32),
        rng.integers(0, 2, 16).astype(np.int32),
        rng.normal(size=16).astype(np.float32),
        rng.normal(size=(16, 4)).astype(np.float32),
        np.full(16, float(done), np.float32),
    )
    w = agent.model.get_weights()
    q = numpy_q(w, batch.states)[np.arange(16), batch.actions]
    future = 0.0 if done else 0.9 * numpy_q(w, batch.next_states).max(axis=1)
    target = batch.rewards + future
    loss = agent.train_on_batch(batch)
    assert loss == pytest.approx(np.mean((target - q) ** 2), rel=1e-4)


@pytest.mark.parametrize("done", [False, True])
def test_replay_moves_q_toward_target(done):
    """Each replay step moves Q(s, a) toward r + gamma * max Q(s') (toward r alone if done)."""
    agent = DQNAgent(4, 2, seed=0, learning_rate=0.01)
    s, s2 = np.array([0.5, -0.1, 0.2, 0.3]), np.array([0.4, 0.0, 0.1, -0.2])
    for _ in range(40):
        agent.remember(s, 1, 2.0, s2, done)
    for _ in range(5):
        q = agent.q_values(np.stack([s, s2]))
        target = 2.0 if done else 2.0 + agent.gamma * q[1].max()
        gap_before = abs(target - q[0, 1])
        agent.replay(32)
        q_after = agent.q_values(s)[0]
        assert abs(target - q_after[1]) < gap_before
    if done:  # with a fixed target, repeated steps converge on the reward itself
        for _ in range(300):
            agent.replay(32)
        assert agent.q_values(s)[0, 1] == pytest.approx(2.0, abs=0.05)


def test_replay_returns_float_and_updates_weights_used_by_act():
    agent = DQNAgent(4, 2, seed=0)
    _fill(agent, 64, np.random.default_rng(1))
    before = [w.copy() for w in agent.model.get_weights()]
    loss = agent.replay(32)
    assert isinstance(loss, float) and np.isfinite(loss)
    after = agent.model.get_weights()
    assert any(not np.array_equal(x, y) for x, y in zip(before, after, strict=True))
    states = np.random.default_rng(2).normal(size=(5, 4))
    np.testing.assert_allclose(agent.q_values(states), numpy_q(after, states), rtol=1e-5, atol=1e-6)
    assert agent.train_steps == 1


def test_epsilon_decays_per_replay_and_stops_at_floor():
    agent = DQNAgent(4, 2, seed=0, epsilon_decay=0.5, epsilon_min=0.1)
    _fill(agent, 40, np.random.default_rng(0))
    seen = []
    for _ in range(6):
        agent.replay(8)
        seen.append(agent.epsilon)
    assert seen == pytest.approx([0.5, 0.25, 0.125, 0.1, 0.1, 0.1])


def test_changing_gamma_and_learning_rate_takes_effect():
    agent = DQNAgent(4, 2, seed=0)
    _fill(agent, 40, np.random.default_rng(0))
    agent.replay(8)
    agent.gamma, agent.learning_rate = 0.0, 0.01
    batch = agent.memory.sample(16)
    q = numpy_q(agent.model.get_weights(), batch.states)[np.arange(16), batch.actions]
    loss = agent.train_on_batch(batch)
    assert loss == pytest.approx(np.mean((batch.rewards - q) ** 2), rel=1e-4)  # gamma 0: target = r
    assert float(agent.model.optimizer.learning_rate) == pytest.approx(0.01)


# ---------------------------------------------------------------- bad input
def test_act_rejects_wrong_state_size():
    agent = DQNAgent(4, 2)
    with pytest.raises(ValueError, match=r"expected a state of shape \(4,\).*got an array of shape \(3,\)"):
        agent.act(np.zeros(3))
    with pytest.raises(ValueError, match=r"shape \(2, 5\)"):
        agent.act(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="one state"):
        agent.act(np.zeros((2, 4)))


def test_replay_before_memory_holds_a_batch():
    agent = DQNAgent(4, 2)
    _fill(agent, 10, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"holds only 10.*replay\(32\)"):
        agent.replay(32)
    assert agent.epsilon == 1.0  # nothing happened


def test_remember_rejects_wrong_state_size():
    agent = DQNAgent(4, 2)
    with pytest.raises(ValueError, match=r"expected states of shape \(4,\), got \(5,\)"):
        agent.remember(np.zeros(5), 0, 1.0, np.zeros(4), False)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(state_size=0, action_size=2), "state_size"),
        (dict(state_size=4, action_size=2.5), "action_size"),
        (dict(state_size=4, action_size=2, gamma=1.5), "gamma"),
        (dict(state_size=4, action_size=2, epsilon_decay=0.0), "epsilon_decay"),
        (dict(state_size=4, action_size=2, learning_rate=-1), "learning_rate"),
        (dict(state_size=4, action_size=2, memory_size=0), "memory_size"),
    ],
)
def test_constructor_rejects_bad_hyperparameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DQNAgent(**kwargs)

"""TargetDQNAgent: frozen target network, hard/soft updates, Double DQN, dueling, losses."""

import numpy as np
import pytest
from keras.ops import convert_to_numpy as to_numpy

from keras_dqn import DQNAgent, DuelingHead, TargetDQNAgent
from keras_dqn.replay.base import Batch


def weights_equal(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a.get_weights(), b.get_weights(), strict=True))


def filled(agent, n=64, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        agent.remember(rng.normal(size=4), int(rng.integers(2)), float(rng.normal()), rng.normal(size=4), False)
    return agent


def fixed_batch(n=16, seed=0, done=False):
    rng = np.random.default_rng(seed)
    return Batch(
        rng.normal(size=(n, 4)).astype(np.float32),
        rng.integers(0, 2, n).astype(np.int32),
        rng.normal(size=n).astype(np.float32),
        rng.normal(size=(n, 4)).astype(np.float32),
        np.full(n, float(done), np.float32),
    )


def test_target_starts_as_a_copy_and_is_a_separate_model():
    agent = TargetDQNAgent(4, 2, seed=0)
    assert agent.target_model is not agent.model
    assert weights_equal(agent.model, agent.target_model)
    assert agent.loss == "huber" and agent.double is True


def test_hard_update_copies_exactly_every_c_steps_and_not_in_between():
    agent = filled(TargetDQNAgent(4, 2, seed=0, target_update=3))
    frozen = agent.target_model.get_weights()
    for step in range(1, 8):
        agent.replay(16)
        if step % 3 == 0:
            assert weights_equal(agent.model, agent.target_model)
            frozen = agent.target_model.get_weights()
        else:
            assert all(np.array_equal(x, y) for x, y in zip(frozen, agent.target_model.get_weights(), strict=True))
            assert not weights_equal(agent.model, agent.target_model)


def test_soft_update_moves_target_by_exactly_tau():
    tau = 0.1
    agent = filled(TargetDQNAgent(4, 2, seed=0, target_update=tau))
    agent.replay(16)  # now online != target
    for _ in range(3):
        target_before = agent.target_model.get_weights()
        agent.replay(16)
        online_after = agent.model.get_weights()
        for t0, w, t1 in zip(target_before, online_after, agent.target_model.get_weights(), strict=True):
            np.testing.assert_allclose(t1, tau * w + (1 - tau) * t0, rtol=1e-5, atol=1e-7)


def test_target_never_changes_during_replay_with_a_long_period():
    agent = filled(TargetDQNAgent(4, 2, seed=0, target_update=1000))
    frozen = agent.target_model.get_weights()
    for _ in range(20):
        agent.replay(16)
    assert all(np.array_equal(x, y) for x, y in zip(frozen, agent.target_model.get_weights(), strict=True))
    agent.update_target_model()  # the blog's per-episode copy
    assert weights_equal(agent.model, agent.target_model)


def _mse_loss_by_hand(agent, batch, double):
    online, target = agent.model.get_weights(), agent.target_model.get_weights()

    def q(weights, states):
        h = np.maximum(states @ weights[0] + weights[1], 0)
        h = np.maximum(h @ weights[2] + weights[3], 0)
        return h @ weights[4] + weights[5]

    next_target = q(target, batch.next_states)
    if double:
        next_value = next_target[np.arange(len(batch.rewards)), q(online, batch.next_states).argmax(axis=1)]
    else:
        next_value = next_target.max(axis=1)
    y = batch.rewards + agent.gamma * (1 - batch.dones) * next_value
    q_taken = q(online, batch.states)[np.arange(len(batch.rewards)), batch.actions]
    return np.mean((y - q_taken) ** 2)


@pytest.mark.parametrize("double", [True, False])
def test_double_dqn_target_equals_hand_computation(double):
    agent = TargetDQNAgent(4, 2, seed=0, loss="mse", double=double, target_update=10_000)
    filled(agent)
    for _ in range(5):  # make online and target differ
        agent.replay(16)
    batch = fixed_batch()
    expected = _mse_loss_by_hand(agent, batch, double)
    assert agent.train_on_batch(batch) == pytest.approx(expected, rel=1e-4)
    # and the two rules really differ on this batch
    other = _mse_loss_by_hand(agent, batch, not double)
    assert not np.isclose(expected, other)


def test_huber_loss_takes_effect():
    batch = fixed_batch(done=True)
    batch = batch._replace(rewards=batch.rewards * 10)  # large errors: Huber is linear there
    losses = {}
    for loss in ("mse", "huber"):
        agent = TargetDQNAgent(4, 2, seed=0, loss=loss)
        q_taken = agent.q_values(batch.states)[np.arange(16), batch.actions]
        err = np.abs(batch.rewards - q_taken)
        expected = np.mean(err**2) if loss == "mse" else np.mean(np.where(err <= 1, 0.5 * err**2, err - 0.5))
        losses[loss] = agent.train_on_batch(batch)
        assert losses[loss] == pytest.approx(expected, rel=1e-4)
    assert losses["huber"] < losses["mse"]


@pytest.mark.parametrize("cls", [DQNAgent, TargetDQNAgent])
def test_dueling_head_shape_and_mean_advantage_identity(cls):
    agent = cls(4, 3, seed=0, dueling=True)
    head = agent.model.layers[-1]
    assert isinstance(head, DuelingHead)
    states = np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32)
    q = agent.q_values(states)
    assert q.shape == (6, 3)
    np.testing.assert_allclose(q, to_numpy(agent.model(states)), rtol=1e-5, atol=1e-6)
    features = states
    for layer in agent.model.layers[:-1]:
        features = layer(features)
    value = to_numpy(head.value(features))
    # mean over actions of Q equals V: the advantages are centred
    np.testing.assert_allclose(q.mean(axis=1, keepdims=True), value, rtol=1e-5, atol=1e-5)
    filled(agent)
    assert np.isfinite(agent.replay(16))


def test_save_load_round_trip_syncs_target(tmp_path):
    agent = filled(TargetDQNAgent(4, 2, seed=0, dueling=True, target_update=1000))
    for _ in range(5):
        agent.replay(16)
    agent.save(tmp_path / "t.h5")
    other = TargetDQNAgent(4, 2, seed=1, dueling=True).load(tmp_path / "t.h5")
    states = fixed_batch().states
    np.testing.assert_array_equal(other.q_values(states), agent.q_values(states))
    assert weights_equal(other.model, other.target_model)


def test_gradient_clipping_option_reaches_the_optimizer():
    agent = TargetDQNAgent(4, 2, clipnorm=10.0)
    assert agent.model.optimizer.clipnorm == 10.0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(target_update=0.0), "target_update"),
        (dict(target_update=-0.5), "target_update"),
        (dict(target_update=1.5), "target_update"),
        (dict(target_update=0), "int C >= 1"),
        (dict(target_update=-3), "int C >= 1"),
        (dict(loss="hinge"), "loss must be one of"),
        (dict(clipnorm=0), "clipnorm"),
    ],
)
def test_bad_hyperparameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TargetDQNAgent(4, 2, **kwargs)


def test_whole_float_target_update_means_hard_copy_period():
    agent = TargetDQNAgent(4, 2, target_update=250.0)
    assert (agent.tau, agent.target_update_every) == (None, 250)


def test_after_a_non_finite_update_the_rest_of_the_call_is_not_run():
    """On every backend: K updates in one call stop at the first non-finite loss (NaN from there on)."""
    agent = filled(TargetDQNAgent(4, 2, seed=0))
    batches = agent.memory.sample_batches(4, 16)
    batches.rewards[1] = np.nan  # the second minibatch's targets are NaN
    result = agent.train_step(batches)
    assert np.isfinite(result.losses[0]) and np.isnan(result.losses[1:]).all()
    assert not result.finite and result.priorities.shape == (4, 16)
    with pytest.raises(FloatingPointError, match="gradient step 2"):
        filled(TargetDQNAgent(4, 2, seed=0)).train_on_batches(batches)


@pytest.mark.parametrize("target_update", [2, 0.2])
def test_k_steps_in_one_call_equal_k_single_steps(target_update):
    """train_on_batches (one compiled loop) == train_on_batch K times, target syncs included."""
    a = filled(TargetDQNAgent(4, 2, seed=0, target_update=target_update))
    b = filled(TargetDQNAgent(4, 2, seed=0, target_update=target_update))
    batches = a.memory.sample_batches(5, 16)
    losses_many = a.train_on_batches(batches)
    losses_one = [b.train_on_batch(Batch(*(x[i] for x in batches[:5]))) for i in range(5)]
    np.testing.assert_allclose(losses_many, losses_one, rtol=1e-5)
    for x, y in zip(a.model.get_weights(), b.model.get_weights(), strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)
    for x, y in zip(a.target_model.get_weights(), b.target_model.get_weights(), strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)
    assert a.train_steps == b.train_steps == 5

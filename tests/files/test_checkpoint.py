"""Checkpoints: the memory's state dict, old files, and damaged files."""

import json

import numpy as np
import pytest

from keras_dqn import DQNAgent
from keras_dqn.files.checkpoint import load_checkpoint, save_checkpoint

STATES = np.random.default_rng(0).normal(size=(8, 4)).astype(np.float32)


def agent_with_memory(seed, n=20, memory_size=50):
    agent = DQNAgent(4, 2, seed=seed, memory_size=memory_size)
    for i in range(n):
        agent.remember(np.full(4, i, np.float32), i % 2, float(i), np.full(4, i + 1, np.float32), i % 7 == 6)
    return agent


def rewrite(path, change):
    """Rewrite the checkpoint at ``path`` with ``change(arrays, meta)`` applied."""
    with np.load(path) as data:
        arrays = dict(data)
    meta = json.loads(str(arrays.pop("meta")))
    change(arrays, meta)
    with open(path, "wb") as f:
        np.savez(f, meta=np.array(json.dumps(meta)), **arrays)


def test_memory_round_trip_through_the_file(tmp_path):
    agent = agent_with_memory(0)
    save_checkpoint(agent, tmp_path, {"steps": 20}, include_memory=True)
    with np.load(tmp_path / "checkpoint.npz") as data:
        assert {"memory/states", "memory/dones"} <= set(data.files)
        assert json.loads(str(data["meta"]))["memory"] == {"next": 20, "size": 20}  # counters only: rng is the agent's
    other = DQNAgent(4, 2, seed=1, memory_size=50)
    assert load_checkpoint(other, tmp_path) == {"steps": 20}
    assert len(other.memory) == 20
    for k in (0, 6, 19):
        for mine, theirs in zip(agent.memory[k], other.memory[k], strict=True):
            np.testing.assert_array_equal(mine, theirs)


def test_a_frame_memory_checkpoint_with_unknown_counters_is_refused_and_changes_nothing(tmp_path):
    """Counters named otherwise (as a format before state dicts had them: "_next", "_size", "_filled")."""
    from keras_dqn import ConvDQNAgent

    agent = ConvDQNAgent((4, 36, 36), 2, seed=0, memory_size=100)
    frames = [np.full((36, 36), i, np.uint8) for i in range(30)]
    for i in range(20):
        state, next_state = np.stack(frames[i : i + 4]), np.stack(frames[i + 1 : i + 5])
        agent.remember(state, i % 2, 1.0, next_state, False)
    save_checkpoint(agent, tmp_path, {}, include_memory=True)
    rewrite(tmp_path / "checkpoint.npz", lambda arrays, meta: meta.update(
        memory={f"_{name}": value for name, value in meta["memory"].items() if name != "rng"}))  # fmt: skip
    other = ConvDQNAgent((4, 36, 36), 2, seed=1, memory_size=100)
    before = [w.copy() for w in other.model.get_weights()]
    with pytest.raises(ValueError, match="checkpoint.npz' holds a replay memory that does not fit this agent's"):
        load_checkpoint(other, tmp_path)
    assert len(other.memory) == 0
    for a, b in zip(before, other.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_memory_that_does_not_fit_changes_nothing(tmp_path):
    save_checkpoint(agent_with_memory(0), tmp_path, {}, include_memory=True)
    small = agent_with_memory(1, n=3, memory_size=10)
    before = small.q_values(STATES)
    expected = (
        r"checkpoint.npz' holds a replay memory that does not fit this agent's ReplayBuffer state: "
        r"'states' should be a float32 array of shape \(10, 4\), found a float32 array of shape \(50, 4\)"
    )
    with pytest.raises(ValueError, match=expected):
        load_checkpoint(small, tmp_path)
    np.testing.assert_array_equal(small.q_values(STATES), before)
    assert len(small.memory) == 3 and small.train_steps == 0


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # truncated
        lambda data: data[:-100],  # the end (the zip directory) cut off
        lambda data: np.random.default_rng(0).bytes(len(data)),  # random bytes
        lambda data: b"",
    ],
)
def test_a_damaged_checkpoint_is_a_value_error_naming_it(tmp_path, damage):
    path = save_checkpoint(agent_with_memory(0), tmp_path, {}, include_memory=True)
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(ValueError, match=rf"'{path}' is not a readable checkpoint"):
        load_checkpoint(DQNAgent(4, 2), tmp_path)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda arrays, meta: arrays.pop("optimizer/1"), r"holds optimizer arrays of shapes \[\(\), None,"),
        (lambda arrays, meta: arrays.pop("model/5"), r"holds model arrays of shapes \[\(4, 24\), .*\(2,\)\]"),
        (lambda arrays, meta: meta.pop("epsilon"), r"its meta lacks \['epsilon'\]"),
    ],
)
def test_a_checkpoint_missing_entries_is_a_value_error_naming_it(tmp_path, change, message):
    path = save_checkpoint(DQNAgent(4, 2, seed=0), tmp_path, {})
    rewrite(path, change)
    agent = DQNAgent(4, 2, seed=1)
    before = agent.q_values(STATES)
    with pytest.raises(ValueError, match=rf"'{path}' .*{message}"):
        load_checkpoint(agent, tmp_path)
    np.testing.assert_array_equal(agent.q_values(STATES), before)


def test_a_single_array_file_is_not_a_checkpoint(tmp_path):
    with open(tmp_path / "checkpoint.npz", "wb") as f:
        np.save(f, np.zeros(3))
    with pytest.raises(ValueError, match="holds one array, not an archive"):
        load_checkpoint(DQNAgent(4, 2), tmp_path)


def test_state_dict_continues_training_exactly_and_refuses_what_does_not_fit():
    """agent.state_dict() / load_state_dict(): the checkpoint's content, through public methods."""
    from keras_dqn import TargetDQNAgent

    def trained(seed):
        agent = TargetDQNAgent(4, 2, seed=seed, memory_size=50, hidden=(8, 8), target_update=3)
        for i in range(40):
            agent.remember(STATES[i % 8], i % 2, 1.0, STATES[(i + 1) % 8], i % 9 == 8)
        for _ in range(5):
            agent.replay(8)
        return agent

    agent, other = trained(0), trained(1)
    other.load_state_dict(agent.state_dict(include_memory=True))
    assert other.train_steps == agent.train_steps and other.epsilon == agent.epsilon
    for _ in range(3):  # the same next steps: weights, target, Adam's slots, sampling
        assert agent.replay(8) == other.replay(8)
    for a, b in zip(agent.model.weights + agent.target_model.weights, other.model.weights + other.target_model.weights,
                    strict=True):  # fmt: skip
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(agent.q_values(STATES), other.q_values(STATES))

    small = TargetDQNAgent(4, 2, seed=2, memory_size=50, hidden=(4,))
    before = [w.numpy().copy() for w in small.model.weights]
    with pytest.raises(ValueError, match=r"holds model arrays of shapes \[\(4, 8\), .*this agent's are \[\(4, 4\)"):
        small.load_state_dict(agent.state_dict())
    for w, b in zip(small.model.weights, before, strict=True):  # nothing changed
        np.testing.assert_array_equal(w.numpy(), b)

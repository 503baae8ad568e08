"""Checkpoints: what each part of an agent (memory, priorities, noise, exploration schedule) keeps
through one, and damaged files. Resuming train() from one: tests/training/test_loop.py."""

import json

import numpy as np
import pytest
from keras.ops import convert_to_numpy as to_numpy
from support import bar_env

import keras_dqn
from keras_dqn import ConvDQNAgent, DQNAgent
from keras_dqn.exploration import LinearDecay
from keras_dqn.files.checkpoint import load_checkpoint, save_checkpoint
from keras_dqn.networks.noisy import noise_states

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


def test_a_prioritized_agent_checkpoint_round_trips_its_priorities_and_max_priority(tmp_path):
    def agent(seed):
        return DQNAgent(4, 2, seed=seed, memory_size=50, prioritized=True, n_step=3)

    saved = agent(0)
    states = np.random.default_rng(0).normal(size=(31, 4)).astype(np.float32)
    for i in range(30):
        saved.remember(states[i], i % 2, 1.0, states[i + 1], i % 11 == 10)
    saved.memory.update_priorities(np.arange(30), np.linspace(0.0, 3.0, 30))
    saved.memory.update_priorities([7], [50.0])  # the largest ever, then lowered:
    saved.memory.update_priorities([7], [0.25])  # max_priority is no longer any stored priority
    assert saved.memory.max_priority > saved.memory.priorities.max()
    save_checkpoint(saved, tmp_path, {"steps": 30}, include_memory=True)
    loaded = agent(1)
    assert load_checkpoint(loaded, tmp_path) == {"steps": 30}
    np.testing.assert_array_equal(loaded.memory.priorities, saved.memory.priorities)
    assert loaded.memory.max_priority == saved.memory.max_priority  # exactly: the JSON float round-trips
    assert loaded.memory.total_priority == saved.memory.total_priority
    for mine, theirs in zip(saved.memory.sample_batches(3, 8), loaded.memory.sample_batches(3, 8), strict=True):
        np.testing.assert_array_equal(mine, theirs)  # the same draws: priorities, tree and the agent's rng
    saved.remember(states[30], 0, 1.0, states[30], False)  # new transitions get max_priority, in both
    loaded.remember(states[30], 0, 1.0, states[30], False)
    np.testing.assert_array_equal(loaded.memory.priorities, saved.memory.priorities)
    np.testing.assert_array_equal(loaded.memory.links, saved.memory.links)  # the lane went on: linked again
    state = {**saved.memory.state_dict(), "lanes": [[0, 99]]}  # a lane's last transition must be stored
    with pytest.raises(ValueError, match=r"'lanes' should be a list of \[sub-env >= 0, age in \[1, size\]\] pairs"):
        loaded.memory.load_state_dict(state)


def test_noise_states_of_both_networks_round_trip_and_a_checkpoint_without_them_is_refused(tmp_path):
    def agent(seed):
        return keras_dqn.RainbowAgent(4, 2, seed=seed, hidden=(8,), memory_size=100)

    saved = agent(0)
    states = np.random.default_rng(0).normal(size=(40, 4)).astype(np.float32)
    for i in range(39):
        saved.remember(states[i], i % 2, 1.0, states[i + 1], False)
    saved.replay(8)  # draws training noise: the generators move on
    saved.target_model(states[:2], training=True)  # the target's again
    path = save_checkpoint(saved, tmp_path, {})
    with np.load(path) as data:
        assert {"noise/model/0", "noise/target/0"} <= set(data.files)
    loaded = agent(0)
    fresh = [noise_states(loaded.model), noise_states(loaded.target_model)]
    assert not all(np.array_equal(a, b) for a, b in zip(fresh[0], noise_states(saved.model), strict=True))
    load_checkpoint(loaded, tmp_path)
    for network in ("model", "target_model"):
        for a, b in zip(noise_states(getattr(saved, network)), noise_states(getattr(loaded, network)), strict=True):
            np.testing.assert_array_equal(a, b)
    saved_draw, loaded_draw = saved.model(states, training=True), loaded.model(states, training=True)
    np.testing.assert_array_equal(to_numpy(saved_draw), to_numpy(loaded_draw))

    with np.load(path) as data:  # a checkpoint that lost its noise states
        arrays = {key: data[key] for key in data.files if not key.startswith("noise/")}
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    untouched = agent(0)
    before = [w.copy() for w in untouched.model.get_weights()]
    with pytest.raises(ValueError, match=r"holds noise/model arrays of shapes \[\], this agent's are \[\(2,\)"):
        load_checkpoint(untouched, tmp_path)
    for a, b in zip(before, untouched.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # checked before anything was set


def test_checkpoint_restores_the_frame_memory(tmp_path):
    agent = ConvDQNAgent((4, 36, 36), 2, seed=0, memory_size=200)
    env = bar_env()
    obs, _ = env.reset(seed=0)
    for _ in range(60):
        action = agent.act(obs)
        next_obs, reward, terminated, truncated, _ = env.step(action)
        agent.remember(obs, action, reward, next_obs, terminated)
        obs = next_obs if not (terminated or truncated) else env.reset()[0]
    save_checkpoint(agent, tmp_path, {"steps": 60}, include_memory=True)
    other = ConvDQNAgent((4, 36, 36), 2, seed=1, memory_size=200)
    assert load_checkpoint(other, tmp_path) == {"steps": 60}
    assert len(other.memory) == len(agent.memory) == 60
    for i in (0, 30, -1):
        for mine, theirs in zip(agent.memory[i], other.memory[i], strict=True):
            np.testing.assert_array_equal(mine, theirs)
    small = ConvDQNAgent((4, 36, 36), 2, memory_size=100)
    with pytest.raises(ValueError, match="does not fit this agent's FrameReplayBuffer"):
        load_checkpoint(small, tmp_path)


# --- the agent ---------------------------------------------------------------------------


def test_checkpoint_keeps_the_schedule_a_resumed_run_follows(tmp_path):
    agent = keras_dqn.DQNAgent(4, 2, seed=0)
    agent.exploration = LinearDecay(1.0, 0.05, 12_000)
    save_checkpoint(agent, tmp_path, {"steps": 0})
    fresh = keras_dqn.DQNAgent(4, 2, seed=1)
    load_checkpoint(fresh, tmp_path)
    assert fresh.exploration == LinearDecay(1.0, 0.05, 12_000)


def test_checkpoint_records_the_precision_and_warns_a_resume_in_another(tmp_path):
    from keras_dqn.files.checkpoint import checkpoint_precision
    from keras_dqn.networks.precision import bf16_supported

    agent = keras_dqn.ConvDQNAgent((4, 36, 36), 3, memory_size=50, seed=0)
    save_checkpoint(agent, tmp_path, {"steps": 0})
    assert checkpoint_precision(tmp_path) == "float32"
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        checkpoint_precision(tmp_path / "elsewhere")
    mlp = keras_dqn.DQNAgent(4, 2, seed=0)
    save_checkpoint(mlp, tmp_path / "mlp", {"steps": 0})
    assert checkpoint_precision(tmp_path / "mlp") is None  # an MLP agent has no precision setting
    if not bf16_supported():
        pytest.skip("no bfloat16 on this machine: an agent computing in it cannot be built")
    other = keras_dqn.ConvDQNAgent((4, 36, 36), 3, memory_size=50, seed=1, precision="mixed_bfloat16")
    with pytest.warns(UserWarning, match="trained computing in float32 and this agent computes in mixed_bfloat16"):
        load_checkpoint(other, tmp_path)
    for loaded, saved in zip(other.model.get_weights(), agent.model.get_weights(), strict=True):
        np.testing.assert_array_equal(loaded, saved)  # it warns, and resumes all the same

"""Weight files: round trips, the original tutorial's Keras-2 file, shipped weights, errors."""

import os
from pathlib import Path

import h5py
import keras
import numpy as np
import pytest
from keras.ops import convert_to_numpy as to_numpy

import keras_dqn
from keras_dqn import DQNAgent
from keras_dqn.files.weights import read_h5

# The original tutorial's weights; shared/ sits beside the checkout (locally and in CI).
FIXTURE = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "keon-cartpole-dqn.h5"

STATES = np.random.default_rng(0).normal(size=(16, 4)).astype(np.float32)


def test_save_load_round_trip_gives_identical_q_values(tmp_path):
    agent = DQNAgent(4, 2, seed=1)
    path = tmp_path / "my-agent.h5"  # a plain .h5 name: Keras 3 alone would refuse it
    agent.save(path)
    other = DQNAgent(4, 2, seed=2)
    assert not np.allclose(other.q_values(STATES), agent.q_values(STATES))
    other.load(path)
    np.testing.assert_array_equal(other.q_values(STATES), agent.q_values(STATES))


def test_saved_file_is_readable_by_plain_keras(tmp_path):
    agent = DQNAgent(4, 2, seed=1)
    agent.save(tmp_path / "w.h5")
    model = DQNAgent(4, 2, seed=5).model
    model.load_weights(tmp_path / "w.h5")
    np.testing.assert_allclose(to_numpy(model(STATES)), agent.q_values(STATES), rtol=1e-6, atol=1e-6)


def test_saved_file_carries_agent_config(tmp_path):
    DQNAgent(4, 2, hidden=(16, 8)).save(tmp_path / "w.h5")
    _, config = read_h5(tmp_path / "w.h5")
    assert config["agent"] == "DQNAgent" and config["hidden"] == [16, 8] and config["state_size"] == 4


def test_keon_keras2_file_gives_exact_q_values():
    agent = DQNAgent(4, 2).load(FIXTURE)
    with h5py.File(FIXTURE, "r") as f:
        w = [np.asarray(f[f"dense_{i}/dense_{i}/{n}:0"]) for i in (1, 2, 3) for n in ("kernel", "bias")]
    h = np.maximum(STATES @ w[0] + w[1], 0)
    h = np.maximum(h @ w[2] + w[3], 0)
    expected = h @ w[4] + w[5]
    np.testing.assert_allclose(agent.q_values(STATES), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(to_numpy(agent.model(STATES)), expected, rtol=1e-5, atol=1e-6)


def test_shipped_weights_solve_cartpole():
    agent = DQNAgent(4, 2).load(keras_dqn.weights_path("cartpole-dqn"))
    returns = keras_dqn.evaluate(agent, "CartPole-v1", episodes=20, seed=314_159)
    assert np.mean(returns) >= 475, returns


def test_weights_path_errors_list_available():
    assert keras_dqn.weights_path("cartpole-dqn").is_file()
    with pytest.raises(FileNotFoundError, match="cartpole-dqn"):
        keras_dqn.weights_path("no-such-agent")


# ---------------------------------------------------------------- bad input
def test_load_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"no weights file at '{tmp_path / 'missing.h5'}'"):
        DQNAgent(4, 2).load(tmp_path / "missing.h5")


def test_load_non_hdf5_file(tmp_path):
    path = tmp_path / "notes.h5"
    path.write_text("not weights")
    with pytest.raises(ValueError, match="not an HDF5 file"):
        DQNAgent(4, 2).load(path)


def test_load_hdf5_that_is_not_a_weights_file(tmp_path):
    with h5py.File(tmp_path / "data.h5", "w") as f:
        f["x"] = np.zeros(3)
    with pytest.raises(ValueError, match="not a Keras weights file"):
        DQNAgent(4, 2).load(tmp_path / "data.h5")


def test_load_truncated_or_random_file_names_it(tmp_path):
    saved = tmp_path / "good.h5"
    DQNAgent(4, 2).save(saved)
    data = saved.read_bytes()
    for name, content in (("truncated.h5", data[: len(data) // 2]), ("noise.h5", np.random.default_rng(0).bytes(4096))):
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(ValueError, match=rf"'{path}' is (damaged|not an HDF5 file).*expected a weights \.h5 file"):
            DQNAgent(4, 2).load(path)


def test_load_file_missing_a_layer_group_or_weight_names_it(tmp_path):
    path = tmp_path / "w.h5"
    DQNAgent(4, 2).save(path)
    with h5py.File(path, "r+") as f:
        layer = f.attrs["layer_names"][0].decode()
        del f[layer]
    with pytest.raises(ValueError, match=rf"'{path}' lists layer '{layer}' but has no group for it"):
        DQNAgent(4, 2).load(path)
    DQNAgent(4, 2).save(path)
    with h5py.File(path, "r+") as f:
        group = f["q_values"]
        weight = group.attrs["weight_names"][1].decode()
        del group[weight]
    with pytest.raises(ValueError, match=rf"'{path}' lacks the weights \['{weight}'\] of layer 'q_values'"):
        DQNAgent(4, 2).load(path)


def test_load_wrong_shapes_names_layer_and_shapes_and_changes_nothing(tmp_path):
    DQNAgent(4, 2, hidden=(32, 24)).save(tmp_path / "wide.h5")
    agent = DQNAgent(4, 2, seed=0)
    before = agent.q_values(STATES)
    expected = r"layer 'dense.*' expects shapes \[\(4, 24\), \(24,\)\].*has \[\(4, 32\), \(32,\)\]"
    with pytest.raises(ValueError, match=expected):
        agent.load(tmp_path / "wide.h5")
    np.testing.assert_array_equal(agent.q_values(STATES), before)
    DQNAgent(4, 2, hidden=(24,)).save(tmp_path / "shallow.h5")
    with pytest.raises(ValueError, match="holds weights for 2 layers"):
        agent.load(tmp_path / "shallow.h5")


def test_failed_save_keeps_existing_file(tmp_path, monkeypatch):
    path = tmp_path / "agent.h5"
    good = DQNAgent(4, 2, seed=1)
    good.save(path)
    original = path.read_bytes()

    def broken_numpy(self):
        raise OSError("disk full")

    monkeypatch.setattr(keras.Variable, "numpy", broken_numpy)
    with pytest.raises(OSError, match="disk full"):
        DQNAgent(4, 2, seed=2).save(path)
    monkeypatch.undo()
    assert path.read_bytes() == original
    assert os.listdir(tmp_path) == ["agent.h5"]  # no temporary file left behind
    np.testing.assert_array_equal(DQNAgent(4, 2).load(path).q_values(STATES), good.q_values(STATES))


def test_saved_file_gets_the_usual_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        DQNAgent(4, 2).save(tmp_path / "w.h5")
    finally:
        os.umask(umask)
    assert (tmp_path / "w.h5").stat().st_mode & 0o777 == 0o644


def test_shipped_target_weights_solve_cartpole_with_nothing_but_the_file():
    agent = keras_dqn.load_agent(keras_dqn.weights_path("cartpole-target-dqn"))
    assert type(agent) is keras_dqn.TargetDQNAgent and agent.hidden == (64, 64) and agent.env_id == "CartPole-v1"
    returns = keras_dqn.evaluate(agent, "CartPole-v1", episodes=20, seed=271_828)
    assert np.mean(returns) >= 475, returns

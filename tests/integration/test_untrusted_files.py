"""Opening a file never runs code: a crafted checkpoint is refused or its envs ignored, and nothing runs.

A checkpoint's envs are saved as data (keras_dqn.files.env_state), never pickled; these tests put the
attacks an old format would have allowed into a real checkpoint and check that a marker file the
payloads would create never appears."""

import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap

import gymnasium as gym
import numpy as np
import pytest

import keras_dqn
from keras_dqn import DQNAgent, TargetDQNAgent
from keras_dqn.files.env_state import env_state, restore_env_state

SETTINGS = dict(batch_size=32, train_every=4, gradient_steps=4, learning_starts=300, eval_every=700,
                eval_episodes=0, progress=False, seed=3, save_memory=True)  # fmt: skip


class RunsCode:
    """A pickle payload: unpickling it runs ``command`` (the attack the issue reproduced)."""

    def __init__(self, function, *args):
        self.function, self.args = function, args

    def __reduce__(self):
        return self.function, self.args


def payloads(marker):
    """Pickles that would create ``marker`` if anything unpickled them: a plain os.system, one
    hidden inside the list of envs an allow-list unpickler would expect, and one through a
    NumPy reconstructor that allow-lists often admit."""
    command = f"touch {marker}"
    env = gym.make("CartPole-v1")
    yield "os.system", pickle.dumps(RunsCode(os.system, command))
    yield "inside the env list", pickle.dumps([env.unwrapped, RunsCode(os.system, command)])
    yield "via builtins.exec", pickle.dumps(RunsCode(exec, f"import pathlib; pathlib.Path({str(marker)!r}).touch()"))


def rewrite(checkpoint, **entries):
    """Replace (or add) entries of a checkpoint.npz, keeping the others."""
    with np.load(checkpoint) as data:
        arrays = {key: data[key] for key in data.files}
    arrays.update(entries)
    with open(checkpoint, "wb") as f:
        np.savez(f, **arrays)


def cartpole_run(folder, steps=600, **kwargs):
    agent = TargetDQNAgent(4, 2, seed=0, memory_size=3000, target_update=100)
    return agent, keras_dqn.train(agent, gym.make("CartPole-v1"), steps, checkpoint_dir=folder,
                                  **{**SETTINGS, "eval_every": 300, **kwargs})  # fmt: skip


def test_a_checkpoint_saves_its_envs_as_json_data_not_a_pickle(tmp_path):
    cartpole_run(tmp_path)
    with np.load(tmp_path / "checkpoint.npz") as data:  # allow_pickle=False: every entry is plain
        assert "loop/envs" not in data.files
        states = json.loads(str(data["loop/env_states"]))
    classes = [layer["class"].rsplit(".", 1)[1] for layer in states[0]["layers"]]
    assert classes == ["_OneEnv", "TimeLimit", "OrderEnforcing", "PassiveEnvChecker", "CartPoleEnv"]
    assert states[0]["layers"][1]["attributes"]["_elapsed_steps"] > 0


@pytest.mark.parametrize("where", ["loop/envs", "loop/env_states"])
def test_pickled_envs_in_a_checkpoint_run_nothing_and_new_episodes_start(tmp_path, capsys, where):
    cartpole_run(tmp_path)
    marker = tmp_path / "pwned"
    for i, (name, payload) in enumerate(payloads(marker)):
        rewrite(tmp_path / "checkpoint.npz", **{where: np.frombuffer(payload, dtype=np.uint8)})
        agent = TargetDQNAgent(4, 2, seed=0, memory_size=3000, target_update=100)
        total = 900 + 300 * i  # each resume goes on from the last one's checkpoint
        history = keras_dqn.train(agent, gym.make("CartPole-v1"), total, checkpoint_dir=tmp_path, resume=True,
                                  **{**SETTINGS, "eval_every": 300})  # fmt: skip
        assert not marker.exists(), f"the {name} payload ran"
        assert history.history["step"][-1] == total
        out = capsys.readouterr().out
        assert "can't be continued" in out and "new episodes start" in out, out
        if where == "loop/envs":
            assert "pickle, which keras_dqn never opens" in out


def test_an_object_array_anywhere_in_a_checkpoint_is_refused_with_one_error_and_runs_nothing(tmp_path):
    cartpole_run(tmp_path)
    marker = tmp_path / "pwned"
    evil = np.empty(1, dtype=object)
    evil[0] = RunsCode(os.system, f"touch {marker}")
    for entry in ("meta", "model/0", "loop/obs"):
        rewrite(tmp_path / "checkpoint.npz", **{entry: evil})
        agent = TargetDQNAgent(4, 2, seed=0, memory_size=3000, target_update=100)
        with pytest.raises(ValueError, match="not a readable checkpoint"):
            keras_dqn.train(agent, gym.make("CartPole-v1"), 900, checkpoint_dir=tmp_path, resume=True, **SETTINGS)
        assert not marker.exists()
        cartpole_run(tmp_path)  # a good checkpoint again for the next entry


def test_env_states_of_another_env_or_with_forged_values_are_refused_before_anything_is_set():
    cartpole, acrobot = gym.make("CartPole-v1"), gym.make("Acrobot-v1")
    cartpole.reset(seed=0)
    acrobot.reset(seed=0)
    saved = env_state(cartpole)
    with pytest.raises(ValueError, match="the saved env is .*CartPoleEnv, this one is .*AcrobotEnv"):
        restore_env_state(acrobot, saved)

    def forged(attribute, value):
        state = json.loads(json.dumps(saved))
        state["layers"][-1]["attributes"][attribute] = value
        return state

    fresh = gym.make("CartPole-v1")
    fresh.reset(seed=1)
    before = fresh.unwrapped.state.copy()
    cases = {
        "an object array": (forged("state", {"ndarray": "|O", "shape": [1], "hex": "00" * 8}), "arrays of numbers"),
        "another shape": (forged("state", {"ndarray": "<f8", "shape": [2], "hex": "00" * 16}), "shape"),
        "too few bytes": (forged("state", {"ndarray": "<f8", "shape": [4], "hex": "00"}), "bytes"),
        "a new attribute": (forged("__class__", None), "saved attributes"),
        "a generator's class": (forged("_np_random", {"generator": {"bit_generator": "os.system"}}), "generator"),
        "an unknown tag": (forged("state", {"pickle": "80"}), "unexpected value"),
    }
    for name, (state, message) in cases.items():
        with pytest.raises(ValueError, match=message):
            restore_env_state(fresh, state)
        np.testing.assert_array_equal(fresh.unwrapped.state, before, err_msg=name)


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Acrobot-v1", "MountainCar-v0", "FrozenLake-v1", "Taxi-v4",
                                    "CliffWalking-v1", "Blackjack-v1"])
def test_a_restored_env_goes_on_exactly_as_the_one_it_was_saved_from(env_id):
    original = gym.make(env_id)
    original.reset(seed=7)
    for action in [0, 1] * 10:
        if any(original.step(action)[2:4]):
            original.reset()
    copy = gym.make(env_id)
    copy.reset(seed=99)
    restore_env_state(copy, json.loads(json.dumps(env_state(original))))
    for action in [1, 0, 0, 1] * 60:  # through an episode's end and the reset after it
        a, b = original.step(action), copy.step(action)
        np.testing.assert_array_equal(a[0], b[0])
        assert a[1:4] == b[1:4]
        if a[2] or a[3]:
            np.testing.assert_array_equal(original.reset()[0], copy.reset()[0])


def test_envs_whose_state_is_not_plain_data_are_not_saved(tmp_path, capsys):
    pytest.importorskip("Box2D")
    env = gym.make("LunarLander-v3")
    env.reset(seed=0)
    assert env_state(env) is None  # a Box2D world
    agent = DQNAgent(8, 4, seed=0, memory_size=2000)
    keras_dqn.train(agent, gym.make("LunarLander-v3"), 400, checkpoint_dir=tmp_path, **{**SETTINGS, "eval_every": 200})
    keras_dqn.train(DQNAgent(8, 4, seed=0, memory_size=2000), gym.make("LunarLander-v3"), 600, checkpoint_dir=tmp_path,
                    resume=True, **{**SETTINGS, "eval_every": 200})  # fmt: skip
    assert "holds no env states" in capsys.readouterr().out


KILLED_RUN = textwrap.dedent("""
    import os, signal, sys, gymnasium as gym, keras, keras_dqn

    class KillAfterCheckpoint(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if logs["step"] >= 1400:  # the checkpoint of step 700 is on disk; the run is past it
                os.kill(os.getpid(), signal.SIGKILL)

    settings = {settings!r}
    agent = keras_dqn.TargetDQNAgent(4, 2, seed=0, memory_size=3000, target_update=100)
    keras_dqn.train(agent, gym.make("CartPole-v1"), 2000, checkpoint_dir=sys.argv[1],
                    callbacks=[KillAfterCheckpoint()], **settings)
""")


def test_a_run_killed_right_after_a_checkpoint_resumes_to_the_uninterrupted_weights(tmp_path):
    proc = subprocess.run([sys.executable, "-c", KILLED_RUN.format(settings=SETTINGS), str(tmp_path / "killed")],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    saved = keras_dqn.files.checkpoint.load_checkpoint(TargetDQNAgent(4, 2, memory_size=3000), tmp_path / "killed")
    assert saved["steps"] == 700
    whole = TargetDQNAgent(4, 2, seed=0, memory_size=3000, target_update=100)
    history = keras_dqn.train(whole, gym.make("CartPole-v1"), 2000, checkpoint_dir=tmp_path / "whole", **SETTINGS)
    resumed = TargetDQNAgent(4, 2, seed=0, memory_size=3000, target_update=100)
    history2 = keras_dqn.train(resumed, gym.make("CartPole-v1"), 2000, checkpoint_dir=tmp_path / "killed",
                               resume=True, **SETTINGS)  # fmt: skip
    assert resumed.train_steps == whole.train_steps > 300
    for a, b in zip(whole.model.get_weights(), resumed.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert history2.history["episode_return"][-1] == history.history["episode_return"][-1]

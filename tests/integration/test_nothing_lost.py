"""Nothing silently wrong, nothing lost: exact resume, non-finite training, Ctrl-C, killed checkpoints."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import gymnasium as gym
import keras
import numpy as np
import pytest

import keras_dqn
from keras_dqn import DQNAgent, TargetDQNAgent
from keras_dqn.networks.noisy import noise_states

SETTINGS = dict(batch_size=32, train_every=4, gradient_steps=4, learning_starts=300, eval_every=700,
                eval_episodes=0, progress=False, seed=3, save_memory=True)  # fmt: skip


def relative_distance(a, b) -> float:
    wa, wb = a.model.get_weights(), b.model.get_weights()
    return float(np.sqrt(sum(((x - y) ** 2).sum() for x, y in zip(wa, wb, strict=True))) /
                 np.sqrt(sum((x**2).sum() for x in wa)))  # fmt: skip


@pytest.mark.parametrize("n_envs", [1, 3])
def test_stopping_halfway_and_resuming_gives_the_uninterrupted_weights(tmp_path, n_envs):
    def env():
        if n_envs == 1:
            return gym.make("CartPole-v1")
        return gym.make_vec("CartPole-v1", num_envs=n_envs, vectorization_mode="sync")

    def agent():
        return TargetDQNAgent(4, 2, seed=0, memory_size=3000, target_update=100)

    whole = agent()
    history = keras_dqn.train(whole, env(), 2000, checkpoint_dir=tmp_path / "whole", **SETTINGS)
    first_half = agent()
    keras_dqn.train(first_half, env(), 1000, checkpoint_dir=tmp_path / "halves", **SETTINGS)
    resumed = agent()
    history2 = keras_dqn.train(resumed, env(), 2000, checkpoint_dir=tmp_path / "halves", resume=True, **SETTINGS)
    assert resumed.train_steps == whole.train_steps > 300
    assert relative_distance(whole, resumed) == 0.0
    assert resumed.epsilon == whole.epsilon
    assert history2.history["episode_return"][-1] == history.history["episode_return"][-1]


RAINBOW_KINDS = {
    "rainbow": lambda: keras_dqn.RainbowAgent(4, 2, seed=0, hidden=(32,), memory_size=2000, target_update=100),
    "noisy": lambda: DQNAgent(4, 2, seed=0, hidden=(32,), memory_size=2000, noisy=True),
}


class CtrlCAt(keras.callbacks.Callback):
    """Press Ctrl-C (SIGINT to this process) at the first log row at or past ``step``."""

    def __init__(self, step: int):
        super().__init__()
        self.step = step

    def on_epoch_end(self, epoch, logs=None):
        if logs["step"] >= self.step:
            signal.raise_signal(signal.SIGINT)


@pytest.mark.parametrize("n_envs", [1, 3])
@pytest.mark.parametrize("kind", sorted(RAINBOW_KINDS))
def test_stopping_halfway_and_resuming_rainbow_gives_the_uninterrupted_weights(tmp_path, kind, n_envs):
    """Noise generators (online and target), priorities, n-step lanes: all carried over exactly.

    The run is stopped by Ctrl-C halfway, not by training 1,000 of 1,000 steps: prioritized
    replay anneals beta over the run's total_steps, so a shorter run is not the first half of a longer one."""

    def env():
        if n_envs == 1:
            return gym.make("CartPole-v1")
        return gym.make_vec("CartPole-v1", num_envs=n_envs, vectorization_mode="sync")

    agent = RAINBOW_KINDS[kind]
    settings = {**SETTINGS, "eval_every": 500}
    whole = agent()
    history = keras_dqn.train(whole, env(), 2000, checkpoint_dir=tmp_path / "whole", **settings)
    stopped = keras_dqn.train(agent(), env(), 2000, checkpoint_dir=tmp_path / "halves", callbacks=[CtrlCAt(1000)],
                              **settings)  # fmt: skip
    assert stopped.interrupted and 1000 <= stopped.stopped_at_step < 1100
    resumed = agent()
    history2 = keras_dqn.train(resumed, env(), 2000, checkpoint_dir=tmp_path / "halves", resume=True, **settings)
    assert resumed.train_steps == whole.train_steps > 300
    distance = relative_distance(whole, resumed)
    print(f"{kind} on {n_envs} env(s): relative L2 distance {distance}")
    assert distance == 0.0
    for network in ("model", "target_model"):
        if hasattr(whole, network):
            mine, theirs = noise_states(getattr(whole, network)), noise_states(getattr(resumed, network))
            assert len(mine) == len(theirs) > 0
            for a, b in zip(mine, theirs, strict=True):
                np.testing.assert_array_equal(a, b)
    if whole.prioritized:
        np.testing.assert_array_equal(resumed.memory.priorities, whole.memory.priorities)
        assert resumed.memory.max_priority == whole.memory.max_priority
        assert resumed.memory.beta == whole.memory.beta
    np.testing.assert_array_equal(resumed.memory.links, whole.memory.links)
    assert history2.history["episode_return"][-1] == history.history["episode_return"][-1]


class NaNRewards(gym.Wrapper):
    """CartPole whose rewards turn NaN after some steps (a broken reward function)."""

    def __init__(self, env, after: int):
        super().__init__(env)
        self.steps, self.after = 0, after

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.steps += 1
        return obs, float("nan") if self.steps > self.after else reward, terminated, truncated, info


def test_a_nan_reward_stops_training_and_the_saved_weights_stay_finite(tmp_path):
    agent = DQNAgent(4, 2, seed=0)
    settings = {**SETTINGS, "learning_starts": 64, "eval_every": 200}
    with pytest.raises((ValueError, FloatingPointError), match="(?i)reward|finite"):
        keras_dqn.train(agent, NaNRewards(gym.make("CartPole-v1"), after=500), 2000, checkpoint_dir=tmp_path,
                        **settings)  # fmt: skip
    assert all(np.isfinite(w).all() for w in agent.model.get_weights())
    saved = keras_dqn.load_agent(tmp_path / "last.h5")
    assert all(np.isfinite(w).all() for w in saved.model.get_weights())


def test_an_update_that_blows_up_is_not_applied_and_raises():
    agent = DQNAgent(4, 2, seed=0)
    states = np.random.default_rng(0).normal(size=(64, 4))
    for i, s in enumerate(states):
        agent.remember(s, i % 2, 1e30, s, False)  # finite, but its squared TD error overflows float32
    before = agent.model.get_weights()
    with pytest.raises(FloatingPointError, match=r"gradient step 1: .*restored.*learning rate"):
        agent.replay(32)
    for w, b in zip(agent.model.get_weights(), before, strict=True):
        np.testing.assert_array_equal(w, b)
    assert agent.train_steps == 0


def test_save_refuses_non_finite_weights(tmp_path):
    agent = DQNAgent(4, 2, seed=0)
    agent.save(tmp_path / "good.h5")
    weights = agent.model.get_weights()
    weights[0][0, 0] = np.nan
    agent.model.set_weights(weights)
    with pytest.raises(ValueError, match="not all finite"):
        agent.save(tmp_path / "good.h5")
    keras_dqn.load_agent(tmp_path / "good.h5")  # the earlier file is intact
    assert not (tmp_path / "bad.h5").exists()


TRAIN_SCRIPT = textwrap.dedent("""
    import sys, gymnasium as gym, keras_dqn
    agent = keras_dqn.DQNAgent(4, 2, seed=0, memory_size=5000)
    print("started", flush=True)
    history = keras_dqn.train(agent, gym.make("CartPole-v1"), 10**7, checkpoint_dir=sys.argv[1], eval_every=500,
                              eval_episodes=0, progress=True, save_memory=True, learning_starts=100)
    print("returned", history.interrupted, history.stopped_at_step, flush=True)
""")


def start_training(folder: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", TRAIN_SCRIPT, str(folder)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.time() + 120
    while not (folder / "checkpoint.npz").is_file():  # wait for the first checkpoint
        assert proc.poll() is None and time.time() < deadline, proc.stderr.read() if proc.poll() is not None else ""
        time.sleep(0.2)
    return proc


def test_ctrl_c_stops_cleanly_and_saves_where_it_stopped(tmp_path):
    proc = start_training(tmp_path)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-2000:]
    assert "Traceback" not in err
    line = out.strip().splitlines()[-1].split()
    assert line[:2] == ["returned", "True"]
    stopped = int(line[2])
    progress = keras_dqn.files.checkpoint.load_checkpoint(DQNAgent(4, 2, memory_size=5000), tmp_path)
    assert progress["steps"] == stopped  # the checkpoint is of the step it stopped at
    keras_dqn.load_agent(tmp_path / "last.h5")
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_kill_9_while_checkpointing_then_resume_works_and_no_temp_files_remain(tmp_path):
    proc = start_training(tmp_path)
    time.sleep(1.5)  # the memory checkpoint is written every 500 steps: likely mid-write some of the time
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    agent = DQNAgent(4, 2, seed=0, memory_size=5000)
    progress = keras_dqn.files.checkpoint.load_checkpoint(agent, tmp_path)
    total = progress["steps"] + 300
    history = keras_dqn.train(agent, gym.make("CartPole-v1"), total, checkpoint_dir=tmp_path, resume=True,
                              eval_every=500, eval_episodes=0, progress=False, save_memory=True,
                              learning_starts=100)  # fmt: skip
    assert history.history["step"][-1] == total
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp") or ".npz." in p.name]


def test_a_bad_update_with_a_momentum_optimizer_leaves_the_weights_from_before_it():
    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9), loss="mse")
    agent = DQNAgent(4, 2, model=model, seed=0)
    states = np.random.default_rng(0).normal(size=(64, 4))
    for i, s in enumerate(states):
        agent.remember(s, i % 2, 1.0, s, False)
    for _ in range(5):
        agent.replay(32)  # momentum builds up
    before = agent.model.get_weights()
    agent.memory.rewards[:] = 1e30  # finite, but its squared TD error overflows float32
    with pytest.raises(FloatingPointError, match="gradient step 6: .*restored"):
        agent.train_on_batches(agent.memory.sample_batches(4, 32))
    for w, b in zip(agent.model.get_weights(), before, strict=True):
        np.testing.assert_array_equal(w, b)
    np.testing.assert_array_equal(agent.q_values(states[:3]), agent.model(states[:3].astype(np.float32)).numpy())


def test_an_update_whose_loss_is_finite_but_whose_new_weights_are_not_is_undone():
    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.SGD(1e38), loss="mse")  # a step that overflows the weights
    agent = DQNAgent(4, 2, model=model, seed=0)
    states = np.random.default_rng(0).normal(size=(64, 4))
    for i, s in enumerate(states):
        agent.remember(s, i % 2, 100.0, s, False)
    before = agent.model.get_weights()
    batch = agent.memory.sample(32)
    assert np.isfinite(agent.model.evaluate(batch.states, np.zeros((32, 2)), verbose=0))  # the loss itself is fine
    with pytest.raises(FloatingPointError, match="gradient step 1: .*restored"):
        agent.train_on_batch(batch)
    for w, b in zip(agent.model.get_weights(), before, strict=True):
        np.testing.assert_array_equal(w, b)
    np.testing.assert_array_equal(agent.q_values(states[:3]), agent.model(states[:3].astype(np.float32)).numpy())


def test_a_bad_update_of_the_conv_agent_is_skipped_exactly():
    from keras_dqn import ConvDQNAgent

    agent = ConvDQNAgent((4, 36, 36), 2, seed=0, memory_size=100)
    frames = np.random.default_rng(0).integers(0, 255, (12, 36, 36), dtype=np.uint8)
    for i in range(8):
        agent.remember(frames[i : i + 4], i % 2, 1.0, frames[i + 1 : i + 5], False)
    agent.memory.rewards[:] = np.nan  # a corrupted memory (what remember() refuses to store)
    before = agent.model.get_weights()
    with pytest.raises(FloatingPointError, match="gradient step 1: .*not applied"):
        agent.replay(4)
    for w, b in zip(agent.model.get_weights(), before, strict=True):
        np.testing.assert_array_equal(w, b)
    assert agent.train_steps == 0


def test_keras_rl_agents_train_with_a_learning_rate_schedule():
    import keras

    from keras_dqn.rl import DQNAgent as RLAgent
    from keras_dqn.rl import SequentialMemory

    model = keras.Sequential([keras.Input((1, 4)), keras.layers.Flatten(), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(2)])  # fmt: skip
    dqn = RLAgent(model=model, nb_actions=2, memory=SequentialMemory(1000), nb_steps_warmup=50, seed=0)
    schedule = keras.optimizers.schedules.ExponentialDecay(1e-3, 100, 0.9)
    dqn.compile(keras.optimizers.Adam(schedule))
    dqn.fit(gym.make("CartPole-v1"), nb_steps=200, verbose=0)
    assert dqn.core.train_steps == 150  # one update per step after the 50 warm-up steps
    assert all(np.isfinite(w).all() for w in dqn.model.get_weights())
    assert float(dqn.model.optimizer.learning_rate.numpy()) < 1e-3  # the schedule did its decaying


def test_resume_is_exact_when_a_sub_env_ended_on_the_checkpoint_step(tmp_path):
    from keras_dqn.files.checkpoint import load_checkpoint

    def env():
        return gym.make_vec("CartPole-v1", num_envs=3, vectorization_mode="sync")

    def agent():
        return TargetDQNAgent(4, 2, seed=0, memory_size=3000, target_update=100)

    settings = {**SETTINGS, "eval_every": 10**6}
    for half in range(600, 700, 3):  # find a stop right after an episode ended
        folder = tmp_path / f"half-{half}"
        keras_dqn.train(agent(), env(), half, checkpoint_dir=folder, **settings)
        if load_checkpoint(agent(), folder)["loop_arrays"]["after_done"].any():
            break
    else:
        pytest.fail("no stop between 600 and 700 steps came right after an episode's end")
    whole = agent()
    keras_dqn.train(whole, env(), 1200, checkpoint_dir=tmp_path / "whole", **settings)
    resumed = agent()
    keras_dqn.train(resumed, env(), 1200, checkpoint_dir=folder, resume=True, **settings)
    assert resumed.train_steps == whole.train_steps and relative_distance(whole, resumed) == 0.0


"""keras_dqn.train: the library loop over single and vector envs."""

import csv
import time

import gymnasium as gym
import numpy as np
import pytest

import keras_dqn
from keras_dqn import DQNAgent, TargetDQNAgent


def test_vector_env_transitions_are_real_and_counted():
    envs = gym.make_vec("CartPole-v1", num_envs=4, vectorization_mode="sync")
    agent = DQNAgent(4, 2, seed=0, memory_size=10_000)
    history = keras_dqn.train(agent, envs, 2000, learning_starts=500, eval_every=1000, eval_episodes=0,
                              progress=False, seed=0)  # fmt: skip
    steps = int(history.history["step"][-1])
    assert 2000 <= steps < 2004
    assert len(agent.memory) == steps  # reset-only steps of the autoreset are not stored
    assert np.all(agent.memory.rewards[:steps] == 1.0)  # a fake (final obs -> reset obs) step would give 0
    assert steps - 504 <= agent.train_steps <= steps - 500 + 4  # one update per env step after warm-up
    assert agent.epsilon == pytest.approx(max(0.01, 0.995**agent.train_steps))


def test_time_limit_truncation_is_not_stored_as_terminal():
    env = gym.make("CartPole-v1", max_episode_steps=5)  # episodes end by truncation, not by falling
    agent = DQNAgent(4, 2, seed=0)
    keras_dqn.train(agent, env, 300, learning_starts=100, eval_every=300, eval_episodes=0, progress=False, seed=0)
    assert len(agent.memory) == 300
    assert agent.memory.dones[:300].sum() == 0


def test_logs_history_csv_and_prints_rows_without_a_tty(tmp_path, capsys):
    agent = TargetDQNAgent(4, 2, seed=0)
    history = keras_dqn.train(agent, gym.make("CartPole-v1"), 1500, learning_starts=200, eval_every=500,
                              eval_episodes=3, log_dir=tmp_path, seed=0)  # fmt: skip
    keys = {"step", "episode_return", "loss", "epsilon", "mean_max_q", "steps_per_s", "eval_mean", "eval_s"}
    assert keys <= set(history.history)
    assert history.history["step"] == [500, 1000, 1500]
    out = capsys.readouterr().out
    assert out.count("step: ") == 3 and "eval_mean" in out and "\r" not in out  # log lines, no bar
    with open(tmp_path / "progress.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3 and keys <= set(rows[0]) and float(rows[2]["step"]) == 1500
    assert not any(name.startswith("val_") for name in rows[0])  # no empty validation columns


def test_best_checkpoint_holds_the_best_evaluation_weights(tmp_path):
    agent = DQNAgent(4, 2, seed=1)
    history = keras_dqn.train(agent, gym.make("CartPole-v1"), 6000, learning_starts=500, eval_every=1000,
                              eval_episodes=5, checkpoint_dir=tmp_path, progress=False, seed=1)  # fmt: skip
    evals = history.history["eval_mean"]
    best = int(np.argmax(evals))
    restored = DQNAgent(4, 2).load(tmp_path / "best.h5")
    step = int(history.history["step"][best])
    again = keras_dqn.evaluate(restored, "CartPole-v1", 5, seed=10_000 + step)
    assert np.mean(again) == evals[best]
    last = DQNAgent(4, 2).load(tmp_path / "last.h5")
    np.testing.assert_array_equal(last.q_values(np.zeros((1, 4))), agent.q_values(np.zeros((1, 4))))


def test_stops_early_at_target_score():
    agent = DQNAgent(4, 2, seed=0)
    history = keras_dqn.train(agent, gym.make("CartPole-v1"), 50_000, learning_starts=100, eval_every=200,
                              eval_episodes=2, target_score=0.0, progress=False)  # fmt: skip
    assert history.history["step"] == [200]


class _SeedScoredEnv(gym.Env):
    """One-step episodes whose reward is 1 when the reset seed is below ``lucky_below``, else 0:
    an evaluation's score is decided by the seeds it resets from."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (4,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, lucky_below: int):
        self.lucky_below, self.lucky = lucky_below, True

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.lucky = seed is None or seed < self.lucky_below
        return np.zeros(4, np.float32), {}

    def step(self, action):
        return np.zeros(4, np.float32), float(self.lucky), True, False, {}


@pytest.mark.parametrize(("lucky_below", "stopped"), [(500_000_000, False), (2**31, True)])
def test_a_reached_target_stops_the_run_only_once_other_episodes_confirm_it(lucky_below, stopped):
    env = _SeedScoredEnv(lucky_below)  # evaluations reset from 10,000 + step, confirmations from 500,000,000 + step
    settings = dict(learning_starts=50, eval_every=100, eval_episodes=2, target_score=1.0, progress=False, seed=0)
    history = keras_dqn.train(DQNAgent(4, 2, seed=0), env, 300, eval_env=env, confirm_episodes=3, **settings).history
    assert history["eval_mean"][0] == 1.0
    if stopped:
        assert history["step"] == [100] and history["confirm_mean"] == [1.0]
    else:  # every evaluation reached the target, no confirmation did: the run went on to its end
        assert history["step"] == [100, 200, 300] and history["confirm_mean"] == [0.0, 0.0, 0.0]
    unconfirmed = keras_dqn.train(DQNAgent(4, 2, seed=0), env, 300, eval_env=env, **settings).history
    assert unconfirmed["step"] == [100] and "confirm_mean" not in unconfirmed


def test_confirm_episodes_needs_a_target_and_evaluations():
    agent = DQNAgent(4, 2)
    with pytest.raises(ValueError, match="confirm_episodes=5 .* needs target_score and eval_episodes > 0"):
        keras_dqn.train(agent, gym.make("CartPole-v1"), 100, confirm_episodes=5)
    with pytest.raises(ValueError, match="confirm_episodes"):
        keras_dqn.train(agent, gym.make("CartPole-v1"), 100, target_score=1.0, confirm_episodes=-1)


def test_bad_input():
    agent = DQNAgent(4, 2)
    with pytest.raises(ValueError, match="Discrete action space"):
        keras_dqn.train(DQNAgent(3, 2), gym.make("Pendulum-v1"), 100)
    with pytest.raises(ValueError, match=r"observations have shape \(4,\), the agent expects \(6,\)"):
        keras_dqn.train(DQNAgent(6, 2), gym.make("CartPole-v1"), 100)
    with pytest.raises(ValueError, match="total_steps"):
        keras_dqn.train(agent, gym.make("CartPole-v1"), 0)


def test_tensorboard_event_files_hold_the_scalars(tmp_path):
    from tensorflow.core.util import event_pb2
    from tensorflow.python.lib.io import tf_record

    agent = DQNAgent(4, 2, seed=0)
    keras_dqn.train(agent, gym.make("CartPole-v1"), 1000, learning_starts=200, eval_every=500, eval_episodes=2,
                    log_dir=tmp_path, progress=False, seed=0)  # fmt: skip
    seen: dict[str, list[int]] = {}
    for path in tmp_path.glob("events.out.tfevents.*"):
        for record in tf_record.tf_record_iterator(str(path)):
            event = event_pb2.Event.FromString(record)
            for value in event.summary.value:
                seen.setdefault(value.tag, []).append(event.step)
    for tag in ("episode_return", "eval_mean", "loss", "epsilon", "mean_max_q", "steps_per_s"):
        assert seen.get(tag) == [500, 1000], (tag, seen)


def test_resume_restores_counters_and_continues(tmp_path):
    settings = dict(learning_starts=200, eval_every=500, eval_episodes=2, checkpoint_dir=tmp_path, progress=False)
    agent = TargetDQNAgent(4, 2, seed=0, target_update=300)
    keras_dqn.train(agent, gym.make("CartPole-v1"), 1000, seed=0, **settings)
    saved_weights = agent.model.get_weights()
    # the checkpoint holds exactly the first run's state
    copy = TargetDQNAgent(4, 2, seed=42, target_update=300)
    saved = keras_dqn.files.checkpoint.load_checkpoint(copy, tmp_path)
    assert (saved["steps"], saved["epoch"]) == (1000, 2)
    for model in ("model", "target_model"):
        for a, b in zip(getattr(copy, model).get_weights(), getattr(agent, model).get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)
    assert not all(np.array_equal(a, b) for a, b in zip(copy.model.get_weights(), copy.target_model.get_weights(),
                                                          strict=True))  # fmt: skip
    for a, b in zip(copy.model.optimizer.variables, agent.model.optimizer.variables, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert copy.rng.bit_generator.state == agent.rng.bit_generator.state
    assert (copy.epsilon, copy.train_steps) == (agent.epsilon, agent.train_steps)
    fresh = TargetDQNAgent(4, 2, seed=99, target_update=300)
    history = keras_dqn.train(fresh, gym.make("CartPole-v1"), 1500, seed=0, resume=True, **settings)
    # it picked up at step 1000: one more row, at 1500, and the counters carried on
    assert history.history["step"] == [1500]
    assert fresh.train_steps > agent.train_steps
    assert fresh.epsilon < agent.epsilon
    # the state it resumed from was the first run's: weights, optimizer step count, target
    restored = TargetDQNAgent(4, 2, seed=5, target_update=300)
    progress = keras_dqn.files.checkpoint.load_checkpoint(restored, tmp_path)  # now the resumed run's last state
    assert progress["steps"] == 1500 and progress["epoch"] == 3
    assert int(restored.model.optimizer.iterations.numpy()) == fresh.train_steps
    for a, b in zip(restored.model.get_weights(), fresh.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not all(np.array_equal(a, b) for a, b in zip(saved_weights, fresh.model.get_weights(), strict=True))


def test_resume_needs_a_checkpoint_dir_and_a_matching_agent(tmp_path):
    with pytest.raises(ValueError, match="resume=True needs the checkpoint_dir"):
        keras_dqn.train(DQNAgent(4, 2), gym.make("CartPole-v1"), 100, resume=True)
    keras_dqn.train(DQNAgent(4, 2), gym.make("CartPole-v1"), 300, learning_starts=100, eval_every=300,
                    eval_episodes=0, checkpoint_dir=tmp_path, progress=False)  # fmt: skip
    with pytest.raises(ValueError, match="is a DQNAgent checkpoint; this agent is a TargetDQNAgent"):
        keras_dqn.files.checkpoint.load_checkpoint(TargetDQNAgent(4, 2), tmp_path)
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        keras_dqn.files.checkpoint.load_checkpoint(DQNAgent(4, 2), tmp_path / "elsewhere")


def test_wandb_logger_sends_each_row_at_its_env_step(monkeypatch):
    import importlib.machinery
    import sys
    import types

    calls = []
    fake = types.ModuleType("wandb")
    fake.__spec__ = importlib.machinery.ModuleSpec("wandb", None)
    fake.run = None
    fake.init = lambda **kwargs: calls.append(("init", kwargs)) or setattr(fake, "run", object())
    fake.log = lambda logs, step: calls.append(("log", step, sorted(logs)))
    monkeypatch.setitem(sys.modules, "wandb", fake)
    logger = keras_dqn.training.callbacks.WandbLogger(project="cartpole")
    keras_dqn.train(DQNAgent(4, 2, seed=0), gym.make("CartPole-v1"), 600, learning_starts=100, eval_every=300,
                    eval_episodes=1, callbacks=[logger], progress=False)  # fmt: skip
    assert calls[0] == ("init", {"project": "cartpole"})
    assert [c[1] for c in calls[1:]] == [300, 600] and "eval_mean" in calls[1][2]


def test_wandb_logger_without_wandb_says_how_to_install(monkeypatch):
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ImportError, match="pip install wandb"):
        keras_dqn.training.callbacks.WandbLogger()


def test_resume_appends_to_the_csv_log(tmp_path):
    settings = dict(learning_starts=100, eval_every=300, eval_episodes=0, checkpoint_dir=tmp_path, log_dir=tmp_path,
                    progress=False)  # fmt: skip
    keras_dqn.train(DQNAgent(4, 2, seed=0), gym.make("CartPole-v1"), 600, **settings)
    keras_dqn.train(DQNAgent(4, 2, seed=0), gym.make("CartPole-v1"), 900, resume=True, **settings)
    with open(tmp_path / "progress.csv") as f:
        assert [float(r["step"]) for r in csv.DictReader(f)] == [300, 600, 900]


def test_train_and_evaluate_check_the_number_of_actions():
    with pytest.raises(ValueError, match="the env has 2 actions, the agent 3"):
        keras_dqn.train(DQNAgent(4, 3), gym.make("CartPole-v1"), 100)
    with pytest.raises(ValueError, match="the env has 2 actions, the agent 3"):
        keras_dqn.evaluate(DQNAgent(4, 3), "CartPole-v1", 2)


def test_train_never_raises_epsilon_to_its_floor():
    agent = DQNAgent(4, 2, seed=0, epsilon=0.0)
    keras_dqn.train(agent, gym.make("CartPole-v1"), 300, learning_starts=100, eval_every=300, eval_episodes=0,
                    progress=False)  # fmt: skip
    assert agent.epsilon == 0.0


def test_wall_s_counts_the_whole_run_across_a_resume(tmp_path):
    settings = dict(learning_starts=100, eval_every=300, eval_episodes=2, checkpoint_dir=tmp_path, log_dir=tmp_path,
                    progress=False)  # fmt: skip
    first = keras_dqn.train(DQNAgent(4, 2, seed=0), gym.make("CartPole-v1"), 600, **settings)
    second = keras_dqn.train(DQNAgent(4, 2, seed=0), gym.make("CartPole-v1"), 900, resume=True, **settings)
    walls = first.history["wall_s"] + second.history["wall_s"]
    assert all(w > 0 for w in walls) and walls == sorted(walls)  # it keeps counting after the resume
    # each row's wall time includes the steps and the previous rows' evaluations: at least the steps' time
    assert walls[0] >= 300 / first.history["steps_per_s"][0] * 0.99
    with open(tmp_path / "progress.csv") as f:
        assert [float(r["wall_s"]) for r in csv.DictReader(f)] == pytest.approx(walls)


class _SlowResets(gym.Wrapper):
    """An eval env whose every reset takes ``delay`` seconds: evaluations that take measurable time."""

    def __init__(self, env: gym.Env, delay: float):
        super().__init__(env)
        self.delay = delay

    def reset(self, **kwargs):
        time.sleep(self.delay)
        return self.env.reset(**kwargs)


def test_a_rows_wall_s_includes_its_own_evaluation():
    # "seconds to a score" must be when the score was known, its evaluation included
    history = keras_dqn.train(DQNAgent(4, 2, seed=0), gym.make("CartPole-v1"), 400, learning_starts=400,
                              eval_every=200, eval_episodes=2, eval_env=_SlowResets(gym.make("CartPole-v1"), 0.5),
                              progress=False, seed=0)  # fmt: skip
    first, second = history.history["wall_s"]
    assert first >= 1.0  # two evaluation episodes, each reset 0.5 s
    assert second - first >= 1.0  # the second row's own evaluation
    # eval_s is the evaluation alone (its two slow resets), a part of the row's wall time
    eval_first, eval_second = history.history["eval_s"]
    assert 1.0 <= eval_first <= first and 1.0 <= eval_second <= second - first


def test_appending_rows_with_a_new_column_rewrites_the_header_instead_of_shifting_values(tmp_path):
    path = tmp_path / "progress.csv"
    path.write_text("epoch,loss,step\n0,0.5,300\n1,0.25,600\n")  # written by an older version: no wall_s
    logger = keras_dqn.training.callbacks.CSVLogger(str(path), append=True)
    logger.on_train_begin()
    logger.on_epoch_end(2, {"step": 900, "wall_s": 12.5, "loss": 0.125})
    logger.on_epoch_end(3, {"step": 1200, "wall_s": 20.0})  # a row without loss: an empty cell
    logger.on_train_end()
    with open(path) as f:
        rows = list(csv.DictReader(f))
    assert [r["step"] for r in rows] == ["300", "600", "900", "1200"]
    assert [r["loss"] for r in rows] == ["0.5", "0.25", "0.125", ""]
    assert [r["wall_s"] for r in rows] == ["", "", "12.5", "20.0"]
    assert list(rows[0]) == ["epoch", "loss", "step", "wall_s"]


def test_appending_with_another_separator_keeps_it(tmp_path):
    path = tmp_path / "progress.csv"
    path.write_text("epoch;loss;step\n0;0.5;300\n")
    logger = keras_dqn.training.callbacks.CSVLogger(str(path), separator=";", append=True)
    logger.on_train_begin()
    logger.on_epoch_end(1, {"step": 600, "wall_s": 3.5, "loss": 0.25})
    logger.on_train_end()
    assert path.read_text().splitlines() == ["epoch;loss;step;wall_s", "0;0.5;300;", "1;0.25;600;3.5"]


def test_resumed_linear_run_follows_the_schedule_it_started_with(tmp_path, capsys):
    def run(steps, resume):
        agent = keras_dqn.DQNAgent(4, 2, seed=0)
        return keras_dqn.train(agent, gym.make("CartPole-v1"), steps, learning_starts=50, eval_every=200,
                               eval_episodes=0, progress=False, seed=0, checkpoint_dir=tmp_path, resume=resume,
                               exploration_fraction=1.0, exploration_final_eps=0.0)  # fmt: skip

    assert run(200, False).history["epsilon"] == pytest.approx([0.0])
    # resumed with a longer run: the checkpoint's schedule (over 200 steps) wins over a new one
    # (which would be over 600 steps, at 1/3 by step 400)
    assert run(600, True).history["epsilon"] == pytest.approx([0.0, 0.0])
    assert "resuming with the checkpoint's exploration schedule, LinearDecay(start=1.0, end=0.0, steps=200)" in (
        capsys.readouterr().out)

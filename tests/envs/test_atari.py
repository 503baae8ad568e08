"""make_atari_env on real ALE games (Pong, Breakout), the sticky-actions protocol, and examples/atari.py."""

import importlib.util
import re
import sys

import numpy as np
import pytest

import keras_dqn
from keras_dqn import ConvDQNAgent
from keras_dqn.envs.make import env_options

HAS_ALE = importlib.util.find_spec("ale_py") is not None and importlib.util.find_spec("cv2") is not None
needs_ale = pytest.mark.skipif(not HAS_ALE, reason="ale-py/opencv missing: pip install -e '.[atari]' to run this")


@needs_ale
def test_real_pong_resets_and_steps_with_the_expected_shapes():
    env = keras_dqn.make_atari_env("Pong")
    obs, info = env.reset(seed=0)
    assert obs.shape == (4, 84, 84) and obs.dtype == np.uint8
    assert env.observation_space.shape == (4, 84, 84) and env.action_space.n == 6
    rewards = []
    for _ in range(300):
        obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        rewards.append(reward)
    assert obs.shape == (4, 84, 84) and obs.dtype == np.uint8 and not terminated
    assert set(rewards) <= {-1.0, 0.0, 1.0} and -1.0 in rewards  # the opponent scores on random play
    assert obs.std() > 0  # a real picture, not a blank one
    env.close()
    agent = ConvDQNAgent(env.observation_space.shape, env.action_space.n, seed=0)
    assert agent.act(obs) in range(6)
    eval_env = keras_dqn.make_atari_env("Pong", training=False)
    assert "ClipReward" not in str(eval_env) and "ClipReward" in str(env)


@needs_ale
def test_life_loss_ends_a_training_episode_but_not_the_game():
    env = keras_dqn.make_atari_env("Breakout")  # 5 lives; NOOP never hits the ball
    env.reset(seed=0)
    ale = env.unwrapped.ale
    lives = [ale.lives()]
    for _ in range(4):
        while not env.step(0)[2]:
            pass
        env.reset()
        lives.append(ale.lives())
    assert lives == [5, 4, 3, 2, 1]  # each reset went on with the same game
    # evaluation plays whole games, and FIRE after a lost life keeps a NOOP agent's game moving
    games = keras_dqn.make_atari_env("Breakout", training=False)
    games.reset(seed=0)
    steps, terminated, truncated = 0, False, False
    while not (terminated or truncated or steps == 5000):
        _, _, terminated, truncated, _ = games.step(0)
        steps += 1
    assert terminated and steps < 1000


@needs_ale
def test_max_episode_steps_counts_agent_steps():
    env = keras_dqn.make_atari_env("Pong", max_episode_steps=50, noop_max=0)
    env.reset(seed=0)
    steps, truncated = 1, False  # the FIRE pressed at reset is the episode's first step
    while not truncated:
        truncated = env.step(0)[3]
        steps += 1
    assert steps == 50


@needs_ale
def test_the_sticky_actions_protocol_is_recorded_with_the_weights(tmp_path):
    env = keras_dqn.make_atari_env("Pong", sticky_actions=0.25)
    assert env.unwrapped.ale.getFloat("repeat_action_probability") == 0.25
    assert env_options(env) == {"sticky_actions": 0.25}
    assert env_options(keras_dqn.make_atari_env("Pong")) == {}  # Nature-DQN's deterministic emulator
    envs = keras_dqn.make_atari_vector_env("Pong", 2, sticky_actions=0.25)
    agent = ConvDQNAgent(env.observation_space.shape, env.action_space.n, memory_size=100, seed=0)
    eval_env = keras_dqn.make_atari_vector_env("Pong", 1, training=False, sticky_actions=0.25)
    keras_dqn.train(agent, envs, 20, eval_env=eval_env, learning_starts=50, progress=False)
    assert agent.env_kwargs == {"sticky_actions": 0.25}
    agent.save(tmp_path / "pong.h5")
    assert keras_dqn.load_agent(tmp_path / "pong.h5").env_kwargs == {"sticky_actions": 0.25}  # evaluate's default


@needs_ale
def test_train_on_an_atari_env_needs_an_eval_env():
    env = keras_dqn.make_atari_env("Pong")
    agent = ConvDQNAgent(env.observation_space.shape, env.action_space.n, memory_size=100)
    with pytest.raises(ValueError, match="pass eval_env.*AtariPreprocessing.*training=False"):
        keras_dqn.train(agent, env, 100, progress=False)


def test_make_atari_env_without_the_extra_gives_a_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "ale_py", None)  # import ale_py now raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'keras_dqn\[atari\]'"):
        keras_dqn.make_atari_env("Pong")


@needs_ale
def test_atari_example_trains_resumes_plays_and_records(tmp_path, capsys):
    """examples/atari.py as a user runs it, on a tiny budget: train, --resume, --weights, --record."""
    import subprocess
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "examples" / "atari.py"
    small = ["--memory-size", "1000", "--learning-starts", "100", "--eval-every", "200", "--eval-games", "1",
             "--n-envs", "2", "--out", str(tmp_path / "run")]  # fmt: skip

    def run(*args: str) -> str:
        result = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr[-2000:]
        return result.stdout

    out = run("--steps", "200", *small)
    assert "step: 200" in out and "eval_mean: -21" in out  # an untrained agent loses every point
    assert (tmp_path / "run" / "checkpoint.npz").is_file() and (tmp_path / "run" / "pong-conv-dqn.h5").is_file()
    out = run("--steps", "400", "--resume", *small)
    assert "resuming from" in out and "at step 200" in out and "step: 400" in out
    assert "frames_per_s" in out
    rows = (tmp_path / "run" / "logs" / "progress.csv").read_text().splitlines()
    assert len(rows) == 3  # header + one row per evaluation, appended on resume

    from keras_dqn.cli.commands import main as cli

    assert cli(["evaluate", str(tmp_path / "run" / "last.h5"), "--episodes", "1"]) == 0  # the file knows its game
    assert "ALE/Pong-v5, 1 greedy episodes" in capsys.readouterr().out

    gif = tmp_path / "pong.gif"
    out = run("--weights", str(tmp_path / "run" / "last.h5"), "--episodes", "1", "--record", str(gif))
    mean = re.search(r"Pong: greedy evaluation over 1 games: mean (-?\d+\.\d)", out)
    assert mean and float(mean.group(1)) <= -15  # 400 agent steps of training: it still loses nearly every point
    assert f"to {gif}" in out and gif.stat().st_size > 10_000

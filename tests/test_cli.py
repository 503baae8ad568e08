"""The keras-dqn command, end to end as a subprocess (tiny budgets)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "weights" / "cartpole-dqn.h5"
KEON = ROOT.parent / "shared" / "fixtures" / "keon-cartpole-dqn.h5"


def keras_dqn_cli(*args, cwd=None):
    exe = shutil.which("keras-dqn") or shutil.which("keras-dqn", path=str(Path(sys.executable).parent))
    command = [exe] if exe else [sys.executable, "-m", "keras_dqn.cli"]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=300, cwd=cwd)


def test_every_command_has_help():
    for command in ("train", "play", "evaluate", "plot"):
        result = keras_dqn_cli(command, "--help")
        assert result.returncode == 0 and "usage: keras-dqn " + command in result.stdout


def test_play_shipped_weights_scores_500_with_nothing_but_the_file():
    result = keras_dqn_cli("play", str(SHIPPED), "--episodes", "3")
    assert result.returncode == 0, result.stderr
    assert [line.split()[-1] for line in result.stdout.splitlines() if line.startswith("episode")] == ["500.0"] * 3


def test_evaluate_and_keon_file_falls_back_to_env_flag():
    result = keras_dqn_cli("evaluate", str(SHIPPED), "--episodes", "10")
    assert result.returncode == 0, result.stderr
    assert "CartPole-v1, 10 greedy episodes" in result.stdout and "mean 500.00" in result.stdout
    missing_env = keras_dqn_cli("evaluate", str(KEON), "--episodes", "5")
    assert missing_env.returncode == 2 and "pass --env" in missing_env.stderr
    assert len(missing_env.stderr.strip().splitlines()) == 1
    with_env = keras_dqn_cli("evaluate", str(KEON), "--episodes", "5", "--env", "CartPole-v1")
    assert with_env.returncode == 0 and "mean" in with_env.stdout


def test_train_then_plot_then_play_the_result(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"train": {"n_envs": 2, "eval_every": 500, "eval_episodes": 2,
                                            "learning_starts": 200}}))  # fmt: skip
    out = tmp_path / "run"
    result = keras_dqn_cli("train", "CartPole-v1", "--agent", "dqn", "--steps", "1000", "--seed", "1",
                           "--config", str(config), "--out", str(out), "--no-progress")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (out / "best.h5").is_file() and (out / "last.h5").is_file() and (out / "progress.csv").is_file()
    assert "best greedy evaluation" in result.stdout
    result = keras_dqn_cli("plot", str(out))
    assert result.returncode == 0 and (out / "learning_curve.png").stat().st_size > 1000
    result = keras_dqn_cli("play", str(out / "last.h5"), "--episodes", "1")
    assert result.returncode == 0 and "episode 1: return" in result.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (("train", "NoSuchEnv-v0", "--steps", "10"), "NoSuchEnv-v0"),
        (("train", "Pendulum-v1", "--steps", "10"), "Discrete action space"),
        (("play", "missing.h5"), "no weights file"),
        (("evaluate", str(SHIPPED), "--env", "CartPole-v99"), "CartPole-v99"),
        (("plot", "no-such-dir"), "no progress.csv"),
        (("play", str(SHIPPED), "--record", "out.txt"), ".gif or .mp4"),
    ],
)
def test_bad_input_gives_one_line_and_exit_2(args, message, tmp_path):
    result = keras_dqn_cli(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.strip().splitlines() if line.startswith("keras-dqn")]
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.stderr


def test_unknown_agent_choice_is_an_argparse_error():
    result = keras_dqn_cli("train", "CartPole-v1", "--agent", "ppo")
    assert result.returncode == 2 and "invalid choice: 'ppo'" in result.stderr


def test_import_is_quiet_and_leaves_tensorflow_configurable():
    code = (
        "import keras_dqn, tensorflow as tf\n"
        "tf.config.threading.set_intra_op_parallelism_threads(1)\n"
        "agent = keras_dqn.DQNAgent(4, 2, seed=0)\n"
        "print(agent.act([0.0, 0.0, 0.0, 0.0], greedy=True))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() in ("0", "1")
    assert result.stderr == ""  # no TensorFlow start-up screenful

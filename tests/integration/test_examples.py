"""examples/cartpole.py end to end, as a user runs it (small budgets)."""

import subprocess
import sys
from pathlib import Path

import h5py

ROOT = Path(__file__).resolve().parents[2]


def run_example(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "cartpole.py"), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_train_saves_weights_and_reports_a_greedy_evaluation(tmp_path):
    out = run_example("--max-steps", "400", "--episodes", "5", "--save", str(tmp_path / "w.h5"), "--seed", "3")
    assert "blog loop; hyperparameters:" in out and "'gamma': 0.95" in out
    assert "episode: 1, score:" in out
    assert "not solved (budget spent) after 400 steps" in out
    assert f"saved weights to {tmp_path / 'w.h5'}" in out
    assert "greedy evaluation over 5 episodes" in out
    with h5py.File(tmp_path / "w.h5") as f:
        assert len(f.attrs["layer_names"]) == 3


def test_weights_flag_skips_training_and_plays_the_shipped_agent():
    out = run_example("--weights", str(ROOT / "weights" / "cartpole-dqn.h5"), "--episodes", "10")
    assert "training" not in out
    assert "greedy evaluation over 10 episodes" in out and "mean 500.0, min 500" in out


def test_target_agent_flags_are_used_and_printed(tmp_path):
    out = run_example(
        "--agent", "target", "--max-steps", "300", "--episodes", "3", "--quiet",
        "--target-update", "100", "--no-double", "--gamma", "0.9", "--hidden", "16,16",
        "--save", str(tmp_path / "t.h5"),
    )  # fmt: skip
    assert "training TargetDQNAgent" in out
    assert "'target_update': 100" in out and "'double': False" in out and "'gamma': 0.9" in out
    assert "'hidden': (16, 16)" in out
    with h5py.File(tmp_path / "t.h5") as f:
        assert f["dense/dense/kernel:0"].shape == (4, 16)


def test_rainbow_agent_trains_with_its_switches_as_flags(tmp_path):
    out = run_example(
        "--agent", "rainbow", "--max-steps", "300", "--episodes", "3", "--quiet", "--sigma0", "0.25",
        "--no-prioritized", "--n-step", "2", "--save", str(tmp_path / "r.h5"),
    )  # fmt: skip
    assert "training RainbowAgent" in out
    assert "'sigma0': 0.25" in out and "'prioritized': False" in out and "'n_step': 2" in out
    assert "'distributional': True" in out and "'noisy': True" in out  # the recipe's, unchanged
    assert "'epsilon" not in out  # noisy layers explore: epsilon's settings change nothing, so are not shown
    assert "greedy evaluation over 3 episodes" in out
    import keras_dqn

    agent = keras_dqn.load_agent(tmp_path / "r.h5")
    assert type(agent).__name__ == "RainbowAgent" and agent.sigma0 == 0.25 and agent.n_step == 2


def test_target_only_flag_with_dqn_agent_is_refused():
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "cartpole.py"), "--target-update", "100"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "--target-update needs --agent target" in result.stderr


def test_library_loop_option_trains_with_keras_dqn_train(tmp_path):
    out = run_example("--loop", "library", "--max-steps", "2000", "--episodes", "3", "--quiet",
                      "--save", str(tmp_path / "w.h5"))  # fmt: skip
    assert "library loop; hyperparameters:" in out and "'n_envs': 8" in out
    assert "not solved (budget spent) after 200" in out and "greedy evaluation over 3 episodes" in out
    assert (tmp_path / "w.h5").is_file()


def test_weights_flag_reads_the_agent_from_the_file():
    out = run_example("--weights", str(ROOT / "weights" / "cartpole-target-dqn.h5"), "--episodes", "5")
    assert "TargetDQNAgent, hidden layers (64, 64)" in out and "mean 500.0" in out

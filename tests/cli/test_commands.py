"""The keras-dqn command, end to end as a subprocess (tiny budgets)."""

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import keras_dqn

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "weights" / "cartpole-dqn.h5"
KEON = ROOT.parent / "shared" / "fixtures" / "keon-cartpole-dqn.h5"


def keras_dqn_cli(*args, cwd=None):
    exe = shutil.which("keras-dqn") or shutil.which("keras-dqn", path=str(Path(sys.executable).parent))
    command = [exe] if exe else [sys.executable, "-m", "keras_dqn"]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=300, cwd=cwd)


def test_every_command_has_help():
    for command in ("train", "play", "evaluate", "export", "plot"):
        result = keras_dqn_cli(command, "--help")
        assert result.returncode == 0 and "usage: keras-dqn " + command in result.stdout


def test_python_dash_m_keras_dqn_is_the_command_and_passes_its_exit_code():
    ok = subprocess.run([sys.executable, "-m", "keras_dqn", "plot", "--help"], capture_output=True, text=True,
                        timeout=300)  # fmt: skip
    assert ok.returncode == 0 and "usage: keras-dqn plot" in ok.stdout
    assert "RuntimeWarning" not in ok.stderr  # (running keras_dqn.cli.commands with -m warned: imported twice)
    bad = subprocess.run([sys.executable, "-m", "keras_dqn", "evaluate", "no-such-file.h5"], capture_output=True,
                         text=True, timeout=300)  # fmt: skip
    assert bad.returncode == 2 and bad.stderr.strip().splitlines()[-1].startswith("keras-dqn evaluate:")


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


def test_export_writes_a_savedmodel_that_gives_the_files_q_values_and_refuses_an_unknown_format(tmp_path):
    import numpy as np
    import tensorflow as tf

    result = keras_dqn_cli("export", str(SHIPPED), str(tmp_path / "saved"))
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stdout and "float32 states of shape (4,)" in result.stdout
    states = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    loaded = tf.saved_model.load(str(tmp_path / "saved"))
    expected = keras_dqn.load_agent(SHIPPED).q_values(states)
    np.testing.assert_allclose(loaded.serve(states).numpy(), expected, rtol=1e-5, atol=1e-5)
    bad = keras_dqn_cli("export", str(SHIPPED), str(tmp_path / "q.pt"))
    assert bad.returncode == 2 and "keras-dqn export: cannot tell the export format" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1 and not (tmp_path / "q.pt").exists()


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
        (("plot", "a", "b"), "comparing runs needs --out"),
        (("plot", "a", "b", "--out", "x.png", "--labels", "one"), "--labels names 1 runs, but 2 were given"),
        (("plot", "a", "b", "--out", "x.png", "--labels", "one,one"), "need different labels"),
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


# ---------------------------------------------------------------------------------- train's recipes
def train_in_process(capsys, *args, config: dict | None = None, tmp_path: Path):
    from keras_dqn.cli.commands import main

    extra = []
    if config is not None:
        (tmp_path / "config.json").write_text(json.dumps(config))
        extra = ["--config", str(tmp_path / "config.json")]
    code = main(["train", *args, *extra, "--out", str(tmp_path / "run"), "--no-progress"])
    out, err = capsys.readouterr()
    return code, out, err


def settings_line(out: str) -> dict:
    line = next(line for line in out.splitlines() if line.startswith("settings: "))
    return json.loads(line.removeprefix("settings: "))


def test_train_uses_the_envs_recipe_and_config_overrides_it(capsys, tmp_path):
    from keras_dqn.config.recipes import get_recipe

    code, out, err = train_in_process(capsys, "CartPole-v1", "--steps", "64", config={
        "agent": {"gamma": 0.9}, "target_agent": {"target_update": 50}, "train": {"n_envs": 2, "eval_episodes": 0}},
        tmp_path=tmp_path)  # fmt: skip
    assert code == 0, err
    assert out.splitlines()[0] == "recipe: cartpole-target"
    assert "training TargetDQNAgent on CartPole-v1 for 64 steps" in out
    settings = settings_line(out)
    recipe = get_recipe("cartpole-target")
    expected_agent = {**recipe.agent_settings, "hidden": list(recipe.agent_settings["hidden"]), "gamma": 0.9,
                      "target_update": 50}  # fmt: skip
    for unused in ("priority_alpha", "sigma0", "noisy_hidden", "n_atoms", "v_min", "v_max"):  # their switches are off
        del expected_agent[unused]
    assert settings["agent"] == expected_agent
    n_envs, _, train = recipe.train_args(n_envs=2, eval_episodes=0)
    assert settings["train"] == {"n_envs": n_envs, **train}
    agent = keras_dqn.load_agent(tmp_path / "run" / "last.h5")
    assert type(agent).__name__ == "TargetDQNAgent" and agent.hidden == (64, 64)


def test_train_agent_flag_takes_the_cartpole_dqn_agent_settings(capsys, tmp_path):
    from keras_dqn.config.recipes import get_recipe

    config = {"train": {"n_envs": 2, "eval_episodes": 0}}
    code, out, err = train_in_process(capsys, "CartPole-v1", "--agent", "dqn", "--steps", "40", config=config,
                                      tmp_path=tmp_path)  # fmt: skip
    assert code == 0, err
    assert "agent: DQNAgent with cartpole-dqn's settings (--agent dqn)" in out
    assert settings_line(out)["agent"]["gamma"] == get_recipe("cartpole-dqn").agent_settings["gamma"]


def test_train_env_without_a_recipe_gets_the_generic_one(capsys, tmp_path):
    config = {"train": {"n_envs": 1, "eval_episodes": 0}}
    code, out, err = train_in_process(capsys, "CartPole-v0", "--steps", "20", config=config, tmp_path=tmp_path)
    assert code == 0, err
    assert "recipe: CartPole-v0 has no recipe of its own; using cartpole-target's settings with its shapes" in out
    agent = keras_dqn.load_agent(tmp_path / "run" / "last.h5")
    assert agent.state_shape == (4,) and agent.action_size == 2 and agent.env_id == "CartPole-v0"


@pytest.mark.parametrize(("env_id", "recipe"), [("Acrobot-v1", "acrobot"), ("MountainCar-v0", "mountaincar")])
def test_train_env_with_a_recipe_uses_it_and_says_so(capsys, tmp_path, env_id, recipe):
    config = {"train": {"n_envs": 1, "eval_episodes": 0}}
    code, out, err = train_in_process(capsys, env_id, "--steps", "20", config=config, tmp_path=tmp_path)
    assert code == 0, err
    assert f"recipe: {recipe}\n" in out
    settings = settings_line(out)
    assert settings["agent"]["hidden"] == [256, 256] and settings["train"]["exploration_fraction"] > 0
    # the linear schedule replaces the agent's decay: the settings shown are those in use
    assert "epsilon_decay" not in settings["agent"] and "epsilon_min" not in settings["agent"]
    assert settings["agent"]["epsilon"] == 1.0  # where the linear schedule starts
    assert keras_dqn.load_agent(tmp_path / "run" / "last.h5").env_id == env_id


@pytest.mark.parametrize(
    ("args", "config", "message"),
    [
        (("--recipe", "ppo"), None, "unknown recipe 'ppo'; known recipes: cartpole-dqn, cartpole-target, "
                                   "cartpole-rainbow, pong, pong-rainbow, pong-rainbow-eps, pong-rainbow-noisy-head, "
                                   "breakout-keras-io, acrobot, mountaincar, lunarlander"),
        ((), {"agent": {"gama": 0.9}}, "unknown TargetDQNAgent settings: gama"),
        ((), {"train": {"n_env": 2}}, "unknown train settings: n_env"),
        ((), {"optimizer": {}}, "config sections are ['agent', 'target_agent', 'train']"),
        (("--agent", "dqn"), {"target_agent": {"double": False}}, "unknown DQNAgent settings: double"),
    ],
)
def test_train_bad_recipe_or_config_is_one_line_and_exit_2(capsys, tmp_path, args, config, message):
    code, out, err = train_in_process(capsys, "CartPole-v1", *args, config=config, tmp_path=tmp_path)
    assert code == 2 and len(err.strip().splitlines()) == 1 and message in err
    assert not (tmp_path / "run").exists()


def test_train_pong_uses_the_pong_recipe_and_evaluates_full_games(capsys, tmp_path):
    pytest.importorskip("ale_py")
    pytest.importorskip("cv2")
    code, out, err = train_in_process(capsys, "ALE/Pong-v5", "--steps", "40", config={
        "agent": {"memory_size": 500}, "train": {"n_envs": 2, "learning_starts": 20, "eval_every": 40,
                                                 "eval_episodes": 1}}, tmp_path=tmp_path)  # fmt: skip
    assert code == 0, err
    assert out.splitlines()[0] == "recipe: pong" and "training ConvDQNAgent on ALE/Pong-v5 for 40 steps" in out
    assert settings_line(out)["agent"]["clipnorm"] == 10.0
    assert "best greedy evaluation: -21.0" in out  # a whole game lost 0-21, not one life of a training episode
    agent = keras_dqn.load_agent(tmp_path / "run" / "last.h5")
    assert type(agent).__name__ == "ConvDQNAgent" and agent.env_id == "ALE/Pong-v5"


def test_train_with_precision_auto_resumes_in_the_precision_it_picked(capsys, tmp_path):
    pytest.importorskip("ale_py")
    pytest.importorskip("cv2")
    config = {"agent": {"memory_size": 500, "precision": "auto"},
              "train": {"n_envs": 1, "learning_starts": 20, "eval_every": 30, "eval_episodes": 0}}  # fmt: skip
    code, out, err = train_in_process(capsys, "ALE/Pong-v5", "--steps", "30", config=config, tmp_path=tmp_path)
    assert code == 0, err
    picked = keras_dqn.load_agent(tmp_path / "run" / "last.h5").precision
    assert picked in ("float32", "mixed_bfloat16")
    from keras_dqn.networks.precision import bf16_supported

    assert (f"precision auto: {picked} (a training step of the network, timed here: " in out) == bf16_supported()
    from keras_dqn.files.checkpoint import checkpoint_precision

    assert checkpoint_precision(tmp_path / "run") == picked
    code, out, err = train_in_process(capsys, "ALE/Pong-v5", "--steps", "60", "--resume", config=config,
                                      tmp_path=tmp_path)  # fmt: skip
    assert code == 0, err
    assert f"precision auto: {picked}, as the run picked when it started" in out and "timed here" not in out
    assert keras_dqn.load_agent(tmp_path / "run" / "last.h5").precision == picked


def test_train_an_mlp_agent_on_pong_is_refused(capsys, tmp_path):
    pytest.importorskip("ale_py")
    pytest.importorskip("cv2")
    code, out, err = train_in_process(capsys, "ALE/Pong-v5", "--agent", "target", tmp_path=tmp_path)
    assert code == 2 and "TargetDQNAgent takes flat observation vectors; got observations of shape (4, 84, 84)" in err


def test_train_a_zoo_env_with_a_noisy_agent_drops_the_epsilon_schedule(capsys, tmp_path):
    config = {"agent": {"v_min": -100.0, "v_max": 0.0}, "train": {"n_envs": 1, "eval_episodes": 0}}  # Acrobot's returns
    code, out, err = train_in_process(capsys, "Acrobot-v1", "--agent", "rainbow", "--steps", "20", config=config,
                                      tmp_path=tmp_path)  # fmt: skip
    assert code == 0, err
    settings = settings_line(out)
    assert settings["agent"]["noisy"] is True and "exploration_fraction" not in settings["train"]


def test_train_refuses_c51_atoms_made_for_another_env(capsys, tmp_path):
    # --agent rainbow brings cartpole-rainbow's atoms, [-10, 100]: Acrobot's returns, in [-100, 0], would be clipped.
    code, out, err = train_in_process(capsys, "Acrobot-v1", "--agent", "rainbow", "--steps", "20", tmp_path=tmp_path)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "RainbowAgent's C51 atoms span [-10, 100], the returns of CartPole-v1; Acrobot-v1's returns" in err
    assert '{"agent": {"v_min": ..., "v_max": ...}}' in err and not (tmp_path / "run").exists()
    code, out, err = train_in_process(capsys, "Acrobot-v1", "--recipe", "cartpole-rainbow", "--steps", "20",
                                      config={"agent": {"v_max": 0.0}}, tmp_path=tmp_path)  # one end is not enough
    assert code == 2 and "the returns of CartPole-v1" in err
    code, out, err = train_in_process(capsys, "Acrobot-v1", "--agent", "rainbow", "--steps", "20", tmp_path=tmp_path,
                                      config={"agent": {"distributional": False}, "train": {"eval_episodes": 0}})
    assert code == 0, err


def test_a_config_cannot_hold_an_exploration_object(capsys, tmp_path):
    code, out, err = train_in_process(capsys, "Acrobot-v1", "--steps", "20", config={"agent": {"exploration": 0.1}},
                                      tmp_path=tmp_path)  # fmt: skip
    assert code == 2 and "train.exploration_fraction" in err


def test_plot_a_csv_and_compare_two_runs(tmp_path):
    for name, evals in (("a", (-21, -20)), ("b", (-20, -12))):
        (tmp_path / name / "logs").mkdir(parents=True)
        rows = [f"{i},{e},{(i + 1) * 50_000},{(i + 1) * 600}" for i, e in enumerate(evals)]
        (tmp_path / name / "logs" / "progress.csv").write_text("epoch,eval_mean,step,wall_s\n" + "\n".join(rows))
    single = keras_dqn_cli("plot", str(tmp_path / "a" / "logs" / "progress.csv"), "--title", "A alone")
    assert single.returncode == 0, single.stderr
    assert (tmp_path / "a" / "logs" / "learning_curve.png").is_file()
    both = keras_dqn_cli("plot", str(tmp_path / "a" / "logs"), str(tmp_path / "b" / "logs"), "--out",
                         str(tmp_path / "ab.png"))  # fmt: skip
    assert both.returncode == 0, both.stderr
    assert (tmp_path / "ab.png").stat().st_size > 10_000


def test_an_env_registered_by_a_module_is_recorded_with_its_module(capsys, tmp_path, monkeypatch):
    (tmp_path / "my_bar_envs.py").write_text(textwrap.dedent("""
        import gymnasium as gym
        import numpy as np

        class Side(gym.Env):  # which side is lit: press that button
            observation_space = gym.spaces.Box(0.0, 1.0, (2,), np.float32)
            action_space = gym.spaces.Discrete(2)

            def __init__(self, render_mode=None):
                self.render_mode = render_mode

            def reset(self, *, seed=None, options=None):
                super().reset(seed=seed)
                self.side, self.t = int(self.np_random.integers(2)), 0
                return np.eye(2, dtype=np.float32)[self.side], {}

            def step(self, action):
                reward, self.t = float(action == self.side), self.t + 1
                self.side = int(self.np_random.integers(2))
                return np.eye(2, dtype=np.float32)[self.side], reward, self.t >= 10, False, {}

        gym.register("MyBar-v0", entry_point=Side)
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    code, out, err = train_in_process(capsys, "my_bar_envs:MyBar-v0", "--steps", "64", config={
        "train": {"n_envs": 1, "eval_episodes": 0, "learning_starts": 32}}, tmp_path=tmp_path)  # fmt: skip
    assert code == 0, err
    assert keras_dqn.load_agent(tmp_path / "run" / "last.h5").env_id == "my_bar_envs:MyBar-v0"
    from keras_dqn.cli.commands import main

    assert main(["evaluate", str(tmp_path / "run" / "last.h5"), "--episodes", "2"]) == 0  # no --env needed

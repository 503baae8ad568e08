"""The toy-text envs (FrozenLake, Taxi, CliffWalking, Blackjack): observations one-hot, options, shipped agents."""

import json

import gymnasium as gym
import numpy as np
import pytest

import keras_dqn
from keras_dqn.cli.commands import main
from keras_dqn.envs.make import flat_observations, needs_flattening

TOY_TEXT = {"FrozenLake-v1": 16, "FrozenLake8x8-v1": 64, "Taxi-v4": 500, "CliffWalking-v1": 48,
            "CliffWalkingSlippery-v1": 48, "Blackjack-v1": 32 + 11 + 2}  # fmt: skip


@pytest.mark.parametrize("env_id", sorted(TOY_TEXT))
def test_make_env_and_make_vector_env_one_hot_the_observations(env_id):
    env = keras_dqn.make_env(env_id)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (TOY_TEXT[env_id],)
    raw = gym.make(env_id).reset(seed=0)[0]
    np.testing.assert_array_equal(obs, gym.spaces.flatten(gym.make(env_id).observation_space, raw))
    parts = 3 if env_id == "Blackjack-v1" else 1  # one 1 per Discrete part
    assert obs.sum() == parts and set(np.unique(obs)) == {0, 1}
    envs = keras_dqn.make_vector_env(env_id, 3)
    assert envs.reset(seed=0)[0].shape == (3, TOY_TEXT[env_id])


def test_flattening_is_said_once_per_env_id(capsys):
    # an id of its own, so no other test has made it (and been told) in this process
    gym.register("SaidOnceTaxi-v0", entry_point="gymnasium.envs.toy_text.taxi:TaxiEnv", max_episode_steps=200)
    keras_dqn.make_env("SaidOnceTaxi-v0")
    keras_dqn.make_vector_env("SaidOnceTaxi-v0", 2)
    keras_dqn.make_env("SaidOnceTaxi-v0")
    out = capsys.readouterr().out
    assert out.count("SaidOnceTaxi-v0: observations in Discrete(500) are one-hot encoded into vectors of 500") == 1


class TextObservations(gym.Env):
    observation_space = gym.spaces.Text(8)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, render_mode=None):
        self.render_mode = render_mode

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return "hello", {}

    def step(self, action):
        return "hello", 0.0, True, False, {}


def test_observations_that_cannot_be_flattened_get_one_error_naming_what_to_do(capsys):
    with pytest.raises(ValueError, match=r"can't make into a vector .* gymnasium.ObservationWrapper"):
        needs_flattening(gym.spaces.Text(8), "TextEnv")
    with pytest.raises(ValueError, match="can't make into a vector"):
        flat_observations(TextObservations())
    assert needs_flattening(gym.spaces.Box(0, 1, (84, 84))) is False  # frames: the conv agents' own
    gym.register("keras_dqn_test/TextObservations-v0", entry_point=TextObservations)
    try:
        assert main(["train", "keras_dqn_test/TextObservations-v0", "--steps", "10", "--out", "/dev/null/x"]) == 2
    finally:
        gym.registry.pop("keras_dqn_test/TextObservations-v0")
    err = capsys.readouterr().err
    assert "can't make into a vector" in err and "Traceback" not in err


def test_a_raw_env_trains_evaluates_and_plays_and_a_loaded_file_plays_the_raw_env_again(tmp_path):
    agent = keras_dqn.TargetDQNAgent(45, 2, seed=0, hidden=(16,))
    keras_dqn.train(agent, gym.make("Blackjack-v1"), 300, learning_starts=50, eval_every=300, eval_episodes=5,
                    progress=False, checkpoint_dir=tmp_path)  # fmt: skip
    loaded = keras_dqn.load_agent(tmp_path / "last.h5")
    assert (loaded.env_id, loaded.env_kwargs) == ("Blackjack-v1", {})
    raw = gym.make("Blackjack-v1")
    by_raw_env = keras_dqn.evaluate(loaded, raw, 20, seed=5)
    by_id = keras_dqn.evaluate(loaded, "Blackjack-v1", 20, seed=5)
    assert by_raw_env == by_id and set(by_raw_env) <= {-1.0, 0.0, 1.0}
    assert keras_dqn.play_episode(loaded, gym.make("Blackjack-v1"), seed=5) == by_id[0]
    with pytest.raises(ValueError, match="env_kwargs applies only to an env id"):
        keras_dqn.evaluate(loaded, raw, 2, env_kwargs={"natural": True})


def test_env_options_are_recorded_in_the_weights_file_and_used_to_evaluate(tmp_path):
    deterministic = keras_dqn.make_vector_env("FrozenLake-v1", 2, is_slippery=False, max_episode_steps=30)
    agent = keras_dqn.TargetDQNAgent(16, 4, seed=0, hidden=(16,))
    keras_dqn.train(agent, deterministic, 200, learning_starts=50, eval_every=200, eval_episodes=2, progress=False,
                    checkpoint_dir=tmp_path)  # fmt: skip
    loaded = keras_dqn.load_agent(tmp_path / "last.h5")
    assert loaded.env_kwargs == {"is_slippery": False, "max_episode_steps": 30}
    env = keras_dqn.make_env(loaded.env_id, **loaded.env_kwargs)
    assert env.spec.max_episode_steps == 30 and env.spec.kwargs["is_slippery"] is False


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_env_kwargs_reach_the_env_the_file_and_evaluate(tmp_path, capsys):
    out = tmp_path / "run"
    code, text, err = run_cli(capsys, "train", "FrozenLake-v1", "--env-kwargs", '{"is_slippery": false}', "--steps",
                              "400", "--out", str(out), "--no-progress")  # fmt: skip
    assert code == 0, err
    assert '"env": {"is_slippery": false}' in text and "recipe: frozenlake" in text
    assert keras_dqn.load_agent(out / "last.h5").env_kwargs == {"is_slippery": False}
    code, text, err = run_cli(capsys, "evaluate", str(out / "last.h5"), "--episodes", "4")
    assert code == 0 and 'FrozenLake-v1 {"is_slippery": false}, 4 greedy episodes' in text
    for bad, message in (("{oops", "--env-kwargs is not valid JSON"), ("[1]", "--env-kwargs must be an object"),
                         ('{"bogus": 1}', "does not take the options given (is_slippery, bogus)")):  # fmt: skip
        code, _, err = run_cli(capsys, "evaluate", str(out / "last.h5"), "--env-kwargs", bad)
        assert code == 2 and message in err and "Traceback" not in err, err


@pytest.mark.parametrize("env_id", sorted(TOY_TEXT))
def test_every_toy_text_env_trains_from_the_cli(tmp_path, capsys, env_id):
    code, text, err = run_cli(capsys, "train", env_id, "--steps", "300", "--out", str(tmp_path / "run"),
                              "--no-progress")  # fmt: skip
    assert code == 0, err
    agent = keras_dqn.load_agent(tmp_path / "run" / "last.h5")
    assert agent.state_size == TOY_TEXT[env_id] and agent.env_id == env_id


def test_recipes_env_options_apply_to_their_own_env_only():
    recipe = keras_dqn.get_recipe("cliffwalking")
    assert recipe.env_kwargs_for("CliffWalking-v1") == {"max_episode_steps": 200}
    assert recipe.env_kwargs_for("FrozenLake-v1") == {}
    with pytest.raises(ValueError, match="env_kwargs must be an object"):
        recipe.replace(env_kwargs=[("max_episode_steps", 9)])
    with pytest.raises(ValueError, match="env_kwargs must hold JSON values"):
        recipe.replace(env_kwargs={"desc": object()})


SHIPPED = {  # file: (env, held-out episodes, the bar the 1,000+-episode figure in the README clears)
    "frozenlake-dqn": ("FrozenLake-v1", 300, 0.6),
    "taxi-dqn": ("Taxi-v4", 200, 7.0),
    "cliffwalking-dqn": ("CliffWalking-v1", 5, -13.0),
    "blackjack-dqn": ("Blackjack-v1", 20_000, -0.09),
}


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_toy_text_agents_play_well_on_held_out_resets(name):
    env_id, episodes, bar = SHIPPED[name]
    agent = keras_dqn.load_agent(keras_dqn.weights_path(name))
    assert agent.env_id == env_id
    returns = keras_dqn.evaluate(agent, env_id, episodes, seed=5_000_000_000, n_envs=min(episodes, 1000),
                                 env_kwargs=agent.env_kwargs)  # fmt: skip
    assert np.mean(returns) >= bar, f"{name}: {np.mean(returns)} over {episodes} episodes"


def test_toy_text_checkpoints_continue_their_episodes(tmp_path, capsys):
    settings = dict(learning_starts=50, eval_every=150, eval_episodes=0, progress=False, seed=1, save_memory=True)
    whole = keras_dqn.TargetDQNAgent(500, 6, seed=0, hidden=(16,))
    keras_dqn.train(whole, keras_dqn.make_vector_env("Taxi-v4", 2), 450, checkpoint_dir=tmp_path / "a", **settings)
    keras_dqn.train(keras_dqn.TargetDQNAgent(500, 6, seed=0, hidden=(16,)), keras_dqn.make_vector_env("Taxi-v4", 2),
                    300, checkpoint_dir=tmp_path / "b", **settings)  # fmt: skip
    resumed = keras_dqn.TargetDQNAgent(500, 6, seed=0, hidden=(16,))
    keras_dqn.train(resumed, keras_dqn.make_vector_env("Taxi-v4", 2), 450, checkpoint_dir=tmp_path / "b", resume=True,
                    **settings)  # fmt: skip
    assert "continuing the episodes in progress" in capsys.readouterr().out
    for a, b in zip(whole.model.get_weights(), resumed.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_evaluate_output_names_the_options(tmp_path, capsys):
    agent = keras_dqn.TargetDQNAgent(16, 4, seed=0, hidden=(8,))
    agent.env_id, agent.env_kwargs = "FrozenLake-v1", {"map_name": "4x4", "is_slippery": False}
    agent.save(tmp_path / "a.h5")
    code, text, _ = run_cli(capsys, "evaluate", str(tmp_path / "a.h5"), "--episodes", "2")
    assert code == 0 and json.dumps(agent.env_kwargs) in text


def test_the_keras_rl_api_fits_and_tests_a_raw_frozenlake():
    import keras

    from keras_dqn.rl import DQNAgent, SequentialMemory

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((1, 16)), keras.layers.Flatten(), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(4)])  # fmt: skip
    dqn = DQNAgent(model=model, nb_actions=4, memory=SequentialMemory(1000, window_length=1), nb_steps_warmup=20,
                   target_model_update=1e-2, seed=0)  # fmt: skip
    dqn.compile(keras.optimizers.Adam(learning_rate=1e-3))
    env = gym.make("FrozenLake-v1")  # Discrete(16) observations: one-hot on the way in
    env.reset(seed=0)
    history = dqn.fit(env, nb_steps=200, verbose=0)
    assert sum(history.history["nb_episode_steps"]) <= 200 and len(history.history["episode_reward"]) > 0
    rewards = dqn.test(env, nb_episodes=3, verbose=0).history["episode_reward"]
    assert len(rewards) == 3 and set(rewards) <= {0.0, 1.0}


def test_dict_observations_are_flattened_and_train():
    half = gym.spaces.Box(-np.inf, np.inf, (2,))
    env = gym.wrappers.TransformObservation(gym.make("CartPole-v1"), lambda obs: {"cart": obs[:2], "pole": obs[2:]},
                                            gym.spaces.Dict({"cart": half, "pole": half}))  # fmt: skip
    agent = keras_dqn.TargetDQNAgent(4, 2, seed=0, hidden=(8,))
    history = keras_dqn.train(agent, env, 200, learning_starts=50, eval_every=200, eval_episodes=0, progress=False)
    assert history.history["step"] == [200] and agent.train_steps > 0


def test_the_frozenlake_example_shows_the_shipped_agents_table_beside_value_iteration(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    plot = tmp_path / "policy.png"
    result = subprocess.run([sys.executable, str(root / "examples" / "frozenlake.py"), "--weights",
                             str(root / "weights" / "frozenlake-dqn.h5"), "--episodes", "50", "--plot", str(plot)],
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "greedy action is an optimal one in 11 of the 11 cells" in result.stdout
    assert "the optimal policy's expectation: 0.744" in result.stdout
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_example_trains_a_deterministic_lake_from_scratch():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, str(root / "examples" / "frozenlake.py"), "--env-kwargs",
                             '{"is_slippery": false}', "--steps", "6000", "--episodes", "20", "--plot", ""],
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    import re  # (how well 6,000 steps learn is a benchmark's question, not a test's)

    assert re.search(r"success rate over 20 held-out episodes: [01]\.\d{3} \(the optimal policy's expectation: 1\.000",
                     result.stdout), result.stdout[-1000:]  # fmt: skip


def test_plot_grid_policy_checks_the_tables_and_draws(tmp_path):
    pytest.importorskip("matplotlib")
    from keras_dqn.experiments.plots import plot_grid_policy

    grid = ["SF", "HG"]
    q = np.arange(16, dtype=float).reshape(4, 4)
    assert plot_grid_policy({"a": q, "b": -q}, grid, tmp_path / "p.png").is_file()
    with pytest.raises(ValueError, match=r"table 'a' has shape \(3, 4\); a 2x2 grid with 4 actions needs \(4, 4\)"):
        plot_grid_policy({"a": q[:3]}, grid, tmp_path / "p.png")
    with pytest.raises(ValueError, match="give a path ending in .png"):
        plot_grid_policy({"a": q}, grid, tmp_path / "p.jpg")

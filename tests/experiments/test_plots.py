"""Plots and recordings (the viz extra)."""

import imageio.v2 as imageio
import numpy as np
import pytest

import keras_dqn
from keras_dqn.experiments.plots import check_recording_path, greedy_episode, plot_learning_curve, plot_q_values, record
from keras_dqn.training.evaluation import play_episode


@pytest.fixture(scope="module")
def shipped_agent():
    return keras_dqn.load_agent(keras_dqn.weights_path("cartpole-dqn"))


def test_record_gif_has_one_frame_per_step(tmp_path, shipped_agent):
    path = tmp_path / "play.gif"
    score = record(shipped_agent, "CartPole-v1", path, seed=3)
    frames = imageio.mimread(path, memtest=False)
    assert score == 500.0
    assert len(frames) > 100  # the GIF writer merges identical consecutive frames, so fewer than 501
    _, q_trace, rendered = greedy_episode(shipped_agent, "CartPole-v1", seed=3, render=True)
    assert len(rendered) == len(q_trace) + 1 == 501  # the first frame, then one per step
    assert frames[0].shape[2] in (3, 4) and frames[0].shape[:2] == (400, 600)


def test_record_mp4(tmp_path, shipped_agent):
    record(shipped_agent, "CartPole-v1", tmp_path / "play.mp4")
    assert (tmp_path / "play.mp4").stat().st_size > 10_000


def test_q_value_plot_and_learning_curve(tmp_path, shipped_agent):
    png = plot_q_values(shipped_agent, "CartPole-v1", tmp_path / "q.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (tmp_path / "progress.csv").write_text("epoch,step,episode_return,eval_mean\n0,500,20.0,22.5\n1,1000,80.0,nan\n")
    curve = plot_learning_curve(tmp_path)
    assert curve == tmp_path / "learning_curve.png" and curve.stat().st_size > 1000


def test_bad_input(tmp_path, shipped_agent):
    with pytest.raises(FileNotFoundError, match="no progress.csv"):
        plot_learning_curve(tmp_path / "nothing")
    with pytest.raises(ValueError, match=".gif or .mp4"):
        record(shipped_agent, "CartPole-v1", tmp_path / "x.avi")
    import gymnasium as gym

    with pytest.raises(ValueError, match="render_mode='rgb_array'"):
        record(shipped_agent, gym.make("CartPole-v1"), tmp_path / "x.gif")


def test_load_agent_reads_config_or_infers_architecture(tmp_path):
    agent = keras_dqn.TargetDQNAgent(4, 2, hidden=(16, 8), dueling=True, target_update=50)
    agent.env_id = "CartPole-v1"
    agent.save(tmp_path / "t.h5")
    loaded = keras_dqn.load_agent(tmp_path / "t.h5")
    assert type(loaded) is keras_dqn.TargetDQNAgent and loaded.hidden == (16, 8) and loaded.dueling
    assert loaded.env_id == "CartPole-v1" and loaded.target_update_every == 50
    states = np.random.default_rng(0).normal(size=(4, 4))
    np.testing.assert_array_equal(loaded.q_values(states), agent.q_values(states))


def test_greedy_episode_is_play_episode_with_its_q_values(shipped_agent):
    import gymnasium as gym

    observations = []
    expected = play_episode(shipped_agent, gym.make("CartPole-v1"), 7, on_step=lambda obs, q: observations.append(obs))
    total, q_trace, frames = greedy_episode(shipped_agent, gym.make("CartPole-v1"), seed=7)
    assert total == expected and frames == []
    np.testing.assert_allclose(q_trace, shipped_agent.q_values(np.array(observations)), rtol=1e-6)  # batched: round-off


def test_check_recording_path(tmp_path):
    assert check_recording_path(tmp_path / "a.GIF") == tmp_path / "a.GIF"
    assert check_recording_path(str(tmp_path / "b.mp4")) == tmp_path / "b.mp4"
    for bad in ("x.avi", "x", "gif"):
        with pytest.raises(ValueError, match=rf"recordings are .gif or .mp4 files, got '{bad}'"):
            check_recording_path(bad)


def _write_progress(folder, rows):
    folder.mkdir(parents=True)
    lines = ["epoch,eval_mean,step,wall_s"] + [f"{i},{e},{s},{w}" for i, (s, e, w) in enumerate(rows)]
    (folder / "progress.csv").write_text("\n".join(lines) + "\n")
    return folder


def test_plot_runs_compares_curves_against_steps_and_wall_hours(tmp_path):
    import matplotlib.image

    from keras_dqn.experiments.plots import plot_runs

    dqn = _write_progress(tmp_path / "dqn" / "logs", [(50_000, -21, 600), (100_000, -20, 1200)])
    rainbow = _write_progress(tmp_path / "rainbow", [(50_000, -20, 900), (100_000, -12, 1900)])
    out = plot_runs({"DQN": dqn, "Rainbow": rainbow / "progress.csv"}, tmp_path / "cmp.png", title="Pong")
    height, width = matplotlib.image.imread(out).shape[:2]
    assert width > 2.2 * height  # two panels side by side: steps and hours
    # a run without wall_s: steps only
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "progress.csv").write_text("epoch,eval_mean,step\n0,-21,50000\n")
    only_steps = plot_runs({"old": tmp_path / "old"}, tmp_path / "old.png")
    height, width = matplotlib.image.imread(only_steps).shape[:2]
    assert width < 2.2 * height
    with pytest.raises(ValueError, match="no 'loss' column"):
        plot_runs({"DQN": dqn}, tmp_path / "x.png", column="loss")
    with pytest.raises(ValueError, match="runs is empty"):
        plot_runs({}, tmp_path / "x.png")
    with pytest.raises(FileNotFoundError, match="no progress.csv"):
        plot_runs({"missing": tmp_path / "nowhere"}, tmp_path / "x.png")
    with pytest.raises(ValueError, match="ending in .png"):
        plot_runs({"DQN": dqn}, tmp_path / "x.jpg")

"""The other tutorials' scripts: keras-rl CartPole, the TF workshop, its human takeover, the Double-DQN guide."""

import csv
import importlib.util
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import keras_dqn

ROOT = Path(__file__).resolve().parents[2]


def run_example(name: str, *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / name), *args],
        capture_output=True,
        text=True,
        timeout=300,
        input=stdin,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def load_example(name: str):
    spec = importlib.util.spec_from_file_location(name.removesuffix(".py"), ROOT / "examples" / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------------------------- keras-rl
def test_keras_rl_script_trains_and_tests_five_episodes():
    out = run_example("keras_rl_cartpole.py", "--nb-steps", "300")
    assert "Training for 300 steps ..." in out and "episode: 1, duration:" in out
    rewards = [float(r) for r in re.findall(r"Episode \d: reward: ([\d.]+), steps: \d+", out)]
    assert len(rewards) == 5 and all(r >= 1 for r in rewards)
    assert f"test episode rewards: {rewards}" in out


# ---------------------------------------------------------------------------------- TF workshop
def test_tf_workshop_writes_plot_gif_tensorboard_and_weights(tmp_path):
    out = run_example("tf_workshop.py", "--episodes", "3", "--out", str(tmp_path), "--eval-episodes", "3")
    assert "greedy evaluation over 3 episodes" in out
    assert (tmp_path / "q_values.png").read_bytes().startswith(b"\x89PNG")
    assert (tmp_path / "episode.gif").read_bytes().startswith(b"GIF8")
    assert list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))
    agent = keras_dqn.load_agent(tmp_path / "workshop.h5")
    assert agent.hidden == (16, 32, 8) and agent.gamma == 0.9


def test_tf_workshop_agent_is_the_workshops_network():
    workshop = load_example("tf_workshop.py")
    agent = workshop.make_agent(workshop.parse_args([]))  # the defaults: the workshop's settings
    kernels = [w for w in agent.model.get_weights() if w.ndim == 2]
    assert [k.shape for k in kernels] == [(4, 16), (16, 32), (32, 8), (8, 2)]
    assert abs(np.std(kernels[1]) - 0.35) < 0.05  # N(0, 0.35) weights
    assert type(agent.model.optimizer).__name__ == "RMSprop"
    assert float(agent.model.optimizer.learning_rate) == pytest.approx(1e-4)


# ---------------------------------------------------------------------------------- human in the loop
@pytest.fixture(scope="module")
def hitl():
    return load_example("human_in_the_loop.py")


@pytest.fixture(scope="module")
def shipped_agent():
    return keras_dqn.load_agent(keras_dqn.weights_path("cartpole-dqn"))


def test_human_is_asked_exactly_when_max_q_falls_to_the_threshold(hitl, shipped_agent):
    answers = io.StringIO("0\n1\n" * 300)
    report = hitl.team_up(shipped_agent, gym.make("CartPole-v1"), 15.0, hitl.ask_human(answers, io.StringIO()),
                          seed=0, max_steps=300)  # fmt: skip
    trace = report["trace"]
    first_q = shipped_agent.q_values(gym.make("CartPole-v1").reset(seed=0)[0])[0].max()
    assert report["threshold"] == pytest.approx(first_q - 15.0)
    assert 0 < report["asked"] < report["steps"]  # this margin asks sometimes, not always
    for t in trace:
        assert t["asked"] == (t["max_q"] <= report["threshold"])
    asked = [t for t in trace if t["asked"]]
    assert [t["human"] for t in asked] == [0, 1] * (len(asked) // 2) + [0] * (len(asked) % 2)
    assert all(t["action"] == t["human"] for t in asked)  # the human's action is the one taken
    assert all(t["human"] is None for t in trace if not t["asked"])


def test_invalid_answers_are_asked_again_and_eof_hands_back_to_the_agent(hitl, shipped_agent):
    prompts, said = io.StringIO(), []
    ask = hitl.ask_human(io.StringIO("1\nleft\n7\n0\n"), prompts)
    report = hitl.team_up(shipped_agent, gym.make("CartPole-v1"), -1000.0, ask, seed=1, max_steps=50, say=said.append)
    trace = report["trace"]
    assert [t["human"] for t in trace[:3]] == [1, 0, None]  # the third question met the end of input
    assert [t["action"] for t in trace[:2]] == [1, 0]
    assert report["asked"] == 3 and report["answered"] == 2
    assert not any(t["asked"] for t in trace[3:])  # no more questions after EOF
    assert "'left' is not an action: type 0 (left) or 1 (right)" in prompts.getvalue()
    assert "'7' is not an action" in prompts.getvalue()
    assert said == ["no more input: the agent plays on alone"]


def test_human_in_the_loop_script_with_piped_input():
    out = run_example("human_in_the_loop.py", "--margin", "-1000", "--max-steps", "20", stdin="0\n1\nx\n1\n")
    assert out.count("left (0) or right (1):") == 5  # 4 steps asked, one answer re-asked
    assert "Performing: 0 (left)" in out and "'x' is not an action" in out
    assert "no more input: the agent plays on alone" in out
    assert "asked the human 4 times in 20 steps (3 answered): at steps [1, 2, 3, 4]" in out
    assert "final score: 20" in out


# ---------------------------------------------------------------------------------- Double-DQN guide
def test_double_dqn_guide_logs_and_keeps_the_best_weights(tmp_path):
    out = run_example("double_dqn_guide.py", "--episodes", "6", "--learning-starts", "60", "--out", str(tmp_path),
                      "--final-episodes", "5", "--eval-episodes", "3", "--no-wandb")  # fmt: skip
    match = re.search(r"best greedy score over 3 episodes: ([\d.]+) \(after episode (\d)\); best weights saved to (.+)",
                      out)  # fmt: skip
    assert match and Path(match.group(3)) == tmp_path / "best.h5"
    with open(tmp_path / "progress.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 6
    eps = [float(r["epsilon"]) for r in rows]
    np.testing.assert_allclose(eps, [0.995 ** (i + 1) for i in range(6)], rtol=1e-6)  # per episode
    scores = [float(r["average_score"]) for r in rows]
    evaluated = [s for s in scores if not np.isnan(s)]
    assert evaluated and float(match.group(1)) == pytest.approx(max(evaluated), abs=0.05)
    assert float(rows[-1]["best_avg_score"]) == pytest.approx(max(evaluated))
    assert list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))
    best = keras_dqn.load_agent(tmp_path / "best.h5")
    assert type(best).__name__ == "TargetDQNAgent" and best.hidden == (500, 128) and best.double
    assert "held-out greedy episodes" in out


def test_double_dqn_guide_syncs_the_target_network_every_20_episodes(tmp_path, monkeypatch):
    guide = load_example("double_dqn_guide.py")
    syncs = []  # transitions stored when each sync happened: pins it to an episode's end
    original = keras_dqn.TargetDQNAgent.update_target_model

    def recording_sync(agent):
        original(agent)
        syncs.append(len(agent.memory))

    monkeypatch.setattr(keras_dqn.TargetDQNAgent, "update_target_model", recording_sync)
    # no learning (learning_starts out of reach): only the acting loop and the syncs run
    args = guide.parse_args(["--episodes", "41", "--out", str(tmp_path), "--learning-starts", str(10**9),
                             "--eval-episodes", "1", "--no-wandb", "--quiet"])  # fmt: skip
    result = guide.train_guide_loop(args)
    with open(tmp_path / "progress.csv") as f:
        env_steps = [int(float(r["env_steps"])) for r in csv.DictReader(f)]
    assert len(env_steps) == 41 and env_steps[-1] < result["agent"].memory.maxlen  # memory length == env steps
    # one copy when the agent is built, then after episodes 0, 20 and 40 (--update-every defaults to the guide's 20)
    assert syncs == [0, env_steps[0], env_steps[20], env_steps[40]]


# --- the blog's own repository, keon/deep-q-learning: its three scripts with only the imports and
# gym -> gymnasium calls changed (examples/keon/), against the originals (tests/fixtures/keon/) ---
KEON = ROOT / "tests" / "fixtures" / "keon"
KEON_SCRIPTS = ("dqn.py", "dqn_batch.py", "ddqn.py")
# The only lines of the original's loop that may differ: gymnasium's reset and step, and the
# CartPole constants that gymnasium reads through env.unwrapped.
GYMNASIUM_CALLS = [
    ("state = env.reset()", "state, _ = env.reset()"),
    ("next_state, reward, done, _ = env.step(action)", "next_state, reward, done, _, _ = env.step(action)"),
    ("env.x_threshold", "env.unwrapped.x_threshold"),
    ("env.theta_threshold_radians", "env.unwrapped.theta_threshold_radians"),
]


def _main_block(text: str) -> list[str]:
    return text[text.index('if __name__ == "__main__":'):].splitlines()


@pytest.mark.parametrize("name", KEON_SCRIPTS)
def test_keon_scripts_differ_from_the_originals_only_in_imports_and_gymnasium_calls(name):
    original, ours = (KEON / name).read_text(), (ROOT / "examples" / "keon" / name).read_text()
    expected = "\n".join(_main_block(original))
    for gym_call, gymnasium_call in GYMNASIUM_CALLS:
        expected = expected.replace(gym_call, gymnasium_call)
    assert "\n".join(_main_block(ours)) == expected
    before_loop = ours[: ours.index('if __name__ == "__main__":')]
    code = [line for line in before_loop.splitlines() if line.strip() and not line.startswith("#")]
    episodes = next(line for line in original.splitlines() if line.startswith("EPISODES = "))
    assert all(line.startswith(("import ", "from ")) for line in code if line != episodes), code
    assert episodes in code  # the original's episode count


@pytest.mark.parametrize("name", KEON_SCRIPTS)
def test_keon_scripts_run_on_keras_dqn(tmp_path, name):
    source = (ROOT / "examples" / "keon" / name).read_text()
    short = re.sub(r"^EPISODES = \d+$", "EPISODES = 3", source, flags=re.M)  # three episodes, not thousands
    (tmp_path / name).write_text(short)
    result = subprocess.run([sys.executable, name], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    scores = re.findall(r"^episode: (\d)/3, score: (\d+), e: ([\d.]+)$", result.stdout, flags=re.M)
    assert [int(e) for e, _, _ in scores] == [0, 1, 2], result.stdout[-2000:]
    if name == "dqn_batch.py" and sum(int(score) for _, score, _ in scores) > 40:
        assert re.search(r"^episode: \d/3, time: \d+, loss: \d+\.\d{4}$", result.stdout, flags=re.M)


def test_keon_ddqn_agent_is_the_scripts_and_loads_its_keras2_weights(tmp_path):
    from keras_dqn.agents.blog import DDQNAgent

    agent = DDQNAgent(4, 2, seed=0)
    assert (agent.hidden, agent.gamma, agent.loss, agent.epsilon_decay, agent.double) == ((24, 24), 0.95, "huber",
                                                                                          0.99, False)  # fmt: skip
    assert agent.memory.maxlen == 2000 and agent.clipnorm is None
    agent.load(KEON / "cartpole-ddqn.h5")
    kernels = agent.model.get_weights()
    for mine, target in zip(kernels, agent.target_model.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, target)  # loading syncs the target network
    states = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    hidden = np.maximum(states @ kernels[0] + kernels[1], 0)
    hidden = np.maximum(hidden @ kernels[2] + kernels[3], 0)
    np.testing.assert_allclose(agent.q_values(states), hidden @ kernels[4] + kernels[5], rtol=1e-5, atol=1e-5)
    agent.save(tmp_path / "ddqn.h5")  # a weights file it saves names its class
    loaded = keras_dqn.load_agent(tmp_path / "ddqn.h5")
    assert type(loaded) is DDQNAgent and loaded.target_update == agent.target_update


def test_memorize_is_remember():
    agent = keras_dqn.DQNAgent(4, 2, seed=0)
    agent.memorize(np.zeros(4, np.float32), 1, 1.0, np.ones(4, np.float32), True)
    assert len(agent.memory) == 1 and keras_dqn.DQNAgent.memorize is keras_dqn.DQNAgent.remember


# --- keras.io's Breakout example -------------------------------------------------------------
def test_keras_io_breakout_loop_trains_with_keras_ios_settings(tmp_path, capsys):
    pytest.importorskip("ale_py", reason="the atari extra is not installed")
    breakout = load_example("keras_io_breakout.py")
    breakout.main(["--max-steps", "600", "--random-steps", "200", "--greedy-steps", "400",
                   "--save", str(tmp_path / "breakout.h5")])  # fmt: skip
    out = capsys.readouterr().out
    scores = re.findall(r"^episode (\d+): score (\d+), running reward ([\d.]+)$", out, flags=re.M)
    assert scores and int(scores[0][0]) == 1
    games = [float(score) for _, score, _ in scores]
    assert float(scores[-1][2]) == pytest.approx(np.mean(games[-100:]), abs=0.01)  # the last 100 games' mean
    assert re.search(r"^saved .*breakout.h5 after 600 agent steps \(2,400 frames\)", out, flags=re.M)
    agent = keras_dqn.load_agent(tmp_path / "breakout.h5")
    assert type(agent).__name__ == "ConvDQNAgent" and agent.env_id == "ALE/Breakout-v5"
    assert (agent.learning_rate, agent.clipnorm, agent.target_update, agent.double) == (2.5e-4, 1.0, 2500, False)


# --- the keras-rl walkthrough as the article writes it (tests/fixtures/keras_rl/) ---------------
KERAS_RL_CHANGES = [  # (the article's line, ours): imports, and gymnasium where gym's calls changed
    ("import gym", "import gymnasium as gym"),
    ("from keras.optimizers import Adam", "from keras_dqn.rl import Adam"),
    ("from rl.agents.dqn import DQNAgent", "from keras_dqn.rl import DQNAgent"),
    ("from rl.policy import EpsGreedyQPolicy", "from keras_dqn.rl import EpsGreedyQPolicy"),
    ("from rl.memory import SequentialMemory", "from keras_dqn.rl import SequentialMemory"),
    ("env = gym.make(ENV_NAME)", 'env = gym.make(ENV_NAME, render_mode="human")'),
    ("env.seed(123)", "env.reset(seed=123)"),
    ("nb_actions = env.action_space.n", "nb_actions = int(env.action_space.n)"),
]


def test_keras_rl_walkthrough_differs_from_the_article_only_in_imports_and_gymnasium_calls():
    original = (ROOT / "tests" / "fixtures" / "keras_rl" / "walkthrough.py").read_text().splitlines()
    ours = (ROOT / "examples" / "keras_rl" / "walkthrough.py").read_text().splitlines()
    while ours[0].startswith("# "):  # our header says what changed
        ours.pop(0)
    changes = dict(KERAS_RL_CHANGES)
    assert ours == [changes.get(line, line) for line in original]


def test_keras_rl_walkthrough_runs_as_written(tmp_path):
    pytest.importorskip("pygame", reason="visualize=True draws with pygame (the viz extra)")
    source = (ROOT / "examples" / "keras_rl" / "walkthrough.py").read_text()
    short = source.replace("nb_steps=5000", "nb_steps=300").replace("nb_episodes=5", "nb_episodes=2")
    (tmp_path / "walkthrough.py").write_text(short)
    result = subprocess.run([sys.executable, "walkthrough.py"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=300, env={**os.environ, "SDL_VIDEODRIVER": "dummy"})  # no display needed
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Training for 300 steps ..." in result.stdout
    assert len(re.findall(r"^Episode \d+: reward: [\d.]+, steps: \d+$", result.stdout, flags=re.M)) == 2

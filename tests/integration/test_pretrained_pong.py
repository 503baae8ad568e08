"""The shipped Pong weights win a full game of ALE Pong, played greedily; the Pong scripts refuse bad input."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

import keras_dqn

HAS_ALE = importlib.util.find_spec("ale_py") is not None and importlib.util.find_spec("cv2") is not None


@pytest.mark.skipif(not HAS_ALE, reason="ale-py/opencv missing: pip install -e '.[atari]' to run this")
@pytest.mark.parametrize(("name", "rainbow", "noisy_hidden"),
                         [("pong-conv-dqn", False, True), ("pong-rainbow", True, True),
                          ("pong-rainbow-noisy-head", True, False)])  # fmt: skip
def test_shipped_pong_weights_beat_the_opponent_in_a_full_greedy_game(name, rainbow, noisy_hidden):
    agent = keras_dqn.load_agent(keras_dqn.weights_path(name))
    assert isinstance(agent, keras_dqn.ConvDQNAgent)
    assert isinstance(agent, keras_dqn.ConvRainbowAgent) == rainbow  # the file records every switch
    assert agent.noisy_hidden == noisy_hidden  # pong-rainbow-noisy-head's noise is in the head alone
    assert agent.env_id == "ALE/Pong-v5"  # the file says which game it plays

    # A whole game (first to 21 points), unclipped, no episode end on a lost point: the real thing.
    env = keras_dqn.make_atari_env("Pong", training=False)
    state, _ = env.reset(seed=1_000_000)  # none of the README's evaluations (seeds 0-9, 100-129) used it
    ours = theirs = steps = 0
    terminated = truncated = False
    while not (terminated or truncated):
        state, reward, terminated, truncated, _ = env.step(agent.act(state, greedy=True))
        ours += reward > 0
        theirs += reward < 0
        steps += 1
    env.close()

    assert terminated and not truncated, f"the game did not finish: {ours}-{theirs} after {steps} agent steps"
    assert max(ours, theirs) == 21  # Pong ends when one side reaches 21
    assert ours > theirs, f"lost {ours}-{theirs}"


ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("script", "args", "message"),
    [
        ("benchmarks/evaluate_pong.py", ["--games", "0"], "--games must be at least 1, got 0"),
        ("benchmarks/evaluate_pong.py", ["--sticky-actions", "1.5"], "between 0 and 1, got 1.5"),
        ("benchmarks/evaluate_pong.py", ["--weights", "weights/cartpole-dqn.h5"], "for CartPole-v1, not ALE/Pong-v5"),
        ("examples/atari.py", ["--weights", "weights/pong-conv-dqn.h5", "--episodes", "0"], "at least 1, got 0"),
        ("examples/atari.py", ["--weights", "weights/pong-conv-dqn.h5", "--record", "x.avi"], "a .gif or .mp4"),
    ],
)
def test_pong_scripts_reject_bad_input_with_one_clear_line(script, args, message):
    result = subprocess.run([sys.executable, str(ROOT / script), *args], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)  # fmt: skip
    assert result.returncode == 2, result.stderr[-2000:]  # argparse's usage error, before any game is played
    assert message in result.stderr.splitlines()[-1]
    assert not (ROOT / "x.avi").exists()


@pytest.mark.skipif(not HAS_ALE, reason="ale-py/opencv missing: pip install -e '.[atari]' to run this")
def test_keras_dqn_evaluate_plays_a_shipped_atari_file_under_the_sticky_actions_protocol_and_says_so():
    import shutil

    exe = shutil.which("keras-dqn") or shutil.which("keras-dqn", path=str(Path(sys.executable).parent))
    command = [exe] if exe else [sys.executable, "-m", "keras_dqn"]
    result = subprocess.run([*command, "evaluate", str(ROOT / "weights" / "pong-rainbow-noisy-head.h5"), "--episodes",
                             "1", "--seed", "2000000000", "--env-kwargs", '{"sticky_actions": 0.25}'],
                            capture_output=True, text=True, timeout=600)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    line = result.stdout.strip().splitlines()[-1]
    assert line.startswith('ALE/Pong-v5 {"sticky_actions": 0.25}, 1 greedy episodes'), line  # the protocol, named
    mean = float(line.split("mean ")[1].split(",")[0])
    assert -21 <= mean <= 21 and mean > 0  # a full game, won (30-game mean under this protocol: +10.3)

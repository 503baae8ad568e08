"""The shipped Pong weights win a full game of ALE Pong, played greedily."""

import importlib.util

import numpy as np
import pytest

import keras_dqn

HAS_ALE = importlib.util.find_spec("ale_py") is not None and importlib.util.find_spec("cv2") is not None


@pytest.mark.skipif(not HAS_ALE, reason="ale-py/opencv missing: pip install -e '.[atari]' to run this")
def test_shipped_pong_weights_beat_the_opponent_in_a_full_greedy_game():
    agent = keras_dqn.load_agent(keras_dqn.weights_path("pong-conv-dqn"))
    assert isinstance(agent, keras_dqn.ConvDQNAgent)
    assert agent.env_id == "ALE/Pong-v5"  # the file says which game it plays

    # A whole game (first to 21 points), unclipped, no episode end on a lost point: the real thing.
    env = keras_dqn.make_atari_env("Pong", training=False)
    state, _ = env.reset(seed=123)  # a seed benchmarks/evaluate_pong.py does not use
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
    assert np.isfinite(agent.q_values(state)).all()

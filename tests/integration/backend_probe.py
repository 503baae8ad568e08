"""Run by tests/integration/test_across_backends.py under each KERAS_BACKEND: prints one JSON line.

    KERAS_BACKEND=jax python tests/integration/backend_probe.py train|resume FOLDER

``train``: a small Rainbow run (noisy, C51, prioritized, n-step) on CartPole, checkpointed in FOLDER.
``resume``: the run in FOLDER resumed and trained on; what was restored and what followed.
Both also report the shipped CartPole file's Q-values on fixed states and its greedy score.
"""

from __future__ import annotations

import json
import sys

import gymnasium as gym
import keras
import numpy as np

import keras_dqn
from keras_dqn.files.checkpoint import load_checkpoint

STATES = np.random.default_rng(0).uniform(-0.5, 0.5, (16, 4)).astype(np.float32)


def shipped() -> dict:
    agent = keras_dqn.load_agent(keras_dqn.weights_path("cartpole-target-dqn"))
    scores = keras_dqn.evaluate(agent, gym.make("CartPole-v1"), episodes=3, seed=1_000_000_000)
    return {"q_values": agent.q_values(STATES).tolist(), "score": float(np.mean(scores))}


def run(mode: str, folder: str) -> dict:
    agent = keras_dqn.RainbowAgent(4, 2, seed=0, hidden=(32, 32), memory_size=2000)
    settings = dict(batch_size=32, learning_starts=200, eval_every=400, eval_episodes=2, checkpoint_dir=folder,
                    progress=False, seed=0)  # fmt: skip
    if mode == "train":
        history = keras_dqn.train(agent, gym.make("CartPole-v1"), 400, **settings)
        restored = None
    else:  # what a checkpoint restores, array by array, then the run resumed
        saved = np.load(f"{folder}/checkpoint.npz")
        probe = keras_dqn.RainbowAgent(4, 2, seed=0, hidden=(32, 32), memory_size=2000)
        load_checkpoint(probe, folder)
        state = probe.state_dict()
        restored = {part: all(np.array_equal(saved[f"{part}/{i}"], a) for i, a in enumerate(state[part]))
                    for part in ("model", "optimizer", "target")}  # fmt: skip
        history = keras_dqn.train(agent, gym.make("CartPole-v1"), 800, resume=True, **settings)
    return {
        "backend": keras.backend.backend(),
        "steps": history.history["step"][-1],
        "train_steps": agent.train_steps,
        "loss": history.history["loss"][-1],
        "restored_weights_equal": restored,
        **shipped(),
    }


if __name__ == "__main__":
    print(json.dumps(run(sys.argv[1], sys.argv[2])))

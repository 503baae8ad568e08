"""Environment steps per second of the blog's training loop on CartPole-v1.

The loop is the blog's: act -> env.step -> remember -> replay(32), every step.  Two rows:

* ``keras_dqn``: our DQNAgent (compiled batched replay, NumPy acting);
* ``blog_as_written``: the blog's replay on Keras 3 — per sample, ``model.predict`` for the
  target and ``model.fit`` on one example — timed over a few steps only, because it runs
  well under one step per second.

    python benchmarks/throughput.py [--steps 5000] [--baseline-steps 3]

Prints one line per row and, last, a JSON line with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import time

import gymnasium as gym
import numpy as np
import tensorflow as tf

import keras_dqn

BATCH_SIZE = 32


def blog_loop(agent, replay, steps: int, seed: int = 0) -> float:
    """Run the blog's loop for ``steps`` env steps (after a warm-up); return steps/s."""
    env = gym.make("CartPole-v1")
    state, _ = env.reset(seed=seed)

    def run(n: int) -> None:
        nonlocal state
        for _ in range(n):
            action = agent.act(state)
            next_state, reward, terminated, truncated, _ = env.step(action)
            agent.remember(state, action, reward, next_state, terminated)
            state = next_state
            if terminated or truncated:
                state, _ = env.reset()
            if len(agent.memory) > BATCH_SIZE:
                replay(BATCH_SIZE)

    run(BATCH_SIZE + 2)  # fill the memory and compile the train step
    start = time.perf_counter()
    run(steps)
    return steps / (time.perf_counter() - start)


def blog_replay(agent):
    """The blog's replay(): two predicts and one fit per sample (the tutorial's code path)."""

    def replay(batch_size: int) -> None:
        minibatch = random.sample([agent.memory[i] for i in range(len(agent.memory))], batch_size)
        for state, action, reward, next_state, done in minibatch:
            target = reward
            if not done:
                target = reward + agent.gamma * np.amax(agent.model.predict(next_state[None], verbose=0)[0])
            target_f = agent.model.predict(state[None], verbose=0)
            target_f[0][action] = target
            agent.model.fit(state[None], target_f, epochs=1, verbose=0)
        if agent.epsilon > agent.epsilon_min:
            agent.epsilon *= agent.epsilon_decay

    return replay


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5000, help="timed env steps for keras_dqn")
    parser.add_argument("--baseline-steps", type=int, default=3, help="timed env steps for the blog as written")
    parser.add_argument("--threads", type=int, default=1, help="TensorFlow intra-op threads (0 = TF default)")
    args = parser.parse_args()
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)

    threads = tf.config.threading.get_intra_op_parallelism_threads() or "default"
    results = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, {threads} intra-op threads"}
    agent = keras_dqn.DQNAgent(4, 2, seed=0)
    results["keras_dqn_steps_per_s"] = round(blog_loop(agent, agent.replay, args.steps), 1)
    print(f"keras_dqn DQNAgent, blog loop: {results['keras_dqn_steps_per_s']:.1f} env steps/s ({args.steps} steps)")

    if args.baseline_steps > 0:
        random.seed(0)
        agent = keras_dqn.DQNAgent(4, 2, seed=0)
        results["blog_as_written_steps_per_s"] = round(blog_loop(agent, blog_replay(agent), args.baseline_steps), 3)
        print(f"blog as written on Keras 3: {results['blog_as_written_steps_per_s']:.3f} env steps/s")
        results["speedup"] = round(results["keras_dqn_steps_per_s"] / results["blog_as_written_steps_per_s"])
    print(json.dumps(results))


if __name__ == "__main__":
    main()

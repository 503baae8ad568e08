"""Play CartPole with an exported Q-network in ONNX Runtime: no keras_dqn, Keras or TensorFlow.

First export a trained agent (this needs keras_dqn and its ``onnx`` extra)::

    pip install -e ".[onnx]"
    keras-dqn export weights/cartpole-target-dqn.h5 cartpole.onnx   # or, in Python: agent.export("cartpole.onnx")

then play it with nothing but gymnasium, NumPy and ONNX Runtime::

    python examples/onnx_cartpole.py --model cartpole.onnx --episodes 10

The exported network maps a batch of states (input ``states``, float32, shape ``(n, 4)``) to
the greedy Q-values ``(n, 2)``; the policy is their argmax.
"""

from __future__ import annotations

import argparse

import gymnasium as gym
import numpy as np
import onnxruntime


def main(argv: list[str] | None = None) -> list[float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="cartpole.onnx", help="the exported Q-network (agent.export('NAME.onnx'))")
    parser.add_argument("--episodes", type=int, default=10, help="greedy episodes to play")
    parser.add_argument("--seed", type=int, default=1_000_000_000, help="episode i starts from reset(seed=SEED + i)")
    args = parser.parse_args(argv)

    session = onnxruntime.InferenceSession(args.model)  # the CPU provider
    input_name = session.get_inputs()[0].name  # "states"
    env = gym.make("CartPole-v1")
    returns = []
    for episode in range(args.episodes):
        state, _ = env.reset(seed=args.seed + episode)
        total, done = 0.0, False
        while not done:
            q_values = session.run(None, {input_name: state[None].astype(np.float32)})[0]
            state, reward, terminated, truncated, _ = env.step(int(np.argmax(q_values[0])))
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
        print(f"episode {episode}: return {total:.0f}")
    print(f"greedy mean over {args.episodes} episodes: {np.mean(returns):.1f}")
    return returns


if __name__ == "__main__":
    main()

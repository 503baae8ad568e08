"""Greedy evaluation of Pong weights over full, unclipped games.

    pip install -e ".[atari]"
    python benchmarks/evaluate_pong.py [--weights weights/pong-conv-dqn.h5] [--games 10] [--seed 0]
    python benchmarks/evaluate_pong.py --sticky-actions 0.25   # ALE v5's default: a harder test

Each game is a whole game of Pong (first to 21) on ``make_atari_env("Pong", training=False)``:
no reward clipping, no episode end on a lost point, up to 30 random no-ops at the start
(game ``i`` is reset with seed ``seed + i``), epsilon 0.  The score is ours minus the
opponent's points: +21 is a perfect game, random play scores about -20.7, the Nature DQN
paper reports 18.9.  The agent was trained without sticky actions (as in the Nature paper);
``--sticky-actions 0.25`` repeats the previous action with that probability at every
emulator frame, as ALE v5 does by default (Machado et al., 2018).

Prints one line per game and, last, a JSON line with every figure.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import keras_dqn

DEFAULT_WEIGHTS = Path(__file__).resolve().parents[1] / "weights" / "pong-conv-dqn.h5"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", default=str(DEFAULT_WEIGHTS))
    parser.add_argument("--games", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0, help="game i is reset with seed SEED + i")
    parser.add_argument("--sticky-actions", type=float, default=0.0, help="repeat-action probability (0 to 1)")
    args = parser.parse_args()
    if args.games < 1:
        parser.error(f"--games must be at least 1, got {args.games}")
    if not 0.0 <= args.sticky_actions <= 1.0:
        parser.error(f"--sticky-actions is a probability between 0 and 1, got {args.sticky_actions}")

    agent = keras_dqn.load_agent(args.weights)
    if agent.env_id not in (None, "ALE/Pong-v5"):
        parser.error(f"{args.weights} holds weights for {agent.env_id}, not ALE/Pong-v5")
    envs = keras_dqn.make_atari_vector_env(
        "Pong", min(args.games, 10), training=False, sticky_actions=args.sticky_actions
    )
    start = time.perf_counter()
    try:
        scores = keras_dqn.evaluate(agent, envs, args.games, seed=args.seed)
    finally:
        envs.close()
    seconds = time.perf_counter() - start
    for i, score in enumerate(scores):
        print(f"game {i + 1} (seed {args.seed + i}): {score:+.0f}")
    print(f"mean {np.mean(scores):+.2f} over {len(scores)} games, min {min(scores):+.0f}, max {max(scores):+.0f}")
    print(json.dumps({
        "weights": str(args.weights),
        "games": len(scores),
        "seed": args.seed,
        "sticky_actions": args.sticky_actions,
        "mean_score": round(float(np.mean(scores)), 2),
        "min_score": float(min(scores)),
        "max_score": float(max(scores)),
        "scores": [float(s) for s in scores],
        "seconds": round(seconds, 1),
    }))  # fmt: skip


if __name__ == "__main__":
    main()

"""Greedy evaluation of Pong weights over full, unclipped games, under one protocol or both.

    pip install -e ".[atari]"
    python benchmarks/evaluate_pong.py                                   # every shipped Pong file, both protocols
    python benchmarks/evaluate_pong.py --weights weights/pong-conv-dqn.h5 --games 10 --seed 0 --sticky-actions 0
    python benchmarks/evaluate_pong.py --save                            # also benchmarks/results/atari_scores.json

Each game is a whole game of Pong (first to 21) on ``make_atari_vector_env("Pong", training=False)``:
no reward clipping, no episode end on a lost point, up to 30 random no-ops at the start
(game ``i`` is reset with seed ``seed + i``), epsilon 0.  The score is ours minus the
opponent's points: +21 is a perfect game, random play scores about -20.7, the Nature DQN
paper reports 18.9.  Two protocols: ``--sticky-actions 0`` (no sticky actions, as in the
Nature paper and as our shipped agents were trained) and ``0.25``, which repeats the previous
action with that probability at every emulator frame, as ALE v5 does by default (Machado et
al., 2018; the protocol Dopamine reports).  The default seed, 1,000,000,000, starts games no
training run or training evaluation used.

Prints one line per file and protocol and, last, a JSON line with every figure.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from results_file import add_save_flag, report

import keras_dqn

WEIGHTS = Path(__file__).resolve().parents[1] / "weights"
SHIPPED = [WEIGHTS / name for name in ("pong-conv-dqn.h5", "pong-rainbow.h5", "pong-rainbow-noisy-head.h5")]
HELD_OUT_SEED = 1_000_000_000


def protocol(sticky_actions: float) -> str:
    """How a score was measured, in words every table prints beside it."""
    if sticky_actions == 0:
        return "no sticky actions (Nature DQN)"
    return f"sticky actions {sticky_actions:g} (ALE v5 default; Machado et al., 2018)" if sticky_actions == 0.25 else (
        f"sticky actions {sticky_actions:g}")


def score(weights: Path, games: int, seed: int, sticky_actions: float) -> dict:
    """One file's greedy scores over ``games`` full games under one protocol."""
    agent = keras_dqn.load_agent(weights)
    envs = keras_dqn.make_atari_vector_env("Pong", min(games, 10), training=False, sticky_actions=sticky_actions)
    start = time.perf_counter()
    try:
        scores = keras_dqn.evaluate(agent, envs, games, seed=seed)
    finally:
        envs.close()
    return {"weights": f"weights/{weights.name}" if weights.parent == WEIGHTS else str(weights),
            "agent": type(agent).__name__, "sticky_actions": sticky_actions, "protocol": protocol(sticky_actions),
            "games": len(scores), "seeds_from": seed, "mean_score": round(float(np.mean(scores)), 2),
            "min_score": float(min(scores)), "max_score": float(max(scores)), "scores": [float(s) for s in scores],
            "seconds": round(time.perf_counter() - start, 1)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", nargs="+", default=[str(p) for p in SHIPPED], help="Pong weights files")
    parser.add_argument("--games", type=int, default=30, help="full games per file and protocol")
    parser.add_argument("--seed", type=int, default=HELD_OUT_SEED, help="game i is reset with seed SEED + i")
    parser.add_argument("--sticky-actions", type=float, nargs="+", default=[0.0, 0.25],
                        help="repeat-action probabilities (0 to 1); default: both protocols")  # fmt: skip
    add_save_flag(parser, "atari_scores")
    args = parser.parse_args()
    if args.games < 1:
        parser.error(f"--games must be at least 1, got {args.games}")
    for sticky in args.sticky_actions:
        if not 0.0 <= sticky <= 1.0:
            parser.error(f"--sticky-actions are probabilities between 0 and 1, got {sticky}")
    for weights in args.weights:
        env_id = keras_dqn.load_agent(weights).env_id
        if env_id not in (None, "ALE/Pong-v5"):
            parser.error(f"{weights} holds weights for {env_id}, not ALE/Pong-v5")
    rows = []
    for weights in args.weights:
        for sticky in args.sticky_actions:
            row = score(Path(weights), args.games, args.seed, sticky)
            rows.append(row)
            print(f"{row['weights']}, {row['protocol']}: mean {row['mean_score']:+.2f} over {row['games']} games "
                  f"(min {row['min_score']:+.0f}, max {row['max_score']:+.0f}; {row['seconds']:.0f} s)")  # fmt: skip
    report({"rows": rows}, args)


if __name__ == "__main__":
    main()

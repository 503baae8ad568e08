"""Deep Q-learning on Atari (Pong by default): the Nature-DQN recipe on a laptop CPU.

    pip install -e ".[atari]"                                  # ale-py (with the ROMs) and OpenCV
    python examples/atari.py                                   # train Pong, checkpoints in runs/atari-pong
    python examples/atari.py --resume                          # continue where the last run stopped
    python examples/atari.py --weights weights/pong-conv-dqn.h5 --episodes 10      # evaluate
    python examples/atari.py --weights weights/pong-conv-dqn.h5 --record pong.gif  # record one game

The agent sees what the Nature paper's agent saw: the last 4 frames, 84×84 grayscale, with
each action held for 4 frames (:func:`keras_dqn.make_atari_env`).  It plays ``N_ENVS`` games
at once, choosing all their actions with one call of the CNN, and takes one gradient step
per 4 agent steps, as in the paper.  Rewards are clipped to [-1, 1] while training; every
evaluation plays full, unclipped games greedily (epsilon 0) on separate environments.

Checkpoints (weights, optimizer, epsilon, counters and, by default, the replay memory) are
written at every evaluation, so a run stopped at any time resumes with ``--resume`` losing
at most ``--eval-every`` steps.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import keras_dqn  # imports TensorFlow, keeping its start-up chatter off the screen

# --- Hyperparameters -----------------------------------------------------------------
# ConvDQNAgent's own defaults are these, except clipnorm (the class leaves gradients unclipped);
# they are spelt out here so you can see and change them.  With them the shipped
# weights/pong-conv-dqn.h5 learned Pong (+20.7 over 10 greedy games) in 950k agent steps, 3.6 h on a 2-core CPU.
HYPERPARAMETERS = dict(
    gamma=0.99,  # Atari rewards come late: a long horizon
    learning_rate=1e-4,  # Adam
    memory_size=100_000,  # transitions (frame memory: ~0.7 GB); the paper used 1M
    target_update=1000,  # hard copy of the target network every 1,000 gradient steps
    double=True,  # Double DQN targets
    loss="huber",
    epsilon=1.0,
    epsilon_min=0.01,
    epsilon_decay=0.99991,  # per gradient step: 0.1 after ~25.6k steps (~120k agent steps), 0.01 after ~51k (~225k)
    clipnorm=10.0,  # clip gradients, as SB3 does
)
TRAIN = dict(
    batch_size=32,
    train_every=4,  # agent steps (over all games) per gradient step
    learning_starts=20_000,  # fill the memory with random play first
)
GAME = "Pong"
N_ENVS = 4  # games played at once (one batched action choice for all)
TOTAL_STEPS = 2_000_000  # agent steps; Pong is usually solved within 1-2M
EVAL_EVERY = 50_000  # agent steps between evaluations and checkpoints
EVAL_GAMES = 4  # full greedy games per evaluation
FRAME_SKIP = 4  # emulator frames per agent step


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--game", default=GAME, help="ALE game name (ALE/{GAME}-v5)")
    parser.add_argument("--steps", type=int, default=TOTAL_STEPS, help="agent steps to train for, in total")
    parser.add_argument("--n-envs", type=int, default=N_ENVS, help="games played at once while training")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="run folder: checkpoints, logs, weights (default runs/atari-GAME)")
    parser.add_argument("--resume", action="store_true", help="continue from --out's checkpoint")
    parser.add_argument("--eval-every", type=int, default=EVAL_EVERY, help="agent steps between evaluations")
    parser.add_argument("--eval-games", type=int, default=EVAL_GAMES, help="greedy games per evaluation")
    parser.add_argument("--target-score", type=float, help="stop once an evaluation's mean reaches it")
    parser.add_argument("--no-memory-in-checkpoint", action="store_true",
                        help="smaller checkpoints; a resumed run then refills its memory first")  # fmt: skip
    for name, value in {**HYPERPARAMETERS, **TRAIN}.items():
        if not isinstance(value, bool):
            parser.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=value)
    parser.add_argument("--weights", help="play and evaluate these weights instead of training")
    parser.add_argument("--episodes", type=int, default=10, help="games to evaluate with --weights")
    parser.add_argument("--record", help="with --weights: record one game to this .gif or .mp4")
    args = parser.parse_args()
    if args.episodes < 1:
        parser.error(f"--episodes must be at least 1, got {args.episodes}")
    if args.record and Path(args.record).suffix.lower() not in (".gif", ".mp4"):
        parser.error(f"--record writes a .gif or .mp4 file, got {args.record!r}")
    return args


def evaluate_games(agent, game: str, games: int, seed: int) -> list[float]:
    """Greedy, full, unclipped games, all played at once."""
    envs = keras_dqn.make_atari_vector_env(game, min(games, 8), training=False)
    try:
        return keras_dqn.evaluate(agent, envs, games, seed=seed)
    finally:
        envs.close()


def play(args: argparse.Namespace) -> None:
    agent = keras_dqn.load_agent(args.weights)
    game = args.game
    if agent.env_id and agent.env_id.startswith("ALE/"):  # the game the weights were trained on
        game = agent.env_id.removeprefix("ALE/").removesuffix("-v5")
    if args.record:  # first: a missing imageio fails before minutes of evaluation
        env = keras_dqn.make_atari_env(game, training=False, render_mode="rgb_array")
        try:
            score = keras_dqn.record(agent, env, args.record, seed=args.seed, fps=30)
        finally:
            env.close()
        print(f"recorded one game (score {score:+.0f}) to {args.record}")
    start = time.perf_counter()
    scores = evaluate_games(agent, game, args.episodes, seed=args.seed)
    print(f"{game}: greedy evaluation over {len(scores)} games: mean {np.mean(scores):+.1f}, "
          f"min {min(scores):+.0f}, max {max(scores):+.0f}  ({time.perf_counter() - start:.0f} s)")  # fmt: skip
    print("scores:", " ".join(f"{s:+.0f}" for s in scores))


def main() -> None:
    args = parse_args()
    if args.weights:
        return play(args)
    out = Path(args.out or f"runs/atari-{args.game.lower()}")
    hyperparameters = {name: getattr(args, name, value) for name, value in HYPERPARAMETERS.items()}
    print(f"{args.game}: {args.n_envs} games at once; hyperparameters: {hyperparameters}")

    # Training games clip rewards and end on a lost life; evaluation games are the real thing.
    envs = keras_dqn.make_atari_vector_env(args.game, args.n_envs, training=True)
    eval_envs = keras_dqn.make_atari_vector_env(args.game, min(args.eval_games, 8), training=False)
    agent = keras_dqn.ConvDQNAgent(
        envs.single_observation_space.shape, int(envs.single_action_space.n), seed=args.seed, **hyperparameters
    )
    agent.env_id = f"ALE/{args.game}-v5"  # saved with the weights: `keras-dqn play FILE` needs nothing else
    start = time.perf_counter()
    history = keras_dqn.train(
        agent,
        envs,
        args.steps,
        batch_size=args.batch_size,
        train_every=args.train_every,
        learning_starts=args.learning_starts,
        eval_env=eval_envs,
        eval_every=args.eval_every,
        eval_episodes=args.eval_games,
        target_score=args.target_score,
        log_dir=out / "logs",
        checkpoint_dir=out,
        resume=args.resume,
        save_memory=not args.no_memory_in_checkpoint,
        progress=True,  # a live bar on a terminal, a line per evaluation in a log file
        seed=args.seed,
        frames_per_step=FRAME_SKIP,
    )
    envs.close()
    eval_envs.close()
    weights = out / f"{args.game.lower()}-conv-dqn.h5"
    agent.save(weights)
    rows = history.history
    if rows.get("eval_mean"):
        print(f"trained to step {rows['step'][-1]} in {time.perf_counter() - start:.0f} s (this run); "
              f"last evaluation mean {rows['eval_mean'][-1]:+.1f}, best {max(rows['eval_mean']):+.1f}")  # fmt: skip
    print(f"saved weights to {weights} (best evaluation: {out / 'best.h5'}); learning curve: "
          f"keras-dqn plot {out / 'logs'}")  # fmt: skip


if __name__ == "__main__":
    main()

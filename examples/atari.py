"""Deep Q-learning on Atari (Pong by default): the Nature-DQN recipe on a laptop CPU.

    pip install -e ".[atari]"                                  # ale-py (with the ROMs) and OpenCV
    python examples/atari.py                                   # train Pong, checkpoints in runs/atari-pong
    python examples/atari.py --agent rainbow                   # Rainbow instead (runs/atari-pong-rainbow)
    python examples/atari.py --resume                          # continue where the last run stopped
    python examples/atari.py --weights weights/pong-conv-dqn.h5 --episodes 10      # evaluate
    python examples/atari.py --weights weights/pong-conv-dqn.h5 --record pong.gif  # record one game

The agent sees what the Nature paper's agent saw: the last 4 frames, 84×84 grayscale, with
each action held for 4 frames (:func:`keras_dqn.make_atari_env`).  It plays ``--n-envs`` games
at once, choosing all their actions with one call of the CNN, and takes one gradient step
per 4 agent steps, as in the paper.  Rewards are clipped to [-1, 1] while training; every
evaluation plays full, unclipped games greedily (epsilon 0) on separate environments.

Checkpoints (weights, optimizer, epsilon, counters and, by default, the replay memory) are
written at every evaluation, so a run stopped at any time resumes with ``--resume`` losing
at most ``--eval-every`` steps.

Every setting is a flag (``--help`` lists them with their values); the defaults are the
recipe ``pong`` of :mod:`keras_dqn.config.recipes`, with which the shipped weights/pong-conv-dqn.h5
learned Pong (+20.7 over 10 greedy games) in 950k agent steps, 3.6 h on a 2-core CPU.
With ``--agent rainbow`` they are the recipe ``pong-rainbow`` (:class:`keras_dqn.ConvRainbowAgent`:
3-step returns, prioritized replay, noisy layers, a dueling C51 head, Double DQN).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import keras_dqn  # imports TensorFlow, keeping its start-up chatter off the screen
from keras_dqn.config.flags import add_recipe_flags, recipe_settings

AGENT_RECIPES = {"dqn": "pong", "rainbow": "pong-rainbow"}  # --agent -> the recipe giving the flags' defaults


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """--help keeps the docstring's layout and shows each flag's default."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The example's flags; the hyperparameters default to --agent's recipe (keras_dqn.config.recipes).

    The recipe is ``args.recipe``."""
    agent_flag = dict(choices=sorted(AGENT_RECIPES), default="dqn",
                      help="dqn: the Nature DQN (recipe pong); rainbow: Rainbow (recipe pong-rainbow)")  # fmt: skip
    first = argparse.ArgumentParser(add_help=False)
    first.add_argument("--agent", **agent_flag)
    recipe = keras_dqn.get_recipe(AGENT_RECIPES[first.parse_known_args(argv)[0].agent])
    train = recipe.train_kwargs
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    parser.add_argument("--agent", **agent_flag)
    parser.add_argument("--game", default=recipe.env_id.removeprefix("ALE/").removesuffix("-v5"),
                        help="ALE game name (ALE/{GAME}-v5)")  # fmt: skip
    parser.add_argument("--steps", type=int, default=train["total_steps"], help="agent steps to train for, in total")
    add_recipe_flags(parser, recipe, only=["n_envs"], help={"n_envs": "games played at once while training"})
    parser.add_argument("--seed", type=int, default=0, help="seeds the agent and the games' first resets")
    parser.add_argument("--out", help="run folder: checkpoints, logs, weights (default runs/atari-GAME)")
    parser.add_argument("--resume", action="store_true", help="continue from --out's checkpoint")
    add_recipe_flags(parser, recipe, only=["eval_every"], help={"eval_every": "agent steps between evaluations and "
                                                                           "checkpoints"})  # fmt: skip
    parser.add_argument("--eval-games", type=int, default=train["eval_episodes"],
                        help="full greedy games per evaluation")  # fmt: skip
    parser.add_argument("--target-score", type=float, help="stop once an evaluation's mean reaches it")
    parser.add_argument("--no-memory-in-checkpoint", action="store_true",
                        help="smaller checkpoints; a resumed run then refills its memory first")  # fmt: skip
    parser.add_argument("--frame-skip", type=int, default=train["frames_per_step"],
                        help="emulator frames per agent step while training (make_atari_env's frame_skip)")  # fmt: skip

    # A flag for each of the recipe's agent settings and its gradient-step schedule (keras_dqn.config.recipes: their
    # types, defaults and help), with what they mean on Atari where that differs.
    group = parser.add_argument_group(f"hyperparameters (defaults: the recipe {recipe.name})")
    atari_help = {
        "gamma": "discount rate: Atari rewards come late",
        "memory_size": "replay capacity in transitions (~0.7 GB per 100k); the paper used 1M",
        "epsilon_decay": "per gradient step: 0.01 after ~51k gradient steps (~225k agent steps)",
        "train_every": "agent steps (over all games) per gradient step",
        "learning_starts": "agent steps of random play that fill the memory before learning",
    }
    names = ["gamma", "learning_rate", "memory_size", "target_update", "double", "loss", "clipnorm", "epsilon",
             "epsilon_min", "epsilon_decay", "precision", "batch_size", "train_every", "learning_starts"]
    add_recipe_flags(group, recipe, only=names, help={k: v for k, v in atari_help.items() if k in names})

    group = parser.add_argument_group("playing saved weights")
    group.add_argument("--weights", help="play and evaluate these weights instead of training")
    group.add_argument("--episodes", type=int, default=10, help="games to evaluate with --weights")
    group.add_argument("--record", help="with --weights: record one game to this .gif or .mp4")
    args = parser.parse_args(argv)
    args.recipe = recipe
    if args.episodes < 1:
        parser.error(f"--episodes must be at least 1, got {args.episodes}")
    if args.record and Path(args.record).suffix.lower() not in (".gif", ".mp4"):
        parser.error(f"--record writes a .gif or .mp4 file, got {args.record!r}")
    return args


def play(args: argparse.Namespace) -> None:
    """Evaluate ``--weights`` over ``--episodes`` full greedy games, after recording one with ``--record``."""
    agent = keras_dqn.load_agent(args.weights)
    env_id = f"ALE/{args.game}-v5"
    if agent.env_id and agent.env_id.startswith("ALE/"):  # the game the weights were trained on
        env_id = agent.env_id
    game = env_id.removeprefix("ALE/").removesuffix("-v5")
    if args.record:  # first: a missing imageio fails before minutes of evaluation
        env = keras_dqn.make_env(env_id, render_mode="rgb_array")  # a full game, the real score
        try:
            score = keras_dqn.record(agent, env, args.record, seed=args.seed, fps=30)
        finally:
            env.close()
        print(f"recorded one game (score {score:+.0f}) to {args.record}")
    start = time.perf_counter()
    scores = keras_dqn.evaluate(agent, env_id, args.episodes, seed=args.seed)  # full games, 8 at a time
    print(f"{game}: greedy evaluation over {len(scores)} games: mean {np.mean(scores):+.1f}, "
          f"min {min(scores):+.0f}, max {max(scores):+.0f}  ({time.perf_counter() - start:.0f} s)")  # fmt: skip
    print("scores:", " ".join(f"{s:+.0f}" for s in scores))


def main() -> None:
    args = parse_args()
    if args.weights:
        return play(args)
    recipe = args.recipe
    name = args.game.lower() if args.agent == "dqn" else f"{args.game.lower()}-{args.agent}"
    out = Path(args.out or f"runs/atari-{name}")
    env_id = f"ALE/{args.game}-v5"
    hyperparameters, train_settings = recipe_settings(args, recipe)
    n_envs, _, settings = recipe.train_args(**train_settings, eval_episodes=args.eval_games,
                                          frames_per_step=args.frame_skip)  # fmt: skip
    print(f"{args.game}: {args.n_envs} games at once; hyperparameters: {hyperparameters}")

    # Training games clip rewards and end on a lost life; evaluation games are the real thing.
    envs = keras_dqn.make_vector_env(env_id, n_envs, training=True, frame_skip=args.frame_skip)
    eval_envs = keras_dqn.make_vector_env(env_id, min(args.eval_games, 8), training=False, frame_skip=args.frame_skip)
    agent = recipe.make_agent(envs.single_observation_space.shape, int(envs.single_action_space.n), seed=args.seed,
                            **hyperparameters)  # fmt: skip
    agent.env_id = env_id  # saved with the weights: `keras-dqn play FILE` needs nothing else
    start = time.perf_counter()
    history = keras_dqn.train(
        agent,
        envs,
        args.steps,
        eval_env=eval_envs,
        target_score=args.target_score,
        log_dir=out / "logs",
        checkpoint_dir=out,
        resume=args.resume,
        save_memory=not args.no_memory_in_checkpoint,
        progress=True,  # a live bar on a terminal, a line per evaluation in a log file
        seed=args.seed,
        **settings,  # batch_size, train_every, learning_starts, eval_every, eval_episodes, frames_per_step
    )
    envs.close()
    eval_envs.close()
    weights = out / (f"{args.game.lower()}-conv-dqn.h5" if args.agent == "dqn" else f"{name}.h5")
    agent.save(weights)
    rows = history.history
    if rows.get("eval_mean"):
        print(f"trained to step {history.stopped_at_step} in {time.perf_counter() - start:.0f} s (this run); "
              f"last evaluation mean {rows['eval_mean'][-1]:+.1f}, best {max(rows['eval_mean']):+.1f}")  # fmt: skip
    print(f"saved weights to {weights} (best evaluation: {out / 'best.h5'}); learning curve: "
          f"keras-dqn plot {out / 'logs'}")  # fmt: skip


if __name__ == "__main__":
    main()

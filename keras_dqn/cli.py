"""The ``keras-dqn`` command: train, play, evaluate and plot from the shell.

    keras-dqn train CartPole-v1 --steps 50000 --seed 0    # the recipe cartpole-target (keras_dqn.recipes)
    keras-dqn train ALE/Pong-v5                            # the recipe pong: ConvDQNAgent, 2M agent steps
    keras-dqn play weights/cartpole-dqn.h5 --episodes 3 --record cartpole.gif
    keras-dqn evaluate weights/cartpole-dqn.h5 --episodes 100
    keras-dqn plot runs/CartPole-v1-target

Weight files saved by keras_dqn carry their agent's config and env id, so ``play`` and
``evaluate`` need only the file; for other files (the blog's Keras-2 weights) pass
``--env``.  Mistakes (unknown env ids, agents or files) print one line and exit with 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

import keras_dqn
from keras_dqn.envs import is_atari
from keras_dqn.recipes import RECIPES, Recipe, get_recipe, recipe_for_env

# `train --agent NAME` builds the MLP agent of this recipe; envs without a recipe train with GENERIC_RECIPE's settings.
AGENT_RECIPES = {"dqn": "cartpole-dqn", "target": "cartpole-target"}
GENERIC_RECIPE = "cartpole-target"


class UsageError(Exception):
    """A mistake in what the user typed: reported as one line, exit code 2."""


def _weights_arguments(parser: argparse.ArgumentParser, episodes: int) -> None:
    parser.add_argument("weights", help="an .h5 weights file")
    parser.add_argument("--env", help="env id (default: the one stored in the file)")
    parser.add_argument("--episodes", type=int, default=episodes)
    parser.add_argument("--seed", type=int, default=0, help="episode i starts from reset(seed=SEED + i)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="keras-dqn", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train an agent on a gymnasium env")
    train.add_argument("env_id", help="a gymnasium id with Discrete actions (vector observations, or an ALE game)")
    train.add_argument("--recipe", help=f"settings to train with (default: the env's own, else cartpole-target's): "
                                        f"{', '.join(RECIPES)}")  # fmt: skip
    train.add_argument("--agent", choices=sorted(AGENT_RECIPES),
                       help="an MLP agent with its CartPole recipe's settings: dqn (cartpole-dqn), "
                            "target (cartpole-target)")  # fmt: skip
    train.add_argument("--steps", type=int, help="env steps over all sub-envs (default: the recipe's total_steps)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--config", help="JSON file with 'agent' and 'train' sections overriding the recipe's settings")
    train.add_argument("--out", help="logs and checkpoints (default runs/ENV_ID-AGENT, or runs/ENV_ID-RECIPE)")
    train.add_argument("--target-score", type=float, help="stop once a greedy evaluation reaches it")
    train.add_argument("--resume", action="store_true", help="continue from --out's checkpoint")
    train.add_argument("--no-progress", action="store_true")

    play = commands.add_parser("play", help="play greedy episodes with saved weights")
    _weights_arguments(play, episodes=3)
    play.add_argument("--record", help="write the first episode to this .gif or .mp4")

    evaluate = commands.add_parser("evaluate", help="greedy mean return over many episodes")
    _weights_arguments(evaluate, episodes=100)

    plot = commands.add_parser("plot", help="learning-curve PNG from a training log folder")
    plot.add_argument("logdir")
    plot.add_argument("--out", help="PNG path (default LOGDIR/learning_curve.png)")
    return parser


def _load(weights: str, env: str | None):
    agent = keras_dqn.load_agent(weights)
    env_id = env or agent.env_id
    if env_id is None:
        raise UsageError(f"{weights} does not say which env it was trained on: pass --env ENV_ID")
    keras_dqn.make_env(env_id).close()  # unknown ids fail here, with their name (Atari ones with the extra's hint)
    return agent, env_id


def _recipe(args) -> Recipe:
    """The recipe ``train`` uses: --recipe, else the env's own, else cartpole-target's; --agent picks the agent."""
    if args.recipe:
        recipe = get_recipe(args.recipe)
        print(f"recipe: {recipe.name}")
    elif recipe_for_env(args.env_id) is not None:
        recipe = recipe_for_env(args.env_id)
        print(f"recipe: {recipe.name}")
    else:
        recipe = get_recipe(GENERIC_RECIPE)
        print(f"recipe: {args.env_id} has no recipe of its own; using {recipe.name}'s settings with its shapes")
    if args.agent:
        chosen = get_recipe(AGENT_RECIPES[args.agent])
        recipe = recipe.replace(agent=chosen.agent, agent_kwargs=chosen.agent_kwargs)
        print(f"agent: {chosen.agent} with {chosen.name}'s settings (--agent {args.agent})")
    return recipe


def _config(recipe: Recipe, path: str | None) -> Recipe:
    """``recipe`` with the 'agent' and 'train' settings of the JSON file ``path`` applied.

    The old section name 'target_agent' still works: its settings join 'agent's.
    """
    if not path:
        return recipe
    try:
        overrides = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"cannot read config {path}: {exc}") from exc
    sections = ("agent", "target_agent", "train")
    if not isinstance(overrides, dict):
        raise UsageError(f"config {path} must be a JSON object with sections {list(sections)}")
    agent, train = dict(recipe.agent_kwargs), dict(recipe.train_kwargs)
    for section, values in overrides.items():
        if section not in sections or not isinstance(values, dict):
            raise UsageError(f"config sections are {list(sections)}, each an object; got {section!r}")
        (train if section == "train" else agent).update(values)
    try:
        return recipe.replace(agent_kwargs=agent, train_kwargs=train)
    except ValueError as exc:
        raise UsageError(f"{path}: {exc}") from exc


def cmd_train(args) -> None:
    recipe = _config(_recipe(args), args.config)
    overrides = {} if args.steps is None else {"total_steps": args.steps}
    n_envs, total_steps, settings = recipe.train_args(**overrides)
    probe = keras_dqn.make_env(args.env_id)
    n_actions = keras_dqn.check_discrete(probe)
    shape = probe.observation_space.shape
    probe.close()
    agent = recipe.make_agent(shape, n_actions, seed=args.seed)
    out = Path(args.out or f"runs/{args.env_id.replace('/', '-')}-{args.agent or recipe.name}")
    print(f"training {recipe.agent} on {args.env_id} for {total_steps} steps; logs and checkpoints in {out}")
    print("settings:", json.dumps({"agent": dict(recipe.agent_kwargs), "train": {"n_envs": n_envs, **settings}}))
    envs = keras_dqn.make_vector_env(args.env_id, n_envs, training=True)
    eval_env = None
    if is_atari(args.env_id) and settings.get("eval_episodes"):  # full games, the real score
        eval_env = keras_dqn.make_vector_env(args.env_id, min(settings["eval_episodes"], 8), training=False)
    try:
        history = keras_dqn.train(
            agent, envs, total_steps, eval_env=eval_env, log_dir=out, checkpoint_dir=out,
            progress=not args.no_progress, resume=args.resume, seed=args.seed, target_score=args.target_score,
            **settings,
        )  # fmt: skip
    finally:
        envs.close()
        if eval_env is not None:
            eval_env.close()
    evals = history.history.get("eval_mean", [])
    if evals:
        print(f"best greedy evaluation: {max(evals):.1f}; weights in {out / 'best.h5'} and {out / 'last.h5'}")


def cmd_play(args) -> None:
    agent, env_id = _load(args.weights, args.env)
    if args.record:
        from keras_dqn.viz import record

        env = keras_dqn.make_env(env_id, render_mode="rgb_array")
        try:
            score = record(agent, env, args.record, seed=args.seed)
        finally:
            env.close()
        print(f"recorded episode 1 to {args.record}: return {score:.1f}")
    for i in range(args.episodes):
        print(f"episode {i + 1}: return {keras_dqn.play_episode(agent, env_id, seed=args.seed + i):.1f}")


def cmd_evaluate(args) -> None:
    agent, env_id = _load(args.weights, args.env)
    returns = keras_dqn.evaluate(agent, env_id, args.episodes, seed=args.seed)  # ALE ids: full games, 8 at a time
    print(
        f"{env_id}, {args.episodes} greedy episodes (reset seeds {args.seed}..{args.seed + args.episodes - 1}): "
        f"mean {np.mean(returns):.2f}, std {np.std(returns):.2f}, min {np.min(returns):.1f}, max {np.max(returns):.1f}"
    )


def cmd_plot(args) -> None:
    from keras_dqn.viz import plot_learning_curve

    print(f"wrote {plot_learning_curve(args.logdir, args.out)}")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``keras-dqn`` console script; returns the exit code."""
    args = _parser().parse_args(argv)
    commands = {"train": cmd_train, "play": cmd_play, "evaluate": cmd_evaluate, "plot": cmd_plot}
    try:
        commands[args.command](args)
    except (UsageError, ValueError, FileNotFoundError, ImportError) as exc:
        print(f"keras-dqn {args.command}: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

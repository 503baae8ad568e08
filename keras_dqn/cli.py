"""The ``keras-dqn`` command: train, play, evaluate and plot from the shell.

    keras-dqn train CartPole-v1 --agent target --steps 50000 --seed 0
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

# The defaults `keras-dqn train` uses; --config FILE (JSON) overrides any of them.
TRAIN_DEFAULTS = {
    "agent": {"hidden": [64, 64], "gamma": 0.99, "learning_rate": 0.001, "memory_size": 50_000,
              "epsilon_decay": 0.999, "epsilon_min": 0.02},
    "target_agent": {"target_update": 500, "double": True, "loss": "huber", "clipnorm": 10.0},
    "train": {"batch_size": 64, "n_envs": 8, "train_every": 8, "gradient_steps": 8, "learning_starts": 1000,
              "eval_every": 5000, "eval_episodes": 20},
}  # fmt: skip


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
    train.add_argument("env_id", help="a gymnasium id with Discrete actions and vector observations")
    train.add_argument("--agent", choices=["dqn", "target"], default="target")
    train.add_argument("--steps", type=int, default=50_000, help="env steps (over all sub-envs)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--config", help="JSON file overriding TRAIN_DEFAULTS' 'agent', 'target_agent', 'train'")
    train.add_argument("--out", help="folder for logs and checkpoints (default runs/ENV_ID-AGENT)")
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
    import keras_dqn

    agent = keras_dqn.load_agent(weights)
    env_id = env or agent.env_id
    if env_id is None:
        raise UsageError(f"{weights} does not say which env it was trained on: pass --env ENV_ID")
    _make_env(env_id).close()  # unknown ids fail here, with their name (Atari ones with the extra's hint)
    return agent, env_id


def _config(path: str | None) -> dict:
    config = json.loads(json.dumps(TRAIN_DEFAULTS))
    if path:
        try:
            overrides = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise UsageError(f"cannot read config {path}: {exc}") from exc
        for section, values in overrides.items():
            if section not in config or not isinstance(values, dict):
                raise UsageError(f"config sections are {sorted(config)}; got {section!r}")
            unknown = sorted(set(values) - _allowed_keys(section))
            if unknown:
                raise UsageError(f"unknown {section!r} settings in {path}: {', '.join(unknown)}")
            config[section].update(values)
    return config


def _allowed_keys(section: str) -> set[str]:
    import inspect

    import keras_dqn

    if section == "train":
        return set(inspect.signature(keras_dqn.train).parameters) - {"agent", "env", "total_steps"} | {"n_envs"}
    cls = keras_dqn.TargetDQNAgent if section == "target_agent" else keras_dqn.DQNAgent
    return set(inspect.signature(cls.__init__).parameters) - {"self", "state_size", "action_size", "kwargs"}


def cmd_train(args) -> None:
    import gymnasium as gym

    import keras_dqn

    config = _config(args.config)
    train_kw = dict(config["train"])
    n_envs = train_kw.pop("n_envs")
    probe = keras_dqn.make_env(args.env_id)
    n_actions = keras_dqn.check_discrete(probe)
    shape = probe.observation_space.shape
    probe.close()
    if shape is None or len(shape) != 1:
        raise UsageError(f"{args.env_id} has observations of shape {shape}; these agents take flat vectors")
    kwargs = dict(config["agent"], seed=args.seed)
    cls = keras_dqn.DQNAgent
    if args.agent == "target":
        cls = keras_dqn.TargetDQNAgent
        kwargs.update(config["target_agent"])
    agent = cls(shape[0], n_actions, **kwargs)
    out = Path(args.out or f"runs/{args.env_id}-{args.agent}")
    print(f"training {cls.__name__} on {args.env_id} for {args.steps} steps; logs and checkpoints in {out}")
    print("settings:", json.dumps({"agent": kwargs, "train": config["train"]}))
    envs = gym.make_vec(args.env_id, num_envs=n_envs, vectorization_mode="sync")
    history = keras_dqn.train(
        agent, envs, args.steps, log_dir=out, checkpoint_dir=out, progress=not args.no_progress,
        resume=args.resume, seed=args.seed, target_score=args.target_score, **train_kw,
    )  # fmt: skip
    evals = history.history.get("eval_mean", [])
    if evals:
        print(f"best greedy evaluation: {max(evals):.1f}; weights in {out / 'best.h5'} and {out / 'last.h5'}")


def _make_env(env_id: str, render_mode: str | None = None):
    """The env to play on: Atari ids get the agent's preprocessing, as full unclipped games."""
    import keras_dqn

    if env_id.startswith("ALE/"):
        return keras_dqn.make_atari_env(env_id, training=False, render_mode=render_mode)
    return keras_dqn.make_env(env_id, render_mode=render_mode)


def cmd_play(args) -> None:
    agent, env_id = _load(args.weights, args.env)
    if args.record:
        from keras_dqn.viz import record

        score = record(agent, _make_env(env_id, "rgb_array"), args.record, seed=args.seed)
        print(f"recorded episode 1 to {args.record}: return {score:.1f}")
    env = _make_env(env_id)
    try:
        _play_episodes(agent, env, args.episodes, args.seed)
    finally:
        env.close()


def _play_episodes(agent, env, episodes: int, seed: int) -> None:
    for i in range(episodes):
        obs, _ = env.reset(seed=seed + i)
        total, done = 0.0, False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(agent.act(obs, greedy=True))
            total += float(reward)
            done = terminated or truncated
        print(f"episode {i + 1}: return {total:.1f}")


def cmd_evaluate(args) -> None:
    import keras_dqn

    agent, env_id = _load(args.weights, args.env)
    env = env_id
    if env_id.startswith("ALE/"):  # full games with the agent's preprocessing, 8 at a time
        env = keras_dqn.make_atari_vector_env(env_id, min(args.episodes, 8), training=False)
    try:
        returns = keras_dqn.evaluate(agent, env, args.episodes, seed=args.seed)
    finally:
        if not isinstance(env, str):
            env.close()
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

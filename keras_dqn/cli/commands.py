"""The ``keras-dqn`` command: train, play, evaluate and plot from the shell; sweep and compare seeds on Ray.

    keras-dqn train CartPole-v1 --steps 50000 --seed 0    # in runs/CartPole-v1-cartpole-target_1
    keras-dqn train CartPole-v1 --resume                   # continue the latest run (or --out DIR --resume)
    keras-dqn train ALE/Pong-v5                            # the recipe pong: ConvDQNAgent, 2M agent steps
    keras-dqn play weights/cartpole-dqn.h5 --episodes 3 --record cartpole.gif
    keras-dqn evaluate weights/cartpole-dqn.h5 --episodes 100
    keras-dqn export weights/cartpole-target-dqn.h5 cartpole.onnx   # or NAME.tflite, or a SavedModel folder
    keras-dqn plot runs/CartPole-v1-cartpole-target_1
    keras-dqn tune CartPole-v1 --samples 16               # a sweep on a local Ray, in runs/tune-CartPole-v1
    keras-dqn tune CartPole-v1 --space space.yaml --address auto   # your space, on a running Ray cluster
    keras-dqn seeds CartPole-v1 --seeds 10                # IQM, 95% CI, fraction solved: runs/seeds-CartPole-v1
    keras-dqn seeds CartPole-v1 --config runs/tune-CartPole-v1/best_config.json

Each ``train`` writes a new numbered folder ``runs/ENV_ID-RECIPE_N`` unless ``--out`` names
one; a folder that holds a run is continued with ``--resume`` or started over with
``--overwrite``, never overwritten silently, and a folder another process is writing is
refused.  Weight files saved by keras_dqn carry their agent's config and env id, so ``play``
and ``evaluate`` need only the file; for other files (the blog's Keras-2 weights) pass
``--env``.  Mistakes (unknown env ids, agents, files or settings) print one line and exit
with 2; Ctrl-C during training saves the run and exits with 130.

``tune`` and ``seeds`` need the ray extra (``pip install -e ".[ray]"``): each trial is one
``train`` run on Ray Tune (a local Ray this command starts and stops, or the cluster at
``--address``), and an interrupted one continues with ``--resume``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

import keras_dqn
from keras_dqn.agents.settings import settings_in_use
from keras_dqn.checks import check_non_negative_int, check_number, check_positive_int, check_positive_number
from keras_dqn.config.recipe import Recipe
from keras_dqn.config.recipes import GENERIC_RECIPE, RECIPES, get_recipe, pick_recipe
from keras_dqn.config.settings import apply_config, check_env_kwargs, read_config_file
from keras_dqn.envs.make import is_atari
from keras_dqn.files.checkpoint import CHECKPOINT_NAME, checkpoint_precision
from keras_dqn.files.runs import (
    RunFolderLockedError,
    check_clearable,
    clear_run_folder,
    latest_run_folder,
    lock_run_folders,
    new_run_folder,
)
from keras_dqn.files.runs import run_files as previous_run_files

# `train --agent NAME` builds the MLP agent of this recipe; envs without a recipe train with GENERIC_RECIPE's settings.
AGENT_RECIPES = {"dqn": "cartpole-dqn", "target": "cartpole-target", "rainbow": "cartpole-rainbow"}
RUNS_ROOT = Path("runs")  # numbered run folders go here (relative to the working directory)
INTERRUPTED = 130  # the exit code of a run stopped by Ctrl-C (128 + SIGINT)

# Config keys the command sets itself, and how to set them instead.


class UsageError(Exception):
    """A mistake in what the user typed: reported as one line, exit code 2."""


def _check_arguments(args) -> None:
    """Check the numbers given as flags (argparse has their types), before anything is built."""
    checks = {"steps": ("--steps", check_positive_int), "episodes": ("--episodes", check_positive_int),
              "seed": ("--seed", check_non_negative_int), "target_score": ("--target-score", check_number),
              "confirm_episodes": ("--confirm-episodes", check_non_negative_int),
              "samples": ("--samples", check_positive_int), "seeds": ("--seeds", check_positive_int),
              "cpus_per_trial": ("--cpus-per-trial", check_positive_number),
              "final_episodes": ("--final-episodes", check_positive_int)}  # fmt: skip
    for attribute, (flag, check) in checks.items():
        value = getattr(args, attribute, None)
        if value is not None:
            check(flag, value)


ENV_KWARGS_HELP = ('the env\'s options as a JSON object, passed to gymnasium.make, e.g. \'{"is_slippery": false}\' '
                   "for FrozenLake or '{\"natural\": true}' for Blackjack")  # fmt: skip


def _env_kwargs(text: str | None, default: dict | None = None) -> dict:
    """``--env-kwargs``: a JSON object of keyword arguments, over ``default`` (the recipe's or the weights file's)."""
    if text is None:
        return dict(default or {})
    try:
        given = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--env-kwargs is not valid JSON ({exc}): give an object, e.g. '{{\"is_slippery\": false}}'") \
            from None
    try:
        return {**(default or {}), **check_env_kwargs("--env-kwargs", given)}
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _weights_arguments(parser: argparse.ArgumentParser, episodes: int) -> None:
    parser.add_argument("weights", help="an .h5 weights file")
    parser.add_argument("--env", help="env id (default: the one stored in the file)")
    parser.add_argument("--env-kwargs", help=ENV_KWARGS_HELP + " (default: the options stored in the file)")
    parser.add_argument("--episodes", type=int, default=episodes)
    parser.add_argument("--seed", type=int, default=0, help="episode i starts from reset(seed=SEED + i)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="keras-dqn", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train an agent on a gymnasium env")
    train.add_argument("env_id", help="a gymnasium id with Discrete actions (vector observations, or an ALE game)")
    train.add_argument("--recipe", help=f"settings to train with (default: the env's own, else {GENERIC_RECIPE}'s): "
                                        f"{', '.join(RECIPES)}")  # fmt: skip
    train.add_argument("--agent", choices=sorted(AGENT_RECIPES),
                       help="an MLP agent with its CartPole recipe's settings: dqn (cartpole-dqn), "
                            "target (cartpole-target), rainbow (cartpole-rainbow)")  # fmt: skip
    train.add_argument("--env-kwargs", help=ENV_KWARGS_HELP + " (over the recipe's own, if it has any)")
    train.add_argument("--steps", type=int, help="env steps over all sub-envs (default: the recipe's total_steps)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--config", help="JSON file with 'agent' and 'train' sections overriding the recipe's settings")
    train.add_argument("--out", help="folder for logs and checkpoints (default: a new runs/ENV_ID-RECIPE_N, "
                                     "or runs/ENV_ID-AGENT_N with --agent)")  # fmt: skip
    train.add_argument("--target-score", type=float, help="stop once a greedy evaluation reaches it")
    train.add_argument("--confirm-episodes", type=int,
                       help="with --target-score: stop only if this many more greedy episodes, from other reset "
                            "seeds, reach it too (default: the recipe's; 0: stop on the evaluation alone)")  # fmt: skip
    train.add_argument("--resume", action="store_true",
                       help="continue from --out's checkpoint (without --out: the latest runs/ENV_ID-RECIPE_N)")
    train.add_argument("--overwrite", action="store_true",
                       help="start over in --out, removing the previous run's files (only those)")  # fmt: skip
    train.add_argument("--no-progress", action="store_true")

    play = commands.add_parser("play", help="play greedy episodes with saved weights")
    _weights_arguments(play, episodes=3)
    play.add_argument("--record", help="write the first episode to this .gif or .mp4")

    evaluate = commands.add_parser("evaluate", help="greedy mean return over many episodes")
    _weights_arguments(evaluate, episodes=100)

    export = commands.add_parser("export", help="the greedy Q-network as ONNX, TFLite or a SavedModel, to run "
                                                "without keras_dqn")  # fmt: skip
    export.add_argument("weights", help="an .h5 weights file saved by keras_dqn")
    export.add_argument("out", help="NAME.onnx (the onnx extra), NAME.tflite, or a SavedModel folder (no suffix)")

    plot = commands.add_parser("plot", help="learning-curve PNG from a training log folder, or several runs compared")
    plot.add_argument("logdir", nargs="+", help="a run's log folder (or its progress.csv); several: compare them")
    plot.add_argument("--out", help="PNG path (default LOGDIR/learning_curve.png; needed to compare runs)")
    plot.add_argument("--labels", help="comma-separated names of the compared runs (default: their folders)")
    plot.add_argument("--title", default="", help="the plot's title")

    sweep = commands.add_parser("tune", help="a hyperparameter sweep on Ray Tune, bad trials stopped early (ASHA)")
    _ray_arguments(sweep, "tune", "trial")
    sweep.add_argument("--space", help='JSON or YAML search space, e.g. {"agent": {"learning_rate": {"loguniform": '
                                       '[1e-4, 3e-3]}}, "train": {"batch_size": {"choice": [32, 64]}}} (kinds: '
                                       "uniform, loguniform, randint, choice, grid; plain values are fixed); "
                                       "default: the recipe's")  # fmt: skip
    sweep.add_argument("--samples", type=int, default=8, help="trials to sample (per grid point)")
    sweep.add_argument("--seed", type=int, default=0, help="every trial's seed, and the sampling's")

    seeds = commands.add_parser("seeds", help="one recipe on many seeds on Ray: IQM with a 95%% bootstrap CI")
    _ray_arguments(seeds, "seeds", "seed")
    seeds.add_argument("--seeds", type=int, default=10, help="train on seeds 0..N-1 (default 10)")
    seeds.add_argument("--target", type=float, help="the final score that counts as solved, e.g. a published figure "
                       "to match (default: the env's reward_threshold)")
    seeds.add_argument("--config", help="JSON file with 'agent' and 'train' sections overriding the recipe's "
                                        "settings, as train --config (e.g. a sweep's best_config.json)")  # fmt: skip
    seeds.add_argument("--final-episodes", type=int, default=100,
                       help="episodes of each seed's final greedy evaluation (default 100)")  # fmt: skip
    return parser


def _ray_arguments(parser: argparse.ArgumentParser, command: str, unit: str) -> None:
    """The flags ``tune`` and ``seeds`` share."""
    parser.add_argument("env_id", help="a gymnasium id with Discrete actions")
    parser.add_argument("--steps", type=int, help=f"env steps per {unit} (default: the recipe's total_steps)")
    parser.add_argument("--recipe", help=f"the recipe to train (default: the env's own, else {GENERIC_RECIPE}'s): "
                                         f"{', '.join(RECIPES)}")  # fmt: skip
    parser.add_argument("--cpus-per-trial", type=float, default=1,
                        help=f"CPUs each {unit} gets (and TensorFlow threads); default 1")  # fmt: skip
    parser.add_argument("--address", help="a running Ray cluster ('auto' or HOST:PORT); default: start a local Ray")
    parser.add_argument("--out", help=f"folder for the results (default runs/{command}-ENV_ID)")
    parser.add_argument("--storage", help="where Ray Tune keeps the trials' checkpoints (default: --out); on "
                                          "several machines a folder all of them share, or s3://...")  # fmt: skip
    parser.add_argument("--resume", action="store_true",
                        help=f"continue the interrupted {command} run in --out (Ray Tune's experiment state is "
                             "pickles: resume only folders your own machines wrote)")  # fmt: skip


def _load(args) -> tuple[Any, str, dict]:
    """The agent of ``args.weights``, the env id to play (``--env``, else the file's) and its options."""
    agent = keras_dqn.load_agent(args.weights)
    env_id = args.env or agent.env_id
    if env_id is None:
        raise UsageError(f"{args.weights} does not say which env it was trained on: pass --env ENV_ID")
    same_env = env_id == agent.env_id  # the file's options are its env's
    env_kwargs = _env_kwargs(args.env_kwargs, agent.env_kwargs if same_env else {})
    keras_dqn.make_env(env_id, **env_kwargs).close()  # unknown ids or options fail here, with their names
    return agent, env_id, env_kwargs


def _recipe(args) -> Recipe:
    """The recipe ``train`` uses: --recipe, else the env's own, else cartpole-target's; --agent picks the agent."""
    recipe, which = pick_recipe(args.env_id, args.recipe)
    print(which)
    if args.agent:
        chosen = get_recipe(AGENT_RECIPES[args.agent])
        recipe = recipe.with_agent_of(chosen)
        print(f"agent: {chosen.agent} with {chosen.name}'s settings (--agent {args.agent})")
    return recipe


def _config(recipe: Recipe, path: str | None) -> tuple[Recipe, dict[str, dict]]:
    """``recipe`` with the 'agent' and 'train' settings of the ``--config`` file ``path`` applied, and those settings.

    Every value is checked by name, type and range before anything is built."""
    try:
        given = read_config_file(path)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    try:
        return apply_config(recipe, given), given
    except ValueError as exc:
        raise UsageError(f"{path}: {exc}") from None


def _flag_overrides(args, config_train: dict) -> dict:
    """The train settings --steps, --target-score and --confirm-episodes set; a flag wins over the config,
    saying so once."""
    overrides = {}
    for flag, key, value in (("--steps", "total_steps", args.steps), ("--target-score", "target_score",
                             args.target_score), ("--confirm-episodes", "confirm_episodes",
                             args.confirm_episodes)):  # fmt: skip
        if value is None:
            continue
        if key in config_train and config_train[key] != value:
            print(f"{flag} {value:g} overrides the config's train.{key} {config_train[key]}")
        overrides[key] = value
    return overrides


def _run_name(args, recipe: Recipe) -> str:
    return f"{args.env_id.replace('/', '-')}-{args.agent or recipe.name}"


def _check_out(args, out: Path) -> None:
    """Refuse an --out that cannot take this run: a file, or a previous run without --resume or --overwrite."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file, not a folder")
    found = previous_run_files(out)
    if found and not (args.resume or args.overwrite):
        names = ", ".join(p.name for p in found[:4]) + (", ..." if len(found) > 4 else "")
        raise UsageError(f"{out} already holds a run ({names}): pass --resume to continue it, --overwrite to start "
                         "over, or another --out")  # fmt: skip
    if args.resume and not (out / CHECKPOINT_NAME).is_file():
        raise UsageError(f"nothing to resume: {out} has no {CHECKPOINT_NAME}")
    if args.overwrite:
        check_clearable(out)


def _out_folder(args, name: str) -> Path | None:
    """The folder ``train`` writes, checked; ``None`` for a new numbered one (made when training starts)."""
    if args.out:
        out = Path(args.out)
    elif args.resume:
        out = latest_run_folder(RUNS_ROOT, name)
        if out is None:
            raise UsageError(f"nothing to resume: no {RUNS_ROOT / name}_N folder; pass --out DIR")
        print(f"resuming the latest run, {out}")
    elif args.overwrite:
        raise UsageError("--overwrite needs --out: without it every run gets a new folder")
    else:
        return None
    _check_out(args, out)
    return out


@contextlib.contextmanager
def _run_folder(args, out: Path | None, name: str) -> Iterator[Path]:
    """Hold the run folder's lock while training: a new numbered one, or ``out`` checked (and cleared) again."""
    out = out or new_run_folder(RUNS_ROOT, name)
    with lock_run_folders(out):
        _check_out(args, out)  # again, now that no other process can write it
        if args.overwrite and previous_run_files(out):
            removed = clear_run_folder(out)
            print(f"--overwrite: removed the previous run's {', '.join(sorted({p.name for p in removed}))}")
        yield out


def _resume_command(args, out: Path) -> str:
    """The command line that continues this run."""
    words = ["keras-dqn", "train", args.env_id]
    for flag, value in (("--recipe", args.recipe), ("--agent", args.agent), ("--env-kwargs", args.env_kwargs),
                        ("--steps", args.steps),
                        ("--config", args.config), ("--target-score", args.target_score),
                        ("--confirm-episodes", args.confirm_episodes)):  # fmt: skip
        if value is not None:
            words += [flag, str(value)]
    if args.seed:
        words += ["--seed", str(args.seed)]
    return shlex.join([*words, "--out", str(out), "--resume"])


def cmd_train(args) -> int:
    if args.resume and args.overwrite:
        raise UsageError("--resume continues the run in --out and --overwrite starts it over: pass one of them")
    recipe, config = _config(_recipe(args), args.config)
    made_for = get_recipe(AGENT_RECIPES[args.agent]).env_id if args.agent else None  # the agent settings' env
    try:
        recipe.check_atoms_for(args.env_id, made_for=made_for, given=config["agent"])
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    n_envs, total_steps, settings = recipe.train_args(**_flag_overrides(args, config["train"]))
    name = _run_name(args, recipe)
    out = _out_folder(args, name)
    env_kwargs = _env_kwargs(args.env_kwargs, recipe.env_kwargs_for(args.env_id))
    probe = keras_dqn.make_env(args.env_id, **env_kwargs)
    n_actions = keras_dqn.check_discrete(probe)
    shape = probe.observation_space.shape
    probe.close()
    if args.resume and recipe.agent_settings.get("precision") == "auto":
        picked = checkpoint_precision(out)  # what the run picked when it started: compute as it did
        if picked is not None:
            recipe = recipe.replace(agent_kwargs={**recipe.agent_kwargs, "precision": picked})
            print(f"precision auto: {picked}, as the run picked when it started")
    agent = recipe.make_agent(shape, n_actions, seed=args.seed)
    if agent_timings := getattr(agent, "precision_timings", None):
        timed = ", ".join(f"{name} {ms:g} ms" for name, ms in agent_timings.items())
        print(f"precision auto: {agent.precision} (a training step of the network, timed here: {timed})")
    if ":" in args.env_id:  # "module:Env-v0": the weights file keeps the module that registers the env
        agent.env_id = args.env_id
    with _run_folder(args, out, name) as out:
        print(f"training {recipe.agent} on {args.env_id} for {total_steps} steps; logs and checkpoints in {out}")
        print("settings:", json.dumps({"env": env_kwargs, "agent": settings_in_use(recipe.agent_settings, settings),
                                       "train": {"n_envs": n_envs, **settings}}))  # fmt: skip
        envs = keras_dqn.make_vector_env(args.env_id, n_envs, training=True, **env_kwargs)
        eval_env = None
        if is_atari(args.env_id) and settings.get("eval_episodes"):  # full games, the real score
            eval_env = keras_dqn.make_vector_env(args.env_id, min(settings["eval_episodes"], 8), training=False,
                                                 **env_kwargs)  # fmt: skip
        try:
            history = keras_dqn.train(
                agent, envs, total_steps, eval_env=eval_env, log_dir=out, checkpoint_dir=out,
                progress=not args.no_progress, resume=args.resume, seed=args.seed, **settings,
            )  # fmt: skip
        finally:
            envs.close()
            if eval_env is not None:
                eval_env.close()
    if getattr(history, "interrupted", False):  # Ctrl-C: train() saved last.h5 and the checkpoint first
        print(f"stopped at step {history.stopped_at_step}; resume with: {_resume_command(args, out)}")
        return INTERRUPTED
    evals = history.history.get("eval_mean", [])
    if evals:
        print(f"best greedy evaluation: {max(evals):.1f}; weights in {out / 'best.h5'} and {out / 'last.h5'}")
    return 0


def cmd_play(args) -> None:
    agent, env_id, env_kwargs = _load(args)
    if args.record:
        from keras_dqn.experiments.plots import record

        env = keras_dqn.make_env(env_id, render_mode="rgb_array", **env_kwargs)
        try:
            score = record(agent, env, args.record, seed=args.seed)
        finally:
            env.close()
        print(f"recorded episode 1 to {args.record}: return {score:.1f}")
    for i in range(args.episodes):
        score = keras_dqn.play_episode(agent, env_id, seed=args.seed + i, env_kwargs=env_kwargs)
        print(f"episode {i + 1}: return {score:.1f}")


def cmd_evaluate(args) -> None:
    agent, env_id, env_kwargs = _load(args)
    returns = keras_dqn.evaluate(agent, env_id, args.episodes, seed=args.seed,
                                 env_kwargs=env_kwargs)  # ALE ids: full games, 8 at a time  # fmt: skip
    env = f"{env_id} {json.dumps(env_kwargs)}" if env_kwargs else env_id
    print(
        f"{env}, {args.episodes} greedy episodes (reset seeds {args.seed}..{args.seed + args.episodes - 1}): "
        f"mean {np.mean(returns):.2f}, std {np.std(returns):.2f}, min {np.min(returns):.1f}, max {np.max(returns):.1f}"
    )


def cmd_export(args) -> None:
    agent = keras_dqn.load_agent(args.weights)
    path = agent.export(args.out)
    print(f"wrote {path}: {type(agent).__name__}'s greedy Q-values ({agent.action_size} actions) for a batch of "
          f"{np.dtype(agent.state_dtype).name} states of shape {agent.state_shape} (input 'states')")  # fmt: skip


def cmd_plot(args) -> None:
    from keras_dqn.experiments.plots import plot_learning_curve, plot_runs, run_label

    if len(args.logdir) == 1 and not args.labels:
        print(f"wrote {plot_learning_curve(args.logdir[0], args.out, title=args.title or None)}")
        return
    if not args.out:
        raise ValueError("comparing runs needs --out, the PNG to write")
    labels = args.labels.split(",") if args.labels else [run_label(d) for d in args.logdir]
    if len(labels) != len(args.logdir):
        raise ValueError(f"--labels names {len(labels)} runs, but {len(args.logdir)} were given")
    if len(set(labels)) != len(labels):
        raise ValueError(f"the compared runs need different labels, got {', '.join(labels)} (use --labels)")
    print(f"wrote {plot_runs(dict(zip(labels, args.logdir, strict=True)), args.out, title=args.title)}")


def cmd_tune(args) -> int:
    from keras_dqn.experiments.sweeps import sweep  # needs the ray extra: ImportError with the install line

    result = sweep(args.env_id, space=args.space, samples=args.samples, steps=args.steps, recipe=args.recipe,
                        cpus_per_trial=args.cpus_per_trial, address=args.address, out=args.out, resume=args.resume,
                        seed=args.seed, storage=args.storage)  # fmt: skip
    return INTERRUPTED if result["interrupted"] else 0


def cmd_seeds(args) -> int:
    from keras_dqn.experiments.seed_studies import seeds

    result = seeds(args.env_id, n_seeds=args.seeds, steps=args.steps, config=args.config, recipe=args.recipe,
                        cpus_per_trial=args.cpus_per_trial, address=args.address, out=args.out, resume=args.resume,
                        final_episodes=args.final_episodes, storage=args.storage, target=args.target)  # fmt: skip
    return INTERRUPTED if result["interrupted"] else 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``keras-dqn`` console script; returns the exit code.

    Mistakes print one line ``keras-dqn COMMAND: message`` and return 2: bad flags or
    settings, unreadable or broken files (weights, config, checkpoint), a run folder that is
    taken.  Ctrl-C returns 130.
    """
    args = _parser().parse_args(argv)
    commands = {"train": cmd_train, "play": cmd_play, "evaluate": cmd_evaluate, "export": cmd_export,
                "plot": cmd_plot, "tune": cmd_tune, "seeds": cmd_seeds}  # fmt: skip
    try:
        _check_arguments(args)
        return commands[args.command](args) or 0
    except (UsageError, ValueError, OSError, ImportError, RunFolderLockedError) as exc:
        message = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        print(f"keras-dqn {args.command}: {message or type(exc).__name__}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"keras-dqn {args.command}: interrupted", file=sys.stderr)
        return INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())

"""Deep Q-learning on CartPole: Keon Kim's blog script on Keras 3 and gymnasium.

    python examples/cartpole.py                        # train, evaluate, save weights
    python examples/cartpole.py --agent target         # the same with a target network (Double DQN)
    python examples/cartpole.py --agent rainbow        # Rainbow: + 3-step, prioritized, noisy, C51
    python examples/cartpole.py --weights weights/cartpole-dqn.h5 --render   # watch a trained agent

The loop below is the blog's: act, step, remember, replay(32) after every step.  Training
stops when a *greedy* evaluation (epsilon = 0) over 100 fresh episodes averages at least
``--target-score`` (475 is gymnasium's "solved" line for CartPole-v1), or when the step
budget runs out.  The weights are then evaluated once more, on episodes never used to
decide anything, and saved.

Every hyperparameter is a flag; the defaults are the recipe of ``--agent`` in
:mod:`keras_dqn.config.recipes` (``cartpole-dqn``: the blog's; ``cartpole-target``: TargetDQNAgent's
validated settings; ``cartpole-rainbow``: RainbowAgent's), whose ``add_recipe_flags`` makes
the flags.  ``--help`` lists them with their values.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

import keras_dqn  # imports TensorFlow, keeping its start-up chatter off the screen
from keras_dqn.agents.settings import settings_in_use
from keras_dqn.config.flags import add_recipe_flags, recipe_settings
from keras_dqn.config.help import SETTING_HELP

ENV_ID = "CartPole-v1"
TARGET = keras_dqn.get_recipe("cartpole-target")
# The blog's hyperparameters, each a flag; the target agent adds its two, Rainbow its switches.
BLOG_SETTINGS = ["gamma", "epsilon", "epsilon_min", "epsilon_decay", "learning_rate", "memory_size", "hidden", "loss",
                 "dueling", "clipnorm"]  # fmt: skip
TARGET_SETTINGS = {"DQNAgent": [], "TargetDQNAgent": ["target_update", "double"]}
TARGET_SETTINGS["RainbowAgent"] = [*TARGET_SETTINGS["TargetDQNAgent"], "n_step", "prioritized", "priority_alpha",
                                   "noisy", "noisy_hidden", "sigma0", "distributional", "v_min", "v_max",
                                   "adam_epsilon"]  # fmt: skip
# keras_dqn.train's settings for CartPole (the same for both agents: one update per env step)
LIBRARY = keras_dqn.config.recipes.recipe_for_env(ENV_ID)
# Reset seeds: evaluations during training use EVAL_SEED + step (so at most ~10_000 + budget);
# the check after training uses a range far beyond, which nothing during training touches.
EVAL_SEED = 10_000
FINAL_EVAL_SEED = 5_000_000  # + --seed: the evaluation printed at the end


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """--help keeps the docstring's layout and shows each flag's default."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The example's flags.  The hyperparameters default to the recipe of ``--agent``."""
    # --agent decides which recipe the other flags default to, so it is read first.
    agent_flag = argparse.ArgumentParser(add_help=False)
    agent_flag.add_argument("--agent", choices=["dqn", "target", "rainbow"], default="dqn",
                            help="dqn: the blog's DQNAgent (recipe cartpole-dqn); target: TargetDQNAgent, with a "
                                 "target network and Double DQN (recipe cartpole-target); rainbow: RainbowAgent "
                                 "(recipe cartpole-rainbow)")  # fmt: skip
    recipe = keras_dqn.get_recipe(f"cartpole-{agent_flag.parse_known_args(argv)[0].agent}")

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter, parents=[agent_flag])
    parser.add_argument("--weights", help="load these weights and play instead of training")
    parser.add_argument("--seed", type=int, default=0, help="seeds the agent, the environment and evaluation")
    parser.add_argument("--max-steps", type=int, default=recipe.train_kwargs["total_steps"],
                        help="training budget in environment steps")  # fmt: skip
    parser.add_argument("--target-score", type=float, default=475.0, help="stop when a greedy evaluation reaches it")
    parser.add_argument("--save", help="where to save the trained weights (default: runs/cartpole-AGENT.h5)")
    parser.add_argument("--episodes", type=int, default=100, help="greedy episodes in the final evaluation")
    parser.add_argument("--render", action="store_true", help="show 3 greedy episodes in a window")
    parser.add_argument("--quiet", action="store_true", help="no per-episode lines")
    parser.add_argument("--loop", choices=["blog", "library"], default="blog",
                        help="blog: the narrated loop below; library: keras_dqn.train over --n-envs vector envs "
                             "(faster)")  # fmt: skip
    add_recipe_flags(parser, recipe, only=["eval_episodes"], help={"eval_episodes": "greedy episodes per evaluation"})

    # A flag for each of the blog's settings (keras_dqn.config.flags: their types, the recipe's values, help).
    group = parser.add_argument_group(f"agent hyperparameters (defaults: the recipe {recipe.name})")
    add_recipe_flags(group, recipe, only=[*BLOG_SETTINGS, *TARGET_SETTINGS[recipe.agent], "batch_size"])
    if recipe.agent == "DQNAgent":  # the target agent's flags too, so that using them says they need --agent target
        names = ["target_update", "double"]
        add_recipe_flags(group, TARGET, only=names, help={n: f"--agent target: {SETTING_HELP[n]}" for n in names})
        parser.set_defaults(target_update=None, double=None)

    group = parser.add_argument_group("the blog loop")
    group.add_argument("--death-reward", type=float, default=recipe.death_reward,
                       help="the blog's shaping: reward of the step on which the pole falls")  # fmt: skip
    group.add_argument("--eval-min-score", type=int, default=200,
                       help="evaluate after a training episode at least this long ...")  # fmt: skip
    group.add_argument("--eval-gap", type=int, default=1_000,
                       help="... and at least this many steps after the previous evaluation")  # fmt: skip

    group = parser.add_argument_group(f"the library loop (keras_dqn.train; defaults: the recipe {LIBRARY.name})")
    add_recipe_flags(group, LIBRARY, only=["n_envs", "train_every", "gradient_steps", "learning_starts", "eval_every"])

    args = parser.parse_args(argv)
    if args.agent == "dqn":
        for flag in ("target_update", "double"):
            if getattr(args, flag) is not None:
                parser.error(f"--{flag.replace('_', '-')} needs --agent target")
    return args


def agent_settings(args: argparse.Namespace) -> dict:
    """The agent's constructor settings: the hyperparameter flags' values."""
    return recipe_settings(args, keras_dqn.get_recipe(f"cartpole-{args.agent}"))[0]


def train_settings(args: argparse.Namespace) -> dict:
    """The library loop's :func:`keras_dqn.train` settings: the train flags' values (``n_envs`` included)."""
    return recipe_settings(args, LIBRARY)[1]


def make_agent(args: argparse.Namespace, env: gym.Env) -> keras_dqn.DQNAgent:
    """The agent of ``--agent`` for ``env``, with :func:`agent_settings`."""
    recipe = keras_dqn.get_recipe(f"cartpole-{args.agent}")
    agent = recipe.make_agent(env.observation_space.shape, keras_dqn.check_discrete(env), seed=args.seed,
                              **agent_settings(args))  # fmt: skip
    agent.env_id = ENV_ID  # saved with the weights: `keras-dqn play FILE` needs nothing else
    return agent


def train_blog_loop(agent: keras_dqn.DQNAgent, env: gym.Env, args: argparse.Namespace) -> dict:
    """Train with the blog's loop until a greedy evaluation reaches ``args.target_score``.

    Reads ``args.max_steps`` (budget in env steps), ``args.target_score`` (greedy mean over
    ``args.eval_episodes`` episodes that counts as solved; ``None``: never evaluate, train the
    whole budget), ``args.seed`` (the first reset's seed; ``None`` goes on with ``env``'s own
    random stream, as a second call on the same env does), ``args.batch_size``,
    ``args.death_reward``, ``args.eval_min_score``, ``args.eval_gap`` and ``args.quiet``.

    Returns:
        A summary: ``solved``, ``steps`` and ``seconds`` (when solved, or when the budget ran
        out) and ``eval_mean`` (the last evaluation).
    """
    start = time.perf_counter()
    steps, episode, last_eval, eval_mean, solved = 0, 0, -args.eval_gap, float("nan"), False
    while steps < args.max_steps and not solved:
        # A new episode; only the first reset is seeded, so the whole run repeats exactly.
        state, _ = env.reset(seed=args.seed if episode == 0 else None)
        episode += 1
        score = 0
        while True:
            # Explore with probability epsilon, otherwise take the action with the best Q.
            action = agent.act(state)
            next_state, reward, terminated, truncated, _ = env.step(action)
            # The blog punishes the step that drops the pole.  Note `terminated`, not
            # `terminated or truncated`: hitting the 500-step time limit is not a terminal
            # state, so its target must still bootstrap from the next state.
            # (`truncated` tells n-step returns, if the agent sums them, to stop at the cut.)
            reward = args.death_reward if terminated else reward
            agent.remember(state, action, reward, next_state, terminated, truncated)
            state = next_state
            steps += 1
            score += 1
            # Learn from a random minibatch of past experience after every step.
            if len(agent.memory) > args.batch_size:
                if hasattr(agent.memory, "anneal_beta"):  # prioritized replay: correct fully by the end
                    agent.memory.anneal_beta(steps / args.max_steps)
                agent.replay(args.batch_size)
            if terminated or truncated or steps >= args.max_steps:
                break
        if not args.quiet:
            elapsed = time.perf_counter() - start
            print(f"episode: {episode}, score: {score}, e: {agent.epsilon:.2f}, steps: {steps}, {elapsed:.0f}s")
        # Judge the agent only by greedy play on fresh episodes, not by training scores.
        if args.target_score is not None and score >= args.eval_min_score and steps - last_eval >= args.eval_gap:
            last_eval = steps
            returns = keras_dqn.evaluate(agent, ENV_ID, args.eval_episodes, seed=EVAL_SEED + steps)
            eval_mean = float(np.mean(returns))
            if not args.quiet:
                print(f"  greedy evaluation over {args.eval_episodes} episodes: mean {eval_mean:.1f}")
            solved = eval_mean >= args.target_score
    return dict(solved=solved, steps=steps, seconds=time.perf_counter() - start, eval_mean=eval_mean)


def train_library_loop(agent: keras_dqn.DQNAgent, args: argparse.Namespace) -> dict:
    """The same agent trained by ``keras_dqn.train``: ``--n-envs`` CartPoles stepped together,
    one batched forward pass to act for all of them, and the gradient steps then due (one per
    env step, by default) in one compiled call.  No reward shaping.  Returns a summary as
    :func:`train_blog_loop` does."""
    n_envs, _, settings = LIBRARY.train_args(**train_settings(args))  # batch size, train_every, ...
    envs = keras_dqn.make_vector_env(ENV_ID, n_envs, training=True)
    start = time.perf_counter()
    history = keras_dqn.train(agent, envs, args.max_steps, target_score=args.target_score, progress=not args.quiet,
                              seed=args.seed, **settings)  # fmt: skip
    envs.close()
    evals = history.history["eval_mean"]
    return dict(
        solved=bool(evals) and evals[-1] >= args.target_score,
        steps=int(history.history["step"][-1]),
        seconds=time.perf_counter() - start,
        eval_mean=evals[-1] if evals else float("nan"),
    )


def main() -> None:
    args = parse_args()
    # Tiny networks run faster with one thread per op than split across cores.
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    # Evaluate on episodes that took no part in training or in deciding when to stop.
    final_eval_seed = FINAL_EVAL_SEED + args.seed

    if args.weights:
        agent = keras_dqn.load_agent(args.weights)  # the file says which agent and network it holds
        print(f"loaded {args.weights}: {type(agent).__name__}, hidden layers {agent.hidden}")
    else:
        env = gym.make(ENV_ID)
        agent = make_agent(args, env)
        print(f"training {type(agent).__name__} on {ENV_ID}, seed {args.seed}, budget {args.max_steps} steps")
        # the settings that change something (no epsilon while noisy layers explore)
        hyperparameters = settings_in_use(agent_settings(args)) | {"batch_size": args.batch_size}
        if args.loop == "blog":
            print("blog loop; hyperparameters:", hyperparameters | {"death_reward": args.death_reward})
            summary = train_blog_loop(agent, env, args)
        else:
            print("library loop; hyperparameters:", hyperparameters | train_settings(args))
            summary = train_library_loop(agent, args)
        env.close()
        status = "solved" if summary["solved"] else "not solved (budget spent)"
        print(f"{status} after {summary['steps']} steps in {summary['seconds']:.1f}s")
        path = Path(args.save or f"runs/cartpole-{args.agent}.h5")
        agent.save(path)
        print(f"saved weights to {path}")

    returns = keras_dqn.evaluate(agent, ENV_ID, args.episodes, seed=final_eval_seed)
    print(
        f"greedy evaluation over {args.episodes} episodes (reset seeds {final_eval_seed}..."
        f"{final_eval_seed + args.episodes - 1}): mean {np.mean(returns):.1f}, min {np.min(returns):.0f}"
    )
    if args.render:
        for i in range(3):
            score = keras_dqn.play_episode(agent, ENV_ID, seed=final_eval_seed + i, render=True)
            print(f"episode {i + 1}: score {score:.0f}")


if __name__ == "__main__":
    main()

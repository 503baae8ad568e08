"""Deep Q-learning on CartPole: Keon Kim's blog script on Keras 3 and gymnasium.

    python examples/cartpole.py                        # train, evaluate, save weights
    python examples/cartpole.py --agent target         # the same with a target network (Double DQN)
    python examples/cartpole.py --weights weights/cartpole-dqn.h5 --render   # watch a trained agent

The loop below is the blog's: act, step, remember, replay(32) after every step.  Training
stops when a *greedy* evaluation (epsilon = 0) over 100 fresh episodes averages at least
``--target-score`` (475 is gymnasium's "solved" line for CartPole-v1), or when the step
budget runs out.  The weights are then evaluated once more, on episodes never used to
decide anything, and saved.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

import keras_dqn  # imports TensorFlow, keeping its start-up chatter off the screen

# --- Hyperparameters -----------------------------------------------------------------
# The blog's names and values for DQNAgent.  TargetDQNAgent adds a target network, which
# lets it learn with a longer horizon and a larger memory without chasing its own tail.
HYPERPARAMETERS = {
    "dqn": dict(
        gamma=0.95,  # discount rate
        epsilon=1.0,  # start fully random
        epsilon_min=0.01,
        epsilon_decay=0.995,  # per replay() call
        learning_rate=0.001,  # Adam
        memory_size=2000,  # replay capacity
        hidden=(24, 24),
    ),
    "target": dict(
        gamma=0.99,  # a longer horizon: the frozen target keeps bootstrapping stable
        epsilon=1.0,
        epsilon_min=0.01,
        epsilon_decay=0.995,
        learning_rate=0.001,
        memory_size=10_000,  # keeps failures in memory after the agent stops failing
        hidden=(64, 64),
        target_update=500,  # hard copy every 500 replays: slower than 100, but it stays solved (see README)
        double=True,  # Double DQN
        loss="huber",
        dueling=False,
        clipnorm=10.0,
    ),
}
AGENTS = {"dqn": keras_dqn.DQNAgent, "target": keras_dqn.TargetDQNAgent}
BATCH_SIZE = 32  # minibatch per replay() (blog)
DEATH_REWARD = -10.0  # the blog's shaping: reward on the step where the pole falls
ENV_ID = "CartPole-v1"
MAX_STEPS = 100_000  # default training budget, in environment steps
EVAL_EPISODES = 100  # greedy episodes per evaluation
EVAL_MIN_SCORE = 200  # evaluate after a training episode at least this long ...
EVAL_GAP = 1_000  # ... and at least this many steps after the previous evaluation
# Reset seeds: evaluations during training use 10_000 + step (so at most ~10_000 + budget);
# the checks after training use ranges far beyond, which nothing during training touches.
FINAL_EVAL_SEED = 5_000_000  # + --seed: the evaluation printed at the end
AFTER_CONTINUE_EVAL_SEED = 6_000_000  # + seed: the benchmark's evaluation after continue_steps


def train(
    seed: int = 0,
    max_steps: int = MAX_STEPS,
    target_score: float = 475.0,
    hyperparameters: dict | None = None,
    verbose: bool = True,
    agent_kind: str = "dqn",
    batch_size: int = BATCH_SIZE,
    continue_steps: int = 0,
) -> tuple[keras_dqn.DQNAgent, dict]:
    """Train with the blog's loop until a greedy evaluation reaches ``target_score``.

    Args:
        seed: seeds the agent and the environment.
        max_steps: budget in env steps to reach ``target_score``.
        target_score: greedy mean over ``EVAL_EPISODES`` episodes that counts as solved.
        hyperparameters: overrides of ``HYPERPARAMETERS[agent_kind]``.
        verbose: print a line per episode.
        agent_kind: ``"dqn"`` (DQNAgent) or ``"target"`` (TargetDQNAgent).
        batch_size: minibatch size of each replay.
        continue_steps: once solved, train this many more steps, then evaluate again
            (does the agent stay good, or collapse?).

    Returns:
        The agent, and a summary dict: ``solved``, ``steps`` and ``seconds`` (when solved,
        or when the budget ran out), ``eval_mean`` (the last evaluation before stopping)
        and, with ``continue_steps``, ``final_mean`` after the extra training.
    """
    hp = {**HYPERPARAMETERS[agent_kind], **(hyperparameters or {})}
    env = gym.make(ENV_ID)
    state_size = env.observation_space.shape[0]
    action_size = keras_dqn.check_discrete(env)
    agent = AGENTS[agent_kind](state_size, action_size, seed=seed, **hp)
    agent.env_id = ENV_ID  # saved with the weights: `keras-dqn play FILE` needs nothing else

    start = time.perf_counter()
    steps, episode, last_eval, eval_mean = 0, 0, -EVAL_GAP, float("nan")
    summary: dict = dict(solved=False)
    stop_at = max_steps
    state, _ = env.reset(seed=seed)
    while steps < stop_at:
        episode += 1
        score = 0
        while True:
            # Explore with probability epsilon, otherwise take the action with the best Q.
            action = agent.act(state)
            next_state, reward, terminated, truncated, _ = env.step(action)
            # The blog punishes the step that drops the pole.  Note `terminated`, not
            # `terminated or truncated`: hitting the 500-step time limit is not a terminal
            # state, so its target must still bootstrap from the next state.
            reward = DEATH_REWARD if terminated else reward
            agent.remember(state, action, reward, next_state, terminated)
            state = next_state
            steps += 1
            score += 1
            # Learn from a random minibatch of past experience after every step.
            if len(agent.memory) > batch_size:
                agent.replay(batch_size)
            if terminated or truncated or steps >= stop_at:
                break
        state, _ = env.reset()
        if verbose:
            elapsed = time.perf_counter() - start
            print(f"episode: {episode}, score: {score}, e: {agent.epsilon:.2f}, steps: {steps}, {elapsed:.0f}s")
        # Judge the agent only by greedy play on fresh episodes, not by training scores.
        if not summary["solved"] and score >= EVAL_MIN_SCORE and steps - last_eval >= EVAL_GAP:
            last_eval = steps
            eval_mean = float(np.mean(keras_dqn.evaluate(agent, ENV_ID, EVAL_EPISODES, seed=10_000 + steps)))
            if verbose:
                print(f"  greedy evaluation over {EVAL_EPISODES} episodes: mean {eval_mean:.1f}")
            if eval_mean >= target_score:
                summary = dict(solved=True, steps=steps, seconds=time.perf_counter() - start, eval_mean=eval_mean)
                stop_at = steps + continue_steps
    env.close()
    if not summary["solved"]:
        summary = dict(solved=False, steps=steps, seconds=time.perf_counter() - start, eval_mean=eval_mean)
    elif continue_steps:
        returns = keras_dqn.evaluate(agent, ENV_ID, EVAL_EPISODES, seed=AFTER_CONTINUE_EVAL_SEED + seed)
        summary["final_mean"] = float(np.mean(returns))
    return agent, summary


def train_library_loop(
    seed: int,
    max_steps: int,
    target_score: float,
    hyperparameters: dict,
    agent_kind: str,
    batch_size: int,
    n_envs: int = 8,
    verbose: bool = True,
) -> tuple[keras_dqn.DQNAgent, dict]:
    """The same agent trained by ``keras_dqn.train``: ``n_envs`` CartPoles stepped together,
    one batched forward pass to act for all of them, and the ``n_envs`` gradient steps that
    are then due (one per env step, as above) in one compiled call.  No reward shaping."""
    envs = gym.make_vec(ENV_ID, num_envs=n_envs, vectorization_mode="sync")
    agent = AGENTS[agent_kind](4, keras_dqn.check_discrete(envs), seed=seed, **hyperparameters)
    agent.env_id = ENV_ID
    start = time.perf_counter()
    history = keras_dqn.train(
        agent, envs, max_steps, batch_size=batch_size, train_every=n_envs, gradient_steps=n_envs,
        learning_starts=batch_size, eval_every=2_000, eval_episodes=EVAL_EPISODES, target_score=target_score,
        progress=verbose, seed=seed,
    )  # fmt: skip
    evals = history.history["eval_mean"]
    summary = dict(
        solved=bool(evals) and evals[-1] >= target_score,
        steps=int(history.history["step"][-1]),
        seconds=time.perf_counter() - start,
        eval_mean=evals[-1] if evals else float("nan"),
    )
    return agent, summary


def watch(agent: keras_dqn.DQNAgent, episodes: int, seed: int) -> None:
    """Play greedy episodes in a window (needs a display and pygame)."""
    env = gym.make(ENV_ID, render_mode="human")
    for i in range(episodes):
        state, _ = env.reset(seed=seed + i)
        score, done = 0, False
        while not done:
            state, reward, terminated, truncated, _ = env.step(agent.act(state, greedy=True))
            score += reward
            done = terminated or truncated
        print(f"episode {i + 1}: score {score:.0f}")
    env.close()


def hyperparameter_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per hyperparameter; unset flags keep the agent's table value above."""
    group = parser.add_argument_group("hyperparameters (default: the table for --agent)")
    group.add_argument("--gamma", type=float)
    group.add_argument("--epsilon", type=float)
    group.add_argument("--epsilon-min", type=float)
    group.add_argument("--epsilon-decay", type=float)
    group.add_argument("--learning-rate", type=float)
    group.add_argument("--memory-size", type=int)
    group.add_argument("--hidden", type=lambda s: tuple(int(u) for u in s.split(",")), help="e.g. 64,64")
    group.add_argument("--loss", choices=["mse", "huber"])
    group.add_argument("--dueling", action=argparse.BooleanOptionalAction, default=None)
    group.add_argument("--clipnorm", type=float)
    group.add_argument(
        "--target-update",
        type=lambda s: float(s) if "." in s or "e" in s else int(s),
        help="target agent: int C (hard copy every C steps) or float tau (soft)",
    )
    group.add_argument("--double", action=argparse.BooleanOptionalAction, default=None, help="target agent")
    group.add_argument("--batch-size", type=int, default=BATCH_SIZE)


def chosen_hyperparameters(args: argparse.Namespace) -> dict:
    table = dict(HYPERPARAMETERS[args.agent])
    for key in list(vars(args)):
        value = getattr(args, key)
        if value is None or key == "batch_size":
            continue
        if key in ("target_update", "double") and args.agent != "target":
            raise SystemExit(f"--{key.replace('_', '-')} needs --agent target")
        if key in table or key in ("loss", "dueling", "clipnorm"):
            table[key] = value
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agent", choices=sorted(AGENTS), default="dqn", help="dqn: the blog's; target: + target net")
    parser.add_argument("--weights", help="load these weights and play instead of training")
    parser.add_argument("--seed", type=int, default=0, help="seeds the agent, the environment and evaluation")
    parser.add_argument("--max-steps", type=int, default=MAX_STEPS, help="training budget in environment steps")
    parser.add_argument("--target-score", type=float, default=475.0, help="stop when a greedy evaluation reaches it")
    parser.add_argument("--save", help="where to save the trained weights (default: runs/cartpole-AGENT.h5)")
    parser.add_argument("--episodes", type=int, default=100, help="greedy episodes in the final evaluation")
    parser.add_argument("--render", action="store_true", help="show greedy episodes in a window")
    parser.add_argument("--quiet", action="store_true", help="no per-episode lines")
    parser.add_argument(
        "--loop", choices=["blog", "library"], default="blog",
        help="blog: the narrated loop above; library: keras_dqn.train over 8 vector envs (faster)",
    )  # fmt: skip
    hyperparameter_flags(parser)
    args = parser.parse_args()
    hyperparameters = chosen_hyperparameters(args)

    # Tiny networks run faster with one thread per op than split across cores.
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    # Evaluate on episodes that took no part in training or in deciding when to stop.
    final_eval_seed = FINAL_EVAL_SEED + args.seed

    if args.weights:
        agent = keras_dqn.load_agent(args.weights)  # the file says which agent and network it holds
        print(f"loaded {args.weights}: {type(agent).__name__}, hidden layers {agent.hidden}")
    else:
        agent_class = AGENTS[args.agent].__name__
        print(f"training {agent_class} on {ENV_ID}, seed {args.seed}, budget {args.max_steps} steps")
        shaping = {"death_reward": DEATH_REWARD} if args.loop == "blog" else {"n_envs": 8}
        print(f"{args.loop} loop; hyperparameters:", {**hyperparameters, "batch_size": args.batch_size, **shaping})
        loop = train if args.loop == "blog" else train_library_loop
        agent, summary = loop(
            args.seed,
            args.max_steps,
            args.target_score,
            hyperparameters,
            verbose=not args.quiet,
            agent_kind=args.agent,
            batch_size=args.batch_size,
        )
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
        watch(agent, episodes=3, seed=final_eval_seed)


if __name__ == "__main__":
    main()

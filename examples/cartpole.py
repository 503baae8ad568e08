"""Deep Q-learning on CartPole: Keon Kim's blog script on Keras 3 and gymnasium.

    python examples/cartpole.py                        # train, evaluate, save weights
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
import tensorflow as tf

import keras_dqn

# --- Hyperparameters -----------------------------------------------------------------
# The blog's names.  Where we differ from the blog's values, the comment says why.
HYPERPARAMETERS = dict(
    gamma=0.95,  # discount rate (blog: 0.95)
    epsilon=1.0,  # start fully random (blog)
    epsilon_min=0.01,  # (blog)
    epsilon_decay=0.995,  # per replay() call (blog)
    learning_rate=0.001,  # Adam (blog)
    memory_size=2000,  # replay capacity
    hidden=(24, 24),  # (blog)
)
BATCH_SIZE = 32  # minibatch per replay() (blog)
DEATH_REWARD = -10.0  # the blog's shaping: reward on the step where the pole falls
ENV_ID = "CartPole-v1"
MAX_STEPS = 100_000  # default training budget, in environment steps
EVAL_EPISODES = 100  # greedy episodes per evaluation
EVAL_MIN_SCORE = 200  # evaluate after a training episode at least this long ...
EVAL_GAP = 1_000  # ... and at least this many steps after the previous evaluation


def train(
    seed: int = 0,
    max_steps: int = MAX_STEPS,
    target_score: float = 475.0,
    hyperparameters: dict | None = None,
    verbose: bool = True,
) -> tuple[keras_dqn.DQNAgent, dict]:
    """Train a DQNAgent with the blog's loop until greedy evaluation reaches ``target_score``.

    Returns:
        The agent, and a summary dict: ``solved``, ``steps`` (env steps when solved or when
        the budget ran out), ``seconds`` and the last ``eval_mean``.
    """
    hp = {**HYPERPARAMETERS, **(hyperparameters or {})}
    env = gym.make(ENV_ID)
    state_size = env.observation_space.shape[0]
    action_size = keras_dqn.check_discrete(env)
    agent = keras_dqn.DQNAgent(state_size, action_size, seed=seed, **hp)

    start = time.perf_counter()
    steps, episode, last_eval, eval_mean = 0, 0, -EVAL_GAP, float("nan")
    solved = False
    state, _ = env.reset(seed=seed)
    while steps < max_steps and not solved:
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
            if len(agent.memory) > BATCH_SIZE:
                agent.replay(BATCH_SIZE)
            if terminated or truncated or steps >= max_steps:
                break
        state, _ = env.reset()
        if verbose:
            elapsed = time.perf_counter() - start
            print(f"episode: {episode}, score: {score}, e: {agent.epsilon:.2f}, steps: {steps}, {elapsed:.0f}s")
        # Judge the agent only by greedy play on fresh episodes, not by training scores.
        if score >= EVAL_MIN_SCORE and steps - last_eval >= EVAL_GAP:
            last_eval = steps
            eval_mean = float(np.mean(keras_dqn.evaluate(agent, ENV_ID, EVAL_EPISODES, seed=10_000 + steps)))
            solved = eval_mean >= target_score
            if verbose:
                print(f"  greedy evaluation over {EVAL_EPISODES} episodes: mean {eval_mean:.1f}")
    env.close()
    summary = dict(solved=solved, steps=steps, seconds=time.perf_counter() - start, eval_mean=eval_mean)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", help="load these weights and play instead of training")
    parser.add_argument("--seed", type=int, default=0, help="seeds the agent, the environment and evaluation")
    parser.add_argument("--max-steps", type=int, default=MAX_STEPS, help="training budget in environment steps")
    parser.add_argument("--target-score", type=float, default=475.0, help="stop when a greedy evaluation reaches it")
    parser.add_argument("--save", default="runs/cartpole-dqn.h5", help="where to save the trained weights")
    parser.add_argument("--episodes", type=int, default=100, help="greedy episodes in the final evaluation")
    parser.add_argument("--render", action="store_true", help="show greedy episodes in a window")
    parser.add_argument("--quiet", action="store_true", help="no per-episode lines")
    args = parser.parse_args()

    # Tiny networks run faster with one thread per op than split across cores.
    tf.config.threading.set_intra_op_parallelism_threads(1)
    # Evaluate on episodes that took no part in training or in deciding when to stop.
    final_eval_seed = 20_000 + args.seed

    if args.weights:
        env = gym.make(ENV_ID)
        agent = keras_dqn.DQNAgent(env.observation_space.shape[0], keras_dqn.check_discrete(env), epsilon=0.0)
        agent.load(args.weights)
        print(f"loaded {args.weights}")
    else:
        print(f"training DQNAgent on {ENV_ID}, seed {args.seed}, budget {args.max_steps} steps")
        print("hyperparameters:", {**HYPERPARAMETERS, "batch_size": BATCH_SIZE, "death_reward": DEATH_REWARD})
        agent, summary = train(args.seed, args.max_steps, args.target_score, verbose=not args.quiet)
        status = "solved" if summary["solved"] else "not solved (budget spent)"
        print(f"{status} after {summary['steps']} steps in {summary['seconds']:.1f}s")
        path = Path(args.save)
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

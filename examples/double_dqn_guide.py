"""The Double-DQN guide ("Getting Started with Deep Q-Learning", PyTorch + W&B), on TargetDQNAgent.

    python examples/double_dqn_guide.py                        # the guide's recipe, 300 episodes
    python examples/double_dqn_guide.py --episodes 30 --out /tmp/ddqn   # a quick look
    tensorboard --logdir runs/double_dqn_guide/tensorboard     # epsilon, average and best score

The guide's recipe, step by step:

* epsilon-greedy, epsilon 1.0 -> 0.2, multiplied by 0.995 at the start of every *episode*;
* Double DQN: the online network picks the next action, the target network values it;
* the target network is synced every 20 episodes; gamma 0.99;
* a replay memory of 10,000 transitions; one gradient step per env step once it holds 1,000;
* after every episode, a greedy evaluation over 10 episodes; the best weights are kept;
* epsilon, the average score and the best score are logged (W&B in the guide).

Two things differ, on purpose.  The guide's network takes (state, action) and returns one
Q-value, so acting costs one forward pass per action; ours takes the state and returns both
Q-values at once (same hidden sizes, 500 and 128).  And the guide stops its evaluation
episodes at 200 steps; ours play CartPole-v1's full 500.

"Best of many 10-episode evaluations" flatters the agent (the luckiest evaluation wins), so
at the end the best weights are evaluated again on 100 episodes none of those used.

Logs go to ``OUT/progress.csv`` (keras_dqn.training.callbacks.CSVLogger), TensorBoard event files in
``OUT/tensorboard``, and to Weights & Biases when ``wandb`` is installed (``--no-wandb`` to skip).
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import gymnasium as gym
import keras
import numpy as np

import keras_dqn
from keras_dqn.training.callbacks import CSVLogger, TensorBoardScalars, WandbLogger

ENV_ID = "CartPole-v1"
EVAL_SEED = 1_000_000  # evaluation after episode e uses reset seeds EVAL_SEED + e * --eval-episodes ...
FINAL_EVAL_SEED = 9_000_000  # ... and the final check of the best weights seeds far from those


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """--help keeps the docstring's layout and shows each flag's default."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The example's flags: the guide's hyperparameters, unless marked "ours"."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    parser.add_argument("--episodes", type=int, default=300, help="training episodes (ours; the guide allows 10,000)")
    parser.add_argument("--out", default="runs/double_dqn_guide", help="folder for best.h5, progress.csv, TensorBoard")
    parser.add_argument("--seed", type=int, default=0, help="seeds the agent and the first reset")
    parser.add_argument("--final-episodes", type=int, default=100, help="held-out greedy episodes to check best.h5")
    parser.add_argument("--no-wandb", action="store_true", help="do not log to W&B even if wandb is installed")
    parser.add_argument("--quiet", action="store_true", help="no per-episode lines")
    group = parser.add_argument_group("hyperparameters")
    group.add_argument("--epsilon", type=float, default=1.0, help="initial epsilon (start with full exploration)")
    group.add_argument("--epsilon-min", type=float, default=0.2, help="residual exploration")
    group.add_argument("--epsilon-decay", type=float, default=0.995, help="epsilon is multiplied by this per episode")
    group.add_argument("--update-every", type=int, default=20, help="episodes between target-network syncs")
    group.add_argument("--gamma", type=float, default=0.99, help="discount rate")
    group.add_argument("--replay-size", type=int, default=10_000, help="replay memory capacity")
    group.add_argument("--learning-starts", type=int, default=1_000,
                       help="transitions in memory before learning (and evaluating) starts")  # fmt: skip
    group.add_argument("--eval-episodes", type=int, default=10, help="greedy episodes per evaluation")
    group.add_argument("--hidden", type=lambda s: tuple(int(u) for u in s.split(",")), default=(500, 128),
                       help="hidden layer sizes")  # fmt: skip
    group.add_argument("--batch-size", type=int, default=32, help="minibatch per gradient step (ours)")
    group.add_argument("--learning-rate", type=float, default=1e-3, help="Adam's learning rate (ours)")
    group.add_argument("--loss", choices=["mse", "huber"], default="mse",
                       help="ours: the guide's `criterion` is not shown; the squared TD error")  # fmt: skip
    return parser.parse_args(argv)


def make_callbacks(out: Path, use_wandb: bool, config: dict) -> list[keras.callbacks.Callback]:
    """CSV and TensorBoard logging, plus W&B when it is installed and wanted."""
    callbacks = [CSVLogger(str(out / "progress.csv")), TensorBoardScalars(out / "tensorboard")]
    if use_wandb:
        try:
            callbacks.append(WandbLogger(project="keras_dqn-double-dqn-guide", config=config))
        except ImportError:
            print("wandb is not installed: logging to CSV and TensorBoard only")
    return callbacks


def train_guide_loop(args: argparse.Namespace) -> dict:
    """The guide's training loop, with the flags' settings.

    Returns:
        ``best_avg_score``, its ``best_episode`` (``None`` if no evaluation ran), ``best_path``
        and the trained ``agent``.
    """
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    env = gym.make(ENV_ID)
    agent = keras_dqn.TargetDQNAgent(
        env.observation_space.shape[0], keras_dqn.check_discrete(env), hidden=args.hidden, gamma=args.gamma,
        memory_size=args.replay_size, learning_rate=args.learning_rate, loss=args.loss, double=True,
        epsilon=args.epsilon, epsilon_min=args.epsilon_min, seed=args.seed,
        target_update=2**62,  # never by step count: the loop below syncs every --update-every episodes
    )  # fmt: skip
    agent.env_id = ENV_ID
    config = {key: value for key, value in vars(args).items() if key not in ("out", "no_wandb", "quiet")}
    callbacks = keras.callbacks.CallbackList(make_callbacks(out, not args.no_wandb, config), model=agent.model)
    best_path = out / "best.h5"
    best_avg_score, best_episode, env_steps, start = -math.inf, None, 0, time.perf_counter()
    callbacks.on_train_begin()
    state, _ = env.reset(seed=args.seed)
    for episode in range(args.episodes):
        # Decay epsilon once per episode, before playing it (the guide's order).
        agent.epsilon = max(args.epsilon_min, agent.epsilon * args.epsilon_decay)
        score, losses, done = 0.0, [], False
        while not done:
            action = agent.act(state)
            next_state, reward, terminated, truncated, _ = env.step(action)
            # done = terminated only: the 500-step time limit is not a terminal state.
            agent.remember(state, action, reward, next_state, terminated)
            state = next_state
            score += float(reward)
            env_steps += 1
            if len(agent.memory) >= args.learning_starts:
                # One Double-DQN gradient step (train_on_batch leaves epsilon alone, unlike replay).
                losses.append(agent.train_on_batch(agent.memory.sample(args.batch_size)))
            done = terminated or truncated
        state, _ = env.reset()

        avg_score = float("nan")
        if len(agent.memory) >= args.learning_starts:
            # Judge the agent greedily (epsilon 0) on fresh episodes, keep the best weights.
            eval_seed = EVAL_SEED + episode * args.eval_episodes
            returns = keras_dqn.evaluate(agent, ENV_ID, args.eval_episodes, seed=eval_seed)
            avg_score = float(np.mean(returns))
            if avg_score > best_avg_score:
                best_avg_score, best_episode = avg_score, episode
                agent.save(best_path)
        # Sync the target network every --update-every episodes.
        if episode % args.update_every == 0:
            agent.update_target_model()

        logs = {
            "step": episode,  # the x-axis of the guide's plots: episodes
            "epsilon": agent.epsilon,
            "average_score": avg_score,
            "best_avg_score": best_avg_score if best_episode is not None else float("nan"),
            "episode_return": score,
            "loss": float(np.mean(losses)) if losses else float("nan"),
            "env_steps": env_steps,
        }
        callbacks.on_epoch_end(episode, logs)
        if not args.quiet:
            print(f"episode {episode + 1}/{args.episodes}: score {score:.0f}, epsilon {agent.epsilon:.3f}, "
                  f"average score {avg_score:.1f}, best {logs['best_avg_score']:.1f}, "
                  f"{time.perf_counter() - start:.0f}s")  # fmt: skip
    callbacks.on_train_end()
    env.close()
    return {"best_avg_score": best_avg_score, "best_episode": best_episode, "best_path": best_path, "agent": agent}


def main() -> None:
    args = parse_args()
    result = train_guide_loop(args)
    if result["best_episode"] is None:
        print(f"no evaluation ran: memory never held --learning-starts {args.learning_starts} samples")
        return
    print(f"best greedy score over {args.eval_episodes} episodes: {result['best_avg_score']:.1f} "
          f"(after episode {result['best_episode'] + 1}); best weights saved to {result['best_path']}")  # fmt: skip
    best = keras_dqn.load_agent(result["best_path"])
    returns = keras_dqn.evaluate(best, ENV_ID, args.final_episodes, seed=FINAL_EVAL_SEED + args.seed)
    print(f"best weights on {args.final_episodes} held-out greedy episodes: mean {np.mean(returns):.1f}, "
          f"min {np.min(returns):.0f}")  # fmt: skip
    print(f"logs: {Path(args.out) / 'progress.csv'}, tensorboard --logdir {Path(args.out) / 'tensorboard'}")


if __name__ == "__main__":
    main()

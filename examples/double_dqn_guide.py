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

Logs go to ``OUT/progress.csv`` (keras_dqn.callbacks.CSVLogger), TensorBoard event files in
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
from keras_dqn.callbacks import CSVLogger, TensorBoardScalars, WandbLogger

# --- Hyperparameters (the guide's, unless marked "ours") -------------------------------
ENV_ID = "CartPole-v1"
EPSILON = 1.0  # initial epsilon (start with full exploration)
EPSILON_MIN = 0.2  # residual exploration
EPSILON_DECAY = 0.995  # per episode
UPDATE_EVERY = 20  # episodes between target-network syncs
GAMMA = 0.99
REPLAY_SIZE = 10_000
LEARNING_STARTS = 1_000  # transitions in memory before learning (and evaluating) starts
EVAL_EPISODES = 10  # greedy episodes per evaluation
HIDDEN = (500, 128)
BATCH_SIZE = 32  # ours (not in the guide's text)
LEARNING_RATE = 1e-3  # ours (Adam)
LOSS = "mse"  # ours: the guide's `criterion` is not shown; the squared TD error
EPISODES = 300  # ours (the guide allows 10,000)
EVAL_SEED = 1_000_000  # evaluation after episode e uses reset seeds EVAL_SEED + e * EVAL_EPISODES ...
FINAL_EVAL_SEED = 9_000_000  # ... and the final check of the best weights seeds far from those
FINAL_EVAL_EPISODES = 100


def make_callbacks(out: Path, use_wandb: bool, config: dict) -> list[keras.callbacks.Callback]:
    """CSV and TensorBoard logging, plus W&B when it is installed and wanted."""
    callbacks = [CSVLogger(str(out / "progress.csv")), TensorBoardScalars(out / "tensorboard")]
    if use_wandb:
        try:
            callbacks.append(WandbLogger(project="keras_dqn-double-dqn-guide", config=config))
        except ImportError:
            print("wandb is not installed: logging to CSV and TensorBoard only")
    return callbacks


def train(
    episodes: int = EPISODES,
    out: Path = Path("runs/double_dqn_guide"),
    seed: int = 0,
    learning_starts: int = LEARNING_STARTS,
    eval_episodes: int = EVAL_EPISODES,
    use_wandb: bool = True,
    verbose: bool = True,
) -> dict:
    """The guide's training loop.  Returns ``best_avg_score``, its ``best_episode`` and ``best_path``."""
    out.mkdir(parents=True, exist_ok=True)
    env = gym.make(ENV_ID)
    agent = keras_dqn.TargetDQNAgent(
        4, 2, hidden=HIDDEN, gamma=GAMMA, memory_size=REPLAY_SIZE, learning_rate=LEARNING_RATE, loss=LOSS,
        double=True, epsilon=EPSILON, epsilon_min=EPSILON_MIN, seed=seed,
        target_update=2**62,  # never by step count: the loop below syncs every UPDATE_EVERY episodes
    )  # fmt: skip
    agent.env_id = ENV_ID
    config = {"epsilon": EPSILON, "epsilon_min": EPSILON_MIN, "epsilon_decay": EPSILON_DECAY, "gamma": GAMMA,
              "update_every": UPDATE_EVERY, "replay_size": REPLAY_SIZE, "learning_starts": learning_starts,
              "hidden": HIDDEN, "batch_size": BATCH_SIZE, "learning_rate": LEARNING_RATE, "seed": seed}  # fmt: skip
    callbacks = keras.callbacks.CallbackList(make_callbacks(out, use_wandb, config), model=agent.model)
    best_path = out / "best.h5"
    best_avg_score, best_episode, env_steps, start = -math.inf, None, 0, time.perf_counter()
    callbacks.on_train_begin()
    state, _ = env.reset(seed=seed)
    for episode in range(episodes):
        # Decay epsilon once per episode, before playing it (the guide's order).
        agent.epsilon = max(EPSILON_MIN, agent.epsilon * EPSILON_DECAY)
        score, losses, done = 0.0, [], False
        while not done:
            action = agent.act(state)
            next_state, reward, terminated, truncated, _ = env.step(action)
            # done = terminated only: the 500-step time limit is not a terminal state.
            agent.remember(state, action, reward, next_state, terminated)
            state = next_state
            score += float(reward)
            env_steps += 1
            if len(agent.memory) >= learning_starts:
                # One Double-DQN gradient step (train_on_batch leaves epsilon alone, unlike replay).
                losses.append(agent.train_on_batch(agent.memory.sample(BATCH_SIZE)))
            done = terminated or truncated
        state, _ = env.reset()

        avg_score = float("nan")
        if len(agent.memory) >= learning_starts:
            # Judge the agent greedily (epsilon 0) on fresh episodes, keep the best weights.
            returns = keras_dqn.evaluate(agent, ENV_ID, eval_episodes, seed=EVAL_SEED + episode * eval_episodes)
            avg_score = float(np.mean(returns))
            if avg_score > best_avg_score:
                best_avg_score, best_episode = avg_score, episode
                agent.save(best_path)
        if episode % UPDATE_EVERY == 0:
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
        if verbose:
            print(f"episode {episode + 1}/{episodes}: score {score:.0f}, epsilon {agent.epsilon:.3f}, "
                  f"average score {avg_score:.1f}, best {logs['best_avg_score']:.1f}, "
                  f"{time.perf_counter() - start:.0f}s")  # fmt: skip
    callbacks.on_train_end()
    env.close()
    return {"best_avg_score": best_avg_score, "best_episode": best_episode, "best_path": best_path, "agent": agent}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=EPISODES, help="training episodes")
    parser.add_argument("--out", default="runs/double_dqn_guide", help="folder for best.h5, progress.csv, TensorBoard")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--learning-starts", type=int, default=LEARNING_STARTS, help="samples before learning")
    parser.add_argument("--eval-episodes", type=int, default=EVAL_EPISODES, help="greedy episodes per evaluation")
    parser.add_argument("--final-episodes", type=int, default=FINAL_EVAL_EPISODES, help="held-out check of best.h5")
    parser.add_argument("--no-wandb", action="store_true", help="do not log to W&B even if wandb is installed")
    args = parser.parse_args()
    out = Path(args.out)

    result = train(args.episodes, out, args.seed, args.learning_starts, args.eval_episodes, not args.no_wandb)
    if result["best_episode"] is None:
        print(f"no evaluation ran: memory never held --learning-starts {args.learning_starts} samples")
        return
    print(f"best greedy score over {args.eval_episodes} episodes: {result['best_avg_score']:.1f} "
          f"(after episode {result['best_episode'] + 1}); best weights saved to {result['best_path']}")  # fmt: skip
    best = keras_dqn.load_agent(result["best_path"])
    returns = keras_dqn.evaluate(best, ENV_ID, args.final_episodes, seed=FINAL_EVAL_SEED + args.seed)
    print(f"best weights on {args.final_episodes} held-out greedy episodes: mean {np.mean(returns):.1f}, "
          f"min {np.min(returns):.0f}")  # fmt: skip
    print(f"logs: {out / 'progress.csv'}, tensorboard --logdir {out / 'tensorboard'}")


if __name__ == "__main__":
    main()

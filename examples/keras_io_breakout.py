"""keras.io's "Deep Q-Learning for Atari Breakout" (Jacob Chapman and Mathias Lechner), on keras_dqn.

    pip install -e ".[atari]"
    python examples/keras_io_breakout.py                        # keras.io's loop, until "solved" or 10M frames
    python examples/keras_io_breakout.py --max-steps 20000      # a short look

keras.io's example builds the Nature CNN and writes the whole DQN loop out: epsilon-greedy
actions, replay buffers as Python lists, a target network copied every 10,000 frames, and a
"running reward" (the mean score of the last 100 games) that counts as solved at 40.  This
script keeps that loop's shape, top to bottom, and hands each part to keras_dqn:

* the network, the replay memory and the TD update are :class:`keras_dqn.ConvDQNAgent` with
  keras.io's settings, the recipe ``breakout-keras-io`` (Adam 2.5e-4 clipped to norm 1, Huber,
  gamma 0.99, a memory of 100,000, no Double DQN, the target copied every 2,500 gradient steps,
  which is every 10,000 agent steps at one gradient step per 4);
* epsilon falls linearly from 1 to 0.1 over the first 1,000,000 agent steps
  (:class:`keras_dqn.exploration.LinearDecay`); the first 50,000 actions are random;
* the env is :func:`keras_dqn.make_atari_env` with ``training=False``: full games of five lives
  and the real score, as keras.io plays them (``ALE/Breakout-v5`` with frame skip 4, no sticky
  actions: BreakoutNoFrameskip-v4's protocol), plus FIRE after each lost life, which the game
  waits for.

What changed, and why: keras.io's loop counts "frames" where it means agent steps (each is 4
emulator frames), so its "10 million frames" budget is 2.5M agent steps here
(``--max-steps``); and its memory of Python lists of stacked frames takes ~5.6 GB for 100,000
transitions, where the frame memory keeps each frame once (~0.7 GB).

For the long run, ``keras-dqn train ALE/Breakout-v5`` trains the same recipe with four games at
once, checkpoints and ``--resume`` (this loop, like keras.io's, keeps no checkpoint).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import keras_dqn
from keras_dqn.envs.make import env_options
from keras_dqn.exploration import LinearDecay

RECIPE = keras_dqn.get_recipe("breakout-keras-io")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The example's flags; the budget and schedule default to keras.io's."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)  # fmt: skip
    parser.add_argument("--max-steps", type=int, default=RECIPE.train_kwargs["total_steps"],
                        help="agent steps to train for (keras.io: 10M frames = 2.5M agent steps)")  # fmt: skip
    parser.add_argument("--random-steps", type=int, default=RECIPE.train_kwargs["learning_starts"],
                        help="agent steps of random actions first (keras.io's epsilon_random_frames)")  # fmt: skip
    parser.add_argument("--greedy-steps", type=int, default=1_000_000,
                        help="agent steps over which epsilon falls to 0.1 (keras.io's epsilon_greedy_frames)")
    parser.add_argument("--solved", type=float, default=40.0, help="running reward (last 100 games) that stops it")
    parser.add_argument("--seed", type=int, default=42, help="seeds the agent and the games (keras.io's 42)")
    parser.add_argument("--save", default="runs/keras-io-breakout.h5", help="where the weights go at the end")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    env = keras_dqn.make_atari_env("Breakout", training=False)  # full games, the real score
    agent = RECIPE.make_agent(env.observation_space.shape, env.action_space.n, seed=args.seed)
    agent.env_id, agent.env_kwargs = RECIPE.env_id, env_options(env)  # saved with the weights, for keras-dqn play
    agent.exploration = LinearDecay(1.0, 0.1, args.greedy_steps)  # counts agent steps
    rng = np.random.default_rng(args.seed)
    batch_size, update_after_actions = RECIPE.train_kwargs["batch_size"], RECIPE.train_kwargs["train_every"]
    max_steps_per_episode = 10_000
    episode_reward_history: list[float] = []
    running_reward, episode_count, frame_count, start = 0.0, 0, 0, time.perf_counter()

    while frame_count < args.max_steps:
        state, _ = env.reset(seed=args.seed + episode_count)
        episode_reward = 0.0
        for _ in range(max_steps_per_episode):
            frame_count += 1
            # Act: random for the first steps, then epsilon-greedy, epsilon falling by the step.
            agent.decay_epsilon(gradient_steps=0, env_steps=frame_count)
            if frame_count < args.random_steps:
                action = int(rng.integers(env.action_space.n))
            else:
                action = agent.act(state)
            state_next, reward, terminated, truncated, _ = env.step(action)
            episode_reward += reward
            # Remember: done is terminated (the game is over), never the time limit.
            agent.remember(state, action, reward, state_next, terminated)
            state = state_next
            # Learn every 4 steps, once the memory holds a minibatch; the agent copies its target
            # network itself every 2,500 gradient steps (keras.io's every 10,000 frames).
            if frame_count % update_after_actions == 0 and len(agent.memory) > batch_size:
                agent.replay(batch_size)
            if frame_count % 10_000 == 0:
                print(f"running reward: {running_reward:.2f} at episode {episode_count}, frame count {frame_count}, "
                      f"epsilon {agent.epsilon:.3f}, {frame_count / (time.perf_counter() - start):.0f} steps/s")
            if terminated or truncated or frame_count >= args.max_steps:
                break
        # The running reward: the mean score of the last 100 games.
        episode_reward_history = (episode_reward_history + [episode_reward])[-100:]
        running_reward = float(np.mean(episode_reward_history))
        episode_count += 1
        print(f"episode {episode_count}: score {episode_reward:.0f}, running reward {running_reward:.2f}")
        if running_reward > args.solved:  # keras.io's condition (a greedy 30-game evaluation is the real test)
            print(f"Solved at episode {episode_count}!")
            break
    agent.save(args.save)
    print(f"saved {args.save} after {frame_count} agent steps ({4 * frame_count:,} frames), "
          f"{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()

"""Frames per second of DQN training on Pong, and bytes per transition of replay memory.

The schedule is the Nature paper's: one gradient step on a minibatch of 32 every 4 agent
steps, each agent step being 4 emulator frames.  Rows:

* ``ceiling``: 16 frames / (one train step of the Nature CNN at batch 32 + 4 env steps),
  both timed here in isolation — what a loop with free acting, sampling and storing would
  reach;
* ``keras_dqn``: ``keras_dqn.train`` with a ConvDQNAgent on ``--n-envs`` Pong games at once
  (their actions chosen by one batched CNN call), timed after ``learning_starts``;
* ``sb3``: Stable-Baselines3's DQN with its CnnPolicy in the same run, if it is installed
  (``pip install stable-baselines3``; never a keras_dqn dependency): the same ``--n-envs``
  Pong games (a ``DummyVecEnv``, so it too picks their actions with one batched call),
  ``train_freq=1`` vector step = one gradient step per ``n_envs`` agent steps (the same 1 per 4
  with 4 envs), batch 32, and the same number of CPU threads as TensorFlow (``--threads``).
  One difference remains: SB3's DQN has no Double DQN, which costs us one more forward pass
  of the next states per gradient step;
* bytes per transition of our frame memory and of a naive buffer of whole uint8 stacks,
  measured from their arrays.

    pip install -e ".[atari]"
    python benchmarks/atari_throughput.py [--steps 3000] [--n-envs 4]

Prints one line per row and, last, a JSON line with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np

import keras_dqn
from keras_dqn.memory import FrameReplayBuffer, ReplayBuffer

PONG = keras_dqn.get_recipe("pong").train_kwargs  # the Nature schedule that examples/atari.py trains with
BATCH_SIZE = PONG["batch_size"]
TRAIN_EVERY = PONG["train_every"]  # agent steps per gradient step
FRAME_SKIP = PONG["frames_per_step"]  # frames per agent step
WARMUP = 1000  # agent steps of random play before timing (fills the memory, compiles the step)


def time_parts(repeats: int = 40) -> tuple[float, float]:
    """Seconds of one train step (batch 32) and of one agent step of the env, in isolation."""
    env = keras_dqn.make_atari_env("Pong")
    agent = keras_dqn.ConvDQNAgent(env.observation_space.shape, env.action_space.n, seed=0, memory_size=5000)
    obs, _ = env.reset(seed=0)
    start = time.perf_counter()
    for _ in range(WARMUP):
        action = env.action_space.sample()
        next_obs, reward, terminated, truncated, _ = env.step(action)
        agent.remember(obs, action, reward, next_obs, terminated)
        obs = next_obs if not (terminated or truncated) else env.reset()[0]
    env_step = (time.perf_counter() - start) / WARMUP  # includes remember(): a few µs
    batch = agent.memory.sample(BATCH_SIZE)
    agent.train_on_batch(batch)  # compile
    start = time.perf_counter()
    for _ in range(repeats):
        agent.train_on_batch(batch)
    return (time.perf_counter() - start) / repeats, env_step


def ours(steps: int, n_envs: int) -> float:
    """Frames/s of keras_dqn.train on Pong after WARMUP agent steps."""
    envs = keras_dqn.make_atari_vector_env("Pong", n_envs)
    agent = keras_dqn.ConvDQNAgent(envs.single_observation_space.shape, 6, seed=0, memory_size=50_000)
    common = dict(batch_size=BATCH_SIZE, train_every=TRAIN_EVERY, eval_every=10**9, eval_episodes=0, progress=False,
                  seed=0)  # fmt: skip
    keras_dqn.train(agent, envs, WARMUP + 4 * n_envs, learning_starts=WARMUP, **common)  # fill memory, compile
    start = time.perf_counter()
    keras_dqn.train(agent, envs, steps, learning_starts=0, **common)  # a gradient step every 4 agent steps
    elapsed = time.perf_counter() - start
    envs.close()
    return steps * FRAME_SKIP / elapsed


def sb3(steps: int, n_envs: int, threads: int) -> float | None:
    try:
        import torch
        from stable_baselines3 import DQN
        from stable_baselines3.common.vec_env import DummyVecEnv
    except ImportError:
        return None
    torch.set_num_threads(threads)
    env = DummyVecEnv([lambda: keras_dqn.make_atari_env("Pong")] * n_envs)
    model = DQN("CnnPolicy", env, buffer_size=50_000, learning_starts=WARMUP, batch_size=BATCH_SIZE,
                train_freq=max(1, TRAIN_EVERY // n_envs), gradient_steps=max(1, n_envs // TRAIN_EVERY),
                target_update_interval=1000, learning_rate=1e-4, seed=0, device="cpu", verbose=0)  # fmt: skip
    model.learn(WARMUP + 4 * n_envs)  # fill the memory, first updates
    start = time.perf_counter()
    model.learn(steps, reset_num_timesteps=False)
    elapsed = time.perf_counter() - start
    env.close()
    return steps * FRAME_SKIP / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=3000, help="timed agent steps per row")
    parser.add_argument("--n-envs", type=int, default=4, help="Pong games stepped together by keras_dqn.train")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="CPU threads for TensorFlow and torch")
    args = parser.parse_args()
    import tensorflow as tf  # keras_dqn imported it without starting its runtime: threads can still be set

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)

    train_step, env_step = time_parts()
    ceiling = TRAIN_EVERY * FRAME_SKIP / (train_step + TRAIN_EVERY * env_step)
    print(f"train step (batch {BATCH_SIZE}): {train_step * 1e3:.1f} ms, agent step: {env_step * 1e3:.2f} ms "
          f"-> ceiling {ceiling:.0f} frames/s")  # fmt: skip
    frames_per_s = ours(args.steps, args.n_envs)
    share = frames_per_s / ceiling
    print(f"keras_dqn.train, {args.n_envs} envs: {frames_per_s:.0f} frames/s ({share:.0%} of the ceiling)")
    sb3_frames = sb3(args.steps, args.n_envs, args.threads)
    print(f"SB3 DQN CnnPolicy: {'not installed' if sb3_frames is None else f'{sb3_frames:.0f} frames/s'}")
    frame_memory = FrameReplayBuffer(100_000, (4, 84, 84))
    naive = ReplayBuffer(1000, (4, 84, 84), state_dtype=np.uint8)
    print(f"bytes per transition: frame memory {frame_memory.nbytes_per_transition:.0f}, "
          f"naive uint8 stacks {naive.nbytes_per_transition:.0f}")  # fmt: skip
    print(json.dumps({
        "train_step_ms": round(train_step * 1e3, 2),
        "agent_step_ms": round(env_step * 1e3, 3),
        "ceiling_frames_per_s": round(ceiling, 1),
        "keras_dqn_frames_per_s": round(frames_per_s, 1),
        "keras_dqn_vs_ceiling": round(frames_per_s / ceiling, 3),
        "n_envs": args.n_envs,
        "threads": args.threads,
        "sb3_frames_per_s": None if sb3_frames is None else round(sb3_frames, 1),
        "frame_memory_bytes_per_transition": frame_memory.nbytes_per_transition,
        "naive_bytes_per_transition": naive.nbytes_per_transition,
        "cpu_count": os.cpu_count(),
        "machine": platform.processor() or platform.machine(),
    }))  # fmt: skip


if __name__ == "__main__":
    main()

"""Environment steps per second of DQN training on CartPole-v1.

Blog loop — act -> env.step -> remember -> replay(32), every step:

* ``keras_dqn``: our DQNAgent (compiled batched replay, NumPy acting);
* ``blog_as_written``: the blog's replay on Keras 3 — per sample, ``model.predict`` for the
  target and ``model.fit`` on one example — timed over a few steps only, because it runs
  well under one step per second.

Library loop — ``keras_dqn.train`` with one gradient update per env step (batch 64, 64-64
MLP, Adam), on ONE CartPole with 4 updates every 4 steps and over a vector env of
``--n-envs`` CartPoles, each against Stable-Baselines3's DQN with the same schedule in the
same run, if it is installed (``pip install stable-baselines3``; never a dependency of keras_dqn).

Every Keras backend installed (TensorFlow, JAX, PyTorch: ``pip install -e ".[jax,torch]"``) runs
the keras_dqn rows, each in a process of its own (Keras picks its backend at import), in the
same run as SB3.

    python benchmarks/throughput.py [--steps 5000] [--baseline-steps 3] [--library-steps 30000]
                                    [--backends tensorflow,jax,torch]

Prints one line per row and, last, a JSON line with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import time

import gymnasium as gym
import keras
import numpy as np
import tensorflow as tf
from results_file import add_save_flag, figures_on_backend, installed_backends, report

import keras_dqn
from keras_dqn.learning.backends import SUPPORTED as BACKENDS

BATCH_SIZE = keras_dqn.get_recipe("cartpole-dqn").train_kwargs["batch_size"]  # the blog's replay(32)


def blog_loop(agent, replay, steps: int, seed: int = 0) -> float:
    """Run the blog's loop for ``steps`` env steps (after a warm-up); return steps/s."""
    env = gym.make("CartPole-v1")
    state, _ = env.reset(seed=seed)

    def run(n: int) -> None:
        nonlocal state
        for _ in range(n):
            action = agent.act(state)
            next_state, reward, terminated, truncated, _ = env.step(action)
            agent.remember(state, action, reward, next_state, terminated)
            state = next_state
            if terminated or truncated:
                state, _ = env.reset()
            if len(agent.memory) > BATCH_SIZE:
                replay(BATCH_SIZE)

    run(BATCH_SIZE + 2)  # fill the memory and compile the train step
    start = time.perf_counter()
    run(steps)
    return steps / (time.perf_counter() - start)


def blog_replay(agent):
    """The blog's replay(): two predicts and one fit per sample (the tutorial's code path)."""

    def replay(batch_size: int) -> None:
        minibatch = random.sample([agent.memory[i] for i in range(len(agent.memory))], batch_size)
        for state, action, reward, next_state, done in minibatch:
            target = reward
            if not done:
                target = reward + agent.gamma * np.amax(agent.model.predict(next_state[None], verbose=0)[0])
            target_f = agent.model.predict(state[None], verbose=0)
            target_f[0][action] = target
            agent.model.fit(state[None], target_f, epochs=1, verbose=0)
        if agent.epsilon > agent.epsilon_min:
            agent.epsilon *= agent.epsilon_decay

    return replay


def keras_dqn_rate(n_envs: int, train_every: int, gradient_steps: int, steps: int) -> float:
    """Env steps/s of keras_dqn.train on CartPole: batch 64, 64-64 MLP, memory already warm."""
    env = gym.make("CartPole-v1") if n_envs == 1 else gym.make_vec("CartPole-v1", num_envs=n_envs,
                                                                       vectorization_mode="sync")  # fmt: skip
    agent = keras_dqn.DQNAgent(4, 2, hidden=(64, 64), memory_size=100_000, seed=0)
    settings = dict(batch_size=64, train_every=train_every, gradient_steps=gradient_steps, eval_episodes=0,
                    progress=False)  # fmt: skip
    keras_dqn.train(agent, env, 2000, learning_starts=1000, seed=0, **settings)  # warm-up: fill memory, compile
    start = time.perf_counter()
    history = keras_dqn.train(agent, env, steps, learning_starts=0, seed=1, **settings)  # update from the 1st step
    return history.history["step"][-1] / (time.perf_counter() - start)


def sb3_rate(train_freq: int, gradient_steps: int, steps: int) -> dict[int, float] | None:
    """Env steps/s of Stable-Baselines3's DQN on one CartPole, same network and batch, for its
    default number of torch threads and for one; None if SB3 is not installed."""
    try:
        import torch
        from stable_baselines3 import DQN
    except ImportError:
        return None
    rates = {}
    for threads in sorted({torch.get_num_threads(), 1}):
        torch.set_num_threads(threads)
        model = DQN(
            "MlpPolicy", gym.make("CartPole-v1"), learning_starts=1000, batch_size=64, train_freq=train_freq,
            gradient_steps=gradient_steps, policy_kwargs=dict(net_arch=[64, 64]), buffer_size=100_000, device="cpu",
            seed=0, verbose=0,
        )  # fmt: skip
        model.learn(2000)  # warm-up
        start = time.perf_counter()
        model.learn(steps, reset_num_timesteps=False)
        rates[threads] = round(steps / (time.perf_counter() - start), 1)
    return rates


def backend_rows(args: argparse.Namespace) -> dict:
    """The keras_dqn rows on the Keras backend of this process: the blog loop, ``train`` on one env
    and on ``n_envs``."""
    backend = keras.backend.backend()
    agent = keras_dqn.DQNAgent(4, 2, seed=0)
    rows = {"blog_loop": round(blog_loop(agent, agent.replay, args.steps), 1)}
    print(f"[{backend}] DQNAgent, blog loop: {rows['blog_loop']:.1f} env steps/s", flush=True)
    if args.library_steps > 0:
        rows["one_env"] = round(keras_dqn_rate(1, 4, 4, args.library_steps), 1)
        print(f"[{backend}] train, 1 env, 4 updates every 4 steps: {rows['one_env']:.1f} env steps/s", flush=True)
        rows["n_envs"] = round(keras_dqn_rate(args.n_envs, args.n_envs, args.n_envs, args.library_steps), 1)
        print(f"[{backend}] train, {args.n_envs} envs: {rows['n_envs']:.1f} env steps/s", flush=True)
    return rows


def rows_on(backend: str, args: argparse.Namespace) -> dict:
    """:func:`backend_rows` in a process of its own on ``backend`` (this one's, if it is the same)."""
    if backend == keras.backend.backend():
        return backend_rows(args)
    arguments = ["--steps", str(args.steps), "--library-steps", str(args.library_steps), "--n-envs", str(args.n_envs),
                 "--threads", str(args.threads)]  # fmt: skip
    return figures_on_backend(backend, __file__, arguments)


def library_rows(steps: int, n_envs: int, by_backend: dict) -> dict:
    """keras_dqn.train vs SB3's DQN, one update of batch 64 per env step, 64-64 MLP, in two schedules:

    * one env, 4 updates every 4 env steps (SB3's train_freq=4, gradient_steps=4): the case a
      user meets first, where every compiled call's overhead shows;
    * ``n_envs`` envs, ``n_envs`` updates every ``n_envs`` env steps, against SB3's one env with
      train_freq=1, gradient_steps=1 (its usual setting for one update per step).
    """
    rows = {}
    default = by_backend.get("tensorflow") or next(iter(by_backend.values()))
    rows["one_env_steps_per_s"] = default["one_env"]
    sb3 = sb3_rate(4, 4, steps)
    if sb3 is None:
        print("stable-baselines3 not installed: no SB3 rows (pip install stable-baselines3)")
    else:
        rows["one_env_sb3_steps_per_s_by_threads"] = sb3
        rows["one_env_sb3_steps_per_s"] = max(sb3.values())
        rows["one_env_vs_sb3"] = round(rows["one_env_steps_per_s"] / rows["one_env_sb3_steps_per_s"], 2)
        print(f"Stable-Baselines3 DQN, same schedule, by torch threads: {sb3} env steps/s "
              f"-> keras_dqn is {rows['one_env_vs_sb3']}x")  # fmt: skip
    rows["library_n_envs"] = n_envs
    rows["library_steps_per_s"] = default["n_envs"]
    sb3 = sb3_rate(1, 1, steps)
    if sb3 is not None:
        rows["sb3_steps_per_s_by_threads"] = sb3
        rows["sb3_steps_per_s"] = max(sb3.values())
        rows["library_vs_sb3"] = round(rows["library_steps_per_s"] / rows["sb3_steps_per_s"], 2)
        print(f"Stable-Baselines3 DQN, train_freq 1, by torch threads: {sb3} env steps/s "
              f"-> keras_dqn is {rows['library_vs_sb3']}x")  # fmt: skip
    for job, sb3_key in (("one_env", "one_env_sb3_steps_per_s"), ("n_envs", "sb3_steps_per_s")):
        fastest = max(by_backend, key=lambda b: by_backend[b][job])
        rows[f"fastest_{job}_backend"] = fastest
        if sb3_key in rows:
            rows[f"fastest_{job}_vs_sb3"] = round(by_backend[fastest][job] / rows[sb3_key], 2)
            print(f"fastest backend, {job}: {fastest}, {rows[f'fastest_{job}_vs_sb3']}x SB3")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5000, help="timed env steps for keras_dqn")
    parser.add_argument("--baseline-steps", type=int, default=3, help="timed env steps for the blog as written")
    parser.add_argument("--library-steps", type=int, default=30_000, help="timed env steps for train() and SB3")
    parser.add_argument("--n-envs", type=int, default=16, help="sub-envs for keras_dqn.train")
    parser.add_argument("--threads", type=int, default=1, help="TensorFlow intra-op threads (0 = TF default)")
    installed = ",".join(installed_backends())
    parser.add_argument("--backends", default=installed, help=f"Keras backends to run (default: {installed})")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)  # one backend's rows, as JSON
    add_save_flag(parser, "throughput")
    args = parser.parse_args()
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    if args.worker:
        print(json.dumps(backend_rows(args)))
        return
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not backends or any(b not in BACKENDS for b in backends):
        parser.error(f"--backends must name some of {', '.join(BACKENDS)}, got {args.backends!r}")

    threads = tf.config.threading.get_intra_op_parallelism_threads() or "default"
    results = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, {threads} TensorFlow intra-op threads"}
    by_backend = {backend: rows_on(backend, args) for backend in backends}
    results["by_backend"] = by_backend
    results["keras_dqn_steps_per_s"] = (by_backend.get("tensorflow") or by_backend[backends[0]])["blog_loop"]

    if args.baseline_steps > 0:
        random.seed(0)
        agent = keras_dqn.DQNAgent(4, 2, seed=0)
        results["blog_as_written_steps_per_s"] = round(blog_loop(agent, blog_replay(agent), args.baseline_steps), 3)
        print(f"blog as written on Keras 3: {results['blog_as_written_steps_per_s']:.3f} env steps/s")
        results["speedup"] = round(results["keras_dqn_steps_per_s"] / results["blog_as_written_steps_per_s"])
    if args.library_steps > 0:
        results.update(library_rows(args.library_steps, args.n_envs, by_backend))
    report(results, args)


if __name__ == "__main__":
    main()

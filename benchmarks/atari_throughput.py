"""Frames per second of DQN and Rainbow training on Pong, float32 and bfloat16, and bytes per
transition of replay memory.

Four agent configurations, each built by its recipe (``keras_dqn.get_recipe(name).make_agent``):

* ``dqn_float32``: recipe ``pong`` — ConvDQNAgent, the Nature CNN, Double DQN, Huber, Adam;
* ``dqn_mixed_bfloat16``: the same with ``precision="mixed_bfloat16"`` (variables float32,
  the network computed in bfloat16);
* ``rainbow_float32``: recipe ``pong-rainbow`` — ConvRainbowAgent: 3-step returns, prioritized
  frame memory, noisy layers, a dueling C51 head with 51 atoms, Double DQN;
* ``rainbow_mixed_bfloat16``: the same in bfloat16.

One more with ``--agents``: ``rainbow_noisy_head`` (recipe ``pong-rainbow-noisy-head``: the
noise in the head alone), to see what the noisy 512-unit layer costs:
``python benchmarks/atari_throughput.py --agents rainbow,rainbow_noisy_head --precisions float32
--no-sb3``.

bfloat16 is measured only where ``keras_dqn.networks.precision.bf16_supported()`` is True (a CPU with
AVX-512 BF16 or AMX, or an Ampere-or-newer GPU).  Elsewhere the bf16 rows are skipped with a
note: the agent would fall back to float32, and that is not a bf16 figure.

The schedule is the recipes' (both share it), the Nature paper's: one gradient step on a
minibatch of 32 every 4 agent steps, each agent step being 4 emulator frames.  Rows:

* ``agent step``: one step of one Pong game (4 emulator frames + preprocessing), random
  actions, timed while filling the memories;
* per configuration, ``train step``: one compiled gradient step at batch 32 on a fixed
  minibatch, timed in isolation (``agent.train_on_batch``).  Rainbow's does more work than
  DQN's, and that is what it reports: the C51 projection of the next-state distribution and
  a cross-entropy over 51 atoms per action, fresh noise for the noisy layers, and the new
  priorities written back to the sum tree.  Beside it, ``sample``: drawing that minibatch
  from the memory (a prioritized draw and importance weights for Rainbow), which the train
  step excludes and the training loop pays.  The configurations are timed in alternating
  rounds (A B C D, D C B A, ...; ``--rounds``, ``--repeats`` steps each) and each figure is
  the median of its rounds, so a drift of the machine's speed hits all of them alike;
* per configuration, ``ceiling``: 16 frames / (train step + 4 agent steps) — what a loop with
  free acting, sampling and storing would reach;
* per configuration, ``keras_dqn.train``: frames/s of ``keras_dqn.train`` on ``--n-envs`` Pong
  games at once (their actions chosen by one batched network call; Rainbow's with noise),
  after ``--warmup`` agent steps of filling the memory and compiling.  ``--steps`` agent steps
  are timed per configuration, in the same alternating rounds, median of the rounds;
* ``sb3``: Stable-Baselines3's DQN with its CnnPolicy in the same run, if it is installed
  (``pip install stable-baselines3``; never a keras_dqn dependency): the same ``--n-envs``
  Pong games (a ``DummyVecEnv``, so it too picks their actions with one batched call),
  ``train_freq=1`` vector step = one gradient step per ``n_envs`` agent steps (the same 1 per 4
  with 4 envs), batch 32, and the same number of CPU threads as TensorFlow (``--threads``).
  Compare it with ``dqn_float32``; one difference remains: SB3's DQN has no Double DQN, which
  costs us one more forward pass of the next states per gradient step;
* bytes per transition of the recipes' replay memories (``pong``: the frame memory;
  ``pong-rainbow``: the prioritized 3-step frame memory) at their capacity of 100,000, and of
  a naive buffer of whole uint8 stacks, measured from their arrays.

    pip install -e ".[atari]"
    python benchmarks/atari_throughput.py [--steps 3000] [--n-envs 4] [--rounds 3]
        [--agents dqn,rainbow] [--precisions float32,mixed_bfloat16] [--no-sb3]

With the defaults it takes about 5 minutes on 2 CPU cores with all four configurations and
SB3 (most of it the 4 x 3,000 timed agent steps of ``keras_dqn.train`` and SB3's 3,000); a
smoke test of the script: ``--steps 64 --n-envs 2 --warmup 64 --rounds 1 --repeats 2``.

``--backends tensorflow,jax,torch`` times the train step and ``keras_dqn.train`` on each Keras
backend too, each in a process of its own (``by_backend`` in the JSON line).

Prints one line per row and, last, a JSON line with every figure: ``{config}_train_step_ms``,
``{config}_sample_ms``, ``{config}_ceiling_frames_per_s``, ``{config}_frames_per_s``,
``{config}_vs_ceiling`` for each configuration measured; ``bf16_speedup_{agent}_train_step``
and ``bf16_speedup_{agent}_frames`` (bfloat16 over float32, > 1 is faster);
``rainbow_vs_dqn_train_step_{precision}`` (Rainbow's step time over DQN's) and
``rainbow_vs_dqn_frames_{precision}`` (Rainbow's frames/s over DQN's); ``dqn_float32_vs_sb3``;
with ``rainbow_noisy_head``, ``noisy_head_vs_rainbow_train_step_{precision}`` and
``noisy_head_vs_rainbow_frames_{precision}``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import time

import keras
import numpy as np
from results_file import add_save_flag, figures_on_backend, installed_backends, report

import keras_dqn
from keras_dqn.learning.backends import SUPPORTED as BACKENDS
from keras_dqn.replay.uniform import ReplayBuffer

# --agents name -> recipe; the default is the first two (the noisy-head variant is for --agents)
RECIPES = {"dqn": "pong", "rainbow": "pong-rainbow", "rainbow_noisy_head": "pong-rainbow-noisy-head"}
PRECISIONS = ("float32", "mixed_bfloat16")

SCHEDULE = keras_dqn.get_recipe("pong").train_kwargs  # the Nature schedule, the same in pong-rainbow
BATCH_SIZE = SCHEDULE["batch_size"]
TRAIN_EVERY = SCHEDULE["train_every"]  # agent steps per gradient step
FRAME_SKIP = SCHEDULE["frames_per_step"]  # frames per agent step
N_ACTIONS = 6  # Pong's


def make_agent(config: tuple[str, str], state_shape: tuple[int, ...], **overrides):
    """The recipe's agent for ``(agent, precision)``; refuses a silent fallback to float32."""
    name, precision = config
    agent = keras_dqn.get_recipe(RECIPES[name]).make_agent(state_shape, N_ACTIONS, seed=0, precision=precision,
                                                           **overrides)  # fmt: skip
    if agent.precision != precision:
        raise RuntimeError(f"{label(config)}: the agent runs in {agent.precision}, not {precision}")
    return agent


def label(config: tuple[str, str]) -> str:
    return f"{config[0]}_{config[1]}"


def alternating(configs: list, rounds: int):
    """(round, config) in rounds A B C, C B A, A B C...: drift over the run hits every config alike."""
    for r in range(rounds):
        yield from configs if r % 2 == 0 else configs[::-1]


def random_play(n: int) -> tuple[list[tuple], float, tuple[int, ...]]:
    """``n`` transitions of random play on Pong, the seconds of one agent step, the state shape."""
    env = keras_dqn.make_atari_env("Pong")
    env.action_space.seed(0)
    obs, _ = env.reset(seed=0)
    transitions = []
    start = time.perf_counter()
    for _ in range(n):
        action = int(env.action_space.sample())
        next_obs, reward, terminated, truncated, _ = env.step(action)
        transitions.append((obs, action, reward, next_obs, terminated, truncated))
        obs = next_obs if not (terminated or truncated) else env.reset()[0]
    agent_step = (time.perf_counter() - start) / n
    env.close()
    return transitions, agent_step, tuple(env.observation_space.shape)


def time_train_steps(configs: list, transitions: list, state_shape: tuple[int, ...], repeats: int,
                     rounds: int) -> tuple[dict, dict]:  # fmt: skip
    """Per config: seconds of one train step (batch 32, a fixed minibatch) and of drawing a minibatch."""
    agents, batches = {}, {}
    for config in configs:
        agent = agents[config] = make_agent(config, state_shape)
        for obs, action, reward, next_obs, terminated, truncated in transitions:
            agent.remember(obs, action, reward, next_obs, terminated, truncated)
        batches[config] = agent.memory.sample(BATCH_SIZE)
        for _ in range(2):
            agent.train_on_batch(batches[config])  # compile, and a first step
    train, sample = {c: [] for c in configs}, {c: [] for c in configs}
    for config in alternating(configs, rounds):
        agent, batch = agents[config], batches[config]
        start = time.perf_counter()
        for _ in range(repeats):
            agent.train_on_batch(batch)  # a prioritized batch: its priorities are written back too
        train[config].append((time.perf_counter() - start) / repeats)
        start = time.perf_counter()
        for _ in range(repeats):
            agent.memory.sample(BATCH_SIZE)
        sample[config].append((time.perf_counter() - start) / repeats)
    return ({c: statistics.median(t) for c, t in train.items()}, {c: statistics.median(t) for c, t in sample.items()})


def time_training(configs: list, steps: int, n_envs: int, warmup: int, rounds: int) -> tuple[dict, dict]:
    """Per config: frames/s of keras_dqn.train on Pong after ``warmup`` agent steps, and the
    gradient steps taken while timed (a check that the schedule ran: ~``steps / 4``)."""
    per_round = max(n_envs, steps // rounds)
    runs = {}
    for config in configs:
        recipe = keras_dqn.get_recipe(RECIPES[config[0]])
        envs = keras_dqn.make_atari_vector_env("Pong", n_envs)
        agent = make_agent(config, envs.single_observation_space.shape)
        settings = dict(eval_every=10**9, eval_episodes=0)
        _, _, warm = recipe.train_args(n_envs=n_envs, total_steps=warmup + TRAIN_EVERY * n_envs, learning_starts=warmup,
                                       **settings)  # fmt: skip
        keras_dqn.train(agent, envs, warmup + TRAIN_EVERY * n_envs, progress=False, seed=0, **warm)  # fill, compile
        _, _, timed = recipe.train_args(n_envs=n_envs, total_steps=per_round, learning_starts=0, **settings)
        runs[config] = (agent, envs, timed)
    rates = {c: [] for c in configs}
    before = {c: int(runs[c][0].model.optimizer.iterations) for c in configs}
    for config in alternating(configs, rounds):
        agent, envs, timed = runs[config]
        start = time.perf_counter()
        keras_dqn.train(agent, envs, per_round, progress=False, seed=0, **timed)  # a gradient step every 4 agent steps
        rates[config].append(per_round * FRAME_SKIP / (time.perf_counter() - start))
    updates = {c: int(runs[c][0].model.optimizer.iterations) - before[c] for c in configs}
    for _, envs, _ in runs.values():
        envs.close()
    return {c: statistics.median(r) for c, r in rates.items()}, updates


def sb3(steps: int, n_envs: int, threads: int, warmup: int) -> float | None:
    try:
        import torch
        from stable_baselines3 import DQN
        from stable_baselines3.common.vec_env import DummyVecEnv
    except ImportError:
        return None
    torch.set_num_threads(threads)
    env = DummyVecEnv([lambda: keras_dqn.make_atari_env("Pong")] * n_envs)
    model = DQN("CnnPolicy", env, buffer_size=50_000, learning_starts=warmup, batch_size=BATCH_SIZE,
                train_freq=max(1, TRAIN_EVERY // n_envs), gradient_steps=max(1, n_envs // TRAIN_EVERY),
                target_update_interval=1000, learning_rate=1e-4, seed=0, device="cpu", verbose=0)  # fmt: skip
    model.learn(warmup + TRAIN_EVERY * n_envs)  # fill the memory, first updates
    start = time.perf_counter()
    model.learn(steps, reset_num_timesteps=False)
    elapsed = time.perf_counter() - start
    env.close()
    return steps * FRAME_SKIP / elapsed


def measure(configs: list, args: argparse.Namespace) -> dict:
    """Per config on this process's Keras backend: one train step (ms) and keras_dqn.train's frames/s."""
    transitions, _, state_shape = random_play(args.warmup)
    train_step, _ = time_train_steps(configs, transitions, state_shape, args.repeats, args.rounds)
    del transitions
    gc.collect()
    frames, _ = time_training(configs, args.steps, args.n_envs, args.warmup, args.rounds)
    return {label(c): {"train_step_ms": round(train_step[c] * 1e3, 2), "frames_per_s": round(frames[c], 1)}
            for c in configs}  # fmt: skip


def backend_rows(backend: str, configs: list, args: argparse.Namespace) -> dict:
    """:func:`measure` in a process of its own on ``backend``."""
    rows = figures_on_backend(backend, __file__, [
        "--agents", ",".join(args.agents), "--precisions", ",".join(sorted({c[1] for c in configs})), "--steps",
        str(args.steps), "--n-envs", str(args.n_envs), "--warmup", str(args.warmup), "--rounds", str(args.rounds),
        "--repeats", str(args.repeats), "--threads", str(args.threads), "--no-sb3"])  # fmt: skip
    for config, row in rows.items():
        print(f"[{backend}] {config}: train step {row['train_step_ms']:.1f} ms, keras_dqn.train "
              f"{row['frames_per_s']:.0f} frames/s", flush=True)  # fmt: skip
    return rows


def choices(text: str, allowed) -> list[str]:
    chosen = [c.strip() for c in text.split(",") if c.strip()]
    unknown = sorted(set(chosen) - set(allowed))
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"choose among {', '.join(allowed)} (comma-separated), got {text!r}")
    return list(dict.fromkeys(chosen))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=lambda s: choices(s, RECIPES), default=["dqn", "rainbow"],
                        help="comma-separated: dqn (recipe pong), rainbow (recipe pong-rainbow), rainbow_noisy_head "
                        "(pong-rainbow-noisy-head)")  # fmt: skip
    parser.add_argument("--precisions", type=lambda s: choices(s, PRECISIONS), default=list(PRECISIONS),
                        help="comma-separated: float32, mixed_bfloat16 (skipped without fast bfloat16)")  # fmt: skip
    parser.add_argument("--steps", type=int, default=3000, help="timed agent steps of keras_dqn.train per config")
    parser.add_argument("--n-envs", type=int, default=4, help="Pong games stepped together by keras_dqn.train")
    parser.add_argument("--warmup", type=int, default=1000,
                        help="agent steps of random play before timing (fill the memory, compile)")  # fmt: skip
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds over the configs (median)")
    parser.add_argument("--repeats", type=int, default=20, help="train steps timed per config and round")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="CPU threads for TensorFlow and torch")
    parser.add_argument("--no-sb3", action="store_true", help="skip the Stable-Baselines3 row")
    installed = ",".join(installed_backends())
    parser.add_argument("--backends", default="tensorflow",
                        help=f"Keras backends to time, each in a process of its own (installed: {installed})")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)  # this backend's rows, as JSON
    add_save_flag(parser, "atari_throughput")
    args = parser.parse_args()
    for name in ("steps", "n_envs", "warmup", "rounds", "repeats", "threads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.warmup < BATCH_SIZE:
        parser.error(f"--warmup must be at least the batch size, {BATCH_SIZE}")
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not backends or any(b not in BACKENDS for b in backends):
        parser.error(f"--backends must name some of {', '.join(BACKENDS)}, got {args.backends!r}")
    import tensorflow as tf  # keras_dqn imported it without starting its runtime: threads can still be set

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    from keras_dqn.networks.precision import (
        bf16_supported,  # (after the threads: it may start the runtime, to look for GPUs)
    )

    bf16 = bf16_supported()
    precisions = args.precisions
    if "mixed_bfloat16" in precisions and not bf16:
        print("note: no fast bfloat16 here (keras_dqn.networks.precision.bf16_supported() is False): the bf16 rows are "
              "skipped; a bf16 agent would fall back to float32")  # fmt: skip
        precisions = [p for p in precisions if p != "mixed_bfloat16"]
    configs = [(a, p) for a in args.agents for p in precisions]
    if args.worker:
        print(json.dumps(measure(configs, args)))
        return
    figures: dict = {"configs": [label(c) for c in configs], "bf16_supported": bf16}
    others = [b for b in backends if b != keras.backend.backend()]
    if others:  # first, so that this process's own rows below are timed on a machine at rest as theirs were
        figures["by_backend"] = {b: backend_rows(b, configs, args) for b in others}

    transitions, agent_step, state_shape = random_play(args.warmup)
    figures["agent_step_ms"] = round(agent_step * 1e3, 3)
    print(f"agent step of Pong (random actions): {agent_step * 1e3:.2f} ms")
    if configs:
        train_step, sample = time_train_steps(configs, transitions, state_shape, args.repeats, args.rounds)
        del transitions
        gc.collect()
        for config in configs:
            ceiling = TRAIN_EVERY * FRAME_SKIP / (train_step[config] + TRAIN_EVERY * agent_step)
            print(f"{label(config)}: train step (batch {BATCH_SIZE}) {train_step[config] * 1e3:.1f} ms, "
                  f"sample {sample[config] * 1e3:.2f} ms -> ceiling {ceiling:.0f} frames/s")  # fmt: skip
            figures[f"{label(config)}_train_step_ms"] = round(train_step[config] * 1e3, 2)
            figures[f"{label(config)}_sample_ms"] = round(sample[config] * 1e3, 3)
            figures[f"{label(config)}_ceiling_frames_per_s"] = round(ceiling, 1)
        frames, updates = time_training(configs, args.steps, args.n_envs, args.warmup, args.rounds)
        for config in configs:
            share = frames[config] / figures[f"{label(config)}_ceiling_frames_per_s"]
            print(f"{label(config)}: keras_dqn.train, {args.n_envs} envs: {frames[config]:.0f} frames/s "
                  f"({share:.0%} of the ceiling; {updates[config]} gradient steps timed)")  # fmt: skip
            figures[f"{label(config)}_frames_per_s"] = round(frames[config], 1)
            figures[f"{label(config)}_vs_ceiling"] = round(share, 3)
            figures[f"{label(config)}_timed_gradient_steps"] = updates[config]
        if "by_backend" in figures and keras.backend.backend() in backends:
            figures["by_backend"][keras.backend.backend()] = {
                label(c): {"train_step_ms": figures[f"{label(c)}_train_step_ms"],
                           "frames_per_s": figures[f"{label(c)}_frames_per_s"]} for c in configs}  # fmt: skip
        for agent in args.agents:
            if (agent, "float32") in train_step and (agent, "mixed_bfloat16") in train_step:
                step = train_step[agent, "float32"] / train_step[agent, "mixed_bfloat16"]
                fps = frames[agent, "mixed_bfloat16"] / frames[agent, "float32"]
                print(f"bf16 speedup, {agent}: train step x{step:.2f}, frames/s x{fps:.2f}")
                figures[f"bf16_speedup_{agent}_train_step"] = round(step, 3)
                figures[f"bf16_speedup_{agent}_frames"] = round(fps, 3)
        for precision in precisions:
            if ("dqn", precision) in train_step and ("rainbow", precision) in train_step:
                step = train_step["rainbow", precision] / train_step["dqn", precision]
                fps = frames["rainbow", precision] / frames["dqn", precision]
                print(f"rainbow vs dqn, {precision}: train step x{step:.2f} the time, frames/s x{fps:.2f}")
                figures[f"rainbow_vs_dqn_train_step_{precision}"] = round(step, 3)
                figures[f"rainbow_vs_dqn_frames_{precision}"] = round(fps, 3)
            if ("rainbow_noisy_head", precision) in train_step and ("rainbow", precision) in train_step:
                step = train_step["rainbow_noisy_head", precision] / train_step["rainbow", precision]
                fps = frames["rainbow_noisy_head", precision] / frames["rainbow", precision]
                print(f"rainbow_noisy_head vs rainbow, {precision}: train step x{step:.2f} the time, "
                      f"frames/s x{fps:.2f}")  # fmt: skip
                figures[f"noisy_head_vs_rainbow_train_step_{precision}"] = round(step, 3)
                figures[f"noisy_head_vs_rainbow_frames_{precision}"] = round(fps, 3)
    sb3_frames = None if args.no_sb3 else sb3(args.steps, args.n_envs, args.threads, args.warmup)
    sb3_text = "skipped" if args.no_sb3 else "not installed" if sb3_frames is None else f"{sb3_frames:.0f} frames/s"
    print(f"SB3 DQN CnnPolicy, {args.n_envs} envs: {sb3_text}")
    figures["sb3_frames_per_s"] = None if sb3_frames is None else round(sb3_frames, 1)
    if sb3_frames is not None and "dqn_float32_frames_per_s" in figures:
        figures["dqn_float32_vs_sb3"] = round(figures["dqn_float32_frames_per_s"] / sb3_frames, 3)
    # The recipes' memories at their own capacity (arrays are allocated lazily: this costs no RAM).
    memory = {agent: make_agent((agent, "float32"), state_shape).memory.nbytes_per_transition
              for agent in ("dqn", "rainbow")}  # fmt: skip
    naive = ReplayBuffer(1000, state_shape, state_dtype=np.uint8).nbytes_per_transition
    print(f"bytes per transition: frame memory (pong) {memory['dqn']:.0f}, prioritized 3-step frame memory "
          f"(pong-rainbow) {memory['rainbow']:.0f}, naive uint8 stacks {naive:.0f}")  # fmt: skip
    figures.update({
        "frame_memory_bytes_per_transition": memory["dqn"],
        "rainbow_memory_bytes_per_transition": memory["rainbow"],
        "naive_bytes_per_transition": naive,
        "n_envs": args.n_envs,
        "timed_steps": args.steps,
        "rounds": args.rounds,
        "threads": args.threads,
        "cpu_count": os.cpu_count(),
        "machine": platform.processor() or platform.machine(),
    })  # fmt: skip
    report(figures, args)


if __name__ == "__main__":
    main()

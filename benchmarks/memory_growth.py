"""Resident memory left behind by agents that are dropped: a sweep's or a test run's worry.

Two loops in one process, each after a warm-up so that one-off costs (TensorFlow's and XLA's
start-up, Keras' first layers, the allocator's pools) are not counted; loads first, as the
memory that training frees would hide their growth:

* ``--loads`` times, after ``--warmup-loads`` (RSS grows ~14 MB over the first ~200 loads,
  then stays flat: the allocator's pools filling, not a leak):
  ``keras_dqn.load_agent(weights_path("cartpole-target-dqn"))``, dropped;
* ``--agents`` times: build ``DQNAgent(4, 2, hidden=(64, 64))``, train it with
  ``keras_dqn.train`` on CartPole-v1 (``--steps`` env steps, learning_starts 200, no
  evaluation), drop it.

RSS is read from ``/proc/self/statm`` (Linux), or the peak from ``resource`` elsewhere.
``gc.collect()`` and glibc's ``malloc_trim`` run before each reading.  Also reported: whether the last dropped agent
was actually collected (a ``weakref`` to it is dead).

    python benchmarks/memory_growth.py [--agents 60] [--steps 1500] [--loads 300] [--warmup-loads 200] [--no-jit]

``--no-jit`` trains agents whose step is not XLA-compiled.  TensorFlow never frees an XLA
compilation (its cache has no eviction), so agents alike in all but their weights share one
compiled step (``keras_dqn.learning.compiled_step.TrainStep``); without that, each agent kept ~8 MB.

Prints one line per measurement and, last, a JSON line with every figure.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import os
import resource
import sys
import time
import weakref

import gymnasium as gym
from results_file import add_save_flag, report

import keras_dqn

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_bytes() -> int:
    """The process's resident set size now (Linux), else its peak so far."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)  # give freed heap pages back: RSS then shows what is held
    except (OSError, AttributeError):
        pass
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * PAGE_SIZE
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB on Linux


class NoJitDQNAgent(keras_dqn.DQNAgent):
    jit_compile = False


def train_one(steps: int, seed: int, jit: bool = True) -> weakref.ref:
    """Build, train and drop one agent; return a weak reference to it."""
    agent = (keras_dqn.DQNAgent if jit else NoJitDQNAgent)(4, 2, hidden=(64, 64), seed=seed)
    env = gym.make("CartPole-v1")
    keras_dqn.train(agent, env, steps, learning_starts=200, eval_episodes=0, progress=False, seed=seed)
    env.close()
    return weakref.ref(agent)


def load_one() -> weakref.ref:
    return weakref.ref(keras_dqn.load_agent(keras_dqn.weights_path("cartpole-target-dqn")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=60, help="agents trained and dropped")
    parser.add_argument("--steps", type=int, default=1500, help="env steps per agent")
    parser.add_argument("--loads", type=int, default=300, help="load_agent calls measured")
    parser.add_argument("--warmup-loads", type=int, default=200, help="load_agent calls before measuring")
    parser.add_argument("--no-jit", action="store_true", help="train without XLA")
    add_save_flag(parser, "memory_growth")
    args = parser.parse_args()
    mb = 1024 * 1024
    results: dict = {"agents": args.agents, "steps_per_agent": args.steps, "loads": args.loads,
                     "warmup_loads": args.warmup_loads, "jit": not args.no_jit}  # fmt: skip

    start = rss_bytes()
    for _ in range(max(args.warmup_loads, 1)):
        ref = load_one()
    results["warmup_loads_rss_growth_mb"] = round((rss_bytes() - start) / mb, 1)
    before = rss_bytes()
    for _ in range(args.loads):
        ref = load_one()
    after = rss_bytes()
    results["loaded_agent_collected"] = ref() is None
    results["load_agent_rss_growth_kb_per_call"] = round((after - before) / 1024 / max(args.loads, 1), 1)
    print(
        f"after {args.warmup_loads} load_agent calls (RSS +{results['warmup_loads_rss_growth_mb']} MB) and "
        f"{args.loads} more: RSS {after / mb:.1f} MB, "
        f"+{results['load_agent_rss_growth_kb_per_call']:.1f} KB per call; "
        f"last loaded agent collected: {results['loaded_agent_collected']}"
    )

    start_time = time.perf_counter()
    ref = train_one(args.steps, 0, not args.no_jit)  # warm-up
    before = rss_bytes()
    print(f"after 1 warm-up agent: RSS {before / mb:.1f} MB")
    for i in range(args.agents):
        ref = train_one(args.steps, i + 1, not args.no_jit)
    after = rss_bytes()
    results["agent_collected"] = ref() is None
    results["rss_growth_mb_per_agent"] = round((after - before) / mb / max(args.agents, 1), 3)
    results["rss_growth_mb_agents_total"] = round((after - before) / mb, 1)
    results["train_seconds"] = round(time.perf_counter() - start_time, 1)
    print(
        f"after {args.agents} more agents ({args.steps} steps each): RSS {after / mb:.1f} MB, "
        f"+{results['rss_growth_mb_per_agent']:.3f} MB per agent; last agent collected: {results['agent_collected']}"
    )
    results["rss_mb_end"] = round(after / mb, 1)
    report(results, args)


if __name__ == "__main__":
    main()

"""How reliably and how fast examples/cartpole.py's setup solves CartPole-v1 — and stays solved.

For each seed, train with the example's own ``train_blog_loop`` and its flags' defaults (the
recipe cartpole-dqn or cartpole-target of keras_dqn.config.recipes) until a greedy evaluation over
100 episodes averages >= 475, or the budget runs out; then train ``--continue-steps`` more
steps on the same env and evaluate again (100 greedy episodes on other seeds): DQN on
CartPole is famous for collapsing after it solves the task.  Prints a line per seed, then a
JSON line: env steps and wall seconds to solve per seed, the success count, how many were
still >= 475 at the end, and medians.  Unsolved seeds count as infinitely slow in the medians.
With prioritized replay, the continued training anneals beta on from where the first part left
it, to 1 at its end (it is one run that goes on, not a new one).

    python benchmarks/solve_cartpole.py --agent dqn|target|rainbow [--seeds 0-9] [--max-steps 100000]
    python benchmarks/solve_cartpole.py --agent rainbow --learning-rate 0.0005   # any flag of the example
    python benchmarks/solve_cartpole.py --agent target --save   # also benchmarks/results/solve_cartpole_target.json

Flags this script does not know go to examples/cartpole.py (its hyperparameter flags).

Run it alone: it times wall-clock seconds.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import statistics
from pathlib import Path

import gymnasium as gym
import numpy as np
import tensorflow as tf
from results_file import add_save_flag, report

import keras_dqn

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "cartpole.py"
AFTER_CONTINUE_EVAL_SEED = 6_000_000  # + seed: the evaluation after --continue-steps (nothing else uses these)


def load_example():
    spec = importlib.util.spec_from_file_location("cartpole_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse_seeds(text: str) -> list[int]:
    if "-" in text:
        low, high = text.split("-")
        return list(range(int(low), int(high) + 1))
    return [int(s) for s in text.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0-9", help="e.g. 0-9 or 1,4,7")
    parser.add_argument("--max-steps", type=int, default=100_000, help="budget per seed, in env steps")
    parser.add_argument("--target-score", type=float, default=475.0)
    parser.add_argument("--agent", choices=["dqn", "target", "rainbow"], default="dqn")
    parser.add_argument("--continue-steps", type=int, default=20_000, help="training steps after solving")
    add_save_flag(parser, "solve_cartpole_{agent}")
    args, example_flags = parser.parse_known_args()
    defaults = (args.seeds, args.max_steps, args.continue_steps) == ("0-9", 100_000, 20_000)
    if args.save and (example_flags or not defaults):
        parser.error("--save keeps the docs' table of the recipes' own runs: no other flags with it")
    tf.config.threading.set_intra_op_parallelism_threads(1)  # as examples/cartpole.py does
    example = load_example()

    rows = []
    for seed in parse_seeds(args.seeds):
        # The example's own setup and loop, as `python examples/cartpole.py --agent AGENT --seed SEED` runs it.
        setup = example.parse_args(["--agent", args.agent, "--seed", str(seed), "--max-steps", str(args.max_steps),
                                    "--target-score", str(args.target_score), "--quiet", *example_flags])  # fmt: skip
        env = gym.make(example.ENV_ID)
        agent = example.make_agent(setup, env)
        summary = example.train_blog_loop(agent, env, setup)
        if summary["solved"] and args.continue_steps:
            # Go on training on the same env (no new seed, no evaluations), then evaluate on other seeds.
            more = argparse.Namespace(**{**vars(setup), "max_steps": args.continue_steps, "target_score": None,
                                         "seed": None})  # fmt: skip
            if hasattr(agent.memory, "anneal_beta"):  # prioritized: anneal on from where beta is, not from its start
                agent.memory.beta_start = agent.memory.beta
            example.train_blog_loop(agent, env, more)
            returns = keras_dqn.evaluate(agent, example.ENV_ID, 100, seed=AFTER_CONTINUE_EVAL_SEED + seed)
            summary["final_mean"] = float(np.mean(returns))
        env.close()
        row = {"seed": seed, **{k: round(v, 2) if isinstance(v, float) else v for k, v in summary.items()}}
        rows.append(row)
        print(
            f"seed {seed}: {'solved' if row['solved'] else 'NOT solved'} at {row['steps']} env steps, "
            f"{row['seconds']:.1f} s (greedy mean {row['eval_mean']}); "
            f"after {args.continue_steps} more steps: {row.get('final_mean', '-')}",
            flush=True,
        )

    def median(key: str) -> float | None:
        value = statistics.median(r[key] if r["solved"] else math.inf for r in rows)
        return value if math.isfinite(value) else None  # None: most seeds did not solve

    result = {
        "benchmark": "solve_cartpole",
        "agent": type(agent).__name__,
        "cpu_count": os.cpu_count(),
        "hyperparameters": {**example.agent_settings(setup), "batch_size": setup.batch_size,
                            "death_reward": setup.death_reward},  # fmt: skip
        "target_score": args.target_score,
        "continue_steps": args.continue_steps,
        "solved": sum(r["solved"] for r in rows),
        "still_solved_at_end": sum(r.get("final_mean", 0) >= args.target_score for r in rows),
        "seeds": len(rows),
        "median_steps_to_solve": median("steps"),
        "median_seconds_to_solve": median("seconds"),
        "per_seed": rows,
    }
    report(result, args)


if __name__ == "__main__":
    main()

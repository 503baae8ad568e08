"""What each Rainbow part buys on Pong: the recipe pong-rainbow with one part off at a time.

Each variant is one ``keras-dqn train ALE/Pong-v5 --recipe pong-rainbow`` run with one switch
changed (``--config``), ``--steps`` agent steps at most, stopped at the first 4-game greedy
evaluation >= ``--score`` (every ``--eval-every`` steps).  The table gives, per variant, the
agent steps, emulator frames and wall-clock time to that score (or that it was not reached in
the budget), and the best evaluation.

    python benchmarks/pong_ablation.py                                # every variant, in turn
    python benchmarks/pong_ablation.py --variants no_noisy,no_n_step  # a few
    python benchmarks/pong_ablation.py --from rainbow=runs/pong-rainbow-clean --variants rainbow

Each run lives in ``--out/VARIANT`` with its checkpoint, replay memory included: run the script
again and it resumes an unfinished run where it stopped and skips finished ones (each run takes
about an hour on a 2-core CPU, so one session rarely holds them all).  ``--from VARIANT=FOLDER``
reads a run you already have (its ``logs/progress.csv``) instead of training, e.g. a full
Rainbow run of the same seed.

Prints the table and, last, a JSON line with every figure.  Run it alone: it times wall seconds.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from pathlib import Path

import keras_dqn
from keras_dqn.cli import commands as cli

RECIPE = "pong-rainbow"
FRAMES_PER_STEP = keras_dqn.get_recipe(RECIPE).train_kwargs["frames_per_step"]
# Without noisy layers the agent explores with epsilon again, as the recipe pong-rainbow-eps (the DQN pong
# recipe's schedule); only its agent settings, so the evaluations stay every --eval-every steps.
_EPS = keras_dqn.get_recipe("pong-rainbow-eps").agent_kwargs
_NO_NOISY = {k: v for k, v in _EPS.items() if keras_dqn.get_recipe(RECIPE).agent_kwargs.get(k) != v}
VARIANTS: dict[str, dict] = {
    "rainbow": {},  # every part on
    "no_n_step": {"n_step": 1},
    "no_prioritized": {"prioritized": False},
    "no_noisy": _NO_NOISY,  # noisy False, epsilon 1 -> 0.01
    "no_distributional": {"distributional": False},
    "no_double": {"double": False},
    "no_dueling": {"dueling": False},
}


def read_curve(folder: Path) -> list[dict[str, float]]:
    """A run's log rows (step, eval_mean, wall_s), from its ``logs/progress.csv`` (or ``progress.csv``)."""
    for path in (folder / "logs" / "progress.csv", folder / "progress.csv"):
        if path.exists():
            with open(path, newline="") as f:
                return [{k: float(row[k]) for k in ("step", "eval_mean", "wall_s") if row.get(k) not in (None, "")}
                        for row in csv.DictReader(f)]  # fmt: skip
    return []


def summarize(variant: str, rows: list[dict[str, float]], score: float, steps: int) -> dict:
    """Steps, frames and wall seconds to the first evaluation >= ``score`` within ``steps``; None
    where not reached (rows past the budget, from a longer run read with --from, are left out)."""
    rows = [r for r in rows if r["step"] <= steps * 1.001]  # (a log row lands a few steps past its mark)
    evaluated = [r for r in rows if "eval_mean" in r and not math.isnan(r["eval_mean"])]
    reached = next((r for r in evaluated if r["eval_mean"] >= score), None)
    last_step = int(rows[-1]["step"]) if rows else 0
    return {
        "variant": variant,
        "changed": VARIANTS[variant],
        "steps_to_score": None if reached is None else int(reached["step"]),
        "frames_to_score": None if reached is None else int(reached["step"]) * FRAMES_PER_STEP,
        "minutes_to_score": None if reached is None else round(reached["wall_s"] / 60, 1),
        "best_eval": max((r["eval_mean"] for r in evaluated), default=None),
        "steps_trained": last_step,
        "finished": reached is not None or last_step >= steps,
    }


def train_variant(variant: str, out: Path, steps: int, score: float, eval_every: int, seed: int) -> None:
    """Train (or resume) one variant through the CLI's train command: one home for a training run."""
    out.parent.mkdir(parents=True, exist_ok=True)
    config = out.parent / f"{variant}.json"  # beside the run: keras-dqn train wants its --out to itself
    # save_memory: a run cut off by the end of a session resumes with its replay memory, as if never stopped
    # (~0.7 GB in each checkpoint; a few seconds per save, inside the measured wall time).
    config.write_text(json.dumps({"agent": VARIANTS[variant], "train": {"eval_every": eval_every,
                                                                        "save_memory": True}}))  # fmt: skip
    argv = ["train", "ALE/Pong-v5", "--recipe", RECIPE, "--config", str(config), "--steps", str(steps),
            "--seed", str(seed), "--target-score", str(score), "--out", str(out), "--no-progress"]  # fmt: skip
    if (out / "checkpoint.npz").exists():
        argv.append("--resume")
    code = cli.main(argv)
    if code:
        raise SystemExit(f"{variant}: keras-dqn train stopped with exit code {code}")


def parse_from(values: list[str]) -> dict[str, Path]:
    given = {}
    for value in values:
        variant, _, folder = value.partition("=")
        if variant not in VARIANTS or not folder:
            raise SystemExit(f"--from takes VARIANT=FOLDER with VARIANT one of {', '.join(VARIANTS)}; got {value!r}")
        given[variant] = Path(folder)
    return given


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated, of: {', '.join(VARIANTS)}")
    parser.add_argument("--steps", type=int, default=300_000, help="agent steps per run at most")
    parser.add_argument("--score", type=float, default=0.0, help="the fixed score: a 4-game greedy mean to reach")
    parser.add_argument("--eval-every", type=int, default=25_000, help="agent steps between evaluations")
    parser.add_argument("--seed", type=int, default=0, help="every run's seed")
    parser.add_argument("--out", default="runs/pong-ablation", help="a folder per variant below it")
    parser.add_argument("--from", dest="given", action="append", default=[], metavar="VARIANT=FOLDER",
                        help="read this variant's curve from an existing run instead of training it")  # fmt: skip
    parser.add_argument("--no-train", action="store_true", help="only summarize what the runs hold so far")
    args = parser.parse_args()
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise SystemExit(f"unknown variant(s) {unknown}; choose from {', '.join(VARIANTS)}")
    given = parse_from(args.given)

    results = []
    for variant in variants:
        folder = given.get(variant, Path(args.out) / variant)
        if variant not in given and not args.no_train:
            if not summarize(variant, read_curve(folder), args.score, args.steps)["finished"]:
                train_variant(variant, folder, args.steps, args.score, args.eval_every, args.seed)
        result = summarize(variant, read_curve(folder), args.score, args.steps)
        results.append({**result, "run": str(folder)})

    print(f"\nPong, recipe {RECIPE}, one part off at a time; seed {args.seed}, score {args.score:g}, "
          f"budget {args.steps:,} agent steps")  # fmt: skip
    print("| variant | agent steps to score | frames | minutes | best 4-game eval | steps trained |")
    print("|---|---|---|---|---|---|")
    for r in results:
        cells = [r["steps_to_score"], r["frames_to_score"], r["minutes_to_score"]]
        shown = ["not reached" if c is None else f"{c:,}" if isinstance(c, int) else f"{c}" for c in cells]
        print(f"| {r['variant']} | {' | '.join(shown)} | {r['best_eval']} | {r['steps_trained']:,} |")
    print(json.dumps({"recipe": RECIPE, "seed": args.seed, "score": args.score, "steps": args.steps,
                      "results": results}))  # fmt: skip


if __name__ == "__main__":
    main()

"""Pong on every seed: minutes to a confirmed +19, one seed per run, the study read from the runs' logs.

The stop rule: a 10-game greedy evaluation every ``eval_every`` agent steps; once one reaches
+19, 10 more games from other reset seeds must reach it too (``train(confirm_episodes=10)``),
else training goes on.  A seed counts as met when that happens within ``--minutes`` (90) of
the run's own ``wall_s`` (evaluations included).

    pip install -e ".[atari]"
    python benchmarks/pong_seeds.py --seed 0          # one run (~1 h on 2 cores; resumes if stopped)
    python benchmarks/pong_seeds.py --summary --save  # the study so far, from docs/pong-seeds/seed-*.csv
    python benchmarks/pong_seeds.py --summary --plot docs/pong-seeds.png  # and every run's curve

A run trains ``keras-dqn train ALE/Pong-v5 --recipe RECIPE --seed N --target-score 19
--confirm-episodes 10`` with 10-game evaluations into ``runs/pong-seeds/seed-N`` and, when it
ends, copies its ``progress.csv`` to ``docs/pong-seeds/seed-N.csv``: run folders do not outlive a
session, the CSV is what the study is made of (commit it).  Run one seed at a time, alone.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from results_file import add_save_flag, report

ROOT = Path(__file__).resolve().parents[1]
LOGS = ROOT / "docs" / "pong-seeds"
TARGET = 19.0


def first_confirmed(rows: list[dict[str, str]], target: float = TARGET) -> dict[str, str] | None:
    """The first log row whose evaluation and confirmation both reached ``target`` (``None``: none)."""
    for row in rows:
        confirm = row.get("confirm_mean", "")
        if confirm not in ("", "nan") and float(row["eval_mean"]) >= target and float(confirm) >= target:
            return row
    return None


def summarize(logs: dict[str, list[dict[str, str]]], minutes: float) -> dict:
    """The study: per run its wall minutes and agent steps to a confirmed +19, how many met it
    within ``minutes``, and the median minutes (a run that did not meet it counts as never)."""
    rows = []
    for name, log in sorted(logs.items()):
        row = first_confirmed(log)
        reached = None if row is None else float(row["wall_s"]) / 60
        rows.append({"run": name, "minutes": None if reached is None else round(reached, 1),
                     "agent_steps": None if row is None else int(float(row["step"])),
                     "met": reached is not None and reached <= minutes,
                     "last_step": int(float(log[-1]["step"])) if log else 0})  # fmt: skip
    median = statistics.median(r["minutes"] if r["met"] else math.inf for r in rows) if rows else math.inf
    return {"target": TARGET, "minutes_allowed": minutes, "runs": rows, "met": sum(r["met"] for r in rows),
            "median_minutes": median if math.isfinite(median) else None}  # fmt: skip


def read_logs(folder: Path) -> dict[str, list[dict[str, str]]]:
    return {path.stem: list(csv.DictReader(path.open())) for path in sorted(folder.glob("seed-*.csv"))}


def run_seed(seed: int, recipe: str, steps: int, out: Path) -> int:
    """Train (or resume) one seed with the keras-dqn command; copy its log into docs/ when it ends."""
    folder = out / f"seed-{seed}"
    command = [sys.executable, "-m", "keras_dqn", "train", "ALE/Pong-v5", "--recipe", recipe,
               "--seed", str(seed), "--steps", str(steps), "--target-score", str(TARGET), "--confirm-episodes", "10",
               "--out", str(folder), "--no-progress"]  # fmt: skip
    config = out / "pong-seeds-config.json"
    out.mkdir(parents=True, exist_ok=True)
    config.write_text(json.dumps({"train": {"eval_episodes": 10}}))
    command += ["--config", str(config)]
    if (folder / "checkpoint.npz").exists():
        command.append("--resume")
    code = subprocess.call(command)
    log = folder / "progress.csv"
    if code == 0 and log.exists():
        LOGS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(log, LOGS / f"seed-{seed}.csv")
        print(f"copied {log} to {LOGS / f'seed-{seed}.csv'} (commit it)")
    return code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, help="train this seed (one run)")
    parser.add_argument("--summary", action="store_true", help="summarize docs/pong-seeds/seed-*.csv")
    parser.add_argument("--recipe", default="pong-rainbow-noisy-head", help="the recipe every seed trains")
    parser.add_argument("--steps", type=int, default=800_000, help="agent steps at most per run")
    parser.add_argument("--minutes", type=float, default=90.0, help="a seed meets the bar within this many minutes")
    parser.add_argument("--out", default="runs/pong-seeds", help="where the runs' folders go")
    parser.add_argument("--plot", metavar="PNG", help="with --summary: draw every run's evaluations against "
                        "agent steps and wall-clock hours into this PNG (needs the viz extra)")  # fmt: skip
    add_save_flag(parser, "pong_seeds")
    args = parser.parse_args()
    if (args.seed is None) == (not args.summary):
        parser.error("give --seed N (train one seed) or --summary (read the study), one of the two")
    if args.plot and not args.summary:
        parser.error("--plot draws the study: give it with --summary")
    if args.seed is not None:
        if args.seed < 0 or args.steps < 1:
            parser.error("--seed must be >= 0 and --steps >= 1")
        sys.exit(run_seed(args.seed, args.recipe, args.steps, Path(args.out)))
    logs = read_logs(LOGS)
    if not logs:
        parser.error(f"no runs to summarize: {LOGS}/seed-*.csv (train one with --seed N)")
    study = summarize(logs, args.minutes)
    for row in study["runs"]:
        result = "never" if row["minutes"] is None else f"{row['minutes']:.1f} min at {row['agent_steps']:,} steps"
        verdict = "met" if row["met"] else "not met"
        print(f"{row['run']}: confirmed +19: {result} ({verdict}; ran to {row['last_step']:,} steps)")
    print(f"{study['met']}/{len(study['runs'])} met within {args.minutes:g} min; median {study['median_minutes']}")
    if args.plot:
        from keras_dqn.experiments.plots import plot_runs

        title = f"Pong, {args.recipe}: 10-game greedy evaluations, one curve a seed"
        print(f"wrote {plot_runs({name: LOGS / f'{name}.csv' for name in logs}, args.plot, title=title)}")
    report(study, args)


if __name__ == "__main__":
    main()

"""MkDocs hook: tables of benchmark figures, read at build time from the files the benchmark
scripts wrote to ``benchmarks/results/`` with ``--save`` (never retyped into a page).

A page holds a marker ``<!-- results NAME -->``; this hook replaces it with the table of
``benchmarks/results/NAME.json`` that :data:`TABLES` describes, followed by the command that
printed the figures, the date, the commit and the CPU.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

MARKER = re.compile(r"<!-- results (\w+) -->")


def _number(value: float | None, digits: int = 4) -> str:
    """``value`` to ``digits`` significant digits below 100, whole above, with thousands separators and a true
    minus sign."""
    if value is None:
        return "—"
    text = f"{value:,.{digits}g}" if abs(value) < 100 else f"{value:,.0f}"  # rates: whole numbers
    return text.replace("-", "−")


def _toy_text(figures: dict) -> str:
    lines = [
        "| env | shipped agent | agent: greedy mean ± s.e.m. (episodes) | optimal policy, same episodes "
        "| optimal, expected | bar |",
        "|---|---|---|---|---|---|",
    ]
    for row in figures["rows"]:
        lines.append(
            f"| {row['env']} | `{Path(row['weights']).name}` "
            f"| **{_number(row['agent_mean'])}** ± {_number(row['agent_sem'], 2)} ({row['episodes']:,}) "
            f"| {_number(row['optimal_policy_mean'])} | {_number(row['optimal_expected'])} | {_number(row['bar'])} |"
        )
    seeds = {row["seeds_from"] for row in figures["rows"]}
    lines.append("")
    lines.append(f"Episode *i* starts from `reset(seed={min(seeds):,} + i)`, seeds no training run used.")
    return "\n".join(lines)


def _ratio(value: float | None) -> str:
    return "" if value is None else f" ({value:.2f}× SB3)"


def _throughput(figures: dict) -> str:
    sb3_one = figures.get("one_env_sb3_steps_per_s")
    sb3_many = figures.get("sb3_steps_per_s")
    rows = [
        ("the blog's `replay` as written, on Keras 3 (2 × `predict` + `fit` per sample)",
         _number(figures.get("blog_as_written_steps_per_s"), 3)),
        ("**keras_dqn `DQNAgent`, the blog loop**", f"**{_number(figures['keras_dqn_steps_per_s'])}**"),
        ("Stable-Baselines3 DQN, one env, train_freq 4, gradient_steps 4", _number(sb3_one)),
        ("**`keras_dqn.train`, one env, same schedule**",
         f"**{_number(figures['one_env_steps_per_s'])}**{_ratio(figures.get('one_env_vs_sb3'))}"),
        ("Stable-Baselines3 DQN, one env, train_freq 1, gradient_steps 1", _number(sb3_many)),
        (f"**`keras_dqn.train`, {figures['library_n_envs']} envs, one update per env step**",
         f"**{_number(figures['library_steps_per_s'])}**{_ratio(figures.get('library_vs_sb3'))}"),
    ]  # fmt: skip
    lines = ["| implementation | env steps/s |", "|---|---|"] + [f"| {what} | {rate} |" for what, rate in rows]
    if "speedup" in figures:
        lines += ["", f"The blog loop runs {figures['speedup']:,}× the blog's `replay` as written."]
    if sb3_one is None:
        lines += ["", "Stable-Baselines3 was not installed for this run: no SB3 rows."]
    by_backend = figures.get("by_backend")
    if by_backend:
        lines += ["", "The keras_dqn rows on each Keras backend, in the same run (env steps/s; × SB3 in brackets):", "",
                  f"| Keras backend | blog loop | `train`, one env | `train`, {figures['library_n_envs']} envs |",
                  "|---|---|---|---|"]  # fmt: skip
        for backend, rows in by_backend.items():
            one = rows.get("one_env")
            many = rows.get("n_envs")
            one_ratio = _ratio(one / sb3_one) if one and sb3_one else ""
            many_ratio = _ratio(many / sb3_many) if many and sb3_many else ""
            lines.append(f"| {backend} | {_number(rows['blog_loop'])} | {_number(one)}{one_ratio} "
                         f"| {_number(many)}{many_ratio} |")  # fmt: skip
    return "\n".join(lines)


_ATARI_LABELS = {"dqn": "DQN (`pong`)", "rainbow": "Rainbow (`pong-rainbow`)",
                 "rainbow_noisy_head": "Rainbow, noise in the head (`pong-rainbow-noisy-head`)"}  # fmt: skip


def _atari_throughput(figures: dict) -> str:
    lines = [
        "| configuration (recipe) | train step, batch 32 | ceiling | "
        f"`keras_dqn.train`, {figures['n_envs']} games |",
        "|---|---|---|---|",
    ]
    for config in figures["configs"]:
        precision = "mixed_bfloat16" if config.endswith("_mixed_bfloat16") else "float32"
        agent = config.removesuffix("_" + precision)
        lines.append(
            f"| {_ATARI_LABELS.get(agent, agent)}, `{precision}` | {figures[config + '_train_step_ms']:.1f} ms "
            f"| {_number(figures[config + '_ceiling_frames_per_s'])} frames/s "
            f"| **{_number(figures[config + '_frames_per_s'])} frames/s** |"
        )
    sb3 = figures.get("sb3_frames_per_s")
    lines.append(f"| Stable-Baselines3 DQN `CnnPolicy`, same games and schedule | | | "
                 f"{'not run' if sb3 is None else _number(sb3) + ' frames/s'} |")  # fmt: skip
    lines += [
        "",
        f"One agent step of Pong (4 emulator frames and the preprocessing): {figures['agent_step_ms']:.2f} ms. "
        f"The ceiling is 16 frames / (one train step + 4 agent steps). Replay memory per transition: "
        f"{figures['frame_memory_bytes_per_transition']:,.0f} bytes (`pong`'s frame memory), "
        f"{figures['rainbow_memory_bytes_per_transition']:,.0f} (`pong-rainbow`'s prioritized 3-step one), "
        f"{figures['naive_bytes_per_transition']:,.0f} for whole `uint8` stacks. "
        f"bfloat16 rows: {'run' if figures['bf16_supported'] else 'skipped, this CPU has no fast bfloat16'}.",
    ]
    by_backend = figures.get("by_backend")
    if by_backend:
        configs = figures["configs"]
        lines += ["", "Each Keras backend in the same run: train step (batch 32) and `keras_dqn.train`'s frames/s:", "",
                  "| Keras backend | " + " | ".join(f"`{c}`" for c in configs) + " |",
                  "|---|" + "---|" * len(configs)]  # fmt: skip
        for backend, rows in by_backend.items():
            cells = [f"{rows[c]['train_step_ms']:.1f} ms, **{_number(rows[c]['frames_per_s'])}**" if c in rows else "—"
                     for c in configs]  # fmt: skip
            lines.append(f"| {backend} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _atari_scores(figures: dict) -> str:
    lines = ["| shipped file | agent | protocol | greedy mean (games) | min, max |", "|---|---|---|---|---|"]
    for row in figures["rows"]:
        lines.append(
            f"| `{Path(row['weights']).name}` | `{row['agent']}` | {row['protocol']} "
            f"| **{row['mean_score']:+.2f}** ({row['games']}) | {row['min_score']:+.0f}, {row['max_score']:+.0f} |"
        )
    seeds = {row["seeds_from"] for row in figures["rows"]}
    lines += ["", f"Full games of Pong (first to 21, no reward clipping, up to 30 no-ops), score = our points minus "
              f"the opponent's; game *i* starts from `reset(seed={min(seeds):,} + i)`, seeds no training run or "
              "training evaluation used."]  # fmt: skip
    return "\n".join(lines)


def _solve_cartpole(figures: dict) -> str:
    finals = ", ".join(f"{r['final_mean']:g}" for r in figures["per_seed"] if "final_mean" in r)
    steps = figures["median_steps_to_solve"]
    seconds = figures["median_seconds_to_solve"]
    return (
        f"| `{figures['agent']}` | {figures['solved']}/{figures['seeds']} "
        f"| **{figures['still_solved_at_end']}/{figures['seeds']}** (final means {finals}) "
        f"| {'never' if steps is None else f'{steps:,.0f}'} | {'—' if seconds is None else f'{seconds:.1f}'} |"
    )


def _memory_growth(figures: dict) -> str:
    return "\n".join([
        "| what | resident memory (RSS) |",
        "|---|---|",
        f"| {figures['agents']} agents built, trained ({figures['steps_per_agent']:,} env steps each) and dropped, "
        f"after one warm-up agent | **{figures['rss_growth_mb_agents_total']:+.1f} MB** in all "
        f"({figures['rss_growth_mb_per_agent']:+.3f} MB an agent; the last one collected: "
        f"{'yes' if figures['agent_collected'] else 'NO'}) |",
        f"| the first {figures['warmup_loads']} `load_agent` calls | {figures['warmup_loads_rss_growth_mb']:+.1f} MB |",
        f"| {figures['loads']} more `load_agent` calls "
        f"| {figures['load_agent_rss_growth_kb_per_call']:+.1f} KB a call |",
        f"| at the end | {figures['rss_mb_end']:,.0f} MB |",
    ])  # fmt: skip


def _pong_seeds(figures: dict) -> str:
    lines = ["| run | confirmed +19 after | agent steps | within the bar |", "|---|---|---|---|"]
    for row in figures["runs"]:
        minutes = "never" if row["minutes"] is None else f"**{row['minutes']:.1f} min**"
        steps = "—" if row["agent_steps"] is None else f"{row['agent_steps']:,}"
        lines.append(f"| {row['run']} | {minutes} | {steps} | {'yes' if row['met'] else 'no'} |")
    median = figures["median_minutes"]
    lines += ["", f"{figures['met']} of {len(figures['runs'])} runs met +{figures['target']:g} (a 10-game greedy "
              f"mean, confirmed by 10 more games) within {figures['minutes_allowed']:g} minutes of their own "
              f"`wall_s`; median {'—' if median is None else f'{median:.1f} min'}."]  # fmt: skip
    return "\n".join(lines)


TABLES: dict[str, Callable[[dict], str]] = {
    "pong_seeds": _pong_seeds,
    "memory_growth": _memory_growth,
    "solve_cartpole_dqn": _solve_cartpole,
    "solve_cartpole_target": _solve_cartpole,
    "solve_cartpole_rainbow": _solve_cartpole,
    "atari_scores": _atari_scores,
    "toy_text": _toy_text,
    "throughput": _throughput,
    "atari_throughput": _atari_throughput,
}


def _provenance(record: dict) -> str:
    commit = f" at `{record['commit']}`" if record.get("commit") else ""
    return f"*Printed by `{record['command']}` on {record['date']}{commit}, {record['cpu']}.*"


def on_page_markdown(markdown: str, page, config, files) -> str:
    root = Path(config["config_file_path"]).parent

    def table(match: re.Match) -> str:
        name = match.group(1)
        record = json.loads((root / "benchmarks" / "results" / f"{name}.json").read_text())
        if name.startswith("solve_cartpole_"):  # one row of a table the page heads; its provenance below it
            return TABLES[name](record["figures"])
        return TABLES[name](record["figures"]) + "\n\n" + _provenance(record)

    return MARKER.sub(table, markdown)

"""MkDocs hook: tables of benchmark figures, read at build time from the JSON the benchmark
scripts wrote to ``benchmarks/results/`` (never retyped into a page).

A page holds a marker ``<!-- results NAME -->``; this hook replaces it with the table of
``benchmarks/results/NAME.json`` that :data:`TABLES` describes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

MARKER = re.compile(r"<!-- results (\w+) -->")


def _number(value: float, digits: int = 4) -> str:
    """``value`` to ``digits`` significant digits, with a thousands separator and a true minus sign."""
    if value is None:
        return "—"
    text = f"{value:,.{digits}g}" if abs(value) < 10**digits else f"{value:,.0f}"
    return text.replace("-", "−")


def _toy_text(result: dict) -> str:
    lines = [
        "| env | shipped agent | agent: greedy mean ± s.e.m. (episodes) | optimal policy, same episodes "
        "| optimal, expected | bar |",
        "|---|---|---|---|---|---|",
    ]
    for row in result["rows"]:
        lines.append(
            f"| {row['env']} | `{Path(row['weights']).name}` "
            f"| **{_number(row['agent_mean'])}** ± {_number(row['agent_sem'], 2)} ({row['episodes']:,}) "
            f"| {_number(row['optimal_policy_mean'])} | {_number(row['optimal_expected'])} | {_number(row['bar'])} |"
        )
    seeds = {row["seeds_from"] for row in result["rows"]}
    lines.append("")
    lines.append(f"Episode *i* starts from `reset(seed={min(seeds):,} + i)`, seeds no training run used.")
    return "\n".join(lines)


TABLES: dict[str, Callable[[dict], str]] = {"toy_text": _toy_text}


def on_page_markdown(markdown: str, page, config, files) -> str:
    root = Path(config["config_file_path"]).parent

    def table(match: re.Match) -> str:
        name = match.group(1)
        result = json.loads((root / "benchmarks" / "results" / f"{name}.json").read_text())
        return TABLES[name](result)

    return MARKER.sub(table, markdown)

"""Benchmark figures reach the docs from files: ``--save`` writes them with how they were measured,
and every results file in the repo renders as a table (the docs hook), with the command that printed it."""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_save_writes_the_figures_with_command_date_commit_and_cpu(tmp_path, monkeypatch, capsys):
    results_file = _module(ROOT / "benchmarks" / "results_file.py", "results_file_under_test")
    monkeypatch.setattr(results_file, "RESULTS", tmp_path)
    monkeypatch.setattr(sys, "argv", ["benchmarks/solve_cartpole.py", "--agent", "dqn", "--save"])
    parser = argparse.ArgumentParser()
    parser.add_argument("--agent")
    results_file.add_save_flag(parser, "solve_cartpole_{agent}")
    args = parser.parse_args(["--agent", "dqn", "--save"])
    results_file.report({"solved": 10, "median_steps_to_solve": 29499.0}, args)
    assert json.loads(capsys.readouterr().out.splitlines()[-1]) == {"solved": 10, "median_steps_to_solve": 29499.0}
    record = json.loads((tmp_path / "solve_cartpole_dqn.json").read_text())
    assert record["benchmark"] == "solve_cartpole_dqn"
    assert record["command"] == "python benchmarks/solve_cartpole.py --agent dqn --save"
    assert record["figures"]["solved"] == 10 and len(record["date"]) == 10 and record["cpu"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["solve_cartpole_dqn.json"]  # no temporary file left
    args = parser.parse_args(["--agent", "target"])  # without --save: the JSON line only
    results_file.report({"solved": 1}, args)
    assert not (tmp_path / "solve_cartpole_target.json").exists()


def test_every_results_file_renders_as_a_docs_table_naming_the_command_that_printed_it():
    hook = _module(ROOT / "docs" / "hooks" / "results.py", "results_hook_under_test")
    files = sorted((ROOT / "benchmarks" / "results").glob("*.json"))
    assert {f.stem for f in files} >= {"throughput", "atari_throughput", "toy_text", "atari_scores"}
    pages = "\n".join(path.read_text() for path in (ROOT / "docs").rglob("*.md"))
    for path in files:
        marker = f"<!-- results {path.stem} -->"
        assert marker in pages, f"{path.name} is shown on no page"
        rendered = hook.on_page_markdown(marker, None, {"config_file_path": str(ROOT / "mkdocs.yml")}, None)
        assert "|---|" in rendered or rendered.startswith("| `"), rendered[:300]
        assert "<!--" not in rendered
        record = json.loads(path.read_text())
        assert record["command"].startswith("python benchmarks/") and "--save" in record["command"]


def test_a_marker_without_its_results_file_fails_the_build():
    hook = _module(ROOT / "docs" / "hooks" / "results.py", "results_hook_under_test_missing")
    with pytest.raises(FileNotFoundError):
        hook.on_page_markdown("<!-- results no_such_benchmark -->", None,
                              {"config_file_path": str(ROOT / "mkdocs.yml")}, None)  # fmt: skip


def _log(*rows: tuple[int, float, str, float]) -> list[dict[str, str]]:
    return [{"step": str(step), "eval_mean": str(evaluation), "confirm_mean": confirm, "wall_s": str(wall)}
            for step, evaluation, confirm, wall in rows]  # fmt: skip


def test_the_pong_seed_study_counts_a_seed_only_once_its_plus_19_is_confirmed_within_the_time():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        pong_seeds = _module(ROOT / "benchmarks" / "pong_seeds.py", "pong_seeds_under_test")
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    logs = {
        "seed-0": _log((10_000, -21, "nan", 60), (300_000, 19.5, "17.0", 2400), (310_000, 19.2, "19.4", 2500)),
        "seed-1": _log((10_000, -21, "", 60), (400_000, 20.0, "19.0", 6000)),  # confirmed, but after 100 minutes
        "seed-2": _log((10_000, -21, "nan", 60), (500_000, 12.0, "nan", 5000)),  # never reached
    }
    study = pong_seeds.summarize(logs, minutes=90)
    by_run = {row["run"]: row for row in study["runs"]}
    assert by_run["seed-0"] == {"run": "seed-0", "minutes": 41.7, "agent_steps": 310_000, "met": True,
                                "last_step": 310_000}  # the lucky 19.5 (its confirmation 17.0) did not count
    assert by_run["seed-1"]["minutes"] == 100.0 and not by_run["seed-1"]["met"]
    assert by_run["seed-2"]["minutes"] is None and not by_run["seed-2"]["met"]
    assert study["met"] == 1 and study["median_minutes"] is None  # 2 of 3 never met: no finite median
    assert pong_seeds.summarize({k: logs[k] for k in ("seed-0",)}, 90)["median_minutes"] == 41.7


def test_the_pong_seed_study_wants_a_seed_or_the_summary():
    import subprocess

    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "pong_seeds.py")], capture_output=True,
                            text=True, timeout=60)  # fmt: skip
    assert result.returncode == 2 and "give --seed N (train one seed) or --summary" in result.stderr
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "pong_seeds.py"), "--seed", "0", "--plot",
                             "study.png"], capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 2 and "--plot draws the study: give it with --summary" in result.stderr

"""Where a benchmark's figures go: its JSON line on stdout, and the same figures in
``benchmarks/results/NAME.json`` when asked (``--save``), which the docs' tables read at build time.

Every benchmark script that feeds a docs table calls :func:`add_save_flag` on its parser and
ends with :func:`report`: one home for the JSON line and the results file.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def installed_backends() -> list[str]:
    """The Keras backends keras_dqn trains on that are installed here."""
    from keras_dqn.learning.backends import SUPPORTED

    return [name for name in SUPPORTED if importlib.util.find_spec(name) is not None]


def figures_on_backend(backend: str, script: str, arguments: list[str]) -> dict:
    """Run ``script --worker ARGUMENTS`` in a process of its own on Keras ``backend`` (Keras picks its
    backend at import); echo what it prints and return the figures of its last line, a JSON object.

    Raises:
        RuntimeError: the worker failed (the end of its stderr says why)."""
    command = [sys.executable, script, "--worker", *arguments]
    done = subprocess.run(command, env={**os.environ, "KERAS_BACKEND": backend}, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"the {backend} run of {Path(script).name} failed:\n{done.stderr[-2000:]}")
    lines = done.stdout.strip().splitlines()
    if lines[:-1]:
        print("\n".join(lines[:-1]), flush=True)
    return json.loads(lines[-1])


def add_save_flag(parser: argparse.ArgumentParser, name: str) -> None:
    """Add ``--save``: also write the figures to ``benchmarks/results/NAME.json``; ``NAME`` may name
    a flag's value in braces, e.g. ``solve_cartpole_{agent}``."""
    parser.add_argument(
        "--save", action="store_true", help=f"also write the figures to benchmarks/results/{name}.json (docs tables)"
    )
    parser.set_defaults(results_name=name)


def _cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``), or what :mod:`platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _commit() -> str | None:
    """The git commit the benchmark ran at, or None outside a checkout."""
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             cwd=Path(__file__).parent, check=True)  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip() or None


def report(figures: dict, args: argparse.Namespace) -> None:
    """Print ``figures`` as the last JSON line; with ``--save``, write them, with how and where they
    were measured, to ``benchmarks/results/NAME.json`` (replacing the previous run's file)."""
    print(json.dumps(figures))
    if not getattr(args, "save", False):
        return
    name = args.results_name.format(**vars(args))
    record = {
        "benchmark": name,
        "command": "python " + " ".join([f"benchmarks/{Path(sys.argv[0]).name}", *sys.argv[1:]]),
        "date": datetime.date.today().isoformat(),
        "commit": _commit(),
        "cpu": _cpu_model(),
        "figures": figures,
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    temp = path.with_suffix(".json.tmp")
    temp.write_text(json.dumps(record, indent=1) + "\n")
    temp.replace(path)
    print(f"wrote {path.relative_to(RESULTS.parent.parent)}", file=sys.stderr)

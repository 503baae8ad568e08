"""A catalogue of mistakes on the keras-dqn command line: each is one line `keras-dqn CMD: ...` on stderr and exit 2.

Each case runs `keras_dqn.cli.commands` in this process (no subprocess: none of them may get as far
as building an agent's network or training), in a fresh working directory.
"""

import json
import shutil
from pathlib import Path

import h5py
import pytest

from keras_dqn.cli.commands import main

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "weights" / "cartpole-dqn.h5"


def a_previous_run(folder: Path) -> None:
    folder.mkdir()
    for name in ("last.h5", "progress.csv", "checkpoint.npz"):
        (folder / name).write_text("x")


def a_run_and_notes(folder: Path) -> None:
    a_previous_run(folder)
    (folder / "notes.txt").write_text("mine")


def a_file(folder: Path) -> None:
    folder.write_text("not a folder")


def an_empty_folder(folder: Path) -> None:
    folder.mkdir()


def weights_with_a_broken_config(folder: Path) -> None:
    folder.mkdir()
    shutil.copy(SHIPPED, folder / "broken.h5")
    with h5py.File(folder / "broken.h5", "a") as f:
        f.attrs["keras_dqn_config"] = json.dumps({"agent": "DQNAgent", "action_size": 2})


TRAIN = ["train", "CartPole-v1", "--no-progress"]
CASES = [
    # (argv, config (None: no --config), what to set up in OUT, stderr fragment)
    (TRAIN, [1, 2], None, "must be a JSON object with sections ['agent', 'target_agent', 'train'], got [1, 2]"),
    (TRAIN, "{not json", None, "cannot read config"),
    (TRAIN + ["--config", "missing.json"], None, None, "cannot read config missing.json"),
    (TRAIN, {"optimizer": {"lr": 1}}, None, "config sections are ['agent', 'target_agent', 'train']"),
    (TRAIN, {"agent": 5}, None, "config section 'agent' must be an object of settings, got 5"),
    (TRAIN, {"agent": {"gama": 0.9}}, None, "unknown TargetDQNAgent settings: gama"),
    (TRAIN, {"agent": {"gamma": "high"}}, None, "agent.gamma must be a number, got 'high'"),
    (TRAIN, {"agent": {"gamma": 1.5}}, None, "agent.gamma must be in [0, 1], got 1.5"),
    (TRAIN, {"agent": {"hidden": [64, "wide"]}}, None, "agent.hidden must be a list of integers"),
    (TRAIN, {"agent": {"dueling": "yes"}}, None, "agent.dueling must be true or false, got 'yes'"),
    (TRAIN, {"target_agent": {"target_update": -5}}, None, "agent.target_update must be an int C >= 1"),
    (TRAIN, {"agent": {"seed": 7}}, None, "agent.seed is set by the command, not the config: use --seed"),
    (TRAIN, {"agent": {"memory_size": 0}}, None, "agent.memory_size must be a positive integer, got 0"),
    (TRAIN, {"agent": {"model": None}}, None, "agent.model is set by the command"),
    (TRAIN, {"train": {"n_envs": 0}}, None, "train.n_envs must be a positive integer, got 0"),
    (TRAIN, {"train": {"batch_size": 1.5}}, None, "train.batch_size must be an integer, got 1.5"),
    (TRAIN, {"train": {"n_env": 2}}, None, "unknown train settings: n_env"),
    (TRAIN, {"train": {"log_dir": "logs"}}, None, "train.log_dir is set by the command, not the config: use --out"),
    (TRAIN, {"train": {"checkpoint_dir": "x"}}, None, "train.checkpoint_dir is set by the command, not the config: "
                                                      "use --out"),  # fmt: skip
    (TRAIN, {"train": {"resume": True}}, None, "train.resume is set by the command, not the config: use --resume"),
    (TRAIN, {"train": {"progress": False}}, None, "use --no-progress"),
    (TRAIN, {"train": {"seed": 1}}, None, "train.seed is set by the command, not the config: use --seed"),
    (TRAIN, {"train": {"callbacks": []}}, None, "the command takes no callbacks"),
    (TRAIN, {"train": {"eval_env": "CartPole-v1"}}, None, "the command evaluates on the training env's id"),
    (TRAIN, {"train": {"target_score": "high"}}, None, "train.target_score must be a number or None"),
    (TRAIN + ["--steps", "0"], None, None, "--steps must be a positive integer, got 0"),
    (TRAIN + ["--seed", "-1"], None, None, "--seed must be a non-negative integer, got -1"),
    (TRAIN + ["--target-score", "nan"], None, None, "--target-score must be finite, got nan"),
    (TRAIN + ["--recipe", "ppo"], None, None, "unknown recipe 'ppo'"),
    (TRAIN + ["--out", "{out}"], None, a_previous_run,
     "already holds a run (checkpoint.npz, last.h5, progress.csv): pass --resume to continue it, --overwrite to start "
     "over, or another --out"),
    (TRAIN + ["--out", "{out}", "--resume", "--overwrite"], None, a_previous_run, "pass one of them"),
    (TRAIN + ["--out", "{out}", "--overwrite"], None, a_run_and_notes, "also holds notes.txt, which no training run"),
    (TRAIN + ["--out", "{out}"], None, a_file, "is a file, not a folder"),
    (TRAIN + ["--out", "{out}", "--resume"], None, an_empty_folder, "nothing to resume: "),
    (TRAIN + ["--resume"], None, None, "nothing to resume: no runs/CartPole-v1-cartpole-target_N folder"),
    (TRAIN + ["--overwrite"], None, None, "--overwrite needs --out"),
    (["play", str(SHIPPED), "--episodes", "-1"], None, None, "keras-dqn play: --episodes must be a positive integer"),
    (["evaluate", str(SHIPPED), "--episodes", "0"], None, None, "keras-dqn evaluate: --episodes must be a positive"),
    (["play", str(SHIPPED), "--seed", "-3"], None, None, "--seed must be a non-negative integer, got -3"),
    (["play", "{out}/broken.h5"], None, weights_with_a_broken_config, "has a broken keras_dqn config: no 'state_size'"),
    (["evaluate", "{out}/broken.h5"], None, weights_with_a_broken_config, "broken.h5' has a broken keras_dqn config"),
    (["play", "{out}"], None, an_empty_folder, "no weights file at"),
]


@pytest.mark.parametrize(("argv", "config", "setup", "fragment"), CASES)
def test_a_mistake_is_one_line_and_exit_2(argv, config, setup, fragment, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    if setup is not None:
        setup(out)
    argv = [arg.replace("{out}", str(out)) for arg in argv]
    if config is not None:
        path = tmp_path / "config.json"
        path.write_text(config if isinstance(config, str) else json.dumps(config))
        argv += ["--config", str(path)]
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    code = main(argv)
    _, err = capsys.readouterr()
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"keras-dqn {argv[0]}: "), err
    assert fragment in lines[0]
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before  # nothing written, nothing removed


def test_the_catalogue_is_long_enough():
    assert len(CASES) >= 15

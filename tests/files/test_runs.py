"""keras_dqn.files.runs: numbered run folders, the folder lock, stale temporary files; keras-dqn train's use of them."""

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import pytest

import keras_dqn
from keras_dqn.files.runs import (
    RunFolderLockedError,
    clean_run_folder,
    clear_run_folder,
    latest_run_folder,
    lock_run_folder,
    lock_run_folders,
    new_run_folder,
    run_files,
)

ROOT = Path(__file__).resolve().parents[2]


def locked_elsewhere(folder: Path) -> bool:
    """Whether a lock on ``folder/.lock`` is held (flock locks belong to an open file, so this sees our own too)."""
    fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def test_numbered_folders_count_up_from_the_highest(tmp_path):
    assert latest_run_folder(tmp_path / "runs", "CartPole-v1-dqn") is None
    first = new_run_folder(tmp_path / "runs", "CartPole-v1-dqn")
    second = new_run_folder(tmp_path / "runs", "CartPole-v1-dqn")
    assert (first.name, second.name) == ("CartPole-v1-dqn_1", "CartPole-v1-dqn_2") and second.is_dir()
    (tmp_path / "runs" / "CartPole-v1-dqn_7").mkdir()
    (tmp_path / "runs" / "CartPole-v1-dqn-x_9").mkdir()  # another name
    assert latest_run_folder(tmp_path / "runs", "CartPole-v1-dqn").name == "CartPole-v1-dqn_7"
    assert new_run_folder(tmp_path / "runs", "CartPole-v1-dqn").name == "CartPole-v1-dqn_8"
    with pytest.raises(ValueError, match="without '/'"):
        new_run_folder(tmp_path, "ALE/Pong-v5")


def test_the_lock_is_reentrant_and_released_by_the_outermost_with(tmp_path):
    folder = tmp_path / "run"
    with lock_run_folder(folder) as locked:
        assert locked == folder and locked_elsewhere(folder)
        assert (folder / ".lock").read_text().strip() == str(os.getpid())
        with lock_run_folders(folder, None, folder) as both:  # as train() inside the command
            assert both == [folder]
        assert locked_elsewhere(folder)
    assert not locked_elsewhere(folder)
    assert (folder / ".lock").read_text() == ""


HOLDER = """
import sys, time
from keras_dqn.files.runs import lock_run_folder
with lock_run_folder(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(120)
"""


def test_a_second_writer_is_refused_while_the_holder_lives_and_welcome_after_kill_9(tmp_path, capsys):
    from keras_dqn.cli.commands import main

    folder = tmp_path / "run"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(folder)], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(RunFolderLockedError, match=rf"is being written by another process \(pid {holder.pid}\)"):
            with lock_run_folder(folder):
                pass
        with pytest.raises(RunFolderLockedError):
            clean_run_folder(folder)  # never removes the temporary file of a save in progress
        code = main(["train", "CartPole-v1", "--out", str(folder), "--no-progress"])
        err = capsys.readouterr().err
        assert code == 2 and f"being written by another process (pid {holder.pid})" in err
        assert len(err.strip().splitlines()) == 1
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    deadline = time.monotonic() + 10
    while locked_elsewhere(folder) and time.monotonic() < deadline:
        time.sleep(0.05)
    with lock_run_folder(folder):  # the OS dropped the dead holder's lock: no stale lock
        pass


def test_clean_removes_the_temporary_files_of_killed_saves_only(tmp_path):
    stale = [".best.h5.0123456789ab.tmp", ".last.h5.ba9876543210.tmp", ".checkpoint.npz.aaaaaaaaaaaa.tmp",
             ".checkpoint.x1y2z3.npz", ".pong-conv-dqn.h5.abc.tmp"]  # fmt: skip
    kept = ["best.h5", "checkpoint.npz", "progress.csv", "notes.tmp", ".hidden"]
    for name in stale + kept:
        (tmp_path / name).write_text("x")
    removed = clean_run_folder(tmp_path)
    assert sorted(p.name for p in removed) == sorted(stale)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*kept, ".lock"])
    assert clean_run_folder(tmp_path / "missing") == []


def test_clear_removes_a_runs_files_or_nothing(tmp_path):
    ours = ["best.h5", "last.h5", "checkpoint.npz", "progress.csv", "events.out.tfevents.1700000000.host.1.v2",
            "learning_curve.png", ".last.h5.0123456789ab.tmp"]  # fmt: skip
    for name in ours:
        (tmp_path / name).write_text("x")
    assert [p.name for p in run_files(tmp_path)] == sorted(n for n in ours if not n.startswith("."))
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "logs").mkdir()
    with pytest.raises(ValueError, match=r"also holds logs/, notes.txt, which no training run wrote; nothing was"):
        clear_run_folder(tmp_path)
    assert len(run_files(tmp_path)) == len(ours) + 1
    (tmp_path / "notes.txt").unlink()
    (tmp_path / "logs").rmdir()
    assert len(clear_run_folder(tmp_path)) == len(ours)
    assert run_files(tmp_path) == [] and sorted(p.name for p in tmp_path.iterdir()) == [".lock"]


# ---------------------------------------------------------------------------------- keras-dqn train's folders
class FakeTrain:
    """Stands in for keras_dqn.train: records its call, writes what a run writes, returns a History."""

    def __init__(self, interrupted_at: int | None = None):
        self.calls = []
        self.interrupted_at = interrupted_at

    def __call__(self, agent, envs, total_steps, **kwargs):
        folder = Path(kwargs["checkpoint_dir"])
        self.calls.append({"total_steps": total_steps, "found": sorted(p.name for p in folder.iterdir()), **kwargs})
        for name in ("last.h5", "checkpoint.npz", "progress.csv"):
            (folder / name).write_text("x")
        history = keras.callbacks.History()
        history.history = {}
        if self.interrupted_at is not None:
            history.interrupted, history.stopped_at_step = True, self.interrupted_at
        return history


@pytest.fixture
def fake_train(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    fake = FakeTrain()
    monkeypatch.setattr(keras_dqn, "train", fake)
    return fake


def cli(capsys, *args):
    from keras_dqn.cli.commands import main

    code = main(["train", "CartPole-v1", "--no-progress", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_each_train_gets_a_new_numbered_folder(fake_train, capsys):
    for number in (1, 2):
        code, out, err = cli(capsys)
        assert code == 0, err
        assert f"logs and checkpoints in runs/CartPole-v1-cartpole-target_{number}" in out
    code, out, err = cli(capsys, "--agent", "dqn")
    assert code == 0 and "logs and checkpoints in runs/CartPole-v1-dqn_1" in out
    assert [str(call["checkpoint_dir"]) for call in fake_train.calls] == [
        "runs/CartPole-v1-cartpole-target_1", "runs/CartPole-v1-cartpole-target_2", "runs/CartPole-v1-dqn_1"]
    assert all(call["log_dir"] == call["checkpoint_dir"] and call["found"] == [".lock"] for call in fake_train.calls)


def test_resume_without_out_continues_the_latest_run(fake_train, capsys):
    cli(capsys)
    cli(capsys)
    code, out, err = cli(capsys, "--resume")
    assert code == 0, err
    assert "resuming the latest run, runs/CartPole-v1-cartpole-target_2" in out
    assert fake_train.calls[-1]["resume"] is True
    assert str(fake_train.calls[-1]["checkpoint_dir"]) == "runs/CartPole-v1-cartpole-target_2"


def test_overwrite_removes_the_previous_runs_files_then_trains(fake_train, capsys, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    for name in ("best.h5", "last.h5", "checkpoint.npz", "progress.csv", "events.out.tfevents.1.host.v2",
                 ".last.h5.0123456789ab.tmp"):  # fmt: skip
        (out / name).write_text("old")
    code, stdout, err = cli(capsys, "--out", str(out), "--overwrite")
    assert code == 0, err
    assert fake_train.calls[0]["found"] == [".lock"] and fake_train.calls[0]["resume"] is False
    assert ("--overwrite: removed the previous run's best.h5, checkpoint.npz, events.out.tfevents.1.host.v2, last.h5, "
            "progress.csv") in stdout
    assert not (out / "best.h5").exists() and (out / "last.h5").read_text() == "x"
    assert sorted(p.name for p in out.iterdir()) == [".lock", "checkpoint.npz", "last.h5", "progress.csv"]


def test_flags_win_over_the_config_and_say_so_once(fake_train, capsys, tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"train": {"total_steps": 500, "target_score": 400, "n_envs": 1}}))
    code, out, err = cli(capsys, "--config", str(config), "--steps", "100", "--target-score", "450")
    assert code == 0, err
    assert out.count("--steps 100 overrides the config's train.total_steps 500") == 1
    assert out.count("--target-score 450 overrides the config's train.target_score 400") == 1
    call = fake_train.calls[0]
    assert call["total_steps"] == 100 and call["target_score"] == 450.0 and call["seed"] == 0
    code, out, err = cli(capsys, "--config", str(config))
    assert code == 0 and "overrides" not in out
    assert fake_train.calls[1]["total_steps"] == 500 and fake_train.calls[1]["target_score"] == 400


def test_ctrl_c_prints_how_to_resume_and_exits_130(fake_train, capsys, monkeypatch):
    monkeypatch.setattr(keras_dqn, "train", FakeTrain(interrupted_at=1234))
    code, out, err = cli(capsys, "--agent", "dqn", "--steps", "5000", "--out", "runs/my run")
    assert code == 130, err
    assert out.splitlines()[-1] == ("stopped at step 1234; resume with: keras-dqn train CartPole-v1 --agent dqn "
                                    "--steps 5000 --out 'runs/my run' --resume")  # fmt: skip


def test_resume_from_a_truncated_checkpoint_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "run"
    out.mkdir()
    (out / "checkpoint.npz").write_bytes(b"PK\x03\x04 truncated")
    code, _, err = cli(capsys, "--steps", "16", "--out", str(out), "--resume")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "is not a readable checkpoint, truncated or corrupt" in err and "checkpoint.npz" in err

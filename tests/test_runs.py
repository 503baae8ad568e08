"""keras_dqn.runs: numbered run folders, the folder lock, stale temporary files; and keras-dqn train's use of them."""

import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from keras_dqn.runs import (
    RunFolderLockedError,
    clean_run_folder,
    clear_run_folder,
    latest_run_folder,
    lock_run_folder,
    lock_run_folders,
    new_run_folder,
    run_files,
)

ROOT = Path(__file__).resolve().parents[1]


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
from keras_dqn.runs import lock_run_folder
with lock_run_folder(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(120)
"""


def test_a_second_writer_is_refused_while_the_holder_lives_and_welcome_after_kill_9(tmp_path):
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

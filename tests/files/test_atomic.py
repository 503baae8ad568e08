"""Atomic saves: the old file survives a failed save, no temp file is left, errors name the destination."""

import errno
import os

import numpy as np
import pytest

from keras_dqn import DQNAgent
from keras_dqn.files.atomic import atomic_write, remove_stale_temp_files
from keras_dqn.files.checkpoint import save_checkpoint


def write_bytes(data):
    return lambda tmp: tmp.write_bytes(data)


def test_atomic_write_replaces_the_file_and_leaves_nothing_else(tmp_path):
    path = tmp_path / "sub" / "data.bin"  # the folder is created
    assert atomic_write(path, write_bytes(b"one")) == path
    atomic_write(path, write_bytes(b"two"))
    assert path.read_bytes() == b"two" and os.listdir(path.parent) == ["data.bin"]


def test_weights_and_checkpoints_get_the_same_usual_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        agent = DQNAgent(4, 2)
        agent.save(tmp_path / "w.h5")
        save_checkpoint(agent, tmp_path, {})
        atomic_write(tmp_path / "plain.bin", write_bytes(b"x"))
    finally:
        os.umask(umask)
    modes = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()}
    assert modes == {"w.h5": 0o644, "checkpoint.npz": 0o644, "plain.bin": 0o644}


def test_a_failing_write_keeps_the_old_file_and_removes_its_temp_file(tmp_path):
    path = tmp_path / "data.bin"
    atomic_write(path, write_bytes(b"good"))

    def half_then_fail(tmp):
        tmp.write_bytes(b"ha")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):  # not an OSError: passed on as it is
        atomic_write(path, half_then_fail)
    assert path.read_bytes() == b"good" and os.listdir(tmp_path) == ["data.bin"]


def test_errors_name_the_destination_not_the_temp_file(tmp_path):
    path = tmp_path / "data.bin"

    def no_space(tmp):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp))

    with pytest.raises(OSError, match=rf"could not write '{path}': No space left on device$") as caught:
        atomic_write(path, no_space)
    assert caught.value.errno == errno.ENOSPC and ".tmp" not in str(caught.value)

    def denied(tmp):
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp))

    with pytest.raises(PermissionError, match=f"could not write '{path}'"):  # the subclass follows errno
        atomic_write(path, denied)

    def library_error(tmp):  # h5py's style: no errno, the file named inside the message
        raise OSError(f"Unable to synchronously create file (name = '{tmp}')")

    with pytest.raises(OSError, match=rf"could not write '{path}': .*\(name = '{path}'\)"):
        atomic_write(path, library_error)
    assert os.listdir(tmp_path) == []


def test_a_folder_that_cannot_be_made_is_named_with_the_destination(tmp_path):
    (tmp_path / "taken").write_text("a file, not a folder")
    path = tmp_path / "taken" / "w.h5"
    with pytest.raises(OSError, match=rf"could not write '{path}': .*'{tmp_path / 'taken'}'"):
        DQNAgent(4, 2).save(path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_an_unwritable_folder_is_a_permission_error_naming_the_destination(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(PermissionError, match=f"could not write '{folder / 'checkpoint.npz'}'"):
            save_checkpoint(DQNAgent(4, 2), folder, {})
    finally:
        folder.chmod(0o700)


def test_a_temp_file_that_cannot_be_created_is_reported_as_the_destination(tmp_path, monkeypatch):
    """What a read-only folder does to a user who is not root (see the test above)."""

    def refuse(name, *args):
        raise PermissionError(errno.EACCES, "Permission denied", name)

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(PermissionError, match=rf"could not write '{tmp_path / 'w.bin'}': Permission denied$"):
        atomic_write(tmp_path / "w.bin", write_bytes(b"x"))


def test_a_later_save_removes_what_killed_saves_left(tmp_path):
    stale = [tmp_path / ".checkpoint.npz.a1b2.tmp", tmp_path / ".checkpoint.npz.c3d4.tmp"]
    others = [tmp_path / ".best.h5.e5f6.tmp", tmp_path / "notes.tmp", tmp_path / ".checkpoint.npz.keep"]
    for p in stale + others:
        p.write_bytes(b"partial")
    save_checkpoint(DQNAgent(4, 2), tmp_path, {"steps": 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["checkpoint.npz", *(p.name for p in others)])
    assert remove_stale_temp_files(tmp_path, ["best.h5", "last.h5"]) == [others[0]]
    assert not others[0].exists()


def test_a_failed_checkpoint_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    agent = DQNAgent(4, 2, seed=0)
    save_checkpoint(agent, tmp_path, {"steps": 1})
    before = (tmp_path / "checkpoint.npz").read_bytes()

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "savez", disk_full)
    with pytest.raises(OSError, match=f"could not write '{tmp_path / 'checkpoint.npz'}'"):
        save_checkpoint(agent, tmp_path, {"steps": 2})
    assert (tmp_path / "checkpoint.npz").read_bytes() == before and os.listdir(tmp_path) == ["checkpoint.npz"]

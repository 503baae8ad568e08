"""Run folders: where one training run keeps its weights, checkpoint and logs.

A run folder holds ``best.h5``, ``last.h5``, ``checkpoint.npz``, ``progress.csv`` and
TensorBoard event files (:func:`keras_dqn.train` with ``checkpoint_dir``/``log_dir``).  This
module keeps two runs from mixing in one folder:

* :func:`new_run_folder` makes a fresh numbered folder ``ROOT/NAME_1``, ``NAME_2``... (the
  rl-baselines3-zoo habit), so ``keras-dqn train`` never overwrites a previous run;
* :func:`lock_run_folder` holds an OS lock (``flock`` on ``FOLDER/.lock``) while a process
  writes the folder: a second writer gets :class:`RunFolderLockedError` naming the first
  one's pid.  The OS drops the lock when the process ends, even by ``kill -9``, so a crash
  never leaves a stale lock behind;
* :func:`clean_run_folder` removes the temporary files of saves that were killed halfway;
* :func:`run_files` and :func:`clear_run_folder` say what a previous run left and remove it.

In :func:`keras_dqn.train`::

    with lock_run_folders(checkpoint_dir, log_dir):   # locks and cleans each one (None skipped)
        ...
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

from keras_dqn.files.atomic import remove_stale_temp_files
from keras_dqn.files.checkpoint import CHECKPOINT_NAME

try:
    import fcntl
except ImportError:  # Windows: folders are not locked
    fcntl = None

LOCK_NAME = ".lock"
RUN_FILES = ("best.h5", "last.h5", CHECKPOINT_NAME, "progress.csv", "learning_curve.png")
"""The files a run writes to its folder (``learning_curve.png``: ``keras-dqn plot``'s default)."""
TENSORBOARD_GLOB = "events.out.tfevents.*"
# Temporary files of the saves before keras_dqn.files.atomic.atomic_write: np.savez's ".checkpoint.<random>.npz"
# and the weights' ".<name>.h5.<random>.tmp".
_LEGACY_TEMP_GLOBS = (".checkpoint.*.npz", ".*.h5.*.tmp")


class RunFolderLockedError(RuntimeError):
    """Another process is writing the run folder."""


_held: dict[Path, list] = {}  # folder (resolved) -> [lock file descriptor, how many times this process holds it]
_held_guard = threading.Lock()


@contextlib.contextmanager
def lock_run_folder(folder: str | os.PathLike) -> Iterator[Path]:
    """Hold ``folder``'s lock for the ``with`` block: no other process may write the folder meanwhile.

    The folder is created if missing; the lock is ``flock(LOCK_EX | LOCK_NB)`` on
    ``folder/.lock``, which holds the owner's pid.  The OS releases it when the process ends,
    however it ends.  Re-entering is fine: a process that already holds the lock (the
    ``keras-dqn`` command around :func:`keras_dqn.train`, say) takes it again at once, and it
    is released when the outermost ``with`` ends.  (On systems without ``fcntl`` nothing is
    locked.)

    Yields:
        ``folder`` as a ``Path``.

    Raises:
        RunFolderLockedError: another process holds the lock; the message names the folder
            and that process's pid.
        OSError: the folder or its lock file could not be created.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if fcntl is None:
        yield folder
        return
    key = folder.resolve()
    with _held_guard:
        if key in _held:
            _held[key][1] += 1
        else:
            _held[key] = [_acquire(folder), 1]
    try:
        yield folder
    finally:
        with _held_guard:
            _held[key][1] -= 1
            if _held[key][1] == 0:
                _release(_held.pop(key)[0])


def _acquire(folder: Path) -> int:
    fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        owner = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise RunFolderLockedError(
            f"{folder} is being written by another process (pid {owner}); wait for it to end or write elsewhere"
        ) from None
    except BaseException:
        os.close(fd)
        raise
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def _release(fd: int) -> None:
    try:
        os.ftruncate(fd, 0)  # no pid of a finished process left behind (the file stays: see flock(2))
    except OSError:
        pass
    finally:
        os.close(fd)  # closing drops the lock


@contextlib.contextmanager
def lock_run_folders(*folders: str | os.PathLike | None) -> Iterator[list[Path]]:
    """Lock (:func:`lock_run_folder`) and clean (:func:`clean_run_folder`) each folder for the ``with`` block.

    Args:
        *folders: run folders, e.g. ``checkpoint_dir, log_dir``; ``None`` ones are skipped
            and a folder given twice is locked once.

    Yields:
        The folders locked, as ``Path``s.

    Raises:
        RunFolderLockedError: one of them is being written by another process (the ones
            locked before it are released).
    """
    unique = list(dict.fromkeys(Path(f) for f in folders if f is not None))
    with contextlib.ExitStack() as stack:
        for folder in unique:
            stack.enter_context(lock_run_folder(folder))
            clean_run_folder(folder)
        yield unique


def clean_run_folder(folder: str | os.PathLike) -> list[Path]:
    """Remove the temporary files that saves killed halfway left in ``folder``.

    That is ``.NAME.<random>.tmp`` for each of :data:`RUN_FILES` (see
    :func:`keras_dqn.files.atomic.remove_stale_temp_files`), and the older ``.checkpoint.<random>.npz``
    and ``.<name>.h5.<random>.tmp``.  The folder's lock is taken meanwhile (re-entrant), so
    the temporary file of a save in progress in another process is never removed.

    Returns:
        The files removed (none when ``folder`` does not exist).

    Raises:
        RunFolderLockedError: another process is writing the folder.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    with lock_run_folder(folder):
        removed = remove_stale_temp_files(folder, RUN_FILES)
        for pattern in _LEGACY_TEMP_GLOBS:
            for stale in folder.glob(pattern):
                if stale.is_file():
                    stale.unlink(missing_ok=True)
                    removed.append(stale)
    return removed


def run_files(folder: str | os.PathLike) -> list[Path]:
    """What a previous run left in ``folder``: its entries but the hidden ones (the lock, temporary files), sorted.

    An empty list when ``folder`` does not exist.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


def _is_run_file(path: Path) -> bool:
    return path.is_file() and (path.name in RUN_FILES or path.match(TENSORBOARD_GLOB))


def check_clearable(folder: str | os.PathLike) -> list[Path]:
    """The files :func:`clear_run_folder` would remove from ``folder`` (those of :func:`run_files`).

    Raises:
        ValueError: the folder holds files or folders that no run wrote (the message lists
            them): it would remove nothing.
    """
    folder = Path(folder)
    found = run_files(folder)
    foreign = [p.name + ("/" if p.is_dir() else "") for p in found if not _is_run_file(p)]
    if foreign:
        raise ValueError(
            f"{folder} also holds {', '.join(foreign)}, which no training run wrote; "
            "nothing was removed (move them, or choose another folder)"
        )
    return found


def clear_run_folder(folder: str | os.PathLike) -> list[Path]:
    """Remove a previous run's files from ``folder`` (to start over in it): all or nothing.

    Only the files runs write are removed (:data:`RUN_FILES`, TensorBoard event files, and
    the temporary files of killed saves); if the folder holds anything else, nothing is
    removed.  The folder's lock is held meanwhile.

    Returns:
        The files removed.

    Raises:
        ValueError: the folder holds files or folders that no run wrote (the message lists
            them).
        RunFolderLockedError: another process is writing the folder.
    """
    folder = Path(folder)
    with lock_run_folder(folder):
        found = check_clearable(folder)
        removed = clean_run_folder(folder)
        for path in found:
            path.unlink()
    return removed + found


def _numbered(root: Path, name: str) -> dict[int, Path]:
    pattern = re.compile(re.escape(name) + r"_(\d+)")
    found = {}
    if root.is_dir():
        for path in root.iterdir():
            match = pattern.fullmatch(path.name)
            if match and path.is_dir():
                found[int(match.group(1))] = path
    return found


def latest_run_folder(root: str | os.PathLike, name: str) -> Path | None:
    """The highest-numbered folder ``root/name_N``, or ``None`` when there is none."""
    found = _numbered(Path(root), name)
    return found[max(found)] if found else None


def new_run_folder(root: str | os.PathLike, name: str) -> Path:
    """Create and return ``root/name_N``, N one more than the highest number there (1 for the first).

    Numbers are never reused, so runs sort in the order they were started; two processes
    starting at once get different folders.

    Args:
        root: the folder of runs, e.g. ``"runs"`` (created if missing).
        name: the run's name, e.g. ``"CartPole-v1-cartpole-target"`` (no ``/``).
    """
    if not name or "/" in name or os.sep in name:
        raise ValueError(f"a run name must be a non-empty name without '/', got {name!r}")
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    number = max(_numbered(root, name), default=0) + 1
    while True:
        folder = root / f"{name}_{number}"
        try:
            folder.mkdir()
            return folder
        except FileExistsError:  # another process took this number (or a file has the name): the next one
            number += 1

"""Saving files safely: write beside the destination, then rename into place.

Every file keras_dqn saves (weights ``.h5``, ``checkpoint.npz``) goes through
:func:`atomic_write`, so a crash or an error while saving never leaves a half-written file
where a good one was: the old file stays until the new one is complete.
"""

from __future__ import annotations

import glob
import os
import secrets
from collections.abc import Callable, Iterable
from pathlib import Path

TEMP_SUFFIX = ".tmp"


def _temp_pattern(name: str) -> str:
    """Glob matching the temporary files of saves to a destination called ``name``."""
    return f".{glob.escape(name)}.*{TEMP_SUFFIX}"


def remove_stale_temp_files(folder: str | os.PathLike, names: Iterable[str]) -> list[Path]:
    """Delete the temporary files that killed saves to ``folder/NAME`` left, for each of ``names``.

    A save that is killed (not one that fails: that cleans up after itself) leaves its hidden
    ``.NAME.*.tmp`` file behind; the next save to the same destination calls this.

    Returns:
        The files removed.
    """
    removed = []
    for name in names:
        for stale in Path(folder).glob(_temp_pattern(name)):
            stale.unlink(missing_ok=True)
            removed.append(stale)
    return removed


def _create_temp_file(path: Path) -> Path:
    """A new empty hidden file beside ``path``, with the usual mode (0o666 less the umask)."""
    while True:
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}{TEMP_SUFFIX}")
        try:
            os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
            return tmp
        except FileExistsError:  # 48 random bits collided: draw again
            continue


def _naming_destination(error: OSError, tmp: Path | None, path: Path) -> OSError:
    """``error`` told about ``path``, never about the temporary file (which is gone)."""
    if error.errno is not None and error.strerror:
        detail = error.strerror
        filename = None if error.filename is None else Path(os.fsdecode(error.filename))
        if filename is not None and not (filename.parent == path.parent and filename.match(_temp_pattern(path.name))):
            detail += f": {str(filename)!r}"  # another file's fault, e.g. a parent that is a file
        return OSError(error.errno, f"could not write {str(path)!r}: {detail}")  # errno picks the subclass
    detail = str(error) if tmp is None else str(error).replace(str(tmp), str(path))
    return OSError(f"could not write {str(path)!r}: {detail}")


def atomic_write(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Save a file by calling ``write(tmp)`` on a temporary file beside ``path``, then renaming it to ``path``.

    The temporary file is hidden (``.NAME.<random>.tmp``) in the destination's folder (created
    if missing), so the rename is atomic: readers see the old file or the new one, never half
    of one.  The new file gets the usual permissions (``0o666`` less the umask), whatever the
    old one had.  Leftovers of killed saves to the same destination are removed first (see
    :func:`remove_stale_temp_files`).  Saving to one destination from two processes at once is
    not supported.

    Args:
        path: the destination.
        write: writes the whole file at the path it is given (an existing, empty file).

    Returns:
        ``path``, as a ``Path``.

    Raises:
        OSError: the folder or file could not be written, or ``write`` raised one; the message
            names ``path`` (not the temporary file).  The subclass (``PermissionError``...)
            follows the error number.  Any other exception of ``write`` propagates as it is.
            Either way the temporary file is removed and an existing ``path`` is untouched.
    """
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temp_files(path.parent, [path.name])
        tmp = _create_temp_file(path)
        write(tmp)
        os.replace(tmp, path)
    except BaseException as error:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise _naming_destination(error, tmp, path) from error
        raise
    return path

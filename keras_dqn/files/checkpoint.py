"""Training checkpoints: everything needed to resume, in one ``checkpoint.npz``.

What an agent needs to continue training exactly is its ``state_dict()``
(:class:`keras_dqn.agents.state.TrainingState`); the loop adds its own progress.  This module
stores both as data and reads them back, checked, through ``agent.load_state_dict``.  The file
is written beside its destination and renamed into place
(:func:`keras_dqn.files.atomic.atomic_write`), so a crash while saving leaves the previous
checkpoint.

The file: arrays ``model/<i>``, ``optimizer/<i>``, ``target/<i>`` (if the agent has a target
network), ``noise/model/<i>`` and ``noise/target/<i>`` (the noise generators' states of the
networks' :class:`~keras_dqn.networks.noisy.NoisyDense` layers, which weights leave out), and
``memory/<field>`` (the array fields of ``agent.memory.state_dict()``), and ``meta``, a JSON
string holding the rest: agent class, epsilon, counters, RNG state, the memory's other fields
(counters, n-step lanes, the largest priority), the loop's progress and, for an agent that has
one, the ``precision`` its network computed in.
"""

from __future__ import annotations

import json
import os
import warnings
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from keras_dqn.files.atomic import atomic_write

CHECKPOINT_NAME = "checkpoint.npz"
_META_KEYS = ("agent", "epsilon", "train_steps", "rng", "memory", "progress")


def save_checkpoint(
    agent,
    folder: str | os.PathLike,
    progress: dict[str, Any],
    include_memory: bool = False,
    loop_arrays: dict[str, np.ndarray] | None = None,
) -> Path:
    """Write ``folder/checkpoint.npz`` for ``agent`` and the loop's ``progress`` (JSON-able dict).

    ``loop_arrays`` are the training loop's own arrays (observations in progress, the envs' states as JSON),
    stored as ``loop/<name>`` and handed back by :func:`load_checkpoint` as ``progress["loop_arrays"]``.

    Raises:
        OSError: the file could not be written (the message names it); a previous
            checkpoint there is left as it was.
    """
    state = agent.state_dict(include_memory=include_memory)
    arrays: dict[str, np.ndarray] = {}
    for name in ("model", "optimizer", "target"):
        arrays.update({f"{name}/{i}": a for i, a in enumerate(state.pop(name) or [])})
    for network, states in state.pop("noise").items():  # noisy layers' generators: not among the weights
        arrays.update({f"noise/{network}/{i}": a for i, a in enumerate(states)})
    memory = state.pop("memory")
    if memory is not None:
        arrays.update({f"memory/{k}": v for k, v in memory.items() if isinstance(v, np.ndarray)})
        memory = {k: v for k, v in memory.items() if not isinstance(v, np.ndarray)}
    meta = {"agent": type(agent).__name__, **state, "memory": memory, "progress": progress,
            "precision": getattr(agent, "precision", None)}  # fmt: skip
    arrays["meta"] = np.array(json.dumps(meta))
    arrays.update({f"loop/{name}": np.asarray(a) for name, a in (loop_arrays or {}).items()})

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:  # a file object: given a name, np.savez would append ".npz"
            np.savez(f, **arrays)

    return atomic_write(Path(folder) / CHECKPOINT_NAME, write)


def _read(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The checkpoint's meta and arrays, or one ValueError naming the file if it is not readable."""
    expected = f"expected a {CHECKPOINT_NAME} written by keras_dqn's save_checkpoint"
    try:
        data = np.load(path)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise ValueError(f"it holds one array, not an archive; {expected}")
        with data:
            arrays = {key: data[key] for key in data.files}
        if "meta" not in arrays:
            raise ValueError(f"it has no 'meta' entry; {expected}")
        meta = json.loads(str(arrays.pop("meta")))
    except (OSError, EOFError, ValueError, zipfile.BadZipFile, zlib.error) as error:
        reason = str(error).split(". ")[0]  # NumPy's first sentence; not its advice to unpickle
        raise ValueError(
            f"{str(path)!r} is not a readable checkpoint, truncated or corrupt ({reason}); {expected}"
        ) from error
    missing = [key for key in _META_KEYS if key not in meta] if isinstance(meta, dict) else list(_META_KEYS)
    if missing:
        raise ValueError(f"{str(path)!r} is not a readable checkpoint: its meta lacks {missing}; {expected}")
    return meta, arrays


def checkpoint_precision(folder: str | os.PathLike) -> str | None:
    """The precision the agent of ``folder/checkpoint.npz`` computed in (``None``: an agent
    without one, or a checkpoint older than this record); a resumed run of an agent built
    with ``precision="auto"`` takes it, so it computes as it did.

    Raises:
        FileNotFoundError: no checkpoint in ``folder``.
        ValueError: the checkpoint is not readable (the message names the file)."""
    path = Path(folder) / CHECKPOINT_NAME
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint to resume from at {str(path)!r}")
    return _read(path)[0].get("precision")


def _numbered(arrays: dict[str, np.ndarray], prefix: str) -> list[np.ndarray | None]:
    """``prefix/0``, ``prefix/1``... of ``arrays`` (``None`` where one is missing)."""
    return [arrays.get(f"{prefix}/{i}") for i in range(sum(key.startswith(f"{prefix}/") for key in arrays))]


def load_checkpoint(agent, folder: str | os.PathLike) -> dict[str, Any]:
    """Restore ``agent`` from ``folder/checkpoint.npz``; return the saved loop progress
    (with the saved ``loop_arrays`` under that key, if any were saved).

    Everything is checked before anything of the agent is changed.

    Raises:
        FileNotFoundError: no checkpoint in ``folder``.
        ValueError: the checkpoint is truncated or corrupt, or was written by another kind of
            agent, network or replay memory; the message names the file.
    """
    path = Path(folder) / CHECKPOINT_NAME
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint to resume from at {str(path)!r}")
    meta, arrays = _read(path)
    if meta["agent"] != type(agent).__name__:
        raise ValueError(f"{str(path)!r} is a {meta['agent']} checkpoint; this agent is a {type(agent).__name__}")
    state = {key: meta[key] for key in ("epsilon", "exploration", "train_steps", "rng") if key in meta}
    state.update({name: _numbered(arrays, name) for name in ("model", "optimizer", "target")})
    state["noise"] = {network: _numbered(arrays, f"noise/{network}") for network in ("model", "target")}
    if meta["memory"] is not None:
        state["memory"] = {**meta["memory"], **{key.removeprefix("memory/"): a for key, a in arrays.items()
                                                 if key.startswith("memory/")}}  # fmt: skip
    try:
        agent.load_state_dict(state)
    except ValueError as error:  # "holds model arrays of shapes ..."
        raise ValueError(f"{str(path)!r} {error}") from None
    saved_precision = meta.get("precision")
    if saved_precision is not None and saved_precision != getattr(agent, "precision", saved_precision):
        warnings.warn(
            f"{str(path)!r} was trained computing in {saved_precision} and this agent computes in "
            f"{agent.precision}: the run goes on, but does not repeat the uninterrupted one exactly "
            f"(build the agent with precision={saved_precision!r} for that)",
            stacklevel=3,
        )
    progress = dict(meta["progress"])
    loop = {key.removeprefix("loop/"): a for key, a in arrays.items() if key.startswith("loop/")}
    if loop:
        progress["loop_arrays"] = loop
    return progress

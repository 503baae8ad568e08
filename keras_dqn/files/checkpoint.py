"""Training checkpoints: everything needed to resume, in one ``checkpoint.npz``.

A weights file (``agent.save``) is enough to *play*.  To *continue training* exactly where
it stopped you also need the optimizer's state (Adam's moments and step counter), epsilon,
the agent's counters and random-generator state, the target network, and the training
loop's own progress; optionally the replay memory.  The file is written beside its
destination and renamed into place (:func:`keras_dqn.files.atomic.atomic_write`), so a crash while
saving leaves the previous checkpoint.

The file: arrays ``model/<i>``, ``optimizer/<i>``, ``target/<i>`` (if the agent has a target
network), ``noise/model/<i>`` and ``noise/target/<i>`` (the noise generators' states of the
networks' :class:`~keras_dqn.networks.noisy.NoisyDense` layers, which weights leave out), and
``memory/<field>`` (the array fields of ``agent.memory.state_dict()``), and ``meta``, a JSON
string holding the rest: agent class, epsilon, counters, RNG state, the memory's other fields
(counters, n-step lanes, the largest priority) and the loop's progress.
"""

from __future__ import annotations

import json
import os
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from keras_dqn.exploration import schedule_config, schedule_from_config
from keras_dqn.files.atomic import atomic_write
from keras_dqn.networks.noisy import noise_states, set_noise_states

CHECKPOINT_NAME = "checkpoint.npz"
_META_KEYS = ("agent", "epsilon", "train_steps", "rng", "memory", "progress")


def _networks(agent) -> dict[str, Any]:
    """The agent's networks by the names their arrays have in the file: the model and, if it has one, the target."""
    target = getattr(agent, "target_model", None)
    return {"model": agent.model} if target is None else {"model": agent.model, "target": target}


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
    arrays: dict[str, np.ndarray] = {}
    for i, w in enumerate(agent.model.get_weights()):
        arrays[f"model/{i}"] = w
    optimizer = agent.model.optimizer
    if not optimizer.built:  # no training step yet: save its (zero) slots all the same
        optimizer.build(agent.model.trainable_variables)
    for i, v in enumerate(optimizer.variables):
        arrays[f"optimizer/{i}"] = np.asarray(v.numpy())
    target = getattr(agent, "target_model", None)
    if target is not None:
        for i, w in enumerate(target.get_weights()):
            arrays[f"target/{i}"] = w
    for name, network in _networks(agent).items():  # noisy layers' generators: not among the weights
        for i, state in enumerate(noise_states(network)):
            arrays[f"noise/{name}/{i}"] = state
    memory_meta = None
    if include_memory:
        state = agent.memory.state_dict()
        arrays.update({f"memory/{k}": v for k, v in state.items() if isinstance(v, np.ndarray)})
        memory_meta = {k: v for k, v in state.items() if not isinstance(v, np.ndarray)}
    meta = {
        "agent": type(agent).__name__,
        "epsilon": agent.epsilon,
        "exploration": schedule_config(agent.exploration),  # None: a schedule of the user's own
        "train_steps": agent.train_steps,
        "rng": agent.rng.bit_generator.state,
        "memory": memory_meta,
        "progress": progress,
    }
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


def _numbered(arrays: dict[str, np.ndarray], prefix: str, shapes: list[tuple], path: Path) -> list[np.ndarray]:
    """``prefix/0``, ``prefix/1``... of ``arrays``, checked against the ``shapes`` they must have."""
    saved = [arrays.get(f"{prefix}/{i}") for i in range(sum(key.startswith(f"{prefix}/") for key in arrays))]
    found = [None if a is None else tuple(a.shape) for a in saved]
    if found != shapes:
        raise ValueError(f"{str(path)!r} holds {prefix} arrays of shapes {found}, this agent's are {shapes}")
    return saved


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
    weights = _numbered(arrays, "model", [tuple(w.shape) for w in agent.model.weights], path)
    optimizer = agent.model.optimizer
    if not optimizer.built:
        optimizer.build(agent.model.trainable_variables)
    slots = _numbered(arrays, "optimizer", [tuple(v.shape) for v in optimizer.variables], path)
    target = getattr(agent, "target_model", None)
    if target is not None:
        target_weights = _numbered(arrays, "target", [tuple(w.shape) for w in target.weights], path)
    noise = {name: _numbered(arrays, f"noise/{name}", [tuple(s.shape) for s in noise_states(network)], path)
             for name, network in _networks(agent).items()}  # fmt: skip
    if meta["memory"] is not None:  # checked and restored first: it is the last thing that can fail
        state = dict(meta["memory"])
        state.update({key.removeprefix("memory/"): a for key, a in arrays.items() if key.startswith("memory/")})
        try:
            agent.memory.load_state_dict(state)
        except ValueError as error:  # "FrameReplayBuffer state: 'frames' should be..."
            raise ValueError(f"{str(path)!r} holds a replay memory that does not fit this agent's {error}") from None
    agent.model.set_weights(weights)
    for variable, value in zip(optimizer.variables, slots, strict=True):
        variable.assign(value)
    if target is not None:
        target.set_weights(target_weights)
    for name, network in _networks(agent).items():
        set_noise_states(network, noise[name])
    if hasattr(optimizer.learning_rate, "assign"):  # the agent's setting wins (a schedule keeps its own)
        optimizer.learning_rate.assign(agent.learning_rate)
    agent.epsilon = meta["epsilon"]
    if meta.get("exploration"):  # the schedule the run was following (None: a schedule of the user's own)
        agent.exploration = schedule_from_config(meta["exploration"])
    agent.train_steps = meta["train_steps"]
    agent.rng.bit_generator.state = meta["rng"]
    agent.refresh_policy()
    progress = dict(meta["progress"])
    loop = {key.removeprefix("loop/"): a for key, a in arrays.items() if key.startswith("loop/")}
    if loop:
        progress["loop_arrays"] = loop
    return progress

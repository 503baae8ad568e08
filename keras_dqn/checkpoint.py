"""Training checkpoints: everything needed to resume, in one ``checkpoint.npz``.

A weights file (``agent.save``) is enough to *play*.  To *continue training* exactly where
it stopped you also need the optimizer's state (Adam's moments and step counter), epsilon,
the agent's counters and random-generator state, the target network, and the training
loop's own progress; optionally the replay memory.  The file is written beside its
destination and renamed into place, so a crash while saving leaves the previous checkpoint.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

CHECKPOINT_NAME = "checkpoint.npz"
_LEGACY_COUNTERS = {"next": "_next", "size": "_size"}  # names in checkpoints of keras_dqn <= 8f74784


def save_checkpoint(agent, folder: str | os.PathLike, progress: dict[str, Any], include_memory: bool = False) -> Path:
    """Write ``folder/checkpoint.npz`` for ``agent`` and the loop's ``progress`` (JSON-able dict)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
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
    memory = agent.memory
    if include_memory:
        for field in memory.ARRAYS:  # each buffer class names the arrays that hold its contents
            arrays[f"memory/{field}"] = getattr(memory, field)
    meta = {
        "agent": type(agent).__name__,
        "epsilon": agent.epsilon,
        "train_steps": agent.train_steps,
        "rng": agent.rng.bit_generator.state,
        "memory": {name: int(getattr(memory, name)) for name in memory.COUNTERS} if include_memory else None,
        "progress": progress,
    }
    arrays["meta"] = np.array(json.dumps(meta))
    fd, tmp = tempfile.mkstemp(prefix=".checkpoint.", suffix=".npz", dir=folder)
    os.close(fd)
    try:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, folder / CHECKPOINT_NAME)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return folder / CHECKPOINT_NAME


def load_checkpoint(agent, folder: str | os.PathLike) -> dict[str, Any]:
    """Restore ``agent`` from ``folder/checkpoint.npz``; return the saved loop progress.

    Raises:
        FileNotFoundError: no checkpoint in ``folder``.
        ValueError: the checkpoint was written by another kind of agent or network.
    """
    path = Path(folder) / CHECKPOINT_NAME
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint to resume from at {str(path)!r}")
    with np.load(path) as data:
        meta = json.loads(str(data["meta"]))
        if meta["agent"] != type(agent).__name__:
            raise ValueError(f"{str(path)!r} is a {meta['agent']} checkpoint; this agent is a {type(agent).__name__}")
        n_saved = sum(key.startswith("model/") for key in data.files)
        weights = [data[f"model/{i}"] for i in range(min(n_saved, len(agent.model.weights)))]
        expected = [tuple(w.shape) for w in agent.model.weights]
        if [w.shape for w in weights] != expected or n_saved != len(expected):
            shapes = [w.shape for w in weights]
            raise ValueError(f"{str(path)!r} holds weights of shapes {shapes}, the model has {expected}")
        optimizer = agent.model.optimizer
        if not optimizer.built:
            optimizer.build(agent.model.trainable_variables)
        agent.model.set_weights(weights)
        for i, v in enumerate(optimizer.variables):
            v.assign(data[f"optimizer/{i}"])
        target = getattr(agent, "target_model", None)
        if target is not None:
            target.set_weights([data[f"target/{i}"] for i in range(len(target.weights))])
        if meta["memory"] is not None:
            memory = agent.memory
            counters = {_LEGACY_COUNTERS.get(name, name): value for name, value in meta["memory"].items()}
            saved = {field: data[f"memory/{field}"] for field in memory.ARRAYS if f"memory/{field}" in data.files}
            mismatched = [f for f in memory.ARRAYS if f not in saved or saved[f].shape != getattr(memory, f).shape]
            if mismatched:
                field = mismatched[0]
                found = saved[field].shape if field in saved else "nothing"
                raise ValueError(
                    f"{str(path)!r} holds a replay memory that does not fit this agent's {type(memory).__name__}: "
                    f"{field!r} is {found} there and {getattr(memory, field).shape} here"
                )
            if set(counters) != set(memory.COUNTERS):
                raise ValueError(
                    f"{str(path)!r} holds a replay memory with counters {sorted(counters)}; this agent's "
                    f"{type(memory).__name__} keeps {sorted(memory.COUNTERS)}"
                )
            for field, array in saved.items():
                getattr(memory, field)[...] = array
            for name, value in counters.items():
                setattr(memory, name, value)
            if hasattr(memory, "after_restore"):
                memory.after_restore()
    optimizer.learning_rate.assign(agent.learning_rate)  # the agent's setting wins
    agent.epsilon = meta["epsilon"]
    agent.train_steps = meta["train_steps"]
    agent.rng.bit_generator.state = meta["rng"]
    agent.refresh_policy()
    return meta["progress"]

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
_MEMORY_FIELDS = ("states", "next_states", "actions", "rewards", "dones")


def save_checkpoint(agent, folder: str | os.PathLike, progress: dict[str, Any], include_memory: bool = False) -> Path:
    """Write ``folder/checkpoint.npz`` for ``agent`` and the loop's ``progress`` (JSON-able dict)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray] = {}
    for i, w in enumerate(agent.model.get_weights()):
        arrays[f"model/{i}"] = w
    for i, v in enumerate(agent.model.optimizer.variables):
        arrays[f"optimizer/{i}"] = np.asarray(v.numpy())
    target = getattr(agent, "target_model", None)
    if target is not None:
        for i, w in enumerate(target.get_weights()):
            arrays[f"target/{i}"] = w
    memory = agent.memory
    if include_memory:
        for field in _MEMORY_FIELDS:
            arrays[f"memory/{field}"] = getattr(memory, field)
    meta = {
        "agent": type(agent).__name__,
        "epsilon": agent.epsilon,
        "train_steps": agent.train_steps,
        "rng": agent.rng.bit_generator.state,
        "memory": {"next": memory._next, "size": memory._size} if include_memory else None,
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
        optimizer.build(agent.model.trainable_variables)
        agent.model.set_weights(weights)
        for i, v in enumerate(optimizer.variables):
            v.assign(data[f"optimizer/{i}"])
        target = getattr(agent, "target_model", None)
        if target is not None:
            target.set_weights([data[f"target/{i}"] for i in range(len(target.weights))])
        if meta["memory"] is not None:
            if data["memory/states"].shape != agent.memory.states.shape:
                raise ValueError(
                    f"{str(path)!r} holds a replay memory of shape {data['memory/states'].shape}, "
                    f"this agent's is {agent.memory.states.shape}"
                )
            for field in _MEMORY_FIELDS:
                getattr(agent.memory, field)[...] = data[f"memory/{field}"]
            agent.memory._next, agent.memory._size = meta["memory"]["next"], meta["memory"]["size"]
    optimizer.learning_rate.assign(agent.learning_rate)  # the agent's setting wins
    agent.epsilon = meta["epsilon"]
    agent.train_steps = meta["train_steps"]
    agent.rng.bit_generator.state = meta["rng"]
    agent.refresh_policy()
    return meta["progress"]

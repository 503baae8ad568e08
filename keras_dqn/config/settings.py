"""Settings as the command line and config files give them: an env's options and ``--config``
files.

What a setting may be lives with its owner: an agent setting's name, type, default and
description are its constructor argument's, its value check in :mod:`keras_dqn.agents.settings`;
a train setting's in :func:`keras_dqn.train` and :mod:`keras_dqn.training.settings`.  The help
text is read from those docstrings (:mod:`keras_dqn.config.help`).  Recipes, ``--config`` files, sweeps' search
spaces, weights files and the command line's flags all check through those two.
"""

from __future__ import annotations

import inspect
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from keras_dqn.checks import check_names, check_values, type_hints
from keras_dqn.training.loop import train
from keras_dqn.training.settings import TRAIN_SETTING_CHECKS


def check_env_kwargs(name: str, value: Any) -> dict[str, Any]:
    """An env's options as a recipe, a weights file or ``--env-kwargs`` give them: an object of
    keyword arguments with JSON values (``{"is_slippery": false}``).

    Raises:
        ValueError: one line naming ``name`` and what was expected.
    """
    if not isinstance(value, Mapping) or not all(isinstance(key, str) for key in value):
        raise ValueError(f'{name} must be an object of the env\'s keyword arguments, e.g. {{"is_slippery": false}}; '
                         f"got {value!r}")  # fmt: skip
    try:
        json.dumps(dict(value))
    except (TypeError, ValueError):
        raise ValueError(f"{name} must hold JSON values (numbers, strings, booleans, lists), got {value!r}") from None
    return dict(value)



# train() arguments a recipe does not set: what to train, and where and how to log it.
_TRAIN_CALL_ONLY = frozenset({"agent", "env", "total_steps", "eval_env", "callbacks", "log_dir", "checkpoint_dir",
                              "progress", "resume", "seed"})  # fmt: skip


def train_parameters() -> set[str]:
    """The names a recipe's ``train_kwargs`` may hold: :func:`keras_dqn.train`'s settings plus
    ``n_envs`` (envs stepped together) and ``total_steps``."""
    return set(inspect.signature(train).parameters) - _TRAIN_CALL_ONLY | {"n_envs", "total_steps"}


def train_hints() -> dict[str, Any]:
    """The type annotation of each :func:`keras_dqn.train` setting (and ``n_envs``)."""
    return {**type_hints(train), "n_envs": int}



def check_train_settings(settings: Mapping[str, Any]) -> None:
    """Check :func:`keras_dqn.train` settings (with ``n_envs`` and ``total_steps``) by name, type and value.

    Raises:
        ValueError: one line, as :func:`check_agent_settings` (``train.n_envs must be a
            positive integer, got 0``).
    """
    check_names("train", settings, train_parameters())
    check_values("train", settings, train_hints(), TRAIN_SETTING_CHECKS)




# ---------------------------------------------------------------- --config files
CONFIG_KEYS_SET_BY_THE_COMMAND = {
    "train": {
        "log_dir": "use --out", "checkpoint_dir": "use --out", "resume": "use --resume", "seed": "use --seed",
        "progress": "use --no-progress", "env": "give the env id as the first argument",
        "agent": "use --agent or --recipe", "eval_env": "the command evaluates on the training env's id "
        "(full games for Atari)", "callbacks": "the command takes no callbacks; call keras_dqn.train from Python",
    },
    "agent": {
        "seed": "use --seed", "state_size": "the env sets it", "state_shape": "the env sets it",
        "action_size": "the env sets it", "model": "a JSON config cannot hold a model; use the Python API",
        "memory": "a JSON config cannot hold a replay memory; use the Python API",
        "exploration": "a linear schedule is train.exploration_fraction and train.exploration_final_eps",
    },
}  # fmt: skip
"""The settings a ``--config`` file may not hold, by section, and what to use instead."""
CONFIG_SECTIONS = ("agent", "target_agent", "train")


def read_config_file(path: str | os.PathLike | None) -> dict[str, dict[str, Any]]:
    """The settings of a ``--config`` JSON file (``keras-dqn train`` and ``seeds``; a sweep's
    ``best_config.json``): ``{"agent": {...}, "train": {...}}``, shape-checked.

    The values are checked when a recipe takes them (:func:`apply_config`).  The old section
    name ``target_agent`` still works: its settings join ``agent``'s.  ``None``: no file, no settings.

    Raises:
        ValueError: one line naming the file: it can't be read or is not JSON, not an object
            of sections, has an unknown section, or holds a setting the command sets itself.
    """
    if path is None:
        return {"agent": {}, "train": {}}
    try:
        overrides = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read config {path}: {exc}") from None
    try:
        return check_config(overrides)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def check_config(overrides: Any) -> dict[str, dict[str, Any]]:
    """A config given as data (a dict, or a JSON file's content): as :func:`read_config_file` checks it."""
    if not isinstance(overrides, Mapping):
        raise ValueError(f"a config must be a JSON object with sections {list(CONFIG_SECTIONS)}, got {overrides!r}")
    given: dict[str, dict[str, Any]] = {"agent": {}, "train": {}}
    for section, values in overrides.items():
        if section not in CONFIG_SECTIONS:
            raise ValueError(f"config sections are {list(CONFIG_SECTIONS)}, each an object; got {section!r}")
        if not isinstance(values, Mapping):
            raise ValueError(f"config section {section!r} must be an object of settings, got {values!r}")
        kind = "train" if section == "train" else "agent"
        for key, value in values.items():
            if key in CONFIG_KEYS_SET_BY_THE_COMMAND[kind]:
                raise ValueError(f"{section}.{key} is set by the command, not the config: "
                                 f"{CONFIG_KEYS_SET_BY_THE_COMMAND[kind][key]}")  # fmt: skip
            given[kind][key] = value
    return given


def apply_config(recipe, given: Mapping[str, Mapping[str, Any]]):
    """``recipe`` (a :class:`keras_dqn.config.recipe.Recipe`) with a config's settings over its own, checked
    by name, type and range (``ValueError``, one line)."""
    return recipe.replace(agent_kwargs={**recipe.agent_kwargs, **given.get("agent", {})},
                          train_kwargs={**recipe.train_kwargs, **given.get("train", {})})  # fmt: skip

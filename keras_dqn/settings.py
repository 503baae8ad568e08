"""Every agent and :func:`keras_dqn.train` setting: its check, its type, its help text.

One home for what a setting may be, so that recipes, ``--config`` files, sweeps' search spaces,
weights files' configs and the command line's flags are checked alike, before anything is
built: names against the agent class's (or ``train``'s) arguments, values against their type
annotations and the constructors' own checks (:data:`AGENT_SETTING_CHECKS`), each mistake one
line naming the setting.
"""

from __future__ import annotations

import inspect
import json
import os
import types
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from keras_dqn.checks import (
    check_choice,
    check_fraction,
    check_non_negative_int,
    check_non_negative_number,
    check_number,
    check_positive_int,
    check_positive_number,
)
from keras_dqn.training import train

LOSSES = {"mse": "mse", "huber": "huber"}
"""The TD-error losses by our names, with the Keras loss identifier each stands for."""

# train() arguments a recipe does not set: what to train, and where and how to log it.
_TRAIN_CALL_ONLY = frozenset({"agent", "env", "total_steps", "eval_env", "callbacks", "log_dir", "checkpoint_dir",
                              "progress", "resume", "seed"})  # fmt: skip
# Agent arguments a recipe does not set: the env's shapes and the seed come from the caller.
_AGENT_CALL_ONLY = frozenset({"self", "state_size", "state_shape", "action_size", "seed"})

def _agent_inits(agent_class: type) -> Iterator[Callable]:
    """The ``__init__`` methods that build ``agent_class``, nearest first, as far as ``**kwargs`` reaches."""
    for cls in agent_class.__mro__:
        if "__init__" not in vars(cls):
            continue
        yield cls.__init__
        if not any(p.kind is p.VAR_KEYWORD for p in inspect.signature(cls.__init__).parameters.values()):
            break


def agent_parameters(agent_class: type) -> dict[str, inspect.Parameter]:
    """The keyword arguments ``agent_class`` takes, through its ``**kwargs`` chain.

    Args:
        agent_class: ``DQNAgent`` or a subclass.

    Returns:
        Each argument name (not the state shape, action count or seed) with the
        ``inspect.Parameter`` of the nearest class in the MRO that declares it: its
        ``default`` is the value the class really uses.
    """
    params: dict[str, inspect.Parameter] = {}
    for init in _agent_inits(agent_class):
        for name, param in inspect.signature(init).parameters.items():
            if param.kind not in (param.VAR_KEYWORD, param.VAR_POSITIONAL, param.POSITIONAL_ONLY) and (
                name not in _AGENT_CALL_ONLY
            ):
                params.setdefault(name, param)
    return params


def train_parameters() -> set[str]:
    """The names a recipe's ``train_kwargs`` may hold: :func:`keras_dqn.train`'s settings plus
    ``n_envs`` (envs stepped together) and ``total_steps``."""
    return set(inspect.signature(train).parameters) - _TRAIN_CALL_ONLY | {"n_envs", "total_steps"}


def check_names(what: str, given: Mapping[str, Any], allowed: set[str]) -> None:
    """ValueError naming the settings of ``given`` that are not in ``allowed`` (and listing those that are)."""
    unknown = sorted(set(given) - allowed)
    if unknown:
        raise ValueError(f"unknown {what} settings: {', '.join(unknown)} (known: {', '.join(sorted(allowed))})")


# Agent arguments that are objects, not settings: recipes (and JSON configs) cannot hold them.
AGENT_OBJECTS = frozenset({"model", "memory", "exploration"})


def _optional(check: Callable[[str, Any], Any]) -> Callable[[str, Any], Any]:
    return lambda name, value: None if value is None else check(name, value)


def check_hidden(name: str, value: Any) -> tuple[int, ...]:
    """Hidden layer sizes: a list of positive ints such as ``(64, 64)``."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ValueError(f"{name} must be a list of layer sizes such as (64, 64), got {value!r}")
    return tuple(check_positive_int(f"{name} entries", units) for units in value)


def check_target_update(name: str, value: Any) -> int | float:
    """An ``int`` C for a hard copy every C gradient steps, or a ``float`` tau in (0, 1) for soft updates."""
    expected = "an int C >= 1 (hard copy every C gradient steps) or a float tau in (0, 1) (soft update)"
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    if isinstance(value, (int, np.integer)):
        if value < 1:
            raise ValueError(f"{name} must be {expected}; got the int {value}")
        return int(value)
    value = float(value)
    if 0.0 < value < 1.0:
        return value
    if value >= 1.0 and value.is_integer():
        return int(value)
    raise ValueError(f"{name} must be {expected}, got {value!r}")


# The value checks (keras_dqn.checks) the agents' constructors and train() make, by setting name, so that
# settings are checked before anything is built; tests/test_recipes.py checks that they agree.
AGENT_SETTING_CHECKS: dict[str, Callable[[str, Any], Any]] = {
    "gamma": check_fraction,
    "epsilon": check_fraction,
    "epsilon_min": check_fraction,
    "epsilon_decay": lambda name, value: check_fraction(name, value, low_open=True),
    "learning_rate": check_positive_number,
    "sigma0": check_positive_number,
    "adam_epsilon": check_positive_number,
    "priority_alpha": lambda name, value: check_non_negative_number(name, value, "0: uniform replay"),
    "memory_size": check_positive_int,
    "hidden": check_hidden,
    "loss": lambda name, value: check_choice(name, value, LOSSES),
    "clipnorm": _optional(check_positive_number),
    "target_update": check_target_update,
}
TRAIN_SETTING_CHECKS: dict[str, Callable[[str, Any], Any]] = {
    **dict.fromkeys(("n_envs", "total_steps", "batch_size", "train_every", "gradient_steps", "eval_every"),
                    check_positive_int),
    **dict.fromkeys(("learning_starts", "eval_episodes"), check_non_negative_int),
    "frames_per_step": _optional(check_positive_int),
    "target_score": _optional(check_number),
    "exploration_fraction": _optional(lambda name, value: check_fraction(name, value, low_open=True)),
    "exploration_final_eps": _optional(check_fraction),
}  # fmt: skip


def _type_hints(function: Callable) -> dict[str, Any]:
    try:
        return typing.get_type_hints(function)
    except Exception:  # an annotation that does not resolve: its arguments get the value checks only
        return {}


def is_union(hint: Any) -> bool:
    """Whether the annotation ``hint`` is a union (``int | None``)."""
    return typing.get_origin(hint) in (typing.Union, types.UnionType)


def _fits(value: Any, hint: Any) -> bool:
    """Whether ``value`` (a Python or JSON value) is of the annotated type ``hint``; unknown hints accept it."""
    if hint is Any:
        return True
    if is_union(hint):
        return any(_fits(value, member) for member in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint in (int, float):
        kinds = (int, np.integer) if hint is int else (int, float, np.integer, np.floating)
        return isinstance(value, kinds) and not isinstance(value, bool)
    origin = typing.get_origin(hint)
    if isinstance(origin, type) and issubclass(origin, Sequence) and origin is not str:
        item = (typing.get_args(hint) or (Any,))[0]
        return isinstance(value, (list, tuple)) and all(_fits(v, item) for v in value)
    return isinstance(value, hint) if isinstance(hint, type) else True


_DESCRIPTIONS = {int: ("an integer", "integers"), float: ("a number", "numbers"), bool: ("true or false", "bools"),
                 str: ("a string", "strings"), type(None): ("None", "Nones")}  # fmt: skip


def _describe(hint: Any, plural: bool = False) -> str:
    """``hint`` in words: ``float | None`` -> "a number or None"."""
    if is_union(hint):
        members = typing.get_args(hint)
        return " or ".join(_describe(m, plural) for m in members if not (m is int and float in members))
    if hint in _DESCRIPTIONS:
        return _DESCRIPTIONS[hint][plural]
    origin = typing.get_origin(hint)
    if isinstance(origin, type) and issubclass(origin, Sequence):
        return ("lists" if plural else "a list") + f" of {_describe((typing.get_args(hint) or (Any,))[0], True)}"
    return getattr(hint, "__name__", str(hint))


def agent_hints(agent_class: type) -> dict[str, Any]:
    """The type annotation of each of ``agent_class``'s arguments, from the nearest class that declares it."""
    hints: dict[str, Any] = {}
    for init in _agent_inits(agent_class):
        for name, hint in _type_hints(init).items():
            hints.setdefault(name, hint)
    return hints


def train_hints() -> dict[str, Any]:
    """The type annotation of each :func:`keras_dqn.train` setting (and ``n_envs``)."""
    return {**_type_hints(train), "n_envs": int}


def _check_values(section: str, settings: Mapping[str, Any], hints: Mapping[str, Any], checks: Mapping) -> None:
    for name, value in settings.items():
        full = f"{section}.{name}"
        if name in hints and not _fits(value, hints[name]):
            raise ValueError(f"{full} must be {_describe(hints[name])}, got {value!r}")
        if name in checks:
            checks[name](full, value)


def check_agent_settings(agent_class: type, settings: Mapping[str, Any]) -> None:
    """Check agent settings by name, type and value, building nothing.

    Args:
        agent_class: ``DQNAgent`` or a subclass.
        settings: constructor keyword arguments (no state shape, action count, seed, model
            or memory: a recipe holds settings, not objects).

    Raises:
        ValueError: one line: an unknown name (the known ones listed), a value of the wrong
            type (``agent.gamma must be a number, got 'high'``) or out of range (the
            constructor's own check, e.g. ``agent.gamma must be in [0, 1], got 2``).
    """
    objects = sorted(AGENT_OBJECTS & set(settings))
    if objects:
        raise ValueError(f"agent settings cannot hold {', '.join(objects)} (objects, not settings): "
                         "pass them to make_agent")  # fmt: skip
    check_names(agent_class.__name__, settings, set(agent_parameters(agent_class)))
    _check_values("agent", settings, agent_hints(agent_class), AGENT_SETTING_CHECKS)


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


def check_train_settings(settings: Mapping[str, Any]) -> None:
    """Check :func:`keras_dqn.train` settings (with ``n_envs`` and ``total_steps``) by name, type and value.

    Raises:
        ValueError: one line, as :func:`check_agent_settings` (``train.n_envs must be a
            positive integer, got 0``).
    """
    check_names("train", settings, train_parameters())
    _check_values("train", settings, train_hints(), TRAIN_SETTING_CHECKS)



SETTING_HELP: dict[str, str] = {
    # the agents' settings
    "gamma": "discount rate of future rewards: 0 counts only the next reward, near 1 looks far ahead",
    "epsilon": "initial exploration rate: the probability of a random action",
    "epsilon_min": "exploration floor: epsilon never decays below it",
    "epsilon_decay": "epsilon is multiplied by this after every gradient step",
    "learning_rate": "Adam's learning rate",
    "memory_size": "replay memory capacity in transitions; the oldest are forgotten first",
    "hidden": "sizes of the hidden ReLU layers, e.g. 64,64",
    "loss": "the TD-error loss: mse squares it, huber is linear beyond 1 (gentler on large errors)",
    "dueling": "a dueling head, Q = V + A - mean(A)",
    "clipnorm": "clip each gradient to this L2 norm (none: no clipping)",
    "target_update": "int C: copy the target network every C gradient steps; float tau in (0, 1): soft update",
    "double": "Double DQN targets: the online network picks the next action, the target network values it",
    "frame_memory": "store each Atari frame once, not in every frame stack (8x less replay memory)",
    "precision": "float32, or mixed_bfloat16: the CNN computes in bfloat16 (faster on CPUs with AVX-512 BF16/AMX)",
    "n_step": "learn from n-step returns: n rewards summed, then the bootstrap (Rainbow: 3)",
    "prioritized": "prioritized replay: sample transitions by their last TD error, loss weighted to correct for it",
    "adam_epsilon": "Adam's epsilon: a larger one damps the steps once gradients are tiny (Keras: 1e-7; the Rainbow "
    "paper: 1.5e-4)",
    "priority_alpha": "how strongly priorities skew replay: P(i) ~ p_i**alpha (0: uniform; the PER paper: 0.6, "
    "Rainbow: 0.5)",
    "noisy": "noisy layers: learned noise explores instead of epsilon (epsilon is then 0)",
    "sigma0": "noisy layers' initial noise scale: each sigma starts at sigma0 / sqrt(inputs) (the paper: 0.5)",
    "noisy_hidden": "with noisy: false keeps the hidden layers plain Dense, the noise in the head alone (cheaper on a "
    "CPU; the paper: true)",
    "distributional": "C51: learn the distribution of returns on n_atoms atoms over [v_min, v_max]",
    "n_atoms": "atoms of the distributional head",
    "v_min": "lowest atom of the distributional head (the smallest return it can represent)",
    "v_max": "highest atom of the distributional head (the largest return it can represent)",
    # keras_dqn.train's settings
    "n_envs": "environments stepped together, their actions chosen in one batched call",
    "total_steps": "env steps to train for, over all environments",
    "batch_size": "minibatch of each gradient step",
    "train_every": "env steps (over all environments) between training calls",
    "gradient_steps": "gradient steps per training call",
    "learning_starts": "env steps of play that fill the memory before the first gradient step",
    "eval_every": "env steps between greedy evaluations (and checkpoints)",
    "eval_episodes": "greedy episodes per evaluation",
    "target_score": "stop once an evaluation's mean return reaches it",
    "save_memory": "also store the replay memory in checkpoints (large; a resumed run keeps its experience)",
    "exploration_fraction": "epsilon falls linearly from its start to exploration_final_eps over this share of "
    "the run (none: the agent's per-gradient-step decay)",
    "exploration_final_eps": "epsilon at the end of exploration_fraction and after (none: the agent's epsilon_min)",
    "frames_per_step": "emulator frames per env step (Atari's frame skip): the logs then show frames/s",
}
"""One line of help for every agent and :func:`keras_dqn.train` setting, by name (``--help``'s text)."""


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
    """``recipe`` (a :class:`keras_dqn.recipes.Recipe`) with a config's settings over its own, checked
    by name, type and range (``ValueError``, one line)."""
    return recipe.replace(agent_kwargs={**recipe.agent_kwargs, **given.get("agent", {})},
                          train_kwargs={**recipe.train_kwargs, **given.get("train", {})})  # fmt: skip

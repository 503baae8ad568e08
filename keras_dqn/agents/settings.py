"""Each agent setting's value check, and the agent classes' arguments read from their
constructors: one home for what an agent setting may be.

The name, type and default of a setting are its constructor argument's (``DQNAgent(gamma=0.95)``),
its description the constructor's docstring (the command line's help reads it:
:mod:`keras_dqn.config.help`); :data:`AGENT_SETTING_CHECKS` holds the value checks the
constructors make, so recipes, ``--config`` files, sweeps' spaces and weights files are checked
alike before anything is built.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from keras_dqn.checks import (
    check_choice,
    check_fraction,
    check_names,
    check_non_negative_number,
    check_positive_int,
    check_positive_number,
    check_values,
    optional,
    type_hints,
)

LOSSES = {"mse": "mse", "huber": "huber"}
"""The TD-error losses by our names, with the Keras loss identifier each stands for."""
PRECISIONS = ("float32", "mixed_bfloat16", "auto")
"""The precisions a conv agent computes in (Keras dtype policies), or ``"auto"``: the faster of
the two on this machine, timed when the agent builds its network."""

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
        Each argument name (not the state shape, action count or seed, nor a base class's
        setting the class refuses: its ``unused_settings``) with the ``inspect.Parameter`` of
        the nearest class in the MRO that declares it: its ``default`` is the value the class
        really uses.
    """
    refused = getattr(agent_class, "unused_settings", frozenset())
    params: dict[str, inspect.Parameter] = {}
    for init in _agent_inits(agent_class):
        for name, param in inspect.signature(init).parameters.items():
            if param.kind not in (param.VAR_KEYWORD, param.VAR_POSITIONAL, param.POSITIONAL_ONLY) and (
                name not in _AGENT_CALL_ONLY | refused
            ):
                params.setdefault(name, param)
    return params


# Agent arguments that are objects, not settings: recipes (and JSON configs) cannot hold them.
AGENT_OBJECTS = frozenset({"model", "memory", "exploration"})

# Settings a weights file leaves out: an agent loaded from one starts its exploration and its
# replay memory afresh, with its class's values or yours.
NOT_IN_WEIGHTS_FILES = frozenset({"epsilon", "epsilon_min", "epsilon_decay", "memory_size"})

# What a weights file's config says besides the agent's settings and its state size or shape
# (``state_size`` or ``state_shape``: the class's ``state_argument``), in the order it is written.
WEIGHTS_FILE_METADATA = ("agent", "env_id", "env_kwargs", "action_size")

# Settings that matter only with a Rainbow switch on, each with its switch: where the switch is
# off, a weights file leaves them out.
SWITCHED_SETTINGS = {"priority_alpha": "prioritized", "sigma0": "noisy", "noisy_hidden": "noisy",
                     "n_atoms": "distributional", "v_min": "distributional", "v_max": "distributional"}  # fmt: skip


def settings_in_use(settings: Mapping[str, Any], train: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``settings`` without those that change nothing: a Rainbow switch's own settings while the
    switch is off (:data:`SWITCHED_SETTINGS`), and epsilon's while noisy layers explore.

    ``train``: the ``train()`` settings the agent trains with, if known.  With an
    ``exploration_fraction`` their linear schedule replaces the agent's ``epsilon_decay`` (and
    its ``epsilon_min``, when ``exploration_final_eps`` is given); it starts from ``epsilon``."""
    unused = {name for name, switch in SWITCHED_SETTINGS.items() if not settings.get(switch, True)}
    if settings.get("noisy"):
        unused |= {"epsilon", "epsilon_min", "epsilon_decay"}
    train = train or {}
    if train.get("exploration_fraction") is not None:
        unused.add("epsilon_decay")
        if train.get("exploration_final_eps") is not None:
            unused.add("epsilon_min")
    return {name: value for name, value in settings.items() if name not in unused}


def weights_file_settings(agent_class: type) -> list[str]:
    """The settings of ``agent_class`` that its weights files record (``get_config``), and
    :func:`keras_dqn.load_agent` reads back: all but the objects and :data:`NOT_IN_WEIGHTS_FILES`."""
    return [name for name in agent_parameters(agent_class) if name not in AGENT_OBJECTS | NOT_IN_WEIGHTS_FILES]


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


# Each agent setting's value check, by name: the one check the constructors make (through check_setting)
# and recipes, --config files, sweeps' spaces and weights files make before anything is built.
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
    "clipnorm": optional(check_positive_number),
    "target_update": check_target_update,
    "n_step": check_positive_int,
    "precision": lambda name, value: check_choice(name, value, PRECISIONS),
}


def check_setting(name: str, value: Any) -> Any:
    """``value`` checked as the agent setting ``name`` (:data:`AGENT_SETTING_CHECKS`) and returned
    as the agent stores it.

    Raises:
        ValueError: one line naming the setting and what it must be.
    """
    return AGENT_SETTING_CHECKS[name](name, value)


def agent_hints(agent_class: type) -> dict[str, Any]:
    """The type annotation of each of ``agent_class``'s arguments, from the nearest class that declares it."""
    hints: dict[str, Any] = {}
    for init in _agent_inits(agent_class):
        for name, hint in type_hints(init).items():
            hints.setdefault(name, hint)
    return hints



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
    check_values("agent", settings, agent_hints(agent_class), AGENT_SETTING_CHECKS)

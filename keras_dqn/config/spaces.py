"""Search spaces: the settings a sweep (:mod:`keras_dqn.experiments.sweeps`) samples, and how.

A space is ``{"agent": {NAME: SPEC}, "train": {NAME: SPEC}}``, each ``SPEC`` one distribution
of Ray Tune's (``{"loguniform": [1e-4, 3e-3]}``, ``{"choice": [100, 500]}``...), checked here
against the agent class's settings before Ray starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from keras_dqn import agents
from keras_dqn.agents.settings import check_agent_settings
from keras_dqn.config.settings import check_train_settings

# ---------------------------------------------------------------- search spaces (keras_dqn.experiments.sweeps)
SPACE_KINDS = ("uniform", "loguniform", "randint", "choice", "grid")
"""The distributions a search space may name (Ray Tune's ``tune.uniform``, ``loguniform``,
``randint`` (high excluded), ``choice`` and ``grid_search``)."""
_SPACE_SECTIONS = ("agent", "train")
# train settings a sweep sets itself: the budget is the same for every trial.
_SPACE_SET_BY_THE_SWEEP = {"total_steps": "the budget is the sweep's steps (--steps), the same for every trial"}
_SPACE_FORMAT = ('{"agent": {"learning_rate": {"loguniform": [1e-4, 3e-3]}, "target_update": {"choice": [100, 500]}}, '
                 '"train": {"batch_size": {"choice": [32, 64]}}}')  # fmt: skip


def _check_bounds(kind: str, full: str, bounds: Any) -> tuple[Any, Any]:
    """The ``[low, high]`` of a uniform, loguniform or randint distribution, checked."""
    integers = kind == "randint"
    number = (int, np.integer) if integers else (int, float, np.integer, np.floating)
    if (not isinstance(bounds, (list, tuple)) or len(bounds) != 2
            or not all(isinstance(b, number) and not isinstance(b, bool) for b in bounds)):  # fmt: skip
        what = "integers" if integers else "numbers"
        raise ValueError(f"search space {full}: {kind} takes [low, high], two {what}, got {bounds!r}")
    low, high = bounds
    if not low < high:
        raise ValueError(f"search space {full}: {kind} needs low < high, got [{low}, {high}]")
    if kind == "loguniform" and low <= 0:
        raise ValueError(f"search space {full}: loguniform needs low > 0, got [{low}, {high}]")
    if integers:
        return int(low), int(high) - 1  # tune.randint excludes high
    return float(low), float(high)


def search_space_values(full: str, spec: Any) -> tuple[str | None, list[Any]]:
    """The kind of one setting's entry in a search space and the values to check it by.

    Args:
        full: the setting's name with its section, e.g. ``"agent.learning_rate"`` (for messages).
        spec: a plain value (fixed for every trial) or ``{KIND: ARGS}``: ``{"uniform": [low,
            high]}``, ``{"loguniform": [low, high]}``, ``{"randint": [low, high]}`` (high
            excluded), ``{"choice": [values]}`` or ``{"grid": [values]}``.

    Returns:
        ``(kind, values)``: ``kind`` is ``None`` for a fixed value; ``values`` are the value,
        the bounds (a randint's highest value) or the options.

    Raises:
        ValueError: an unknown kind, or arguments of the wrong form.
    """
    if not isinstance(spec, Mapping):
        return None, [spec]
    if len(spec) != 1 or next(iter(spec)) not in SPACE_KINDS:
        raise ValueError(f"search space {full}: a distribution is one of {', '.join(SPACE_KINDS)} with its "
                         'arguments, e.g. {"choice": [32, 64]}; ' f"got {dict(spec)!r}")  # fmt: skip
    kind, args = next(iter(spec.items()))
    if kind in ("choice", "grid"):
        if not isinstance(args, (list, tuple)) or not args:
            raise ValueError(f"search space {full}: {kind} takes a non-empty list of values, got {args!r}")
        return kind, list(args)
    return kind, list(_check_bounds(kind, full, args))


def check_search_space(agent_class: type[agents.DQNAgent], space: Any) -> None:
    """Check a search space for :mod:`keras_dqn.experiments.sweeps` by name, type and value, building nothing.

    Args:
        agent_class: the agent the trials build.
        space: ``{"agent": {NAME: SPEC}, "train": {NAME: SPEC}}``, each ``SPEC`` a plain value
            (fixed) or a distribution (:func:`search_space_values`), e.g.
            ``{"agent": {"learning_rate": {"loguniform": [1e-4, 3e-3]}}}``.

    Raises:
        ValueError: one line: not a mapping of sections, an unknown section or setting (as
            :func:`check_agent_settings`), an unknown distribution, or a value (a fixed one,
            a bound, an option) the setting cannot take.  An empty space is valid here.
    """
    if not isinstance(space, Mapping):
        raise ValueError(f"a search space is an object of sections {list(_SPACE_SECTIONS)}, e.g. {_SPACE_FORMAT}; "
                         f"got {space!r}")  # fmt: skip
    for section, settings in space.items():
        if section not in _SPACE_SECTIONS:
            raise ValueError(f"search space sections are {list(_SPACE_SECTIONS)}, got {section!r}")
        if not isinstance(settings, Mapping):
            raise ValueError(f"search space section {section!r} must be an object of settings, got {settings!r}")
        for name, spec in settings.items():
            full = f"{section}.{name}"
            if section == "train" and name in _SPACE_SET_BY_THE_SWEEP:
                raise ValueError(f"search space {full} is set by the sweep: {_SPACE_SET_BY_THE_SWEEP[name]}")
            kind, values = search_space_values(full, spec)
            for value in values:
                try:
                    if section == "agent":
                        check_agent_settings(agent_class, {name: value})
                    else:
                        check_train_settings({name: value})
                except ValueError as error:
                    raise ValueError(f"search space {full}" + (f" ({kind})" if kind else "") + f": {error}") from None

"""Argument checks shared by every module: one home for each rule, one clear error each.

Each check returns the value converted to the plain Python type it stands for, or raises
``ValueError`` naming the argument, what was expected and what was given.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def check_positive_int(name: str, value: Any) -> int:
    """``value`` as an ``int`` >= 1 (a bool, a float such as 2.5, or a string is an error)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_non_negative_int(name: str, value: Any) -> int:
    """``value`` as an ``int`` >= 0."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


def check_optional_int(name: str, value: Any) -> int | None:
    """``None``, or any ``int`` (a seed, say)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer or None, got {value!r}")
    return int(value)


def check_fraction(name: str, value: Any, *, low_open: bool = False) -> float:
    """``value`` as a ``float`` in [0, 1] (or (0, 1] with ``low_open``)."""
    number = check_number(name, value)
    if not (0.0 < number <= 1.0 if low_open else 0.0 <= number <= 1.0):
        interval = "(0, 1]" if low_open else "[0, 1]"
        raise ValueError(f"{name} must be in {interval}, got {value!r}")
    return number


def check_number(name: str, value: Any) -> float:
    """``value`` as a finite ``float`` (a string, None, nan or inf is an error)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return float(value)


def check_positive_number(name: str, value: Any) -> float:
    """``value`` as a finite ``float`` > 0."""
    number = check_number(name, value)
    if not number > 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    return number


def check_choice(name: str, value: Any, choices: Any) -> Any:
    """``value`` if it is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}")
    return value

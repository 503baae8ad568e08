"""Argument checks shared by every module: one home for each rule, one clear error each.

Each check returns the value converted to the plain Python type it stands for, or raises
``ValueError`` naming the argument, what was expected and what was given.
"""

from __future__ import annotations

import math
import os
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

FLOAT32_MAX = float(np.finfo(np.float32).max)  # rewards and states are stored as float32


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


def check_non_negative_number(name: str, value: Any, meaning_of_zero: str = "") -> float:
    """``value`` as a finite ``float`` >= 0 (``meaning_of_zero`` goes in the error, e.g. ``"0: uniform replay"``)."""
    number = check_number(name, value)
    if not number >= 0:
        raise ValueError(f"{name} must be >= 0{f' ({meaning_of_zero})' if meaning_of_zero else ''}, got {value!r}")
    return number


def check_choice(name: str, value: Any, choices: Any) -> Any:
    """``value`` if it is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}")
    return value


# ---------------------------------------------------------------- what replay memory stores
# A transition is (state, action, reward, next_state, done).  The scalar checks run on every env
# step of the blog's loop, so their common case is a plain ``type(...) is`` test; the array
# checks (``extend``) take a whole batch at once, with no Python loop per transition.


def _action_range(n_actions: int | None, *, plural: bool = False) -> str:
    if n_actions is None:
        return "non-negative integers" if plural else "a non-negative integer"
    return f"integers in [0, {n_actions})" if plural else f"an integer in [0, {n_actions})"


def check_action(name: str, value: Any, n_actions: int | None = None) -> int:
    """``value`` as an ``int`` action in [0, ``n_actions``) (>= 0 without ``n_actions``).

    An ``int``, a NumPy integer, a whole float such as ``1.0`` or a 0-d array of one; a bool,
    ``1.7``, a string or a longer array is an error (an out-of-range action would otherwise be
    clamped silently by the compiled gather)."""
    if type(value) is not int:
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value.item()
        if isinstance(value, (bool, np.bool_)):
            raise ValueError(f"{name} must be {_action_range(n_actions)}, got the bool {value!r}")
        if isinstance(value, (int, np.integer)):
            value = int(value)
        elif isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer():
            value = int(value)
        else:
            raise ValueError(f"{name} must be {_action_range(n_actions)}, got {value!r}")
    if value < 0 or (n_actions is not None and value >= n_actions):
        raise ValueError(f"{name} must be {_action_range(n_actions)}, got {value!r}")
    return value


def check_reward(name: str, value: Any) -> float:
    """``value`` as a finite ``float`` (a 0-d array of one too); None, a string, nan or inf is an error."""
    if type(value) is float and abs(value) <= FLOAT32_MAX:  # the common case, first
        return value
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    number = check_number(name, value)
    if abs(number) > FLOAT32_MAX:  # memories store rewards as float32: it would become inf
        raise ValueError(f"{name} must be a finite float32 number (at most {FLOAT32_MAX:.4g} in size), got {value!r}")
    return number


def check_done(name: str, value: Any) -> bool:
    """``value`` as a ``bool``: a bool, a NumPy bool, or a number equal to 0 or 1 (a string is an error)."""
    if value is True or value is False:
        return value
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)) and value in (0, 1):
        return bool(value)
    raise ValueError(f"{name} must be a bool (or 0/1), got {value!r}")


def check_finite(name: str, array: np.ndarray) -> np.ndarray:
    """``array`` if it holds no nan or inf (arrays that are not floats always pass)."""
    if array.dtype.kind != "f":
        return array
    # One sum: a nan or inf makes it non-finite.  A few values (a CartPole state) add up
    # faster as Python floats than through a NumPy reduction.
    if array.size <= 64:
        total = sum(array.tolist() if array.ndim == 1 else array.ravel().tolist())
    else:
        total = np.add.reduce(array, axis=None)
    if math.isfinite(total):
        return array
    bad = ~np.isfinite(array)  # the sum overflowed, or there is a nan/inf: look
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        at = f" at index {where[0] if len(where) == 1 else where}" if where else ""
        raise ValueError(f"{name} must be finite numbers, got {array[where]}{at} ({int(bad.sum())} non-finite)")
    return array


def check_numeric_array(name: str, value: Any, dtype: Any) -> np.ndarray:
    """``value`` as a ``dtype`` array without changing any value in it.

    Any array-like of numbers (bools too); for an integer ``dtype`` (uint8 pixels) only
    integers in its range, for a float ``dtype`` only values that are finite once converted.
    A string, None or a ragged list is an error."""
    if type(value) is np.ndarray and (value.dtype is dtype or value.dtype == dtype):  # the common case, first
        array = value
    else:
        dtype = np.dtype(dtype)
        try:
            array = np.asarray(value)
        except (TypeError, ValueError):  # a ragged nested list
            raise ValueError(f"{name} must be an array of numbers, got {value!r}") from None
        kind = array.dtype.kind
        if kind not in "biuf":
            raise ValueError(f"{name} must be an array of numbers, got {value!r}")
        if dtype.kind in "iu" and kind != "b":
            info = np.iinfo(dtype)
            if kind == "f" or (array.size and (array.min() < info.min or array.max() > info.max)):
                raise ValueError(
                    f"{name} must be integers in [{info.min}, {info.max}] ({dtype}), got {array.dtype} values"
                )
        if dtype.kind == "f" and kind == "f" and array.dtype.itemsize > dtype.itemsize:  # float64 -> float32
            check_finite(name, array)  # a nan or inf as given
            with np.errstate(over="ignore"):
                converted = array.astype(dtype)
            try:
                return check_finite(name, converted)
            except ValueError:
                limit = float(np.finfo(dtype).max)
                raise ValueError(f"{name} must be finite {dtype} numbers (at most {limit:.4g} in size), got "
                                 f"{array[~np.isfinite(converted)][0].item()!r}") from None  # fmt: skip
        array = array.astype(dtype, copy=False)
    return check_finite(name, array)


def check_state_shape(caller: str, field: str, array: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``array`` if it has ``shape``; a batch of one, ``(1, *shape)`` (the blog's ``np.reshape(state,
    [1, n])``), gives its one state.  Anything else is an error: states are never reshaped."""
    if array.shape == shape:
        return array
    if array.shape[:1] == (1,) and array.shape[1:] == shape:
        return array[0]
    raise ValueError(
        f"{caller} expected states of shape {shape}, got {array.shape} for the {field} "
        f"(a batch of one state, {(1, *shape)}, is taken as that state; nothing else is reshaped)"
    )


def _column(name: str, values: Any, n: int | None) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1 or (n is not None and len(array) != n):
        expected = "a 1-d array" if n is None else f"a 1-d array of {n} (one per transition)"
        raise ValueError(f"{name} must be {expected}, got shape {array.shape}")
    return array


def check_actions(name: str, values: Any, n_actions: int | None = None, n: int | None = None) -> np.ndarray:
    """``values`` as a 1-d ``int64`` array of actions in [0, ``n_actions``) (as :func:`check_action`)."""
    array = _column(name, values, n)
    expected = _action_range(n_actions, plural=True)
    if array.size:
        kind = array.dtype.kind
        if kind == "f":
            fractional = ~(np.isfinite(array) & (array == np.round(array)))
            if fractional.any():
                raise ValueError(f"{name} must be {expected}, got {array[fractional][0].item()!r}")
        elif kind not in "iu":
            raise ValueError(f"{name} must be {expected}, got {array.dtype} values: {array!r}")
        bad = (array < 0) if n_actions is None else (array < 0) | (array >= n_actions)
        if bad.any():
            raise ValueError(f"{name} must be {expected}, got {array[bad][0].item()!r}")
    return array.astype(np.int64, copy=False)


def check_rewards(name: str, values: Any, n: int | None = None) -> np.ndarray:
    """``values`` as a 1-d float array of finite rewards, checked at once."""
    array = _column(name, values, n)
    if array.dtype.kind not in "iuf":
        raise ValueError(f"{name} must be finite numbers, got {array.dtype} values: {array!r}")
    check_finite(name, array)
    if array.dtype.kind == "f" and array.dtype.itemsize > 4 and array.size and np.abs(array).max() > FLOAT32_MAX:
        raise ValueError(f"{name} must be finite float32 numbers (at most {FLOAT32_MAX:.4g} in size), got "
                         f"{array[np.abs(array) > FLOAT32_MAX][0].item()!r}")  # fmt: skip
    return array


def check_dones(name: str, values: Any, n: int | None = None) -> np.ndarray:
    """``values`` as a 1-d bool array: bools, or numbers that are all 0 or 1."""
    array = _column(name, values, n)
    if array.dtype.kind == "b":
        return array
    if array.dtype.kind not in "iuf" or not ((array == 0) | (array == 1)).all():
        raise ValueError(f"{name} must be bools (or 0/1), got {array!r}")
    return array.astype(bool)


def check_env_indices(name: str, values: Any, n: int) -> np.ndarray:
    """``values`` as a 1-d array of ``n`` non-negative sub-env indices."""
    array = _column(name, values, n)
    if array.size and (array.dtype.kind not in "iu" or array.min() < 0):
        raise ValueError(f"{name} must be {n} non-negative integers (sub-env indices), got {array!r}")
    return array


def check_folder(name: str, value: Any) -> Path | None:
    """A folder to write in (``None``: none): a path that is a folder or does not exist yet."""
    if value is None or value == "":
        return None
    if not isinstance(value, (str, os.PathLike)):
        raise ValueError(f"{name} must be a folder path, got {value!r}")
    path = Path(value)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{name} must be a folder; {str(path)!r} is a file")
    return path


# ---------------------------------------------------------------- settings by name and type
def check_names(what: str, given: Mapping[str, Any], allowed: set[str]) -> None:
    """ValueError naming the settings of ``given`` that are not in ``allowed`` (and listing those that are)."""
    unknown = sorted(set(given) - allowed)
    if unknown:
        raise ValueError(f"unknown {what} settings: {', '.join(unknown)} (known: {', '.join(sorted(allowed))})")




def optional(check: Callable[[str, Any], Any]) -> Callable[[str, Any], Any]:
    """``check``, letting ``None`` through (a setting whose ``None`` means "off")."""
    return lambda name, value: None if value is None else check(name, value)



def type_hints(function: Callable) -> dict[str, Any]:
    """``function``'s resolved argument annotations (empty when one does not resolve)."""
    try:
        return typing.get_type_hints(function)
    except Exception:  # an annotation that does not resolve: its arguments get the value checks only
        return {}


def is_union(hint: Any) -> bool:
    """Whether the annotation ``hint`` is a union (``int | None``)."""
    return typing.get_origin(hint) in (typing.Union, types.UnionType)


def fits_type(value: Any, hint: Any) -> bool:
    """Whether ``value`` (a Python or JSON value) is of the annotated type ``hint``; unknown hints accept it."""
    if hint is Any:
        return True
    if is_union(hint):
        return any(fits_type(value, member) for member in typing.get_args(hint))
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
        return isinstance(value, (list, tuple)) and all(fits_type(v, item) for v in value)
    return isinstance(value, hint) if isinstance(hint, type) else True


_DESCRIPTIONS = {int: ("an integer", "integers"), float: ("a number", "numbers"), bool: ("true or false", "bools"),
                 str: ("a string", "strings"), type(None): ("None", "Nones")}  # fmt: skip


def describe_type(hint: Any, plural: bool = False) -> str:
    """``hint`` in words: ``float | None`` -> "a number or None"."""
    if is_union(hint):
        members = typing.get_args(hint)
        return " or ".join(describe_type(m, plural) for m in members if not (m is int and float in members))
    if hint in _DESCRIPTIONS:
        return _DESCRIPTIONS[hint][plural]
    origin = typing.get_origin(hint)
    if isinstance(origin, type) and issubclass(origin, Sequence):
        return ("lists" if plural else "a list") + f" of {describe_type((typing.get_args(hint) or (Any,))[0], True)}"
    return getattr(hint, "__name__", str(hint))




def check_values(section: str, settings: Mapping[str, Any], hints: Mapping[str, Any], checks: Mapping) -> None:
    """ValueError (one line naming ``section.name``) for a setting of the wrong type or out of range."""
    for name, value in settings.items():
        full = f"{section}.{name}"
        if name in hints and not fits_type(value, hints[name]):
            raise ValueError(f"{full} must be {describe_type(hints[name])}, got {value!r}")
        if name in checks:
            checks[name](full, value)



"""The state of an episode in progress as plain data, so a checkpoint can hold it without pickle.

A resumed run continues the episodes its checkpoint was written in the middle of.  Pickling the
envs would capture them, but unpickling runs whatever code the file names, and checkpoints are
shared (a course's run folder, a colleague's, one from a forum).  So an env's state is saved as
data only: for each layer of the env (every wrapper, then the env itself), its attributes that
hold plain values (``None``, booleans, numbers, strings, NumPy arrays and scalars of numbers,
bytes or text, and tuples, lists and dicts of those), and the bit-generator state of each
``numpy.random.Generator`` attribute (gymnasium's ``np_random``).  The result is JSON.

That is the whole state of the classic-control envs (CartPole, Acrobot, MountainCar), of the
toy-text ones (FrozenLake, Taxi, CliffWalking, Blackjack) and of gymnasium's own wrappers (the
time limit's step count, the order and checker flags).  An env holding anything else (a Box2D
world, an ALE emulator, a render window, a wrapper's frame buffer) can't be saved this way:
:func:`env_state` returns ``None``, and a resumed run starts new episodes and says so.

Restoring reads attributes by name from gymnasium's wrappers and envs (``vars``), some of them
private to gymnasium (``TimeLimit._elapsed_steps``, ``Env._np_random``): that is what an env's
state is, and gymnasium has no public API for it.  :func:`restore_env_state` sets them only on an
env of the same layers, only where that env has an attribute of the same name and kind (a
generator stays a generator, an array keeps its shape), and it checks all of them
before it sets any.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

# Configuration, not state: how the env was made and how it renders.  A checkpoint never sets these.
_CONFIG_ATTRIBUTES = frozenset({
    "env", "spec", "_cached_spec", "_saved_kwargs", "metadata", "_metadata", "render_mode",
    "_ezpickle_args", "_ezpickle_kwargs", "observation_space", "action_space", "_observation_space",
    "_action_space",
})  # fmt: skip
_PLAIN_KINDS = "biufcSU"  # bool, integers, floats, complex, fixed-width bytes and text: dtypes that hold no objects
_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


class _Unsupported(Exception):
    """An attribute whose value is not plain data: the env's state can't be saved as data."""


def _layers(env) -> list:
    """``env``, the env it wraps, and so on down to the unwrapped env."""
    layers = [env]
    while hasattr(layers[-1], "env") and len(layers) < 100:
        layers.append(layers[-1].env)
    return layers


def _encode(value: Any) -> Any:
    """``value`` as JSON-able data tagged with its Python type; :class:`_Unsupported` if it is not plain."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.random.Generator):
        return {"generator": value.bit_generator.state}
    if isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind in _PLAIN_KINDS:
        array = np.asarray(value)  # (np.ascontiguousarray would make a scalar 1-d)
        kind = "ndarray" if isinstance(value, np.ndarray) else "scalar"
        return {kind: array.dtype.str, "shape": list(array.shape), "hex": array.tobytes().hex()}
    if isinstance(value, (tuple, list)):
        return {type(value).__name__: [_encode(v) for v in value]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"dict": {k: _encode(v) for k, v in value.items()}}
    if isinstance(value, dict):  # other keys (the toy-text envs' transition tables P[state][action])
        return {"items": [[_encode(k), _encode(v)] for k, v in value.items()]}
    raise _Unsupported(type(value).__name__)


def _decode(data: Any) -> Any:
    """The value :func:`_encode` described (generators as their state dict); ValueError if malformed."""
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if not isinstance(data, dict) or len(data) not in (1, 3):
        raise ValueError(f"unexpected value {str(data)[:80]!r}")
    if "ndarray" in data or "scalar" in data:
        kind = "ndarray" if "ndarray" in data else "scalar"
        dtype = np.dtype(str(data[kind]))
        if dtype.kind not in _PLAIN_KINDS:
            raise ValueError(f"an array of dtype {dtype} (only arrays of numbers, bytes or text are stored)")
        shape = tuple(int(n) for n in data["shape"])
        raw = bytes.fromhex(str(data["hex"]))
        if len(raw) != dtype.itemsize * int(np.prod(shape)):
            raise ValueError(f"an array of shape {shape} and dtype {dtype} with {len(raw)} bytes")
        array = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
        return array if kind == "ndarray" else array[()]
    if len(data) == 1:
        ((kind, inner),) = data.items()
        if kind == "generator" and isinstance(inner, dict):
            return _GeneratorState(inner)
        if kind in ("tuple", "list") and isinstance(inner, list):
            items = [_decode(v) for v in inner]
            return tuple(items) if kind == "tuple" else items
        if kind == "dict" and isinstance(inner, dict):
            return {str(k): _decode(v) for k, v in inner.items()}
        if kind == "items" and isinstance(inner, list) and all(isinstance(i, list) and len(i) == 2 for i in inner):
            items = [(_decode(k), _decode(v)) for k, v in inner]
            if not all(isinstance(k, (bool, int, float, str, tuple, type(None))) for k, _ in items):
                raise ValueError("a dict key that is not a number, string or tuple")
            return dict(items)
    raise ValueError(f"unexpected value {str(data)[:80]!r}")


class _GeneratorState(dict):
    """A saved ``numpy.random.Generator``'s bit-generator state, set into the env's own generator."""


def _is_config(name: str, value: Any) -> bool:
    """Whether an attribute says how the env was made (its spaces, spec, render mode, a wrapper's
    function) rather than where its episode is: never saved, never set."""
    return (
        name in _CONFIG_ATTRIBUTES
        or isinstance(value, (gym.spaces.Space, gym.envs.registration.EnvSpec))
        or callable(value)  # FlattenObservation's func: code the fresh env has of its own
    )


def _name(layer) -> str:
    return f"{type(layer).__module__}.{type(layer).__qualname__}"


def env_state(env) -> dict[str, Any] | None:
    """The state of ``env`` (a gymnasium env with its wrappers) as JSON-able data, or ``None``
    when some attribute of it is not plain data (a Box2D world, an emulator), so that its
    episodes can't be saved and continued."""
    layers = []
    for layer in _layers(env):
        attributes = {}
        for name, value in vars(layer).items():
            if _is_config(name, value):
                continue
            try:
                attributes[name] = _encode(value)
            except _Unsupported:
                return None
        layers.append({"class": _name(layer), "attributes": attributes})
    return {"layers": layers}


def restore_env_state(env, state: Any) -> None:
    """Set ``env`` to the ``state`` that :func:`env_state` returned for an env of the same kind.

    ``env`` should have been reset, so that its attributes have the kinds the saved ones have.
    Nothing is set unless everything fits.

    Raises:
        ValueError: the state is malformed or was saved from another kind of env (other
            wrappers or env class, other attributes, or values of other kinds); the message says
            what differs.
    """
    if not isinstance(state, dict) or not isinstance(state.get("layers"), list):
        raise ValueError("the saved env state is malformed (no list of layers)")
    layers = _layers(env)
    saved = state["layers"]
    names = [str(layer.get("class")) if isinstance(layer, dict) else "?" for layer in saved]
    if names != [_name(layer) for layer in layers]:
        raise ValueError(f"the saved env is {' > '.join(names)}, this one is {' > '.join(map(_name, layers))}")
    planned = []
    for layer, saved_layer in zip(layers, saved, strict=True):
        attributes = saved_layer.get("attributes")
        if not isinstance(attributes, dict):
            raise ValueError(f"the saved state of {_name(layer)} is malformed")
        own = {k for k, v in vars(layer).items() if not _is_config(k, v)}
        if set(attributes) != own:
            raise ValueError(f"{_name(layer)}'s saved attributes {sorted(attributes)} are not this env's {sorted(own)}")
        for name, data in attributes.items():
            value, current = _decode(data), vars(layer)[name]
            _check_same_kind(f"{_name(layer)}.{name}", value, current)
            planned.append((layer, name, value, current))
    for layer, name, value, current in planned:
        if isinstance(value, _GeneratorState):
            current.bit_generator.state = dict(value)
        else:
            setattr(layer, name, value)


def _check_same_kind(where: str, value: Any, current: Any) -> None:
    """ValueError unless ``value`` may replace ``current``: a generator's state for a generator of
    that bit generator, an array of the same shape for an array, and otherwise any plain data: the
    types change within an episode (Acrobot's state is float32 after a reset and float64 after a
    step, MountainCar's an array after a reset and a tuple after a step)."""
    if isinstance(value, _GeneratorState) or isinstance(current, np.random.Generator):
        if not (isinstance(value, _GeneratorState) and isinstance(current, np.random.Generator)):
            raise ValueError(f"{where}: a random generator on one side only")
        kind = value.get("bit_generator")
        if kind not in _BIT_GENERATORS or kind != type(current.bit_generator).__name__:
            raise ValueError(f"{where}: a {kind!r} generator state for a {type(current.bit_generator).__name__}")
        probe = getattr(np.random, kind)()
        try:  # NumPy checks the state's fields; try them on a throwaway generator first
            probe.state = dict(value)
        except (TypeError, ValueError, KeyError) as error:
            raise ValueError(f"{where}: a malformed generator state ({error})") from None
        return
    if isinstance(current, np.ndarray) and isinstance(value, np.ndarray) and value.shape != current.shape:
        raise ValueError(f"{where}: saved {_describe(value)}, this env has {_describe(current)}")


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype} and shape {value.shape}"
    return f"a {type(value).__name__}"

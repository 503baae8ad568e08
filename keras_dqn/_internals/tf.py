"""Every use of TensorFlow's private internals, and why: work-arounds for TensorFlow keeping
dropped training graphs alive.  ``tests/test_internals.py`` fails, saying which, if an upgrade
moves one of them.

In graph mode, ``tf.custom_gradient`` registers its gradient function in TensorFlow's global
gradient registry under a fresh name (``CustomGradient-<n>``) and never removes it; that
function's closure holds the traced graph's tensors, hence the whole ``FuncGraph``, its
``tf.while_loop`` bodies and their function definitions in the eager context.  Keras' TF
optimizer runs into it on every trace of ``apply_gradients``: it all-reduces the gradients in
the default replica context, which wraps them in a ``custom_gradient``.  So every traced
training step stayed in memory for good (~6 MB for a 64-64 MLP's, more with XLA): see
tensorflow/tensorflow#97697 and #27492.

:func:`release_custom_gradients` drops the registry entries that a trace made, once it is done.
They are only needed to differentiate *through* the traced graph again, which a training step
never is (its gradients are taken inside it, by a ``GradientTape``, which keeps its own
reference to the gradient function).
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from typing import Any

PREFIX = "CustomGradient-"  # the names tf.custom_gradient's graph mode registers


def _registry() -> dict | None:
    try:
        from tensorflow.python.framework import ops

        registry = ops._gradient_registry._registry  # private: guarded, a no-op if it moves
    except (ImportError, AttributeError):
        return None
    return registry if isinstance(registry, dict) else None


@contextlib.contextmanager
def release_custom_gradients() -> Iterator[None]:
    """Trace inside this block: the custom gradients registered meanwhile are unregistered after it."""
    registry = _registry()
    before = set(registry) if registry is not None else set()
    try:
        yield
    finally:
        if registry is not None:
            for name in [n for n in registry if n not in before and str(n).startswith(PREFIX)]:
                registry.pop(name, None)


class SharedFunctions:
    """Traced functions shared by objects that differ only in their variables' values.

    XLA keeps every function it compiles for the life of the process (its compilation cache
    has no eviction): ~4 MB for an MLP's training step.  So agents of the same architecture
    and settings share one traced function here.  Each runs it on its own variables: the
    function's captured inputs (the template's variable handles) are swapped for the
    matching variables of the caller, found by position in a list of variables both build
    the same way.  The cache holds at most ``maxsize`` functions, least recently used first out.
    """

    def __init__(self, maxsize: int = 16):
        self.maxsize = maxsize
        self._entries: OrderedDict = OrderedDict()  # key -> (ConcreteFunction, capture positions, specs)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._entries

    def clear(self) -> None:
        self._entries.clear()

    def get(self, key: Hashable | None, variables: list, trace: Callable[[], Any]) -> Callable[..., Any]:
        """The function for ``key`` bound to ``variables`` (traced by ``trace()`` on a miss).

        ``trace()`` must return a ``ConcreteFunction`` whose captured inputs are all among
        ``variables``; otherwise (or with ``key`` None) it is used alone and not shared."""
        if key is None:
            return trace()
        entry = self._entries.get(key)
        if entry is None:
            function = trace()
            positions = _capture_positions(function, variables)
            if positions is None:
                return function
            entry = (function, positions, [_spec(variables[i]) for i in positions])
            self._entries[key] = entry
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)
        elif [_spec(variables[i]) for i in entry[1]] != entry[2]:  # a key that missed a difference: never share
            del self._entries[key]
            return trace()
        else:
            self._entries.move_to_end(key)
        function, positions, _ = entry
        return BoundFunction(function, [_handle(variables[i]) for i in positions])


class BoundFunction:
    """A ``ConcreteFunction`` called with other captured inputs (another object's variables)."""

    def __init__(self, function: Any, captured: list):
        self.function = function
        self._captured = captured

    def __call__(self, *tensors: Any) -> Any:
        return self.function._call_flat(list(tensors), self._captured)  # private: tf.function has no public way


def _handle(variable: Any) -> Any:
    return variable.handle  # a tf.Variable's resource handle (a Keras variable hands on its tf.Variable's)


def _spec(variable: Any) -> tuple:
    return tuple(variable.shape), str(variable.dtype)


def _capture_positions(function: Any, variables: list) -> list[int] | None:
    """Where each of ``function``'s captured inputs sits in ``variables``; None if one is not a variable there."""
    if not callable(getattr(function, "_call_flat", None)):
        return None
    where = {id(_handle(v)): i for i, v in enumerate(variables)}
    positions = [where.get(id(captured)) for captured in function.captured_inputs]
    return None if None in positions else positions

"""Work-arounds for TensorFlow keeping dropped training graphs alive.

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
from collections.abc import Iterator

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

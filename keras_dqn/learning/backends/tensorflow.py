"""TensorFlow: gradients by ``tf.GradientTape``, branches by ``tf.cond``, acting by a traced ``tf.function``.

The compiled training step for TensorFlow is :class:`keras_dqn.learning.compiled_step.TrainStep`
(``K`` updates in one XLA call); see :mod:`keras_dqn.learning.backends` for the interface.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf


def value_and_grad(compute: Callable[[], tuple[Any, Any]], trainable: list, others: list) -> tuple[Any, Any, list]:
    """``compute()``'s loss and aux, and the loss's gradient with respect to ``trainable``."""
    with tf.GradientTape() as tape:
        loss, aux = compute()
    return loss, aux, tape.gradient(loss, trainable)


def apply_gradients_if(ok: Any, optimizer: Any, grads: list, variables: list, cheap: bool) -> None:
    """One optimizer step if ``ok``.

    ``cheap`` (agents with a NumPy twin, whose step XLA compiles): a bad step runs with zero
    gradients at a zero learning rate, which keeps Adam's moments finite, and the caller puts
    back the weights from before it (under XLA a ``tf.cond``, or any reduction over the
    gradients, costs more than the update itself).  Otherwise the step is skipped exactly."""
    if not cheap:

        def apply() -> tf.Tensor:
            optimizer.apply_gradients(zip(grads, variables, strict=True))
            return tf.constant(True)

        tf.cond(ok, apply, lambda: tf.constant(False))
        return
    scale = tf.cast(ok, tf.float32)
    grads = [tf.math.multiply_no_nan(g, tf.cast(scale, g.dtype)) for g in grads]  # 0, even where g is nan
    rate = optimizer.learning_rate
    if hasattr(rate, "assign"):  # a plain learning rate (a schedule has no variable to zero)
        value = tf.identity(rate)
        rate.assign(value * tf.cast(scale, value.dtype))
    optimizer.apply_gradients(zip(grads, variables, strict=True))
    if hasattr(rate, "assign"):
        rate.assign(value)


def assign_if(condition: Any, pairs: list[tuple[Any, Any]]) -> None:
    """``target.assign(source)`` for each ``(target, source)`` pair, if ``condition``."""

    def copy() -> tf.Tensor:
        for target, source in pairs:
            target.assign(source)
        return tf.constant(True)

    tf.cond(condition, copy, lambda: tf.constant(False))


def no_grad() -> contextlib.AbstractContextManager:
    """Nothing to do: only the ``GradientTape`` inside :func:`value_and_grad` records."""
    return contextlib.nullcontext()


def forward(model: Any, training: bool, state_shape: tuple[int, ...], state_dtype: Any) -> Callable:
    """``model``'s forward pass traced once for batches of ``state_shape``: NumPy in, NumPy out."""
    spec = tf.TensorSpec((None, *state_shape), tf.as_dtype(state_dtype))
    traced = tf.function(lambda x: model(x, training=training)).get_concrete_function(spec)

    def run(states: np.ndarray) -> np.ndarray:
        return traced(tf.constant(states)).numpy()

    return run

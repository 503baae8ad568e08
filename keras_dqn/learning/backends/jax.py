"""JAX: the stateful TD update run as a pure function under ``keras.StatelessScope``, compiled by ``jax.jit``.

Keras layers and optimizers read and assign variables; inside a ``StatelessScope`` those reads
and writes go to a mapping of values instead, which is what ``jax.jit`` and ``jax.grad``
need: the update becomes ``(variable values, minibatch) -> (new values, loss, priorities)``
(how Keras' own ``stateless_call`` and ``optimizer.stateless_apply`` work).  Every variable the
update touches must be in the mapping, else its value at trace time would be baked in as a
constant; :func:`compile_updates` is given them all.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import keras
import numpy as np
from keras import ops


def value_and_grad(compute: Callable[[], tuple[Any, Any]], trainable: list, others: list) -> tuple[Any, Any, list]:
    """``compute()``'s loss and aux, and the loss's gradient with respect to ``trainable``.

    Must run inside a ``StatelessScope`` (the compiled update's): ``compute`` is traced as a
    function of the trainable values, with ``others`` at their current values; what it assigns
    to ``others`` (a noisy layer's seed state) is assigned in the enclosing scope after."""
    other_values = [v.value for v in others]

    def loss_of(trainable_values: list) -> tuple[Any, tuple[Any, list]]:
        mapping = [*zip(trainable, trainable_values, strict=True), *zip(others, other_values, strict=True)]
        with keras.StatelessScope(state_mapping=mapping) as scope:
            loss, aux = compute()
        return loss, (aux, [scope.get_current_value(v) for v in others])

    (loss, (aux, updated)), grads = jax.value_and_grad(loss_of, has_aux=True)([v.value for v in trainable])
    for variable, value in zip(others, updated, strict=True):
        variable.assign(value)
    return loss, aux, grads


def apply_gradients_if(ok: Any, optimizer: Any, grads: list, variables: list, cheap: bool) -> None:
    """One optimizer step, kept where ``ok`` (a select XLA fuses into the update: exact and cheap)."""
    touched = [*variables, *optimizer.variables]
    before = [v.value for v in touched]
    optimizer.apply(grads, variables)
    for variable, old in zip(touched, before, strict=True):
        variable.assign(ops.where(ok, variable.value, old))


def assign_if(condition: Any, pairs: list[tuple[Any, Any]]) -> None:
    """``target.assign(source)`` for each ``(target, source)`` pair, if ``condition``."""
    for target, source in pairs:
        target.assign(ops.where(condition, source.value, target.value))


def no_grad() -> contextlib.AbstractContextManager:
    """Nothing to do: ``jax.value_and_grad`` differentiates only the function it is given."""
    return contextlib.nullcontext()


def forward(model: Any, training: bool, state_shape: tuple[int, ...], state_dtype: Any) -> Callable:
    """``model``'s forward pass under ``jax.jit`` (``stateless_call``): NumPy in, NumPy out.

    With ``training`` (a noisy network's noise drawn) the seed state it advanced is kept.  A
    batch is padded to the next power of two, so that a few shapes are compiled, not one per
    batch size (an evaluation's batches shrink as its episodes end)."""

    @jax.jit
    def call(trainable: list, non_trainable: list, states: Any) -> tuple[Any, list]:
        return model.stateless_call(trainable, non_trainable, states, training=training)

    def run(states: np.ndarray) -> np.ndarray:
        n = len(states)
        padded = 1 << max(n - 1, 0).bit_length()
        if padded != n:
            states = np.concatenate([states, np.zeros((padded - n, *states.shape[1:]), states.dtype)])
        outputs, non_trainable = call(
            [v.value for v in model.trainable_variables], [v.value for v in model.non_trainable_variables], states
        )
        if training:
            for variable, value in zip(model.non_trainable_variables, non_trainable, strict=True):
                variable.assign(value)
        return np.asarray(outputs)[:n]

    return run


def compile_updates(update: Callable[[Sequence[Any], Any], tuple[Any, Any]], variables: list,
                    one_thread: bool = False) -> Callable:  # fmt: skip
    """``update`` made pure, ``(values, arrays, healthy) -> (new values, loss, priorities)``, and
    the ``K`` minibatches run through it in one ``jax.jit`` call (a ``lax.scan``), as TensorFlow
    runs them in one XLA call: one dispatch and one transfer of the values a call, not ``K``.
    After a non-finite loss the rest change nothing (``healthy`` is False), their losses NaN
    and their priorities 0.  (``one_thread`` is ignored: XLA's CPU thread pool is set when JAX starts.)"""

    def pure(values: list, arrays: Sequence[Any], healthy: Any) -> tuple[list, Any, Any]:
        with keras.StatelessScope(state_mapping=list(zip(variables, values, strict=True))) as scope:
            loss, priorities = update(arrays, healthy)
        return [scope.get_current_value(v) for v in variables], loss, priorities

    def k_updates(values: list, stacked: Sequence[Any]) -> tuple[list, Any, Any]:
        def one(carry: tuple[list, Any], arrays: Sequence[Any]) -> tuple[tuple[list, Any], tuple[Any, Any]]:
            values, healthy = carry
            values, loss, priorities = pure(values, arrays, healthy)
            priorities = jnp.where(healthy, priorities, 0.0)  # an update after a bad one: nothing
            return (values, jnp.logical_and(healthy, jnp.isfinite(loss))), (loss, priorities)

        (values, _), (losses, priorities) = jax.lax.scan(one, (values, jnp.array(True)), stacked)
        return values, losses, priorities

    compiled = jax.jit(k_updates)

    def run(stacked: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        values, losses, priorities = compiled([v.value for v in variables], list(stacked))
        for variable, value in zip(variables, values, strict=True):
            variable.assign(value)
        return np.asarray(losses, np.float32), np.asarray(priorities, np.float32)

    return run

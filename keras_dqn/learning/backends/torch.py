"""PyTorch: gradients by ``torch.autograd``, branches as Python ``if``, the update run eagerly.

PyTorch runs each op as it comes, so the update needs no compiling to be correct; a
condition read in Python (``bool(ok)``) costs one synchronization, nothing on the CPU.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from keras import ops


def value_and_grad(compute: Callable[[], tuple[Any, Any]], trainable: list, others: list) -> tuple[Any, Any, list]:
    """``compute()``'s loss and aux, and the loss's gradient with respect to ``trainable``."""
    loss, aux = compute()
    grads = torch.autograd.grad(loss, [v.value for v in trainable])
    return loss.detach(), aux, list(grads)


def apply_gradients_if(ok: Any, optimizer: Any, grads: list, variables: list, cheap: bool) -> None:
    """One optimizer step if ``ok``."""
    if bool(ok):
        optimizer.apply(grads, variables)


def assign_if(condition: Any, pairs: list[tuple[Any, Any]]) -> None:
    """``target.assign(source)`` for each ``(target, source)`` pair, if ``condition``."""
    if bool(condition):
        for target, source in pairs:
            target.assign(source.value)


def forward(model: Any, training: bool, state_shape: tuple[int, ...], state_dtype: Any) -> Callable:
    """``model``'s forward pass without autograd: NumPy in, NumPy out."""

    def run(states: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return ops.convert_to_numpy(model(ops.convert_to_tensor(states), training=training))

    return run


def compile_updates(update: Callable[[Sequence[Any]], tuple[Any, Any]], variables: list) -> Callable:
    """``update`` run eagerly on each of ``K`` minibatches in turn."""

    def run(batches: Sequence[Sequence[np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
        losses = np.full(len(batches), np.nan, np.float32)
        priorities = []
        for i, arrays in enumerate(batches):
            loss, new_priorities = update([ops.convert_to_tensor(a) for a in arrays])
            losses[i] = float(loss)
            priorities.append(ops.convert_to_numpy(new_priorities))
            if not np.isfinite(losses[i]):  # this update changed nothing; neither do the rest
                break
        width = priorities[0].shape
        priorities += [np.zeros(width, np.float32)] * (len(batches) - len(priorities))
        return losses, np.stack(priorities)

    return run

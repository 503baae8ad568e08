"""PyTorch: gradients by ``torch.autograd``, branches as Python ``if``, the update run eagerly.

PyTorch runs each op as it comes, so the update needs no compiling to be correct; a
condition read in Python (``bool(ok)``) costs one synchronization, nothing on the CPU.

Small networks (the MLPs, ``one_thread``) train on one CPU thread: on a 64-64 MLP's update a
thread pool costs more than it gives (2.8 ms an update on one thread against 10.4 ms on two,
measured on 2 busy cores).  The process's own thread count is put back after each call.
``torch.compile`` of the update halved its time (1.4 ms) but took 31 s to compile, per agent
and setting: not the default.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
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


def no_grad() -> contextlib.AbstractContextManager:
    """``torch.no_grad()``: the TD targets' forward passes record no autograd graph."""
    return torch.no_grad()


def forward(model: Any, training: bool, state_shape: tuple[int, ...], state_dtype: Any) -> Callable:
    """``model``'s forward pass without autograd: NumPy in, NumPy out."""

    def run(states: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return ops.convert_to_numpy(model(ops.convert_to_tensor(states), training=training))

    return run


@contextlib.contextmanager
def threads(n: int | None) -> Iterator[None]:
    """Run the block on ``n`` intra-op threads (``None``: as they are), then put the count back."""
    before = torch.get_num_threads()
    if n is None or n == before:
        yield
        return
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def compile_updates(update: Callable[[Sequence[Any], Any], tuple[Any, Any]], variables: list,
                    one_thread: bool = False) -> Callable:  # fmt: skip
    """``update`` run eagerly on each of ``K`` minibatches in turn (``one_thread``: on one CPU
    thread).  After a non-finite loss (an update that changed nothing) the rest are not run:
    their losses are NaN and their priorities 0."""

    def run(stacked: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        k = len(stacked[0])
        losses = np.full(k, np.nan, np.float32)
        priorities = np.zeros(np.shape(stacked[1]), np.float32)  # (K, B), as the actions
        with threads(1 if one_thread else None):
            for i in range(k):
                loss, new_priorities = update([ops.convert_to_tensor(a[i]) for a in stacked], True)
                losses[i], priorities[i] = float(loss), ops.convert_to_numpy(new_priorities)
                if not np.isfinite(losses[i]):
                    break
        return losses, priorities

    return run

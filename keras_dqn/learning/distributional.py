"""Distributional Q-learning: the categorical (C51) projection of Bellemare, Dabney and Munos (2017).

What is a value distribution?
-----------------------------
DQN learns ``Q(s, a)``, the *expected* discounted return of taking action ``a`` in state
``s``.  The return itself is random: the same ``(s, a)`` can end in a crash or a long
episode.  Distributional RL learns the whole law of that random return, ``Z(s, a)``, and
recovers ``Q(s, a) = E[Z(s, a)]`` from it when it acts.

C51 stores ``Z(s, a)`` as a histogram on a fixed grid of ``N`` *atoms* (51 in the paper,
hence the name)::

    z_i = v_min + i * dz,   i = 0 .. N-1,   dz = (v_max - v_min) / (N - 1)

The network outputs, for every action, ``N`` probabilities ``p_i(s, a)`` (a softmax over
the atoms), and ``Q(s, a) = sum_i p_i(s, a) * z_i`` (:func:`expected_q`).

Why project?
------------
The Bellman equation for distributions reads ``Z(s, a) = R + gamma * Z(s', a*)`` (equal in
law).  Apply it to a histogram: an atom ``z_j`` carrying probability ``p_j`` at ``s'``
moves to ``r + gamma * z_j``.  The discount *shrinks* the grid towards 0 and the reward
*shifts* it, so the target's atoms no longer sit on the grid, and a histogram on the grid
cannot match it.  C51 therefore *projects* the moved atoms back onto the grid: each moved
atom hands its probability to its two grid neighbours, in proportion to how close it is to
each (linear interpolation), and atoms that fall off the ends of the support are first
clipped onto ``v_min`` or ``v_max``.  With ``N = 5`` atoms on ``[-2, 2]`` (``dz = 1``),
``r = 0.5`` and ``gamma = 0.5``::

    grid atoms z_j          -2      -1       0       1       2
    next state p_j          .10     .20     .30     .15     .25
    shrink: 0.5 z_j         -1     -0.5      0      0.5      1
    shift:  0.5 + 0.5 z_j  -0.5      0      0.5      1      1.5

                 -2      -1       0       1       2        the grid
                  |       |       |       |       |
                              *   *   *   *   *            the moved atoms, carrying
                             .10 .20 .30 .15 .25           their probabilities p_j
                  |       |       |       |       |
    target m_i    0      .05     .40     .425    .125      after sharing each between its neighbours

``-0.5`` sits half way between ``-1`` and ``0`` (0.05 to each), ``0`` is a grid atom (all
its 0.20 stays there), ``0.5`` splits 0.15/0.15 between ``0`` and ``1``, ``1`` keeps its
0.15 and ``1.5`` splits 0.125/0.125 between ``1`` and ``2``.  The target still sums to 1,
and it has the mean of ``r + gamma * Z`` (0.625): sharing in proportion to closeness keeps
the mean, as long as nothing was clipped.

The network is then trained to move ``p(s, a)`` towards ``m`` by minimising the
cross-entropy ``-sum_i m_i log p_i(s, a)`` (:func:`cross_entropy`), which Rainbow also
uses as a transition's replay priority.

A terminal transition has ``gamma**k = 0``: every atom collapses onto ``r`` (clipped into
the support), so the target is all mass on the one or two atoms around the reward.

In index units the rule is: ``b = (Tz - v_min) / dz`` with ``Tz = clip(r + discount * z_j,
v_min, v_max)``, ``l = floor(b)``, and ``p_j`` is split into ``p_j * (l + 1 - b)`` at
atom ``l`` and ``p_j * (b - l)`` at atom ``l + 1``.  Two classic traps, both handled here:

* ``b`` an exact integer.  Written as ``m_l += p_j (u - b)``, ``m_u += p_j (b - l)`` with
  ``u = ceil(b)``, both weights are 0 when ``l == u`` and the mass vanishes.  Using
  ``l + 1`` as the upper neighbour gives weights ``1`` and ``0`` instead.
* float32 rounding.  ``(v_max - v_min) / dz`` can come out as ``N - 1 + 5e-7`` (for
  instance ``N = 8`` on ``[-10, 0.1]``): its floor is ``N - 1`` and a share ``5e-7 * p_j``
  goes to atom ``N``, which does not exist.  A one-hot drops it (the target sums to less
  than 1); a scatter over flattened ``(sample, atom)`` indices adds it to the *next
  sample's* first atom, or fails at the end of the batch.  ``b`` is clipped into
  ``[0, N - 1]`` first.

:func:`project_distribution` is written in ``keras.ops`` with static shapes and no Python
loop over the batch, so it runs on every Keras backend and inside a compiled step
(``tf.function(jit_compile=True)``, ``jax.jit``).  The "scatter" of each ``p_j`` onto atoms ``l`` and
``l + 1`` is a one-hot matrix per sample, ``(B, N, N)``, contracted with ``p``: 2,601
numbers per sample for ``N = 51``, with no scatter op and no index that could fall outside
the batch, and XLA compiles it (tests/learning/test_distributional.py checks this on the CPU).
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

from keras_dqn.checks import check_number

__all__ = ["cross_entropy", "expected_q", "expected_q_numpy", "project_distribution", "support"]


def support(n_atoms: int, v_min: float, v_max: float) -> np.ndarray:
    """The ``n_atoms`` float32 atoms ``z_i = v_min + i * dz`` from ``v_min`` to ``v_max`` inclusive.

    ``dz = (v_max - v_min) / (n_atoms - 1)``.  The grid is computed in float64 and rounded
    once, so ``z[0] == float32(v_min)`` and ``z[-1] == float32(v_max)`` exactly.  Raises
    ``ValueError`` unless ``n_atoms`` is an integer >= 2 and ``v_min < v_max`` are finite
    numbers whose atoms stay distinct and finite in float32.
    """
    if isinstance(n_atoms, bool) or not isinstance(n_atoms, (int, np.integer)) or n_atoms < 2:
        raise ValueError(f"n_atoms must be an integer >= 2, got {n_atoms!r}")
    low = check_number("v_min", v_min)
    high = check_number("v_max", v_max)
    if not low < high:
        raise ValueError(f"v_min must be below v_max, got v_min={v_min!r}, v_max={v_max!r}")
    with np.errstate(over="ignore"):
        atoms = np.linspace(low, high, int(n_atoms), dtype=np.float64).astype(np.float32)
    if not (np.all(np.isfinite(atoms)) and np.all(np.diff(atoms) > 0)):
        raise ValueError(
            f"the {n_atoms} atoms from v_min={v_min!r} to v_max={v_max!r} must be distinct, finite float32 "
            f"numbers; widen the interval or use fewer atoms"
        )
    return atoms


def _floating(x: Any) -> Any:
    """``x`` as a tensor of the current backend, cast to float32 unless it is floating already."""
    x = ops.convert_to_tensor(x)
    return x if keras.backend.is_float_dtype(x.dtype) else ops.cast(x, "float32")


def _atoms_tensor(atoms: Any, dtype: Any, n_expected: int | None, what: str) -> Any:
    """``atoms`` as a rank-1 tensor of ``dtype`` whose static length matches ``n_expected`` (trace-time check)."""
    atoms = ops.convert_to_tensor(atoms, dtype=dtype)
    shape = tuple(atoms.shape)
    if len(shape) != 1 or shape[0] is None or shape[0] < 2:
        raise ValueError(f"atoms must be a vector of at least 2 values with a known length, got shape {shape}")
    if n_expected is not None and n_expected != shape[0]:
        raise ValueError(f"{what} must have one entry per atom ({shape[0]}) on its last axis, got {n_expected}")
    return atoms


def project_distribution(next_probs: Any, rewards: Any, discounts: Any, atoms: Any) -> Any:
    """The C51 target: the distribution ``rewards + discounts * Z'`` projected onto ``atoms``.

    Args:
        next_probs: ``(B, N)`` probabilities of the bootstrap distribution ``Z'`` at the next
            state, for the action the target picks there (float32, or another float dtype
            that the result then has).
        rewards: ``(B,)`` rewards, already summed and discounted over the ``k`` steps of an
            n-step return.
        discounts: ``(B,)`` ``gamma**k``, and 0 for a transition whose episode terminated
            (all mass then goes to the atom(s) around ``clip(reward, v_min, v_max)``).
        atoms: ``(N,)`` the support, as from :func:`support`; its length must be known when
            the function is traced (a NumPy array or constant).

    Returns:
        ``(B, N)`` target probabilities ``m``; each row sums to the row's ``next_probs``
        sum (1 for a distribution), a tensor of the Keras backend.

    ``keras.ops`` only, static ``N``, no loop over the batch: it runs on every Keras backend
    and compiles (XLA through ``tf.function(jit_compile=True)`` or ``jax.jit``).  No gradient
    is stopped here; a training step computes it from target-network outputs (or wraps it in
    ``keras.ops.stop_gradient``).
    """
    next_probs = _floating(next_probs)
    dtype = next_probs.dtype
    if len(next_probs.shape) != 2:
        raise ValueError(f"next_probs must have shape (batch, n_atoms), got {tuple(next_probs.shape)}")
    atoms = _atoms_tensor(atoms, dtype, next_probs.shape[-1], "next_probs")
    n_atoms = int(atoms.shape[0])
    rewards = ops.reshape(ops.cast(rewards, dtype), (-1, 1))  # (B, 1)
    discounts = ops.reshape(ops.cast(discounts, dtype), (-1, 1))  # (B, 1)

    v_min, v_max = atoms[0], atoms[-1]
    delta_z = (v_max - v_min) / (n_atoms - 1)
    # Where each atom z_j of the next state's distribution lands: shrunk, shifted, clipped.
    target_atoms = ops.clip(rewards + discounts * atoms[None, :], v_min, v_max)  # (B, N)
    # Its position in index units; rounding can push it past N - 1 (or below 0): clip back.
    position = ops.clip((target_atoms - v_min) / delta_z, 0.0, n_atoms - 1.0)  # b, (B, N)
    lower = ops.floor(position)  # l
    upper_weight = position - lower  # b - l, in [0, 1): 0 when b is a grid atom
    lower_weight = 1.0 - upper_weight  # (l + 1) - b: 1 when b is a grid atom, so no mass is lost
    lower_index = ops.cast(lower, "int32")
    upper_index = ops.minimum(lower_index + 1, n_atoms - 1)  # at b = N - 1 its weight is 0 anyway
    # share[b, j, i]: the fraction of next-state atom j's mass that target atom i receives.
    share = (
        ops.one_hot(lower_index, n_atoms, dtype=dtype) * lower_weight[..., None]
        + ops.one_hot(upper_index, n_atoms, dtype=dtype) * upper_weight[..., None]
    )  # (B, N, N)
    return ops.einsum("bj,bji->bi", next_probs, share)


def expected_q(probs: Any, atoms: Any) -> Any:
    """Q-values ``sum_i p_i * z_i`` of value distributions: ``(..., N)`` probabilities to ``(...)``.

    Typically ``(B, A, N)`` (a distribution per action) to ``(B, A)`` Q-values, whose argmax
    is the greedy action.  ``keras.ops``; see :func:`expected_q_numpy` for NumPy.
    """
    probs = _floating(probs)
    atoms = _atoms_tensor(atoms, probs.dtype, probs.shape[-1] if len(probs.shape) else None, "probs")
    return ops.sum(probs * atoms, axis=-1)


def expected_q_numpy(probs: Any, atoms: Any) -> np.ndarray:
    """:func:`expected_q` in NumPy, for acting outside TensorFlow: ``(..., N)`` to ``(...)``."""
    probs = np.asarray(probs)
    atoms = np.asarray(atoms, dtype=probs.dtype if probs.dtype.kind == "f" else np.float32)
    if atoms.ndim != 1 or probs.shape[-1:] != atoms.shape:
        raise ValueError(f"probs must have one entry per atom ({atoms.shape}) on its last axis, got {probs.shape}")
    return probs @ atoms


def cross_entropy(target_probs: Any, probs: Any, epsilon: float = 1e-8) -> Any:
    """Per-sample cross-entropy ``-sum_i m_i * log(p_i)``: ``(..., N)`` and ``(..., N)`` to ``(...)``.

    ``target_probs`` is the projected target ``m`` (:func:`project_distribution`) and
    ``probs`` the predicted distribution of the action taken.  ``p`` is clipped into
    ``[epsilon, 1]`` so that an atom the network gives probability 0 costs
    ``-m_i * log(epsilon)`` rather than ``inf``.  The mean over the batch (importance-weighted
    under prioritized replay) is the C51 loss; the per-sample values are Rainbow's priorities.
    """
    epsilon = check_number("epsilon", epsilon)
    if not 0.0 < epsilon < 1.0:
        raise ValueError(f"epsilon must be in (0, 1), got {epsilon!r}")
    probs = _floating(probs)
    target_probs = ops.cast(target_probs, probs.dtype)
    if len(probs.shape) != len(target_probs.shape) or any(
        a is not None and b is not None and a != b for a, b in zip(probs.shape, target_probs.shape, strict=True)
    ):
        raise ValueError(
            f"target_probs and probs must have the same shape, got {tuple(target_probs.shape)} and {tuple(probs.shape)}"
        )
    return -ops.sum(target_probs * ops.log(ops.clip(probs, epsilon, 1.0)), axis=-1)

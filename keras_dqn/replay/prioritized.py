"""Prioritized experience replay (Schaul et al., 2016, "Prioritized Experience Replay").

Why prioritize.  A uniform replay memory replays every transition equally often, yet most of
them teach the network almost nothing: their target is already predicted well.  The size
of the TD error ``|target - Q(s, a)|`` says how surprising a transition still is, so
replaying surprising transitions more often spends the gradient steps where they help.
Schaul et al. report faster learning on most Atari games.

The priority of transition ``i`` is ``p_i = |TD error_i| + epsilon`` (``epsilon`` keeps a
transition with no error drawable), and it is drawn with probability

    P(i) = p_i**alpha / sum_j p_j**alpha.

``alpha`` sets how much the priorities count: ``alpha = 0`` is uniform replay, ``alpha = 1``
draws in proportion to the TD errors; the paper uses 0.6 for DQN.  A new transition has not
been scored yet, so it gets the largest priority seen so far and is sure to be replayed soon.
After each gradient step :meth:`PrioritizedReplayBuffer.update_priorities` stores the new TD
errors of the transitions just replayed.

Importance weights (``beta``).  The Q-learning update is an expectation over the replay
memory; drawing some transitions more often than others biases it towards them.  Each
sampled transition's loss is therefore multiplied by ``w_i = (N * P(i))**-beta`` (``N``
transitions stored), divided by the largest ``w`` of its minibatch so that weights only
ever scale the step down.  ``beta = 1`` removes the bias entirely; early in training the
bias matters little, so the paper starts at ``beta = 0.4`` and anneals it to 1 by the end
(:meth:`PrioritizedReplayBuffer.anneal_beta`).  The weights come in the minibatch's
``weights`` field and the slots sampled in ``indices`` (see :class:`keras_dqn.replay.base.Batch`).

The two buffers here are :class:`keras_dqn.replay.uniform.ReplayBuffer` and
:class:`keras_dqn.replay.frames.FrameReplayBuffer` with a sum-tree beside their arrays; slots that
cannot be sampled (a frame buffer's frame-only slots, or a transition whose oldest frames
were overwritten) have priority 0, so they are never drawn.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from keras_dqn.checks import check_fraction, check_non_negative_number, check_number, check_positive_number
from keras_dqn.replay.base import Batch
from keras_dqn.replay.frames import FrameReplayBuffer
from keras_dqn.replay.sum_tree import SumTree
from keras_dqn.replay.uniform import ReplayBuffer


class _Prioritized:
    """What both prioritized buffers add to their parent: the sum-tree, sampling by it, its upkeep.

    Writes only count themselves (:meth:`_on_write`); the tree catches up with them in one
    vectorized step (:meth:`_sync`) before anything reads it, so an env step costs no more
    than with the parent buffer.  A subclass says which slots hold sampleable transitions
    (:meth:`_live`) and how a run of written slots changes the priorities (:meth:`_refresh`).
    """

    maxlen: int
    rng: np.random.Generator
    _size: int
    _next: int

    def __init__(self, maxlen: int, state_shape: tuple[int, ...], *, alpha: float = 0.6, beta: float = 0.4,
                 epsilon: float = 1e-6, **kwargs: Any):  # fmt: skip
        name = type(self).__name__
        self.alpha = check_non_negative_number(f"{name} alpha", alpha, "0: uniform replay")
        self.beta_start = check_fraction(f"{name} beta", beta)
        self.beta = self.beta_start
        self.epsilon = check_positive_number(f"{name} epsilon", epsilon)
        super().__init__(maxlen, state_shape, **kwargs)
        self._tree = SumTree(self.maxlen)
        self._max_priority = 1.0  # largest p**alpha stored so far; new transitions get it
        self._pending = 0  # slots written since the tree last caught up

    # ------------------------------------------------------------------ the tree's upkeep
    def _on_write(self, slots: np.ndarray | int, transition: bool) -> None:
        super()._on_write(slots, transition)
        self._pending += int(np.size(slots))

    def _sync(self) -> None:
        """Bring the tree up to date with the slots written since the last call (oldest first)."""
        if self._pending:
            written = min(self._pending, self.maxlen)
            self._pending = 0
            self._refresh((self._next - written + np.arange(written)) % self.maxlen)

    def _refresh(self, slots: np.ndarray) -> None:
        """Set the priorities that writing ``slots`` (consecutive, oldest first) changed."""
        raise NotImplementedError

    def _live(self, slots: np.ndarray) -> np.ndarray:
        """Which of ``slots`` hold transitions that can be sampled."""
        raise NotImplementedError

    def _used_slots(self) -> int:
        """Slots ``0..n-1`` may hold transitions; this is ``n``."""
        raise NotImplementedError

    @property
    def priorities(self) -> np.ndarray:
        """The stored priority ``p**alpha`` of every slot (0: nothing sampleable there): a read-only
        view of the sum-tree's leaves, up to date when read."""
        self._sync()
        return self._tree.values

    @property
    def total_priority(self) -> float:
        """The sum of every stored ``p**alpha`` (what sampling divides by), up to date when read."""
        self._sync()
        return self._tree.total

    @property
    def max_priority(self) -> float:
        """What a new transition's ``p**alpha`` is: the largest stored so far (1.0 to start with)."""
        return self._max_priority

    # ------------------------------------------------------------------ sampling
    def _draw_slots(self, count: int) -> np.ndarray:
        return self._draw((count,))

    def _draw(self, shape: tuple[int, int] | tuple[int]) -> np.ndarray:
        """Slots drawn with probability ``p**alpha / total``, each row of ``shape`` stratified then shuffled."""
        self._sync()
        total = self._tree.total
        if not total > 0:
            raise ValueError(
                f"no transition in this {type(self).__name__} can be sampled (every priority is 0): in a frame "
                f"buffer, {self.maxlen} slots are too few for stacks of frames from this many sub-envs (use a "
                "larger maxlen)"
            )
        batch_size = shape[-1]
        # Segment j of each row is [j, j + 1) * total / batch_size: one uniform number in each.
        prefix_sums = (np.arange(batch_size) + self.rng.random(shape)) * (total / batch_size)
        return self.rng.permuted(self._tree.find(prefix_sums), axis=-1)

    def _check_beta(self, caller: str, beta: float | None) -> float:
        return self.beta if beta is None else check_fraction(f"{caller} beta", beta)

    def _prioritized_batch(self, slots: np.ndarray, beta: float) -> Batch:
        """The transitions in ``slots`` with their ``indices`` and importance ``weights`` (per row)."""
        # (N * P(i))**-beta over its row's largest is (min P / P(i))**beta: N and the total cancel,
        # and a ratio <= 1 cannot overflow however small a priority is.
        priorities = self._tree.values[slots]
        weights = (priorities.min(axis=-1, keepdims=True) / priorities) ** beta
        return self.gather(slots)._replace(weights=weights.astype(np.float32), indices=slots)

    def sample(self, batch_size: int, beta: float | None = None) -> Batch:
        """A prioritized minibatch of ``batch_size`` transitions (with replacement), stratified.

        Args:
            batch_size: transitions to draw.
            beta: exponent of the importance weights, in ``[0, 1]`` (``None``: :attr:`beta`).

        Returns:
            A :class:`~keras_dqn.replay.base.Batch` whose ``weights`` are the importance weights
            (float32, largest 1) and ``indices`` the slots drawn, for :meth:`update_priorities`.
        """
        beta = self._check_beta("sample()", beta)
        self._check_can_sample(batch_size)
        return self._prioritized_batch(self._draw((batch_size,)), beta)

    def sample_batches(self, n_batches: int, batch_size: int, beta: float | None = None) -> Batch:
        """``n_batches`` prioritized minibatches stacked on a leading axis (as :meth:`sample`, each
        stratified and its weights normalized on its own)."""
        beta = self._check_beta("sample_batches()", beta)
        self._check_can_sample(batch_size)
        return self._prioritized_batch(self._draw((n_batches, batch_size)), beta)

    # ------------------------------------------------------------------ learning's feedback
    def update_priorities(self, indices: Any, priorities: Any) -> None:
        """Store new priorities for the transitions in ``indices``: ``(priority + epsilon)**alpha``.

        Args:
            indices: slots, as a minibatch's ``indices`` (any shape: ``(K, B)`` from
                :meth:`sample_batches` is flattened).
            priorities: the new ``|TD error|`` of each, non-negative and finite, as many as ``indices``.

        A slot given twice takes its last priority.  A slot that no longer holds a sampleable
        transition (frames overwritten since it was sampled) keeps priority 0.

        Raises:
            ValueError: a priority negative, nan or inf, not one priority per index, or an
                index that is not a slot of a stored transition; nothing is changed then.
        """
        indices = np.asarray(indices)
        priorities = np.asarray(priorities)
        if indices.size != priorities.size:
            raise ValueError(
                f"update_priorities() expected one priority per index; got {indices.size} indices "
                f"(shape {indices.shape}) and {priorities.size} priorities (shape {priorities.shape})"
            )
        if indices.size and indices.dtype.kind not in "iu":
            raise ValueError(f"update_priorities() indices must be integer slots (a batch's indices), "
                             f"got {indices.dtype}")  # fmt: skip
        if priorities.size and priorities.dtype.kind not in "iuf":
            raise ValueError(f"update_priorities() priorities must be real numbers (|TD error|), "
                             f"got {priorities.dtype}")  # fmt: skip
        indices = indices.reshape(-1).astype(np.int64, copy=False)
        priorities = priorities.reshape(-1).astype(np.float64, copy=False)
        if indices.size == 0:
            return
        bad = ~(np.isfinite(priorities) & (priorities >= 0))
        if bad.any():
            position = int(np.flatnonzero(bad)[0])
            raise ValueError(
                "update_priorities() priorities must be non-negative finite numbers (|TD error|), "
                f"got {priorities[position]} at position {position}"
            )
        used = self._used_slots()
        outside = (indices < 0) | (indices >= used)
        if outside.any():
            raise ValueError(
                f"update_priorities() indices must be slots of stored transitions, in [0, {used}), "
                f"got {indices[outside][0]}"
            )
        self._sync()
        live = self._live(indices)
        values = np.where(live, (priorities + self.epsilon) ** self.alpha, 0.0)
        if live.any():
            self._max_priority = max(self._max_priority, float(values[live].max()))
        # A dead slot is rewritten with 0 in its place of the order, so "last given wins" still holds.
        self._tree.update(indices, values)

    def anneal_beta(self, fraction: float) -> float:
        """Move :attr:`beta` from its starting value to 1 as ``fraction`` (of training done) goes 0 -> 1.

        Args:
            fraction: share of training done; clipped to ``[0, 1]``.

        Returns:
            The new :attr:`beta`, ``beta_start + fraction * (1 - beta_start)``.
        """
        fraction = min(max(check_number("anneal_beta() fraction", fraction), 0.0), 1.0)
        self.beta = self.beta_start + fraction * (1.0 - self.beta_start)
        return self.beta

    # ------------------------------------------------------------------ saving
    def _arrays(self) -> dict[str, np.ndarray]:
        return {**super()._arrays(), "priorities": self._tree.leaves}

    @property
    def nbytes_per_transition(self) -> float:
        """Bytes of storage per slot, the sum-tree's inner nodes included."""
        inner = self._tree.nbytes - self._tree.leaves.nbytes
        return super().nbytes_per_transition + inner / self.maxlen

    def state_dict(self) -> dict[str, Any]:
        """The parent's state dict plus ``"priorities"`` (the sum-tree's leaves, ``p**alpha`` per slot),
        ``"max_priority"`` (a float: what the next new transition gets) and ``"alpha"`` (the
        exponent the priorities were raised to)."""
        self._sync()
        return {**super().state_dict(), "max_priority": self._max_priority, "alpha": self.alpha}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a :meth:`state_dict`; the sum-tree's inner nodes are rebuilt from the priorities.

        ``"max_priority"`` is optional: without it, the largest priority stored (at least 1.0).
        So is ``"alpha"`` (older files); where given, it must be this memory's.
        Raises ``ValueError`` as the parent does, for priorities negative or not finite, and
        for priorities raised to another exponent than :attr:`alpha`.
        """
        state = dict(state)
        max_priority = state.pop("max_priority", None)
        alpha = state.pop("alpha", self.alpha)
        if alpha != self.alpha:
            self._state_error(f"its priorities were raised to alpha {alpha!r}; this memory's alpha is {self.alpha}")
        if max_priority is not None:
            number = not isinstance(max_priority, bool) and isinstance(max_priority, (int, float, np.number))
            if not (number and math.isfinite(max_priority) and max_priority >= 1.0):
                self._state_error(f"'max_priority' should be a finite number >= 1.0, found {max_priority!r}")
            max_priority = float(max_priority)
        found = state.get("priorities")
        mine = self._tree.leaves
        if isinstance(found, np.ndarray) and found.shape == mine.shape and found.dtype == mine.dtype:
            if not np.all(np.isfinite(found) & (found >= 0)):
                self._state_error("'priorities' should be finite and non-negative, found a negative, nan or inf")
        super().load_state_dict(state)
        self._pending = 0
        leaves = self._tree.leaves
        leaves[~self._live(np.arange(self.maxlen))] = 0.0  # whatever the file says, never draw those
        self._tree.rebuild()
        stored = float(leaves.max()) if leaves.size else 0.0
        self._max_priority = max(1.0, stored) if max_priority is None else max(max_priority, stored)
        self._after_load()

    def _after_load(self) -> None:
        """Rebuild what else a subclass derives from the restored contents."""


class PrioritizedReplayBuffer(_Prioritized, ReplayBuffer):
    """A :class:`~keras_dqn.replay.uniform.ReplayBuffer` that samples by priority (see the module docstring).

    Args:
        maxlen: capacity; once full, each append replaces the oldest transition (and its priority).
        state_shape: shape of one state, e.g. ``(4,)`` for CartPole.
        alpha: how much priorities count, ``>= 0`` (0: uniform; the paper's 0.6).
        beta: importance-weight exponent to start with, in ``[0, 1]`` (the paper's 0.4);
            :meth:`anneal_beta` moves it to 1.
        epsilon: added to every ``|TD error|``, ``> 0``, so that no transition has priority 0.
        **kwargs: the rest of :class:`~keras_dqn.replay.uniform.ReplayBuffer`'s arguments (``seed``,
            ``state_dtype``, ``action_size``...).

    ``sample`` and ``sample_batches`` fill the minibatch's ``weights`` and ``indices``; after
    the gradient step, pass the new ``|TD error|`` of each to :meth:`update_priorities`.
    """

    def _refresh(self, slots: np.ndarray) -> None:
        self._tree.update(slots, self._max_priority)  # every slot written holds a new transition

    def _live(self, slots: np.ndarray) -> np.ndarray:
        return slots < self._size  # transitions live in slots 0.._size-1

    def _used_slots(self) -> int:
        return self._size


class PrioritizedFrameReplayBuffer(_Prioritized, FrameReplayBuffer):
    """A :class:`~keras_dqn.replay.frames.FrameReplayBuffer` that samples by priority (see the module docstring).

    Frame-only slots (the first frames of an episode) and transitions whose oldest frames
    were overwritten have priority 0, so they are never drawn.

    Args:
        maxlen: number of slots (as :class:`~keras_dqn.replay.frames.FrameReplayBuffer`).
        state_shape: shape of one state, e.g. ``(4, 84, 84)``.
        alpha: how much priorities count, ``>= 0`` (0: uniform; the paper's 0.6).
        beta: importance-weight exponent to start with, in ``[0, 1]`` (the paper's 0.4);
            :meth:`anneal_beta` moves it to 1.
        epsilon: added to every ``|TD error|``, ``> 0``, so that no transition has priority 0.
        **kwargs: the rest of :class:`~keras_dqn.replay.frames.FrameReplayBuffer`'s arguments
            (``seed``, ``stack_axis``, ``action_size``...).
    """

    def __init__(self, maxlen: int, state_shape: tuple[int, ...], *, alpha: float = 0.6, beta: float = 0.4,
                 epsilon: float = 1e-6, **kwargs: Any):  # fmt: skip
        super().__init__(maxlen, state_shape, alpha=alpha, beta=beta, epsilon=epsilon, **kwargs)
        # How far after its oldest frame a live transition can lie (slots back along its links).
        # One env: k.  Sub-envs written in turn put about n_envs slots between a stack's frames.
        self._reach = self.stack

    def _depth(self, slots: np.ndarray) -> np.ndarray:
        """Slots back from each transition to its oldest frame (as :meth:`sampleable` counts them)."""
        return sum(self.back[c].astype(np.int64) for c in self._chains(slots)[:-1])

    def _refresh(self, slots: np.ndarray) -> None:
        # New transitions get the max priority, frame-only slots 0.  Writing a slot also takes the
        # oldest frame from every transition whose stack reached back to it; those lie at most
        # `_reach` slots after it, so one window covers them all.
        new = slots[self.sampleable(slots)]
        if new.size:
            self._reach = max(self._reach, int(self._depth(new).max()))
        span = min(len(slots) + self._reach, self.maxlen)
        window = (slots[0] + np.arange(span)) % self.maxlen
        values = self._tree.leaves[window]  # a copy (fancy indexing)
        values[: len(slots)] = self._max_priority
        values[~self.sampleable(window)] = 0.0
        self._tree.update(window, values)

    def _live(self, slots: np.ndarray) -> np.ndarray:
        return self.sampleable(slots)

    def _used_slots(self) -> int:
        return self._filled

    def _after_load(self) -> None:
        live = np.flatnonzero(self.sampleable(np.arange(self.maxlen)))
        self._reach = max(self.stack, int(self._depth(live).max())) if live.size else self.stack

"""Replay memory.

The blog keeps experience in ``deque(maxlen=2000)`` and samples it with ``random.sample``.
That reads well but costs a Python loop per minibatch.  :class:`ReplayBuffer` keeps the
same feel — ``len(memory)``, ``memory.maxlen``, ``memory.append((s, a, r, s2, done))`` —
on preallocated NumPy arrays: appending overwrites the oldest slot (a ring), and sampling a
minibatch is one fancy-index per field.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Batch(NamedTuple):
    """A minibatch of transitions, one array per field, batch axis first."""

    states: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_states: np.ndarray
    dones: np.ndarray


class ReplayBuffer:
    """A fixed-size ring buffer of ``(state, action, reward, next_state, done)`` transitions.

    Args:
        maxlen: capacity; once full, each append replaces the oldest transition.
        state_shape: shape of one state, e.g. ``(4,)`` for CartPole.
        seed: seed (or ``numpy.random.Generator``) for sampling.
        state_dtype: dtype states are stored in.

    ``done`` must mean *terminated*: the episode reached a terminal state, so there is no
    future value to bootstrap from.  A time-limit truncation is not terminal; store
    ``done=False`` for it (the transition is still worth learning from).
    """

    def __init__(
        self,
        maxlen: int,
        state_shape: tuple[int, ...],
        *,
        seed: int | np.random.Generator | None = None,
        state_dtype: np.dtype | type = np.float32,
    ):
        if int(maxlen) < 1:
            raise ValueError(f"ReplayBuffer maxlen must be a positive integer, got {maxlen!r}")
        self.maxlen = int(maxlen)
        self.state_shape = tuple(state_shape)
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        self.states = np.zeros((self.maxlen, *self.state_shape), dtype=state_dtype)
        self.next_states = np.zeros_like(self.states)
        self.actions = np.zeros(self.maxlen, dtype=np.int32)
        self.rewards = np.zeros(self.maxlen, dtype=np.float32)
        self.dones = np.zeros(self.maxlen, dtype=np.float32)
        self._next = 0  # slot the next transition goes to
        self._size = 0

    # What a training checkpoint saves to restore the memory (see keras_dqn.checkpoint).
    ARRAYS: tuple[str, ...] = ("states", "next_states", "actions", "rewards", "dones")
    COUNTERS: tuple[str, ...] = ("_next", "_size")

    def __len__(self) -> int:
        return self._size

    @property
    def nbytes_per_transition(self) -> float:
        """Bytes of storage per transition, measured from the arrays themselves."""
        arrays = (self.states, self.next_states, self.actions, self.rewards, self.dones)
        return sum(a.nbytes for a in arrays) / self.maxlen

    def append(self, transition: tuple) -> None:
        """Store ``(state, action, reward, next_state, done)``, overwriting the oldest if full."""
        state, action, reward, next_state, done = transition
        self._store(self._next, 1, state, action, reward, next_state, bool(done), "remember()")

    def extend(self, states, actions, rewards, next_states, dones) -> None:
        """Store ``n`` transitions at once (one per sub-env of a vector env), oldest first."""
        actions = np.asarray(actions)
        n = len(actions)
        if n > self.maxlen:  # only the newest maxlen survive anyway
            keep = slice(n - self.maxlen, n)
            states, actions, rewards, next_states, dones = (
                np.asarray(x)[keep] for x in (states, actions, rewards, next_states, dones)
            )
            n = self.maxlen
        slots = (self._next + np.arange(n)) % self.maxlen
        self._store(slots, n, states, actions, rewards, next_states, np.asarray(dones, dtype=bool), "extend()")

    def _store(self, slots, n: int, states, actions, rewards, next_states, dones, caller: str) -> None:
        """Write ``n`` transitions into ``slots`` (an index or an index array) and advance the ring."""
        shape = self.state_shape if np.ndim(slots) == 0 else (n, *self.state_shape)
        try:
            self.states[slots] = np.reshape(states, shape)
            self.next_states[slots] = np.reshape(next_states, shape)
        except ValueError:
            raise ValueError(
                f"{caller} expected states of shape {self.state_shape}, got {np.shape(states)} "
                f"and {np.shape(next_states)}"
            ) from None
        self.actions[slots] = actions
        self.rewards[slots] = rewards
        self.dones[slots] = dones
        self._next = int((self._next + n) % self.maxlen)
        self._size = min(self._size + n, self.maxlen)

    def __getitem__(self, index: int) -> tuple:
        """The ``index``-th oldest transition, as the tuple that was appended."""
        if not -self._size <= index < self._size:
            raise IndexError(f"replay memory index {index} out of range for {self._size} transitions")
        i = (self._next - self._size + index % self._size) % self.maxlen
        return (self.states[i], int(self.actions[i]), float(self.rewards[i]), self.next_states[i], bool(self.dones[i]))

    def sample(self, batch_size: int) -> Batch:
        """A uniformly random minibatch (with replacement) of ``batch_size`` transitions."""
        self._check_can_sample(batch_size)
        return self._gather(self.rng.integers(0, self._size, size=batch_size))

    def _check_can_sample(self, batch_size: int) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if batch_size > self._size:
            raise ValueError(
                f"cannot sample {batch_size} transitions: replay memory holds only {self._size}; "
                f"call remember() at least {batch_size} times before replay({batch_size})"
            )

    def sample_batches(self, n_batches: int, batch_size: int) -> Batch:
        """``n_batches`` independent minibatches, stacked: every array gets a leading axis.

        This is what :meth:`DQNAgent.train_on_batches` takes to run several gradient steps
        in one compiled call."""
        self._check_can_sample(batch_size)
        return self._gather(self.rng.integers(0, self._size, size=(n_batches, batch_size)))

    def _gather(self, idx: np.ndarray) -> Batch:
        return Batch(self.states[idx], self.actions[idx], self.rewards[idx], self.next_states[idx], self.dones[idx])

""":class:`FrameReplayBuffer`, replay that stores each Atari frame once.

The blog keeps experience in ``deque(maxlen=2000)`` and samples it with ``random.sample``.
That reads well but costs a Python loop per minibatch.  :class:`ReplayBuffer` keeps the
same feel — ``len(memory)``, ``memory.maxlen``, ``memory.append((s, a, r, s2, done))`` —
on preallocated NumPy arrays: appending overwrites the oldest slot (a ring), and sampling a
minibatch is one fancy-index per field.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from keras_dqn.checks import (
    check_done,
    check_dones,
    check_positive_int,
    check_state_shape,
)
from keras_dqn.replay.base import Batch, RingStorage


class FrameReplayBuffer(RingStorage):
    """Replay memory for stacks of frames that stores every frame once.

    Same interface as :class:`ReplayBuffer` (:class:`ReplayMemory`), so agents and
    :func:`keras_dqn.train` do not care which one they hold.

    How it works.  The buffer is one ring of slots; each slot holds one frame and a link to
    the slot holding the frame before it (``back``: how many slots back it is).  A transition
    ``(s, a, r, s', done)`` is stored in the slot of the newest frame of ``s'``; the stacks are
    rebuilt by following the links: ``s'`` is that slot and the ``k - 1`` before it, ``s`` the
    ``k`` slots before it.  So a transition that continues its episode costs one frame.  When
    ``s`` is not the previous ``s'`` of the same sub-env (an episode start), its frames are
    written first, in slots that are not transitions; leading copies of one frame (how
    gymnasium pads the first stack of an episode) take one slot that links to itself.
    Stacks therefore never mix episodes, and sampling returns exactly the states stored.
    Once the ring wraps, a transition whose oldest frames were overwritten is never sampled.

    n-step returns (``n_step > 1``) work as in :class:`ReplayBuffer`: a transition that
    continues its sub-env's last one (the case above that reuses its frames) gets a forward
    link from it, unless that one was truncated; sampling follows the links, sums the
    rewards, and rebuilds the next state from the chain of the last transition reached.

    Args:
        maxlen: number of slots.  Transitions take one slot each and each episode start
            1 to ``k`` more, so the buffer holds slightly fewer than ``maxlen`` transitions
            (about 0.1% fewer on Pong, whose episodes are ~1,000 agent steps long).
        state_shape: shape of one state, e.g. ``(4, 84, 84)``.
        seed: seed for sampling, or a ``numpy.random.Generator`` to share (as :class:`ReplayBuffer`).
        stack_axis: the axis of ``state_shape`` that stacks frames: ``0`` (gymnasium's
            ``FrameStackObservation``) or ``-1`` (frames last).
        action_size: number of actions, as :class:`ReplayBuffer`.
        n_step: rewards summed per sampled transition, as :class:`ReplayBuffer` (1: one-step).
        gamma: discount of those sums, as :class:`ReplayBuffer`; keep it equal to the agent's.

    Raises:
        ValueError: on ``append``/``extend``, a state of another shape or dtype than
            ``uint8``, a next state that is not the state moved on by one frame, or an action,
            reward or done that :class:`ReplayBuffer` would refuse; nothing is stored then.
    """

    def __init__(
        self,
        maxlen: int,
        state_shape: tuple[int, ...],
        *,
        seed: int | np.random.Generator | None = None,
        stack_axis: int = 0,
        action_size: int | None = None,
        n_step: int = 1,
        gamma: float = 0.99,
    ):
        maxlen = check_positive_int("FrameReplayBuffer maxlen", maxlen)
        if stack_axis not in (0, -1) or len(state_shape) < 2:
            raise ValueError(
                f"FrameReplayBuffer needs a state shape of 2+ axes with frames stacked on axis 0 or -1, "
                f"got shape {tuple(state_shape)} and stack_axis {stack_axis!r}"
            )
        self.maxlen = maxlen
        self.state_shape = tuple(int(n) for n in state_shape)
        self.stack_axis = stack_axis
        self.stack = self.state_shape[stack_axis]  # k, frames per state
        self.frame_shape = self.state_shape[1:] if stack_axis == 0 else self.state_shape[:-1]
        if self.maxlen < 2 * (self.stack + 1):
            raise ValueError(f"FrameReplayBuffer maxlen must be at least {2 * (self.stack + 1)}, got {maxlen!r}")
        self._init_action_size(action_size)
        self._init_returns(n_step, gamma)
        self._init_rng(seed)
        self.frames = np.zeros((self.maxlen, *self.frame_shape), dtype=np.uint8)
        self.back = np.zeros(self.maxlen, dtype=np.int32)  # slots back to the previous frame (0: repeat this one)
        self.actions = np.zeros(self.maxlen, dtype=np.int32)
        self.rewards = np.zeros(self.maxlen, dtype=np.float32)
        self.dones = np.zeros(self.maxlen, dtype=bool)
        self.is_transition = np.zeros(self.maxlen, dtype=bool)  # False: a frame that starts a stack
        self._next = 0  # slot written next
        self._filled = 0  # slots written so far, at most maxlen
        self._size = 0  # transitions in the ring
        # sub-env -> (slot of its last transition, write count of each frame of that s', oldest first, that s')
        self._lanes: dict[int, tuple[int, list[int], np.ndarray]] = {}
        self._writes = 0  # slots written ever (tells whether a lane's frames were overwritten since)

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"frames": self.frames, "back": self.back, "actions": self.actions, "rewards": self.rewards,
                "dones": self.dones, "is_transition": self.is_transition, "links": self.links}  # fmt: skip

    def _counters(self) -> dict[str, int]:
        return {"next": self._next, "size": self._size, "filled": self._filled}

    def _set_counters(self, counters: dict[str, int]) -> None:
        """After a restore, sub-envs start new stacks (the frames they continue are not in the state)."""
        self._next, self._size, self._filled = counters["next"], counters["size"], counters["filled"]
        self._lanes.clear()
        self._writes = self._filled

    # ------------------------------------------------------------------ writing
    @property
    def slots_written(self) -> int:
        """Slots written since the buffer was made (a transition that continues its stack costs one)."""
        return self._writes

    def append(self, transition: tuple, truncated: bool = False) -> None:
        """Store ``(state, action, reward, next_state, done)``, overwriting the oldest slots if full.

        For one env at a time (the blog's loop).  Transitions of several envs go through
        :meth:`extend`, which knows which env each came from: mixed through ``append``, every
        transition would start a new stack (still right, but ``k + 1`` slots each) and no
        n-step window would get past it.  ``truncated``: a time limit cut the episode here."""
        state, action, reward, next_state, done = self._check_transition(transition)
        truncated = check_done("append() truncated", truncated)
        self._check_moves_on("append()", state[None], next_state[None])
        self._store(0, state, action, reward, next_state, done, truncated)

    def extend(self, states, actions, rewards, next_states, dones, env_indices: Any = None,
               truncated: Any = None) -> None:  # fmt: skip
        """Store one transition per sub-env of a vector env.

        Every argument is an array with one entry per transition (states: ``(n, *state_shape)``);
        all are checked before anything is stored.

        Args:
            env_indices: the sub-env each transition came from (default ``0..n-1``).  It lets
                a sub-env's next transition reuse its frames (the stored stacks are right
                either way) and an n-step window follow that sub-env's own transitions.
            truncated: which episodes a time limit cut at this step (default: none).
        """
        states, actions, rewards, next_states, dones, env_indices = self._check_columns(
            states, actions, rewards, next_states, dones, env_indices
        )
        n = len(actions)
        truncated = np.zeros(n, bool) if truncated is None else check_dones("extend() truncated", truncated, n)
        self._check_moves_on("extend()", states, next_states)
        lanes = range(n) if env_indices is None else env_indices.tolist()
        for i, lane in enumerate(lanes):
            self._store(lane, states[i], int(actions[i]), float(rewards[i]), next_states[i], bool(dones[i]),
                        bool(truncated[i]))  # fmt: skip

    def _check_state(self, field: str, state: Any, caller: str = "append()") -> np.ndarray:
        array = np.asarray(state)
        if array.dtype != np.uint8 or array.shape[-len(self.state_shape) :] != self.state_shape:
            raise ValueError(
                f"{caller} expected uint8 frame stacks of shape {self.state_shape}; "
                f"the {field} is {array.dtype} of shape {array.shape}"
            )
        return check_state_shape(caller, field, array, self.state_shape)

    def _check_states(self, field: str, states: Any, n: int) -> np.ndarray:
        array = np.asarray(states)
        if array.dtype != np.uint8 or array.shape != (n, *self.state_shape):
            raise ValueError(
                f"extend() expected {n} uint8 frame stacks of shape {self.state_shape}, one per action; "
                f"the {field} are {array.dtype} of shape {array.shape}"
            )
        return array

    def _check_moves_on(self, caller: str, states: np.ndarray, next_states: np.ndarray) -> None:
        """Each next state must be its state moved on by one frame (batches: ``(n, *state_shape)``)."""
        if self.stack_axis == 0:
            moved_on = np.array_equal(next_states[:, :-1], states[:, 1:])
        else:
            moved_on = np.array_equal(next_states[..., :-1], states[..., 1:])
        if not moved_on:
            raise ValueError(
                f"{caller}: FrameReplayBuffer stores stacks of frames, so next_state must be state moved on "
                "by one frame (as gymnasium's FrameStackObservation gives); store other observations in a "
                "ReplayBuffer (ConvDQNAgent(..., frame_memory=False))"
            )

    def _frame(self, state: np.ndarray, i: int) -> np.ndarray:
        return state[i] if self.stack_axis == 0 else state[..., i]

    def _write_slot(self, frame: np.ndarray, back: int, transition: bool) -> int:
        slot = self._next
        if self.is_transition[slot]:
            self._size -= 1  # the oldest transition is overwritten
        self.frames[slot] = frame
        self.back[slot] = back
        self.is_transition[slot] = transition
        self.links[slot] = -1
        self._next = (slot + 1) % self.maxlen
        self._filled = min(self._filled + 1, self.maxlen)
        self._writes += 1
        self._on_write(slot, transition)
        return slot

    def _store(self, lane: int, state: np.ndarray, action: int, reward: float, next_state: np.ndarray,
               done: bool, truncated: bool = False) -> None:  # fmt: skip
        """Write one checked transition of sub-env ``lane``."""
        k = self.stack
        # Does `state` continue this sub-env's last transition?  Then its frames are stored already.
        previous = self._lanes.get(lane)
        continues = (
            previous is not None
            and self._writes - previous[1][0] < self.maxlen  # all its frames survive the slot written now
            and np.array_equal(previous[2], state)
        )
        if continues:
            last, writes = previous[0], previous[1]
        else:  # write the state's frames: one self-linked slot for the leading repeats, then the rest
            first = self._frame(state, 0)
            start = 1
            while start < k and np.array_equal(self._frame(state, start), first):
                start += 1
            last = self._write_slot(first, 0, False)
            writes = [self._writes - 1] * start  # write count of each frame of `state`, oldest first
            for i in range(start, k):
                last = self._write_slot(self._frame(state, i), 1, False)
                writes.append(self._writes - 1)
        slot = self._next
        self.actions[slot] = action
        self.rewards[slot] = reward
        self.dones[slot] = done
        self._write_slot(self._frame(next_state, k - 1), (slot - last) % self.maxlen, True)
        self._size += 1
        if continues and self._n_step > 1:  # the previous transition (its newest frame) is still there
            self.links[previous[0]] = slot
        if done or truncated:  # the episode ends: the next transition of this sub-env starts a new one
            self._lanes.pop(lane, None)
        else:
            self._lanes[lane] = (slot, [*writes[1:], self._writes - 1], next_state.copy())

    # ------------------------------------------------------------------ reading
    def _chains(self, slots: np.ndarray) -> list[np.ndarray]:
        """Slot of each frame of the chain ending at ``slots``: ``k + 1`` arrays, newest first."""
        chain = [slots]
        for _ in range(self.stack):
            chain.append((chain[-1] - self.back[chain[-1]]) % self.maxlen)
        return chain

    def sampleable(self, slots: np.ndarray) -> np.ndarray:
        """Which of ``slots`` hold a transition that can be sampled, its frames all still in the ring
        (a bool array shaped like ``slots``)."""
        age = (self._next - 1 - slots) % self.maxlen  # slots written after this one
        # Slots back to the oldest frame, summed link by link (links are never negative, so a
        # chain that runs into an overwritten slot has a sum at least as large as that slot's age).
        depth = sum(self.back[c].astype(np.int64) for c in self._chains(slots)[:-1])
        return self.is_transition[slots] & (age + depth < self._filled)

    def _draw_slots(self, count: int) -> np.ndarray:
        """``count`` slots drawn uniformly (with replacement) among the sampleable transitions."""
        found: list[np.ndarray] = []
        needed = count
        for _ in range(8):  # rejection sampling: nearly every slot is a sampleable transition
            candidates = self.rng.integers(0, self._filled, size=needed + needed // 8 + 8)
            candidates = candidates[self.sampleable(candidates)][:needed]
            found.append(candidates)
            needed -= len(candidates)
            if needed == 0:
                return np.concatenate(found)
        # Few slots are sampleable (a tiny ring shared by many sub-envs): draw from the exact set.
        sampleable = np.flatnonzero(self.sampleable(np.arange(self._filled)))
        if len(sampleable) == 0:
            raise ValueError(
                f"no transition in this FrameReplayBuffer can be sampled: {self.maxlen} slots are too few for "
                f"stacks of {self.stack} frames from this many sub-envs; use a larger maxlen"
            )
        return np.concatenate([*found, self.rng.choice(sampleable, size=needed)])

    def _stacks(self, slots: np.ndarray, last: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The states of the transitions in ``slots`` (1-d) and the next states of those in ``last``
        (the ends of their n-step windows; ``None``: ``slots`` themselves)."""
        chain = self._chains(slots)[::-1]  # oldest first: s is chain[0:k], s' is chain[1:k+1]
        axis = 1 if self.stack_axis == 0 else -1
        frames = [self.frames[c] for c in chain]
        states = np.stack(frames[:-1], axis=axis)
        if last is None:
            return states, np.stack(frames[1:], axis=axis)
        return states, np.stack([self.frames[c] for c in self._chains(last)[self.stack - 1 :: -1]], axis=axis)

    def gather(self, slots: np.ndarray) -> Batch:
        shape, slots = slots.shape, slots.reshape(-1)
        last, rewards, dones, discounts = self._returns(slots)
        states, next_states = self._stacks(slots, None if self._n_step == 1 else last)
        batch = Batch(states, self.actions[slots], rewards, next_states, dones, discounts)
        return Batch(*(a.reshape(*shape, *a.shape[1:]) for a in batch[:6]))

    def __getitem__(self, index: int) -> tuple:
        """The ``index``-th oldest sampleable transition, as the tuple that was appended (one step,
        whatever ``n_step``).

        Once the ring has wrapped, the oldest few transitions in it (at most ``k`` per
        sub-env) have lost frames and are skipped, so the last index may be below ``len - 1``."""
        oldest_first = (self._next - self._filled + np.arange(self._filled)) % self.maxlen
        slots = oldest_first[self.sampleable(oldest_first)]
        if not -len(slots) <= index < len(slots):
            raise IndexError(f"replay memory index {index} out of range for {len(slots)} sampleable transitions")
        slot = slots[[index]]
        states, next_states = self._stacks(slot)
        return (states[0], int(self.actions[slot[0]]), float(self.rewards[slot[0]]), next_states[0],
                bool(self.dones[slot[0]]))  # fmt: skip

""":class:`ReplayBuffer`, uniform replay on a ring of NumPy arrays.

Replay memory.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from keras_dqn.checks import (
    check_done,
    check_dones,
    check_numeric_array,
    check_positive_int,
    check_state_shape,
)
from keras_dqn.replay.base import Batch, RingStorage, one_row


class ReplayBuffer(RingStorage):
    """A fixed-size ring buffer of ``(state, action, reward, next_state, done)`` transitions.

    Args:
        maxlen: capacity; once full, each append replaces the oldest transition.
        state_shape: shape of one state, e.g. ``(4,)`` for CartPole.
        seed: seed for sampling, or a ``numpy.random.Generator`` to share (an agent's: the
            buffer then leaves saving its state to the agent).
        state_dtype: dtype states are stored in.
        action_size: number of actions; stored actions must be in ``[0, action_size)``
            (``None``: any action >= 0).
        n_step: rewards summed per sampled transition (n-step returns, see the module
            docstring); 1, the default, is plain one-step Q-learning.
        gamma: discount of those sums and of the ``discounts`` a batch carries.  A plain
            attribute: keep it equal to the agent's ``gamma`` (``memory.gamma = agent.gamma``).

    ``append`` and ``extend`` check what they store and raise ``ValueError`` (naming the field)
    for an action out of range or not a whole number, a reward that is not a finite number, a
    ``done`` or ``truncated`` that is not a bool or 0/1, or a state of another shape (a batch of
    one, ``(1, *state_shape)``, is taken as its state) or with nan/inf in it.

    ``done`` must mean *terminated*: the episode reached a terminal state, so there is no
    future value to bootstrap from.  A time-limit truncation is not terminal; store
    ``done=False`` for it (the transition is still worth learning from), and say
    ``truncated=True`` so that an n-step sum stops there instead of running on into whatever
    the env does next.

    How the n-step windows are found.  A transition continues the previous one of its sub-env
    (``append``: sub-env 0; ``extend``: ``env_indices``) when that one neither terminated nor
    was truncated, is still in the ring, and its next state equals this state exactly; the
    buffer then links the two.  With ``n_step=1`` no links are kept (nothing reads them).
    """

    def __init__(
        self,
        maxlen: int,
        state_shape: tuple[int, ...],
        *,
        seed: int | np.random.Generator | None = None,
        state_dtype: np.dtype | type = np.float32,
        action_size: int | None = None,
        n_step: int = 1,
        gamma: float = 0.99,
    ):
        self.maxlen = check_positive_int("ReplayBuffer maxlen", maxlen)
        self.state_shape = tuple(state_shape)
        self._init_action_size(action_size)
        self._init_returns(n_step, gamma)
        self._init_rng(seed)
        self.states = np.zeros((self.maxlen, *self.state_shape), dtype=state_dtype)
        self.next_states = np.zeros_like(self.states)
        self.actions = np.zeros(self.maxlen, dtype=np.int32)
        self.rewards = np.zeros(self.maxlen, dtype=np.float32)
        self.dones = np.zeros(self.maxlen, dtype=np.float32)
        self._next = 0  # slot the next transition goes to
        self._size = 0
        self._writes = 0  # transitions written ever (tells whether a slot was overwritten since)
        # sub-env -> (slot of its last transition, that transition's write number), while its episode runs
        self._lanes: dict[int, tuple[int, int]] = {}

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"states": self.states, "next_states": self.next_states, "actions": self.actions,
                "rewards": self.rewards, "dones": self.dones, "links": self.links}  # fmt: skip

    def _counters(self) -> dict[str, int]:
        return {"next": self._next, "size": self._size}

    def _set_counters(self, counters: dict[str, int]) -> None:
        """After a restore, sub-envs start new episodes (unless the state has their ``"lanes"``)."""
        self._next, self._size = counters["next"], counters["size"]
        self._lanes.clear()

    def state_dict(self) -> dict[str, Any]:
        """As :meth:`RingStorage.state_dict`; with ``n_step > 1`` also ``"lanes"``: ``[sub-env,
        age]`` for each sub-env whose episode runs on, ``age`` (1: the newest) saying which
        stored transition is its last, so that its next one still links to it after a restore."""
        state = super().state_dict()
        if self._n_step > 1:
            state["lanes"] = [[lane, self._writes - written] for lane, (_, written) in sorted(self._lanes.items())
                              if self._writes - written <= self._size]  # fmt: skip
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """As :meth:`RingStorage.load_state_dict`; ``"lanes"`` is optional (without it, every
        sub-env starts a new episode as far as the buffer can tell)."""
        state = dict(state)
        lanes, size = state.pop("lanes", []), state.get("size")
        largest = int(size) if isinstance(size, (int, np.integer)) and 0 <= size <= self.maxlen else self.maxlen
        ok = isinstance(lanes, list) and all(
            isinstance(pair, (list, tuple)) and len(pair) == 2
            and all(isinstance(x, (int, np.integer)) and not isinstance(x, bool) for x in pair)
            and pair[0] >= 0 and 1 <= pair[1] <= largest
            for pair in lanes
        )  # fmt: skip
        if not ok:
            self._state_error(f"'lanes' should be a list of [sub-env >= 0, age in [1, size]] pairs, found {lanes!r}")
        super().load_state_dict(state)
        for lane, age in lanes:  # the transition written `age` writes ago is in slot next - age
            self._lanes[int(lane)] = ((self._next - int(age)) % self.maxlen, self._writes - int(age))

    def append(self, transition: tuple, truncated: bool = False) -> None:
        """Store ``(state, action, reward, next_state, done)``, overwriting the oldest if full.

        ``truncated``: the episode was cut here by a time limit (``done`` stays ``False``)."""
        state, action, reward, next_state, done = self._check_transition(transition)
        truncated = check_done("append() truncated", truncated)
        slot = self._next
        self._store(slot, 1, state, action, reward, next_state, done)
        if self._n_step > 1:
            self._link(0, slot, done or truncated)

    def extend(self, states, actions, rewards, next_states, dones, env_indices: Any = None,
               truncated: Any = None) -> None:  # fmt: skip
        """Store ``n`` transitions at once (one per sub-env of a vector env), oldest first.

        Every argument is an array with one entry per transition (states: ``(n, *state_shape)``).

        Args:
            env_indices: the sub-env each transition came from (default ``0..n-1``); an n-step
                window only follows a sub-env's own transitions.
            truncated: which episodes a time limit cut at this step (default: none).
        """
        if env_indices is None and one_row(states, actions, rewards, next_states, dones, truncated,
                                            self.state_shape):  # fmt: skip
            # One env's step (the common case on one env): a single transition's checks are much cheaper.
            checked = self._check_transition((states[0], actions.item(), rewards.item(), next_states[0], dones.item()),
                                             "extend()")  # (Python scalars take the checks' fast paths)  # fmt: skip
            slot = self._next
            self._store(slot, 1, *checked)
            if self._n_step > 1:
                self._link(0, slot, checked[4] or (truncated is not None and bool(truncated[0])))
            return
        states, actions, rewards, next_states, dones, env_indices = self._check_columns(
            states, actions, rewards, next_states, dones, env_indices
        )
        n = len(actions)
        truncated = None if truncated is None else check_dones("extend() truncated", truncated, n)
        kept = min(n, self.maxlen)  # only the newest maxlen survive anyway
        slots = (self._next + np.arange(kept)) % self.maxlen
        self._store(slots, kept, *(x[n - kept :] for x in (states, actions, rewards, next_states, dones)), written=n)
        if self._n_step > 1:
            ends = dones if truncated is None else dones | truncated
            self._link_rows(slots, range(n) if env_indices is None else env_indices.tolist(), ends.tolist())

    def _check_state(self, field: str, state: Any, caller: str = "append()") -> np.ndarray:
        array = check_numeric_array(f"{caller} {field}", state, self.states.dtype)
        return check_state_shape(caller, field, array, self.state_shape)

    def _check_states(self, field: str, states: Any, n: int) -> np.ndarray:
        array = check_numeric_array(f"extend() {field}", states, self.states.dtype)
        if array.shape != (n, *self.state_shape):
            raise ValueError(
                f"extend() expected {field} of shape {(n, *self.state_shape)} ({n} states of shape "
                f"{self.state_shape}, one per action), got {array.shape}"
            )
        return array

    def _store(self, slots, n: int, states, actions, rewards, next_states, dones, written: int | None = None) -> None:
        """Write ``n`` checked transitions into ``slots`` (an index or an index array) and advance the ring.

        ``written``: transitions these ``n`` are the newest of (``extend`` drops all but the
        newest ``maxlen``), for the write count."""
        self.states[slots] = states
        self.next_states[slots] = next_states
        self.actions[slots] = actions
        self.rewards[slots] = rewards
        self.dones[slots] = dones
        self.links[slots] = -1  # a new transition: nothing follows it yet
        self._next = int((self._next + n) % self.maxlen)
        self._size = min(self._size + n, self.maxlen)
        self._writes += n if written is None else written
        self._on_write(slots, True)

    # ------------------------------------------------------------------ n-step links
    def _continues(self, lane: int) -> int:
        """The slot of sub-env ``lane``'s last transition if its episode runs on and the slot
        still holds it (it is among the newest ``maxlen`` written), else -1."""
        previous = self._lanes.get(lane)
        if previous is None or self._writes - previous[1] > self.maxlen:
            return -1
        return previous[0]

    def _link(self, lane: int, slot: int, ends: bool) -> None:
        """Link sub-env ``lane``'s last transition to the one just written in ``slot``, if it continues it."""
        previous = self._continues(lane)
        if previous >= 0 and np.array_equal(self.next_states[previous], self.states[slot]):
            self.links[previous] = slot
        if ends:
            self._lanes.pop(lane, None)
        else:
            self._lanes[lane] = (slot, self._writes - 1)

    def _link_rows(self, slots: np.ndarray, lanes, ends: list[bool]) -> None:
        """:meth:`_link` for the rows an ``extend`` just wrote: ``len(ends)`` rows, the last
        ``len(slots)`` of them in ``slots`` (the others were dropped: the ring is smaller)."""
        n, dropped = len(ends), len(ends) - len(slots)
        first = self._writes - n  # write number of the first row
        previous, following = [], []
        for row, lane in enumerate(lanes):  # in order: a sub-env may have several rows
            slot = int(slots[row - dropped]) if row >= dropped else -1
            before = self._continues(lane)  # with every row written: the ring after this extend
            if before >= 0:  # then this row is newer still, so it was not dropped
                previous.append(before)
                following.append(slot)
            if ends[row]:
                self._lanes.pop(lane, None)
            else:
                self._lanes[lane] = (slot, first + row)
        if previous:
            before, after = np.array(previous), np.array(following)
            same = (self.next_states[before] == self.states[after]).reshape(len(before), -1).all(axis=1)
            self.links[before[same]] = after[same]

    # ------------------------------------------------------------------ reading
    def __getitem__(self, index: int) -> tuple:
        """The ``index``-th oldest transition, as the tuple that was appended (one step, whatever ``n_step``)."""
        if not -self._size <= index < self._size:
            raise IndexError(f"replay memory index {index} out of range for {self._size} transitions")
        i = (self._next - self._size + index % self._size) % self.maxlen
        return (self.states[i], int(self.actions[i]), float(self.rewards[i]), self.next_states[i], bool(self.dones[i]))

    def _draw_slots(self, count: int) -> np.ndarray:
        return self.rng.integers(0, self._size, size=count)  # slots 0.._size-1 hold the transitions

    def gather(self, idx: np.ndarray) -> Batch:
        """The transitions in the slots ``idx`` (any shape), as a :class:`Batch` of arrays shaped
        ``(*idx.shape, ...)``: what :meth:`sample` returns for the slots it draws (n-step returns
        included, no weights)."""
        last, rewards, dones, discounts = self._returns(idx)
        return Batch(self.states[idx], self.actions[idx], rewards, self.next_states[last], dones, discounts)

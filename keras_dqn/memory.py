"""Replay memory.

The blog keeps experience in ``deque(maxlen=2000)`` and samples it with ``random.sample``.
That reads well but costs a Python loop per minibatch.  :class:`ReplayBuffer` keeps the
same feel — ``len(memory)``, ``memory.maxlen``, ``memory.append((s, a, r, s2, done))`` —
on preallocated NumPy arrays: appending overwrites the oldest slot (a ring), and sampling a
minibatch is one fancy-index per field.

Atari states are stacks of the last 4 frames, so consecutive states share 3 of their 4
frames and a transition's state and next state share 3 more.  Storing both stacks costs
8 frames (56 KB) per transition; :class:`FrameReplayBuffer` stores each frame once (7 KB)
and rebuilds the stacks when it samples.

n-step returns (``n_step=3``, one of Rainbow's ingredients).  One-step Q-learning moves
``Q(s_t, a_t)`` toward ``r_t + gamma * max_a Q(s_{t+1}, a)``: one real reward, and the rest
is the network's own guess, which early in training is poor.  A reward therefore creeps
back one step per update.  An n-step return uses the next ``n`` rewards actually received
before it trusts the network::

    R = r_t + gamma r_{t+1} + ... + gamma^(n-1) r_{t+n-1}
    target = R + gamma^n * max_a Q(s_{t+n}, a)

so a reward reaches the states ``n`` steps before it in one update.  The price: those
rewards came from the policy that acted back then (more random than today's), which biases
the target a little; small ``n`` such as 3 is the usual compromise.

Both buffers store one-step transitions, as appended, and build the n-step return when they
sample.  Each transition keeps a link to the next transition of the same episode (sub-envs
of a vector env interleave in the ring, so that is not simply the next slot), and sampling
follows up to ``n - 1`` links, summing discounted rewards.  The sum stops early at the end
of an episode, and the two ways an episode ends differ:

* *terminated* (``done``): the episode reached a terminal state; nothing comes after it, so
  the target is the reward sum alone (``discounts`` 0).
* *truncated* (a time limit): the episode was cut, but the state it was cut in still has a
  future; the target bootstraps from it with ``gamma**k`` for the ``k`` rewards summed.

The newest transitions of an episode still running have fewer than ``n`` rewards after them
yet; they bootstrap from the newest state, again with ``gamma**k``.  :class:`Batch` carries
``discounts`` (``gamma**k``, or 0 after a termination), so every learner writes its target
the same way, ``rewards + discounts * V(next_states)``, whatever ``n`` is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple, NoReturn, Protocol, runtime_checkable

import numpy as np

from keras_dqn.checks import (
    check_action,
    check_actions,
    check_done,
    check_dones,
    check_env_indices,
    check_fraction,
    check_numeric_array,
    check_positive_int,
    check_reward,
    check_rewards,
    check_state_shape,
)


class Batch(NamedTuple):
    """A minibatch of transitions, one array per field, batch axis first.

    ``rewards`` are the (discounted) rewards summed over each transition's n-step window,
    ``next_states`` the states after the last of them, ``dones`` 1.0 where the episode
    terminated within the window.  The last three fields are optional (``None``):

    * ``discounts``: what the target multiplies the bootstrap value by, ``gamma**k`` for
      ``k`` rewards summed in ``rewards`` (n-step returns), 0 where the episode terminated.
      :class:`ReplayBuffer` and :class:`FrameReplayBuffer` always fill it (float32, with
      their ``gamma``; ``gamma * (1 - dones)`` when ``n_step`` is 1).  ``None`` means
      ``gamma * (1 - dones)`` with the agent's gamma.
    * ``weights``: importance-sampling weights of a prioritized sample (``None``: all 1).
    * ``indices``: the slots sampled, for :meth:`PrioritizedReplayBuffer.update_priorities`.
    """

    states: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_states: np.ndarray
    dones: np.ndarray
    discounts: np.ndarray | None = None
    weights: np.ndarray | None = None
    indices: np.ndarray | None = None


@runtime_checkable
class ReplayMemory(Protocol):
    """What every replay memory offers; agents, :func:`keras_dqn.train` and checkpoints use only this.

    :class:`ReplayBuffer` and :class:`FrameReplayBuffer` follow it (``isinstance(memory,
    ReplayMemory)`` is true for both).  A transition is ``(state, action, reward,
    next_state, done)``, with ``done`` meaning *terminated* (see :class:`ReplayBuffer`);
    ``truncated`` marks a time-limit cut, which ends the episode without being terminal.
    """

    maxlen: int  # capacity
    state_shape: tuple[int, ...]  # shape of one state

    def __len__(self) -> int:
        """Transitions stored."""

    def append(self, transition: tuple, truncated: bool = False) -> None:
        """Store one transition, overwriting the oldest when full."""

    def extend(self, states, actions, rewards, next_states, dones, env_indices=None, truncated=None) -> None:
        """Store one transition per sub-env of a vector env (``env_indices``: which sub-env each came from)."""

    def sample(self, batch_size: int) -> Batch:
        """A uniformly random minibatch, with replacement."""

    def sample_batches(self, n_batches: int, batch_size: int) -> Batch:
        """``n_batches`` independent minibatches, stacked on a leading axis."""

    def __getitem__(self, index: int) -> tuple:
        """The ``index``-th oldest transition, as the tuple that was appended."""

    @property
    def nbytes_per_transition(self) -> float:
        """Bytes of storage per transition, measured from the arrays."""

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to restore the contents: NumPy arrays and JSON-able values, by name."""

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned; ``ValueError`` (naming the field) if it does not fit."""


def _one_row(states, actions, rewards, next_states, dones, truncated, state_shape: tuple[int, ...]) -> bool:
    """Whether these are NumPy arrays holding exactly one transition of the right shapes
    (``truncated``: ``None``, or one bool)."""
    return (
        all(type(a) is np.ndarray for a in (states, actions, rewards, next_states, dones))
        and actions.shape == rewards.shape == dones.shape == (1,)
        and states.shape == next_states.shape == (1, *state_shape)
        and (
            truncated is None
            or (type(truncated) is np.ndarray and truncated.shape == (1,) and truncated.dtype == np.bool_)
        )
    )


class _RingStorage:
    """What the two buffers share: their state dicts, their size in bytes, the sampling rule.

    A subclass lists the arrays that hold its contents in :meth:`_arrays` and its counters in
    :meth:`_counters` / :meth:`_set_counters`, under the names its state dict uses.
    """

    maxlen: int
    state_shape: tuple[int, ...]
    action_size: int | None  # actions stored must be in [0, action_size) (None: any action >= 0)
    rng: np.random.Generator
    _owns_rng: bool  # the generator was made from a seed, not shared with an agent
    _size: int
    rewards: np.ndarray
    dones: np.ndarray
    gamma: float  # discount of the n-step returns; set it to the agent's gamma
    _n_step: int
    # links[slot]: slot of the next transition of the same episode, -1 if none (not stored yet,
    # or the episode ended here).  Kept only when n_step > 1.  The next transition is always
    # newer, so it lives as long as the slot that links to it (the ring overwrites oldest first).
    links: np.ndarray

    def _init_rng(self, seed: int | np.random.Generator | None) -> None:
        self._owns_rng = not isinstance(seed, np.random.Generator)
        self.rng = np.random.default_rng(seed) if self._owns_rng else seed

    def _init_action_size(self, action_size: int | None) -> None:
        name = f"{type(self).__name__} action_size"
        self.action_size = None if action_size is None else check_positive_int(name, action_size)

    def _init_returns(self, n_step: int, gamma: float) -> None:
        """Check ``n_step`` and ``gamma``; make the links (``maxlen`` must be set)."""
        self._n_step = check_positive_int(f"{type(self).__name__} n_step", n_step)
        self.gamma = check_fraction(f"{type(self).__name__} gamma", gamma)
        self.links = np.full(self.maxlen, -1, dtype=np.int32)

    @property
    def n_step(self) -> int:
        """Rewards summed per sampled transition, at most (fixed when the buffer is made)."""
        return self._n_step

    def _returns(self, slots: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The n-step window starting at each of ``slots`` (any shape), by following the links.

        Returns the slot of the last transition of each window (its next state is the one to
        bootstrap from), the discounted reward sums, the dones (float32: 1.0 where the episode
        terminated in the window) and the discounts (``gamma**k`` for ``k`` rewards, 0 where
        terminated).  A link is only ever set from a transition that neither terminated nor
        was truncated, so the walk stops at an episode's end by itself.
        """
        gamma = self.gamma
        if self._n_step == 1:
            dones = self.dones[slots].astype(np.float32, copy=False)
            return slots, self.rewards[slots], dones, (1.0 - dones) * gamma
        last = slots
        rewards = self.rewards[slots]  # a copy (fancy indexing), so += below leaves the buffer alone
        summed = np.ones(slots.shape, dtype=np.int32)  # k, the rewards summed so far
        scale = 1.0  # gamma**j for the j-th reward after the first
        for _ in range(self._n_step - 1):
            following = self.links[last]
            go = following >= 0  # once a window stops it stays stopped: `last` keeps its -1 link
            if not go.any():
                break
            last = np.where(go, following, last)
            scale *= gamma
            rewards += go * (scale * self.rewards[last])
            summed += go
        dones = self.dones[last].astype(np.float32, copy=False)
        discounts = (gamma ** summed.astype(np.float64)).astype(np.float32) * (1.0 - dones)
        return last, rewards, dones, discounts

    # What append/extend store is checked before anything is written; nothing is converted
    # in a way that changes a value (see keras_dqn.checks).
    def _check_state(self, field: str, state: Any, caller: str = "append()") -> np.ndarray:
        """One state, as stored: exactly :attr:`state_shape` (or ``(1, *state_shape)``)."""
        raise NotImplementedError

    def _check_states(self, field: str, states: Any, n: int) -> np.ndarray:
        """``n`` states, as stored: shape ``(n, *state_shape)``."""
        raise NotImplementedError

    def _check_transition(
        self, transition: Any, caller: str = "append()"
    ) -> tuple[np.ndarray, int, float, np.ndarray, bool]:
        try:
            state, action, reward, next_state, done = transition
        except (TypeError, ValueError):
            raise ValueError(
                f"{caller} takes one transition, a tuple (state, action, reward, next_state, done); got {transition!r}"
            ) from None
        return (
            self._check_state("state", state, caller),
            check_action(f"{caller} action", action, self.action_size),
            check_reward(f"{caller} reward", reward),
            self._check_state("next_state", next_state, caller),
            check_done(f"{caller} done", done),
        )

    def _check_columns(self, states, actions, rewards, next_states, dones, env_indices) -> tuple:
        """The arrays of :meth:`extend`, each checked whole (no Python loop per transition)."""
        actions = check_actions("extend() actions", actions, self.action_size)
        n = len(actions)
        return (
            self._check_states("states", states, n),
            actions,
            check_rewards("extend() rewards", rewards, n),
            self._check_states("next_states", next_states, n),
            check_dones("extend() dones", dones, n),
            None if env_indices is None else check_env_indices("extend() env_indices", env_indices, n),
        )

    def _arrays(self) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def _on_write(self, slots: np.ndarray | int, transition: bool) -> None:
        """Called after every write with the slot(s) written and whether they hold transitions
        (a frame memory also writes frame-only slots).  A prioritized memory keeps its sum-tree here."""

    def _draw_slots(self, count: int) -> np.ndarray:
        """``count`` slots of stored transitions, drawn uniformly with replacement."""
        raise NotImplementedError

    def _gather(self, slots: np.ndarray) -> Batch:
        """The transitions in ``slots`` (any shape), as a :class:`Batch` of arrays shaped ``(*slots.shape, ...)``."""
        raise NotImplementedError

    def sample(self, batch_size: int) -> Batch:
        """A uniformly random minibatch (with replacement) of ``batch_size`` transitions."""
        self._check_can_sample(batch_size)
        return self._gather(self._draw_slots(batch_size))

    def sample_batches(self, n_batches: int, batch_size: int) -> Batch:
        """``n_batches`` independent minibatches, stacked: every array gets a leading axis.

        This is what :meth:`DQNAgent.train_on_batches` takes to run several gradient steps
        in one compiled call."""
        self._check_can_sample(batch_size)
        return self._gather(self._draw_slots(n_batches * batch_size).reshape(n_batches, batch_size))

    def _counters(self) -> dict[str, int]:
        raise NotImplementedError

    def _set_counters(self, counters: dict[str, int]) -> None:
        raise NotImplementedError

    def __len__(self) -> int:
        """Transitions stored (in a :class:`FrameReplayBuffer`, a few may no longer be sampleable)."""
        return self._size

    @property
    def nbytes_per_transition(self) -> float:
        """Bytes of storage per transition (per slot), measured from the arrays themselves."""
        return sum(a.nbytes for a in self._arrays().values()) / self.maxlen

    def state_dict(self) -> dict[str, Any]:
        """The buffer's contents: its arrays (the storage itself, not copies) and counters, by name.

        Also ``"rng"``, the sampling generator's state, when the buffer made its own generator
        from a seed (a generator shared with an agent is the agent's to save).  Arrays are
        NumPy arrays; everything else is JSON-able.
        """
        state: dict[str, Any] = {**self._arrays(), **self._counters()}
        if self._owns_rng:
            state["rng"] = self.rng.bit_generator.state
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore the contents from a :meth:`state_dict` of a buffer of the same class, size and shapes.

        Everything is checked before anything is changed.  ``"rng"`` is optional: without it
        the sampling generator is left as it is.  So is ``"links"`` (state dicts from before
        n-step returns): without it no stored transition links to the next, so each gives a
        one-step return until new transitions replace it.  Sub-envs that go on after a restore
        start new episodes as far as the buffer can tell, unless the state has their ``"lanes"``
        (a :class:`ReplayBuffer` with ``n_step > 1`` saves them; a frame buffer does not).

        Raises:
            ValueError: a field is missing or unknown, an array has another shape or dtype,
                or a counter is out of range; the message names the field, what was expected
                and what was found.
        """
        arrays, counters = self._arrays(), self._counters()
        known = [*arrays, *counters, "rng"]
        unknown = sorted(set(state) - set(known))
        if unknown:
            self._state_error(f"unknown field(s) {unknown}; expected {known}")
        for name, mine in arrays.items():
            expected = f"{mine.dtype} array of shape {mine.shape}"
            if name not in state:
                if name == "links":
                    continue
                self._state_error(f"{name!r} is missing; expected a {expected}")
            found = state[name]
            if not isinstance(found, np.ndarray) or found.shape != mine.shape or found.dtype != mine.dtype:
                what = f"a {found.dtype} array of shape {found.shape}" if isinstance(found, np.ndarray) else repr(found)
                self._state_error(f"{name!r} should be a {expected}, found {what}")
        links = state.get("links")
        if links is not None and links.size and not (-1 <= links.min() and links.max() < self.maxlen):
            self._state_error(f"'links' should hold slots in [-1, {self.maxlen - 1}], "
                              f"found values in [{links.min()}, {links.max()}]")  # fmt: skip
        loaded = {}
        for name in counters:
            largest = self.maxlen - 1 if name == "next" else self.maxlen  # "next" is a slot, the others counts
            value = state.get(name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value <= largest:
                self._state_error(f"{name!r} should be an integer in [0, {largest}], found {value!r}")
            loaded[name] = int(value)
        if "rng" in state:
            probe = type(self.rng.bit_generator)()
            try:
                probe.state = state["rng"]
            except (TypeError, ValueError, KeyError) as error:
                self._state_error(f"'rng' should be a {type(probe).__name__} state, found {state['rng']!r} ({error})")
        for name, mine in arrays.items():
            mine[...] = state.get(name, -1)  # only "links" may be missing: no links
        self._set_counters(loaded)
        if "rng" in state:
            self.rng.bit_generator.state = state["rng"]

    def _state_error(self, problem: str) -> NoReturn:
        raise ValueError(f"{type(self).__name__} state: {problem}")

    def _check_can_sample(self, batch_size: int) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if batch_size > self._size:
            raise ValueError(
                f"cannot sample {batch_size} transitions: replay memory holds only {self._size}; "
                f"call remember() at least {batch_size} times before replay({batch_size})"
            )


class ReplayBuffer(_RingStorage):
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
        """As :meth:`_RingStorage.state_dict`; with ``n_step > 1`` also ``"lanes"``: ``[sub-env,
        age]`` for each sub-env whose episode runs on, ``age`` (1: the newest) saying which
        stored transition is its last, so that its next one still links to it after a restore."""
        state = super().state_dict()
        if self._n_step > 1:
            state["lanes"] = [[lane, self._writes - written] for lane, (_, written) in sorted(self._lanes.items())
                              if self._writes - written <= self._size]  # fmt: skip
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """As :meth:`_RingStorage.load_state_dict`; ``"lanes"`` is optional (without it, every
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

    def extend(self, states, actions, rewards, next_states, dones, env_indices=None, truncated=None) -> None:
        """Store ``n`` transitions at once (one per sub-env of a vector env), oldest first.

        Every argument is an array with one entry per transition (states: ``(n, *state_shape)``).

        Args:
            env_indices: the sub-env each transition came from (default ``0..n-1``); an n-step
                window only follows a sub-env's own transitions.
            truncated: which episodes a time limit cut at this step (default: none).
        """
        if env_indices is None and _one_row(states, actions, rewards, next_states, dones, truncated,
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

    def _gather(self, idx: np.ndarray) -> Batch:
        last, rewards, dones, discounts = self._returns(idx)
        return Batch(self.states[idx], self.actions[idx], rewards, self.next_states[last], dones, discounts)


class FrameReplayBuffer(_RingStorage):
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

    def extend(self, states, actions, rewards, next_states, dones, env_indices=None, truncated=None) -> None:
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

    def _sampleable(self, slots: np.ndarray) -> np.ndarray:
        """Transitions whose frames are all still in the ring."""
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
            candidates = candidates[self._sampleable(candidates)][:needed]
            found.append(candidates)
            needed -= len(candidates)
            if needed == 0:
                return np.concatenate(found)
        # Few slots are sampleable (a tiny ring shared by many sub-envs): draw from the exact set.
        sampleable = np.flatnonzero(self._sampleable(np.arange(self._filled)))
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

    def _gather(self, slots: np.ndarray) -> Batch:
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
        slots = oldest_first[self._sampleable(oldest_first)]
        if not -len(slots) <= index < len(slots):
            raise IndexError(f"replay memory index {index} out of range for {len(slots)} sampleable transitions")
        slot = slots[[index]]
        states, next_states = self._stacks(slot)
        return (states[0], int(self.actions[slot[0]]), float(self.rewards[slot[0]]), next_states[0],
                bool(self.dones[slot[0]]))  # fmt: skip

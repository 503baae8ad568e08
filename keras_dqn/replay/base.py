"""What every replay memory shares: the :class:`Batch` it samples, the :class:`ReplayMemory`
interface the agents use, and :class:`RingStorage`, the ring of preallocated arrays with the
episode links that n-step returns follow.

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
    check_positive_int,
    check_reward,
    check_rewards,
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


def one_row(states, actions, rewards, next_states, dones, truncated, state_shape: tuple[int, ...]) -> bool:
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


class RingStorage:
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

    def gather(self, slots: np.ndarray) -> Batch:
        """The transitions in ``slots`` (any shape), as a :class:`Batch` of arrays shaped ``(*slots.shape, ...)``:
        what :meth:`sample` returns for the slots it draws (n-step returns included, no weights)."""
        raise NotImplementedError

    def sample(self, batch_size: int) -> Batch:
        """A uniformly random minibatch (with replacement) of ``batch_size`` transitions."""
        self._check_can_sample(batch_size)
        return self.gather(self._draw_slots(batch_size))

    def sample_batches(self, n_batches: int, batch_size: int) -> Batch:
        """``n_batches`` independent minibatches, stacked: every array gets a leading axis.

        This is what :meth:`DQNAgent.train_on_batches` takes to run several gradient steps
        in one compiled call."""
        self._check_can_sample(batch_size)
        return self.gather(self._draw_slots(n_batches * batch_size).reshape(n_batches, batch_size))

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

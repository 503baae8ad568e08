"""keras-rl's ``SequentialMemory``: a :class:`keras_dqn.replay.uniform.ReplayBuffer` of windowed states.

keras-rl makes the memory before the model (``SequentialMemory(limit=50000, window_length=1)``),
so the shape of a state is not known yet.  A :class:`SequentialMemory` therefore holds no
storage until a :class:`keras_dqn.rl.DQNAgent` binds it to the model's input shape; from then
on it hands every call of the :class:`keras_dqn.replay.base.ReplayMemory` protocol to the
``ReplayBuffer`` it made.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from keras_dqn.checks import check_positive_int
from keras_dqn.replay.base import Batch
from keras_dqn.replay.uniform import ReplayBuffer


class UnboundMemoryError(RuntimeError, AttributeError):
    """A :class:`SequentialMemory` used before a ``DQNAgent`` gave it storage.

    Also an ``AttributeError``, so ``hasattr(memory, "state_shape")`` (and ``isinstance(memory,
    keras_dqn.replay.base.ReplayMemory)``) is false until then instead of raising.
    """


class SequentialMemory:
    """keras-rl's replay memory: the last ``limit`` transitions, states of ``window_length`` observations.

    With ``window_length > 1`` each stored state stacks that many consecutive observations,
    oldest first, so the model's input is ``(window_length,) + observation shape``.  At the
    start of an episode the slots before its first observation are zeros (as keras-rl pads),
    never observations of the previous episode.

    The storage, a :attr:`buffer` (:class:`keras_dqn.replay.uniform.ReplayBuffer` of stacked states),
    is made when a :class:`keras_dqn.rl.DQNAgent` takes the memory (only then is the state
    shape known).  From then on the memory is a :class:`keras_dqn.replay.base.ReplayMemory`:
    ``len(memory)``, ``memory[i]``, ``memory.sample(32)``, ``memory.state_dict()``...; before,
    each of them but ``len`` (0) raises a ``RuntimeError`` saying so.

    Args:
        limit: capacity in transitions.
        window_length: consecutive observations per state (1: the observation alone).
    """

    def __init__(self, limit: int, window_length: int = 1, **kwargs: Any):
        if kwargs:  # keras-rl's ignore_episode_boundaries and friends
            raise TypeError(f"SequentialMemory takes limit and window_length only, got {sorted(kwargs)}")
        self.limit = check_positive_int("SequentialMemory limit", limit)
        self.window_length = check_positive_int("SequentialMemory window_length", window_length)
        self.maxlen = self.limit
        self._buffer: ReplayBuffer | None = None

    def bind(
        self, state_shape: tuple[int, ...], seed: int | np.random.Generator | None, action_size: int | None = None
    ) -> SequentialMemory:
        """Make the storage for states of ``state_shape`` (window first) and actions in
        ``[0, action_size)``, sampled with ``seed``.

        A :class:`keras_dqn.rl.DQNAgent` calls this when it takes the memory.  Binding again
        to the same shape (a second agent sharing the memory) keeps the storage.

        Returns:
            The memory itself.

        Raises:
            ValueError: the memory already holds states of another shape.
        """
        state_shape = tuple(int(d) for d in state_shape)
        if self._buffer is None:
            self._buffer = ReplayBuffer(self.limit, state_shape, seed=seed, action_size=action_size)
        elif state_shape != self._buffer.state_shape:
            raise ValueError(
                f"this SequentialMemory already holds states of shape {self._buffer.state_shape}; "
                f"make a new one for a model taking {state_shape}"
            )
        return self

    @property
    def buffer(self) -> ReplayBuffer:
        """The :class:`keras_dqn.replay.uniform.ReplayBuffer` holding the transitions."""
        if self._buffer is None:
            raise UnboundMemoryError(
                "this SequentialMemory has no storage yet: it is allocated when a DQNAgent takes it, "
                "DQNAgent(model=..., memory=memory, ...), as only the model tells the state shape"
            )
        return self._buffer

    # ------------------------------------------------------------------ the ReplayMemory protocol
    @property
    def state_shape(self) -> tuple[int, ...]:
        """Shape of one stored state: ``(window_length,) + observation shape``."""
        return self.buffer.state_shape

    @property
    def gamma(self) -> float:
        """The discount of the batches' ``discounts``: the agent that takes the memory sets it to its own."""
        return self.buffer.gamma

    @gamma.setter
    def gamma(self, value: float) -> None:
        self.buffer.gamma = value

    n_step = 1  # keras-rl learns from one-step returns

    def __len__(self) -> int:
        return 0 if self._buffer is None else len(self._buffer)

    def append(self, transition: tuple, truncated: bool = False) -> None:
        """Store ``(state, action, reward, next_state, done)``, overwriting the oldest if full."""
        self.buffer.append(transition, truncated=truncated)

    def extend(self, states, actions, rewards, next_states, dones, env_indices=None, truncated=None) -> None:
        """Store one transition per sub-env of a vector env (see :meth:`ReplayBuffer.extend`)."""
        self.buffer.extend(states, actions, rewards, next_states, dones, env_indices, truncated=truncated)

    def sample(self, batch_size: int) -> Batch:
        """A uniformly random minibatch (with replacement) of ``batch_size`` transitions."""
        return self.buffer.sample(batch_size)

    def sample_batches(self, n_batches: int, batch_size: int) -> Batch:
        """``n_batches`` independent minibatches, stacked on a leading axis."""
        return self.buffer.sample_batches(n_batches, batch_size)

    def __getitem__(self, index: int) -> tuple:
        """The ``index``-th oldest transition, as the tuple that was appended."""
        return self.buffer[index]

    @property
    def nbytes_per_transition(self) -> float:
        """Bytes of storage per transition."""
        return self.buffer.nbytes_per_transition

    def state_dict(self) -> dict[str, Any]:
        """The contents, as :meth:`ReplayBuffer.state_dict` (what checkpoints save)."""
        return self.buffer.state_dict()

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (see :meth:`ReplayBuffer.load_state_dict`)."""
        self.buffer.load_state_dict(state)

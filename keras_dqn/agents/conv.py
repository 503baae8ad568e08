""":class:`ConvDQNAgent`: DQN for Atari frames with the Nature-DQN CNN.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from keras_dqn.agents.settings import check_setting
from keras_dqn.agents.target import TargetDQNAgent
from keras_dqn.networks.builders import build_nature_cnn
from keras_dqn.networks.precision import bf16_supported, fastest_precision
from keras_dqn.replay.frames import FrameReplayBuffer
from keras_dqn.replay.prioritized import PrioritizedFrameReplayBuffer
from keras_dqn.replay.uniform import ReplayBuffer


class ConvDQNAgent(TargetDQNAgent):
    """DQN for Atari frames: the Nature-DQN CNN, Double DQN, Huber loss, Adam 1e-4.

    Everything but three things is :class:`TargetDQNAgent`'s — the same ``act``, ``replay``,
    compiled training step and target network.  What differs:

    * states are ``uint8`` image stacks, e.g. ``(4, 84, 84)`` from :func:`keras_dqn.make_atari_env`,
      scaled to [0, 1] inside the network (:func:`keras_dqn.networks.builders.build_nature_cnn`);
    * the network is that CNN;
    * the replay memory is a :class:`keras_dqn.replay.frames.FrameReplayBuffer`, which keeps each frame
      once (~7 KB per transition instead of 56 KB).

    The defaults are the Pong recipe (``keras_dqn.get_recipe("pong")``) that made the shipped
    ``weights/pong-conv-dqn.h5`` (+20.7).

    Args:
        state_shape: shape of one observation (``env.observation_space.shape``): stacked frames
            first ``(k, H, W)`` or last ``(H, W, k)``; height and width at least 36.
        action_size: ``env.action_space.n``.
        gamma: as :class:`TargetDQNAgent`, with the Atari default 0.99.
        learning_rate: as :class:`TargetDQNAgent`, with the Atari default: Adam 1e-4.
        memory_size: as :class:`TargetDQNAgent`, with the Atari default: 100,000 transitions (0.7 GB).
        target_update: as :class:`TargetDQNAgent`, with the Atari default: a hard target copy every
            1,000 gradient steps.
        epsilon_decay: as :class:`TargetDQNAgent`, with the Atari default: epsilon decaying from 1
            to 0.01 over ~50,000 gradient steps (0.99991 per step).
        clipnorm: as :class:`TargetDQNAgent`, with the Atari default: gradients clipped to norm 10.
        frame_memory: ``False`` stores whole states (8× the memory; for observations that
            are not frame stacks).
        precision: ``"float32"``, or ``"mixed_bfloat16"`` to compute the network in bfloat16
            (variables stay float32): faster on some CPUs with AVX-512 BF16 or AMX and on GPUs.  On a
            machine without fast bfloat16 it falls back to float32 with a warning
            (:func:`keras_dqn.networks.precision.bf16_supported`).  ``"auto"``: the faster of
            the two here, timed on throwaway copies of the network when the agent builds it
            (a few seconds, once per kind of network in a process;
            :func:`keras_dqn.networks.precision.fastest_precision`).  The agent's ``precision``
            then says which it picked (and its weights files store that), ``precision_timings``
            the milliseconds a training step took in each.
        **kwargs: any other :class:`TargetDQNAgent` argument (double, loss, dueling, seed).

    Example::

        env = keras_dqn.make_atari_env("Pong")
        agent = ConvDQNAgent(env.observation_space.shape, env.action_space.n, seed=0)
        keras_dqn.train(agent, env, 1_000_000, train_every=4, learning_starts=20_000,
                        eval_env=keras_dqn.make_atari_vector_env("Pong", 4, training=False))
    """

    state_dtype = np.uint8
    state_argument = "state_shape"
    unused_settings = frozenset({"hidden"})  # the CNN's layers are the Nature paper's
    jit_compile = False  # on the CPU, XLA's convolutions are 2-30x slower than TensorFlow's own (oneDNN)

    def __init__(
        self,
        state_shape: Sequence[int],
        action_size: int,
        *,
        gamma: float = 0.99,
        learning_rate: float = 1e-4,
        memory_size: int = 100_000,
        target_update: int | float = 1000,
        epsilon_decay: float = 0.99991,
        clipnorm: float | None = 10.0,
        frame_memory: bool = True,
        precision: str = "float32",
        **kwargs: Any,
    ):
        if self.unused_settings & set(kwargs):
            raise TypeError(f"{type(self).__name__}'s network is the Nature CNN: it takes no hidden= sizes")
        shape = check_frames_shape(state_shape)
        # Read by _build_memory and _build_model, which DQNAgent.__init__ calls.
        self.frame_memory = bool(frame_memory)
        self.precision = _check_precision(precision)
        self.precision_timings: dict[str, float] = {}  # ms a training step per precision, when "auto" timed them
        super().__init__(
            shape, action_size, gamma=gamma, learning_rate=learning_rate, memory_size=memory_size,
            target_update=target_update, epsilon_decay=epsilon_decay, clipnorm=clipnorm, **kwargs,
        )  # fmt: skip

    def _build_memory(self, capacity: int) -> ReplayBuffer | FrameReplayBuffer:
        """A frame memory (prioritized if asked), sampled with its own generator seeded from ``seed``."""
        if not self.frame_memory:
            return super()._build_memory(capacity)
        cls = PrioritizedFrameReplayBuffer if self.prioritized else FrameReplayBuffer
        return cls(
            capacity,
            self.state_shape,
            seed=None if self.seed is None else np.random.SeedSequence(self.seed).spawn(1)[0],
            stack_axis=0 if _channels_first(self.state_shape) else -1,
            action_size=self.action_size,
            **self._memory_settings(),
        )

    def _build_model(self) -> keras.Model:
        if self.precision == "auto":  # time the network both ways on copies that share no seed with it
            self.precision, self.precision_timings = fastest_precision(
                lambda precision: self._build_network(precision, seed=0),
                self.state_shape,
                cache_key=(type(self).__name__, self.action_size, repr(sorted(
                    (name, value) for name, value in self._network_settings().items() if name != "seed"))),
            )
        return self._build_network(self.precision, seed=self.seed)

    def _build_network(self, precision: str, seed: int | None) -> keras.Model:
        """The Nature CNN with this agent's settings, computing in ``precision``."""
        return build_nature_cnn(
            self.state_shape,
            self.action_size,
            channels_first=_channels_first(self.state_shape),
            dtype_policy=None if precision == "float32" else precision,
            **{**self._network_settings(), "seed": seed},
        )

    def _as_state_array(self, states: Any, what: str) -> np.ndarray:
        try:
            states = np.asarray(states)
        except (TypeError, ValueError):  # a ragged nested list
            states = np.asarray(None)  # reported below as an object array
        if states.dtype != np.uint8:
            raise ValueError(f"{what} expected uint8 frames (0-255 pixels, as the env gives them), got {states.dtype}")
        return states


def _check_precision(precision: Any) -> str:
    """``"float32"``, ``"auto"`` or ``"mixed_bfloat16"``; the last only where bfloat16 is fast (else
    float32, with a warning)."""
    check_setting("precision", precision)
    if precision == "mixed_bfloat16" and not bf16_supported():
        warnings.warn(
            "precision='mixed_bfloat16' needs a CPU with AVX-512 BF16 or AMX (or an Ampere-or-newer GPU); "
            "this machine has neither, so the network computes in float32",
            stacklevel=3,
        )
        return "float32"
    return precision


def _channels_first(shape: tuple[int, ...]) -> bool:
    """Frames are stacked on the first axis when it is the shortest (FrameStackObservation's layout)."""
    return shape[0] < shape[-1]


def check_frames_shape(state_shape: Any) -> tuple[int, ...]:
    """A conv agent's state shape: three positive sizes, frames of at least 36x36 (ValueError otherwise)."""
    expected = (
        "ConvDQNAgent needs image observations: a shape (frames, height, width) such as (4, 84, 84) "
        "from make_atari_env, or (height, width, frames)"
    )
    try:
        shape = tuple(int(n) for n in state_shape)
    except TypeError:
        raise ValueError(f"{expected}; got {state_shape!r} (for vector observations use DQNAgent)") from None
    if len(shape) != 3 or min(shape) < 1:
        hint = " (for vector observations use DQNAgent)" if len(shape) == 1 else ""
        raise ValueError(f"{expected}; got {state_shape!r}{hint}")
    height, width = shape[1:] if _channels_first(shape) else shape[:2]
    if min(height, width) < 36:
        raise ValueError(f"{expected}; the Nature CNN needs frames of at least 36x36, got {height}x{width}")
    return shape

"""Replay memories, one interface: every memory samples a :class:`Batch` and is a :class:`ReplayMemory`.

* :mod:`~keras_dqn.replay.base`: the interface, the batch, and the ring storage they share
  (with the episode links that n-step returns follow);
* :mod:`~keras_dqn.replay.uniform`: :class:`ReplayBuffer`, uniform replay (the blog's deque, fast);
* :mod:`~keras_dqn.replay.frames`: :class:`FrameReplayBuffer`, each Atari frame stored once;
* :mod:`~keras_dqn.replay.sum_tree`: :class:`SumTree`, sampling by priority in log time;
* :mod:`~keras_dqn.replay.prioritized`: prioritized replay for both buffers.
"""

from keras_dqn.replay.base import Batch, ReplayMemory
from keras_dqn.replay.frames import FrameReplayBuffer
from keras_dqn.replay.prioritized import PrioritizedFrameReplayBuffer, PrioritizedReplayBuffer
from keras_dqn.replay.sum_tree import SumTree
from keras_dqn.replay.uniform import ReplayBuffer

__all__ = ["Batch", "FrameReplayBuffer", "PrioritizedFrameReplayBuffer", "PrioritizedReplayBuffer", "ReplayBuffer",
           "ReplayMemory", "SumTree"]  # fmt: skip

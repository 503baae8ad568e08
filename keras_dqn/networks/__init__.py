"""Q-networks: what the agents build and how they act fast.

* :mod:`~keras_dqn.networks.builders`: :func:`build_mlp` (the blog's network) and
  :func:`build_nature_cnn` (the Nature DQN's);
* :mod:`~keras_dqn.networks.noisy`: :class:`NoisyDense`, Rainbow's noisy layer;
* :mod:`~keras_dqn.networks.heads`: the dueling and distributional (C51) output heads;
* :mod:`~keras_dqn.networks.numpy_twin`: :class:`NumpyMLP`, a NumPy forward pass for acting;
* :mod:`~keras_dqn.networks.greedy`: :func:`greedy_q_network`, states to greedy Q-values (for export);
* :mod:`~keras_dqn.networks.precision`: whether this machine computes bfloat16 fast.
"""

from keras_dqn.networks.builders import ADAM_EPSILON, build_mlp, build_nature_cnn
from keras_dqn.networks.heads import DistributionalHead, DuelingHead
from keras_dqn.networks.noisy import NoisyDense
from keras_dqn.networks.numpy_twin import NumpyMLP
from keras_dqn.networks.precision import bf16_supported

__all__ = ["ADAM_EPSILON", "DistributionalHead", "DuelingHead", "NoisyDense", "NumpyMLP", "bf16_supported",
           "build_mlp", "build_nature_cnn"]  # fmt: skip

"""Training and evaluating an agent on an env.

* :mod:`~keras_dqn.training.loop`: :func:`train`, the env loop with evaluations, logs, checkpoints
  and exact resume;
* :mod:`~keras_dqn.training.evaluation`: :func:`evaluate` and :func:`play_episode`, greedy play;
* :mod:`~keras_dqn.training.callbacks`: the Keras callbacks that log each row (CSV, TensorBoard).
"""

from keras_dqn.training.evaluation import evaluate, play_episode
from keras_dqn.training.loop import train

__all__ = ["evaluate", "play_episode", "train"]

"""keras_dqn: the classic deep Q-learning tutorials as one library on Keras 3 and gymnasium.

Quick start::

    import keras_dqn
    agent = keras_dqn.DQNAgent(4, 2)
    agent.load(keras_dqn.weights_path("cartpole-dqn"))
    print(sum(keras_dqn.evaluate(agent, "CartPole-v1", episodes=100)) / 100)
"""

import os

# TensorFlow's C++ start-up chatter (CUDA probes, CPU features) buries a learner's output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from keras_dqn.agents import DQNAgent, TargetDQNAgent
from keras_dqn.envs import check_discrete, make_env
from keras_dqn.memory import Batch, ReplayBuffer
from keras_dqn.networks import DuelingHead, build_mlp
from keras_dqn.training import evaluate, train
from keras_dqn.weights import weights_path

__version__ = "0.1.0"

__all__ = [
    "Batch",
    "DQNAgent",
    "DuelingHead",
    "ReplayBuffer",
    "TargetDQNAgent",
    "build_mlp",
    "check_discrete",
    "evaluate",
    "make_env",
    "train",
    "weights_path",
    "__version__",
]

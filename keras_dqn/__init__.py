"""keras_dqn: the classic deep Q-learning tutorials as one library on Keras 3 and gymnasium.

Quick start::

    import keras_dqn
    agent = keras_dqn.DQNAgent(4, 2)
    agent.load(keras_dqn.weights_path("cartpole-dqn"))
    print(sum(keras_dqn.evaluate(agent, "CartPole-v1", episodes=100)) / 100)
"""

from keras_dqn import _quiet_tf, callbacks, checkpoint, rl  # noqa: F401  (_quiet_tf first: TF without start-up noise)
from keras_dqn.agents import DQNAgent, TargetDQNAgent, load_agent
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
    "callbacks",
    "checkpoint",
    "check_discrete",
    "evaluate",
    "load_agent",
    "make_env",
    "rl",
    "train",
    "weights_path",
    "__version__",
]

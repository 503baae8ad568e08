"""keras_dqn: the classic deep Q-learning tutorials as one library on Keras 3 and gymnasium.

Quick start::

    import keras_dqn
    agent = keras_dqn.DQNAgent(4, 2)
    agent.load(keras_dqn.weights_path("cartpole-dqn"))
    print(sum(keras_dqn.evaluate(agent, "CartPole-v1", episodes=100)) / 100)
"""

from keras_dqn._internals import quiet_tf  # noqa: F401  (first: TensorFlow without its start-up noise)

# isort: split
from keras_dqn import exploration, rl
from keras_dqn.agents import ConvDQNAgent, ConvRainbowAgent, DQNAgent, RainbowAgent, TargetDQNAgent, load_agent
from keras_dqn.config import recipes
from keras_dqn.config.recipes import get_recipe
from keras_dqn.envs import check_discrete, make_atari_env, make_atari_vector_env, make_env, make_vector_env
from keras_dqn.experiments.plots import record  # plots imports matplotlib/imageio only when used
from keras_dqn.files import checkpoint
from keras_dqn.files.weights import weights_path
from keras_dqn.networks import DuelingHead, NoisyDense, build_mlp, build_nature_cnn
from keras_dqn.replay import (
    Batch,
    FrameReplayBuffer,
    PrioritizedFrameReplayBuffer,
    PrioritizedReplayBuffer,
    ReplayBuffer,
    ReplayMemory,
)
from keras_dqn.training import callbacks, evaluate, play_episode, train

__version__ = "0.1.0"

__all__ = [
    "Batch",
    "ConvDQNAgent",
    "ConvRainbowAgent",
    "DQNAgent",
    "DuelingHead",
    "FrameReplayBuffer",
    "NoisyDense",
    "PrioritizedFrameReplayBuffer",
    "PrioritizedReplayBuffer",
    "RainbowAgent",
    "ReplayBuffer",
    "ReplayMemory",
    "TargetDQNAgent",
    "build_mlp",
    "build_nature_cnn",
    "callbacks",
    "checkpoint",
    "check_discrete",
    "evaluate",
    "exploration",
    "get_recipe",
    "load_agent",
    "make_atari_env",
    "make_atari_vector_env",
    "make_env",
    "make_vector_env",
    "play_episode",
    "recipes",
    "record",
    "rl",
    "train",
    "weights_path",
    "__version__",
]

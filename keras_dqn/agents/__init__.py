"""Deep Q-learning agents, one file each, in the order a learner meets them.

* :mod:`~keras_dqn.agents.dqn`: :class:`DQNAgent`, Keon Kim's blog agent (``remember``, ``act``,
  ``replay``, ``save``, ``load``), fast on Keras 3;
* :mod:`~keras_dqn.agents.target`: :class:`TargetDQNAgent`, a frozen target network, Double DQN;
* :mod:`~keras_dqn.agents.conv`: :class:`ConvDQNAgent`, the Nature CNN on Atari frames;
* :mod:`~keras_dqn.agents.rainbow`: :class:`RainbowAgent` and :class:`ConvRainbowAgent`, every switch on;
* :mod:`~keras_dqn.agents.blog`: :class:`~keras_dqn.agents.blog.DDQNAgent`, the blog repository's ``ddqn.py`` agent;
* :mod:`~keras_dqn.agents.loading`: :func:`load_agent`, the agent a weights file describes.

What they share: the TD update (:mod:`~keras_dqn.learning.td_update`: targets, Q(s, a), losses,
gradient step, target sync), the compiled step that runs it (:mod:`~keras_dqn.learning.compiled_step`)
and how memories and networks are built and checked (:mod:`~keras_dqn.agents.parts`).
"""

from keras_dqn.agents.conv import ConvDQNAgent
from keras_dqn.agents.dqn import DQNAgent
from keras_dqn.agents.loading import AGENT_CLASSES, load_agent
from keras_dqn.agents.rainbow import ConvRainbowAgent, RainbowAgent
from keras_dqn.agents.target import TargetDQNAgent

__all__ = ["AGENT_CLASSES", "ConvDQNAgent", "ConvRainbowAgent", "DQNAgent", "RainbowAgent", "TargetDQNAgent",
           "load_agent"]  # fmt: skip

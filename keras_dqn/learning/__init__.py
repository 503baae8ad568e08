"""How an agent learns: the TD update, and the compiled step that runs it.

* :mod:`~keras_dqn.learning.td_update`: targets, Q(s, a), per-sample losses, priorities, the
  gradient step and the target sync, written once for every agent;
* :mod:`~keras_dqn.learning.distributional`: C51's projection of the target distribution;
* :mod:`~keras_dqn.learning.compiled_step`: one compiled (XLA) TensorFlow function per
  network shape that runs ``k`` updates and returns what it computed.
"""

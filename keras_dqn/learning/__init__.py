"""How an agent learns: the TD update, and the compiled step that runs it.

* :mod:`~keras_dqn.learning.td_update`: targets, Q(s, a), per-sample losses, priorities, the
  gradient step and the target sync, written once in ``keras.ops`` for every agent and backend;
* :mod:`~keras_dqn.learning.distributional`: C51's projection of the target distribution;
* :mod:`~keras_dqn.learning.backends`: what differs between TensorFlow, JAX and PyTorch (the
  gradient, a guarded optimizer step, compiling), one small module each;
* :mod:`~keras_dqn.learning.compiled_step`: the step that runs ``k`` updates and returns what
  it computed: one XLA call on TensorFlow, one ``jax.jit`` call (or eager PyTorch) per update.
"""

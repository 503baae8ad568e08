"""What differs between Keras backends in training and acting, one module each, one interface.

The TD update (:mod:`keras_dqn.learning.td_update`) is written once in ``keras.ops``; the
few things below are all it and the agents need that ``keras.ops`` has no word for.
:func:`current` gives the module of the backend Keras runs on (``KERAS_BACKEND``):
:mod:`~keras_dqn.learning.backends.tensorflow`, :mod:`~keras_dqn.learning.backends.jax` or
:mod:`~keras_dqn.learning.backends.torch`.  Each defines:

* ``value_and_grad(compute, trainable, others)``: run ``compute()`` (which returns ``(loss,
  aux)``) and differentiate the loss with respect to the ``trainable`` variables; ``others``
  are the variables ``compute`` reads or changes besides them (a noisy layer's seed state).
  Returns ``(loss, aux, gradients)``.
* ``apply_gradients_if(ok, optimizer, grads, variables, cheap)``: one optimizer step, which
  changes nothing where the boolean tensor ``ok`` is False (``cheap``: the caller restores the
  weights itself after a bad step, so a backend may skip less exactly, if faster).
* ``assign_if(condition, pairs)``: ``target.assign(source)`` for each pair where ``condition`` holds.
* ``no_grad()``: a context in which the forward passes record nothing for a gradient (the TD
  targets': constants).  Only PyTorch records outside ``value_and_grad``; elsewhere a no-op.
* ``forward(model, training, state_shape, state_dtype)``: a compiled forward pass for acting,
  NumPy batch in, NumPy outputs out (``training``: draw a noisy network's noise).
* ``compile_updates(update, variables, one_thread)``: ``update(arrays, healthy) -> (loss,
  priorities)``, one stateful TD update on a minibatch's arrays (``healthy`` False: change
  nothing), compiled for the backend; returns ``run(stacked) -> (losses, priorities)`` that runs
  it on each of ``K`` minibatches in turn, given the arrays with a leading ``K`` axis (after a
  non-finite loss the rest change nothing, their losses NaN and priorities 0); ``one_thread``:
  a small network, which trains fastest on one CPU thread where the backend can choose.  The TensorFlow
  module does not define it: TensorFlow's step is :class:`keras_dqn.learning.compiled_step.TrainStep`,
  which packs the ``K`` updates into one XLA call.
"""

from __future__ import annotations

import functools
from types import ModuleType

import keras

SUPPORTED = ("tensorflow", "jax", "torch")


@functools.cache  # (also keeps AutoGraph, which traces the TD update, from converting the import)
def current() -> ModuleType:
    """The module of the Keras backend in use.

    Raises:
        RuntimeError: Keras runs on a backend keras_dqn cannot train on (``numpy``, ``openvino``).
    """
    name = keras.backend.backend()
    if name == "tensorflow":
        from keras_dqn.learning.backends import tensorflow as module
    elif name == "jax":
        from keras_dqn.learning.backends import jax as module
    elif name == "torch":
        from keras_dqn.learning.backends import torch as module
    else:
        raise RuntimeError(
            f"keras_dqn trains on the Keras backends {', '.join(SUPPORTED)}; this Keras runs on {name!r} "
            "(set KERAS_BACKEND to one of them before importing keras)"
        )
    return module

"""Imported first by keras_dqn/__init__.py: TensorFlow without its start-up chatter."""

import os
import sys


def _import_tensorflow_quietly() -> None:
    """Import TensorFlow with stderr parked on /dev/null, and its C++ log level at FATAL.

    TF prints a screenful of C++ start-up notes (CUDA probes on machines without a GPU,
    oneDNN, CPU flags) that bury a learner's output and our one-line error messages.
    Python exceptions and warnings still surface.  Set KERAS_DQN_TF_LOGS=1 to see the notes.
    The runtime is not started here, so ``tf.config.threading`` can still be set after
    ``import keras_dqn``.
    """
    if os.environ.get("KERAS_DQN_TF_LOGS"):
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)


_import_tensorflow_quietly()

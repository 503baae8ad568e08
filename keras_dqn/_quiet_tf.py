"""Imported first by keras_dqn/__init__.py: TensorFlow without its start-up chatter."""

import os
import sys


def _import_tensorflow_quietly() -> None:
    """Import TensorFlow and initialise its CPU device with stderr parked on /dev/null.

    TF prints a screenful of C++ start-up notes (CUDA probes on machines without a GPU,
    oneDNN, CPU flags) that bury a learner's output and our one-line error messages.
    Python exceptions still surface.  Set KERAS_DQN_TF_LOGS=1 to see the notes.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" in sys.modules or os.environ.get("KERAS_DQN_TF_LOGS"):
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import tensorflow as tf

            tf.constant(0)
    finally:
        os.dup2(saved, 2)
        os.close(saved)


_import_tensorflow_quietly()

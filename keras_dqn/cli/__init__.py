"""The ``keras-dqn`` command: train, play, evaluate, plot, tune and seeds (:mod:`~keras_dqn.cli.commands`)."""

from keras_dqn.cli.commands import main

__all__ = ["main"]

"""The greedy Q-network: one Keras model from states to Q-values, as a trained agent acts when it
does not explore, for running a policy outside keras_dqn (:mod:`keras_dqn.files.export`).

It calls the agent's own network, so it shares its weights: no noise (a noisy layer uses its
mean weights when not training) and, for a distributional (C51) network, each action's expected
return over the atoms instead of its probabilities.
"""

from __future__ import annotations

import keras
import numpy as np


def greedy_q_network(
    model: keras.Model, state_shape: tuple[int, ...], state_dtype: np.dtype | type, atoms: np.ndarray | None = None
) -> keras.Model:
    """A model mapping a batch of states to a ``(batch, actions)`` array of greedy Q-values.

    Args:
        model: the agent's Q-network (its ``model``).
        state_shape: the shape of one state.
        state_dtype: the states' dtype (``uint8`` for Atari frames, else ``float32``).
        atoms: the C51 support for a distributional network (``agent.atoms``); ``None``: the
            network outputs Q-values already.

    Returns:
        A built Keras model named ``greedy_q_network`` with one input, ``states``.
    """
    states = keras.Input(tuple(state_shape), dtype=np.dtype(state_dtype).name, name="states")
    outputs = model(states, training=False)
    if atoms is not None:  # C51: the mean of each action's return distribution
        outputs = keras.ops.sum(outputs * np.asarray(atoms, np.float32), axis=-1)
    greedy = keras.Model(states, outputs, name="greedy_q_network")
    greedy(np.zeros((1, *state_shape), state_dtype))  # built and called: the exporters trace a called model
    return greedy

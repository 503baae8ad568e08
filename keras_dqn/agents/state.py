"""An agent's training state: everything needed to continue training exactly where it stopped.

A weights file (``agent.save``) is enough to *play*.  To *continue training* you also need the
optimizer's state (Adam's moments and step counter), epsilon and its schedule, the agent's
counters and random-generator state, the target network, the noisy layers' generators and,
optionally, the replay memory.  :class:`TrainingState` hands them out as one dict of arrays and
JSON-able values (:meth:`~TrainingState.state_dict`) and takes them back, checked
(:meth:`~TrainingState.load_state_dict`); :mod:`keras_dqn.files.checkpoint` stores that dict.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import keras
import numpy as np

from keras_dqn.exploration import schedule_config, schedule_from_config
from keras_dqn.networks.noisy import noise_states, set_noise_states


def _shapes(arrays: Sequence[np.ndarray | None]) -> list[tuple[int, ...] | None]:
    return [None if a is None else tuple(np.shape(a)) for a in arrays]


def _check_arrays(what: str, given: Any, expected: Sequence[Any]) -> list[np.ndarray]:
    """``given`` (a list of arrays, ``None`` where one is missing) checked against ``expected``'s shapes."""
    given = list(given or [])
    found, shapes = _shapes(given), _shapes(expected)
    if found != shapes:
        raise ValueError(f"holds {what} arrays of shapes {found}, this agent's are {shapes}")
    return given


class TrainingState:
    """``state_dict`` / ``load_state_dict`` of a :class:`~keras_dqn.DQNAgent` (a mixin: it reads the
    agent's ``model``, ``target_model`` if it has one, ``memory``, ``epsilon``, ``exploration``,
    ``train_steps`` and ``rng``)."""

    def networks(self) -> dict[str, keras.Model]:
        """The agent's networks by name: ``model`` and, if it has one, ``target``."""
        target = getattr(self, "target_model", None)
        return {"model": self.model} if target is None else {"model": self.model, "target": target}

    def _optimizer_variables(self) -> list:
        optimizer = self.model.optimizer
        if not optimizer.built:  # no training step yet: its (zero) slots all the same
            optimizer.build(self.model.trainable_variables)
        return list(optimizer.variables)

    def state_dict(self, include_memory: bool = False) -> dict[str, Any]:
        """Everything needed to continue training exactly, as arrays and JSON-able values.

        Args:
            include_memory: also the replay memory's ``state_dict()`` (large).

        Returns:
            ``{"model": [arrays], "optimizer": [arrays], "target": [arrays] or None,
            "noise": {network: [generator states]}, "epsilon", "exploration" (the schedule's
            config; ``None``: a schedule of your own), "train_steps", "rng" (the bit generator's
            state), "memory" (``None`` unless ``include_memory``)}``.
        """
        networks = self.networks()
        return {
            "model": self.model.get_weights(),
            "optimizer": [np.asarray(v.numpy()) for v in self._optimizer_variables()],
            "target": networks["target"].get_weights() if "target" in networks else None,
            "noise": {name: noise_states(network) for name, network in networks.items()},
            "epsilon": self.epsilon,
            "exploration": schedule_config(self.exploration),
            "train_steps": self.train_steps,
            "rng": self.rng.bit_generator.state,
            "memory": self.memory.state_dict() if include_memory else None,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned.  Everything is checked before anything changes.

        Raises:
            ValueError: one line saying what does not fit this agent (``holds model arrays of
                shapes [...], this agent's are [...]``, a replay memory of another kind).
        """
        networks = self.networks()
        weights = _check_arrays("model", state.get("model"), self.model.weights)
        variables = self._optimizer_variables()
        slots = _check_arrays("optimizer", state.get("optimizer"), variables)
        target = None
        if "target" in networks:
            target = _check_arrays("target", state.get("target"), networks["target"].weights)
        saved_noise = state.get("noise") or {}
        noise = {name: _check_arrays(f"noise/{name}", saved_noise.get(name), noise_states(network))
                 for name, network in networks.items()}  # fmt: skip
        if state.get("memory") is not None:  # restored first: it is the last thing that can fail
            try:
                self.memory.load_state_dict(state["memory"])
            except ValueError as error:  # "FrameReplayBuffer state: 'frames' should be..."
                raise ValueError(f"holds a replay memory that does not fit this agent's {error}") from None
        self.model.set_weights(weights)
        for variable, value in zip(variables, slots, strict=True):
            variable.assign(value)
        if target is not None:
            networks["target"].set_weights(target)
        for name, network in networks.items():
            set_noise_states(network, noise[name])
        learning_rate = self.model.optimizer.learning_rate
        if hasattr(learning_rate, "assign"):  # the agent's setting wins (a schedule keeps its own)
            learning_rate.assign(self.learning_rate)
        self.epsilon = state["epsilon"]
        if state.get("exploration"):  # the schedule the run was following (None: a schedule of the user's own)
            self.exploration = schedule_from_config(state["exploration"])
        self.train_steps = state["train_steps"]
        self.rng.bit_generator.state = state["rng"]
        self.refresh_policy()

"""What an agent is made of: its replay memory and network, the forward pass it acts with (the
NumPy twin or one compiled call), the checks on what you give it (your own model or memory,
states), and its config for weights files.

:class:`AgentParts` holds the methods each agent class may override to build something
else (:class:`~keras_dqn.ConvDQNAgent`: the Nature CNN and a frame memory); the agent's
own file (:mod:`keras_dqn.agents.dqn`) keeps the blog's methods.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from keras_dqn.agents.settings import LOSSES, WEIGHTS_FILE_METADATA, settings_in_use, weights_file_settings
from keras_dqn.checks import check_numeric_array, check_positive_int
from keras_dqn.learning import backends
from keras_dqn.networks.noisy import NoisyDense
from keras_dqn.replay.prioritized import PrioritizedReplayBuffer
from keras_dqn.replay.uniform import ReplayBuffer


class AgentParts:
    """The building and checking methods of a :class:`~keras_dqn.DQNAgent` (a mixin: they read the
    settings its constructor stores)."""

    def _check_state_shape(self, state_size: Any) -> tuple[int, ...]:
        """The shape of one state: an int for vector states, or a tuple (own models)."""
        if isinstance(state_size, (tuple, list)):
            return tuple(check_positive_int("state_shape entries", n) for n in state_size)
        return (check_positive_int("state_size", state_size),)

    def _build_memory(self, capacity: int) -> ReplayBuffer:
        """The replay memory: a ring of whole states (prioritized if asked), sampled with the agent's generator."""
        cls = PrioritizedReplayBuffer if self.prioritized else ReplayBuffer
        return cls(
            capacity, self.state_shape, seed=self.rng, state_dtype=self.state_dtype, action_size=self.action_size,
            **self._memory_settings(),
        )  # fmt: skip

    def _memory_settings(self) -> dict[str, Any]:
        """What every replay memory the agent builds takes from it: the n-step window, gamma and,
        for a prioritized one, the priority exponent."""
        settings: dict[str, Any] = {"n_step": self.n_step, "gamma": self.gamma}
        return {**settings, "alpha": self.priority_alpha} if self.prioritized else settings

    def _network_settings(self) -> dict[str, Any]:
        """What every network builder takes from the agent: its optimizer, loss, head and seed."""
        return dict(
            learning_rate=self.learning_rate,
            loss=LOSSES[self.loss],
            dueling=self.dueling,
            clipnorm=self.clipnorm,
            adam_epsilon=self.adam_epsilon,
            seed=self.seed,
            noisy=self.noisy,
            noisy_hidden=self.noisy_hidden,
            sigma0=self.sigma0,
            n_atoms=self.n_atoms,
        )

    def _check_memory(self, memory: Any) -> Any:
        """Your own memory: it must hold this agent's states and actions and sum returns with its gamma."""
        if tuple(getattr(memory, "state_shape", ())) != self.state_shape:
            raise ValueError(
                f"memory must hold states of shape {self.state_shape}, got {getattr(memory, 'state_shape', memory)!r}"
            )
        if getattr(memory, "action_size", None) not in (None, self.action_size):
            raise ValueError(f"memory holds actions of {memory.action_size} kinds, the agent has {self.action_size}")
        n_step = getattr(memory, "n_step", 1)
        if n_step != self.n_step:
            raise ValueError(f"memory sums {n_step}-step returns, the agent was given n_step={self.n_step}")
        if self.prioritized != hasattr(memory, "update_priorities"):
            raise ValueError(
                f"the agent was given prioritized={self.prioritized} but the memory is a {type(memory).__name__}"
            )
        if self.prioritized and getattr(memory, "alpha", self.priority_alpha) != self.priority_alpha:
            raise ValueError(
                f"memory samples with priority exponent alpha {memory.alpha}, the agent's priority_alpha is "
                f"{self.priority_alpha}: build the memory with alpha={self.priority_alpha}, or pass "
                f"priority_alpha={memory.alpha}"
            )
        if n_step > 1 and getattr(memory, "gamma", self.gamma) != self.gamma:
            raise ValueError(f"memory sums n-step returns with gamma {memory.gamma}, the agent's gamma is {self.gamma}")
        return memory  # (one-step targets use the agent's own gamma, whatever the memory's)

    def _check_model(self, model: keras.Model) -> keras.Model:
        """Your own network: it must fit the states and actions (compile it before training)."""
        if not isinstance(model, keras.Model):
            raise ValueError(f"model must be a keras.Model, got {type(model).__name__}")
        outputs = (self.action_size,) if self.atoms is None else (self.action_size, self.n_atoms)
        if tuple(model.input_shape[1:]) != self.state_shape or tuple(model.output_shape) != (None, *outputs):
            what = f"{self.action_size} Q-values" if self.atoms is None else f"probabilities of shape {outputs}"
            raise ValueError(
                f"model must map states of shape {self.state_shape} to {what}; "
                f"it maps {tuple(model.input_shape[1:])} to {tuple(model.output_shape[1:])}"
            )
        has_noise = any(isinstance(layer, NoisyDense) or getattr(layer, "noisy", False) for layer in model.layers)
        if has_noise != self.noisy:
            raise ValueError(
                f"the agent was given noisy={self.noisy} but the model {'has' if has_noise else 'has no'} NoisyDense "
                "layers; the switch must say how the model explores"
            )
        if self.atoms is not None:  # each action's outputs must be a probability distribution
            zeros = np.zeros((1, *self.state_shape), self.state_dtype)
            probe = keras.ops.convert_to_numpy(model(zeros, training=False))
            if not (np.all(probe >= 0) and np.allclose(probe.sum(axis=-1), 1.0, atol=1e-3)):
                raise ValueError(
                    "a distributional agent's model must output probabilities over the atoms (a softmax on the "
                    f"last axis, e.g. keras_dqn.networks.heads.DistributionalHead); its outputs sum to {probe.sum(-1)}"
                )
        if getattr(model, "optimizer", None) is not None:  # the model's own optimizer settings win
            self.learning_rate = float(model.optimizer.learning_rate.numpy())
            self.adam_epsilon = float(getattr(model.optimizer, "epsilon", self.adam_epsilon))
        return model

    def _as_state_array(self, states: Any, what: str) -> np.ndarray:
        """``states`` as an array of :attr:`state_dtype`, every value kept and finite (the conv
        agent insists on uint8 frames).  ``what`` names them in errors, e.g. ``"act() state"``."""
        return check_numeric_array(what, states, self.state_dtype)

    def _as_batch(self, states: Any, what: str) -> np.ndarray:
        states = self._as_state_array(states, f"{what} state")
        if states.shape == self.state_shape:
            return states[None]
        if states.ndim == len(self.state_shape) + 1 and states.shape[1:] == self.state_shape:
            return states
        raise ValueError(
            f"{what} expected a state of shape {self.state_shape} or a batch of shape "
            f"(n, {', '.join(map(str, self.state_shape))}), got an array of shape {states.shape}"
        )

    def builds_its_network(self) -> bool:
        """Whether ``model`` is the network this agent built (not one you gave it or set later):
        only those share a compiled step with agents alike (:mod:`keras_dqn.learning.compiled_step`)."""
        return self._own_model() is self.model

    def acting_weights(self) -> list[np.ndarray] | None:
        """The weights acting uses now (the NumPy twin's copy), or ``None`` for agents without a twin."""
        if self.numpy_model is None:
            return None
        return self.policy_weights if self.policy_weights is not None else self.model.get_weights()

    def stop_training(self, losses: np.ndarray, before: list[np.ndarray] | None) -> None:
        """A training call gave a non-finite loss or weight: keep finite weights, raise one clear error.

        ``before``: the weights from before the call (:meth:`acting_weights`), put back for agents
        with a NumPy twin; the compiled step of the others skipped the bad update exactly.

        Raises:
            FloatingPointError: always, naming the gradient step and the likely causes.
        """
        first_bad = int(np.argmin(np.isfinite(losses))) if not np.isfinite(losses).all() else len(losses) - 1
        step = self.train_steps + first_bad + 1
        if before is not None:  # MLPs: the whole call is undone
            self.model.set_weights(before)
            self.policy_weights = before
            kept = f"the network's weights from before gradient step {self.train_steps + 1} are restored"
        else:  # the compiled step skipped the bad update and the ones after it
            self.train_steps += first_bad
            kept = "it and the updates after it were not applied"
        target = getattr(self, "target_model", None)
        if target is not None and not all(np.isfinite(w).all() for w in target.get_weights()):
            self.update_target_model()
        raise FloatingPointError(
            f"training stopped at gradient step {step}: a non-finite loss or weight ({losses[first_bad]}); {kept}. "
            f"Likely causes: a non-finite reward or state in the replay memory, or a learning rate too high for "
            f"this problem ({self.learning_rate:g}). The optimizer's state may not be usable: to go on training, "
            "load a checkpoint or weights into a new agent"
        )

    def _q_values(self, states: np.ndarray, noise: bool = False) -> np.ndarray:
        """:meth:`q_values` of a checked batch (``noise``: a fresh draw of the noisy layers' noise)."""
        if self.numpy_model is not None:
            if self.policy_weights is None:
                self.policy_weights = self.model.get_weights()
            outputs = self.numpy_model(states, self.policy_weights, rng=self.rng if noise else None)
        else:
            if noise not in self._predict:  # compiled for the Keras backend, once
                forward = backends.current().forward(self.model, noise, self.state_shape, self.state_dtype)
                self._predict[noise] = forward
            outputs = self._predict[noise](states)
        return outputs if self.atoms is None else outputs @ self.atoms  # C51: the mean of each distribution

    def get_config(self) -> dict[str, Any]:
        """The agent's class, env, state and action sizes and settings, as its weights files store them.

        Every setting of :func:`~keras_dqn.agents.settings.weights_file_settings` with its value,
        but those that change nothing (``sigma0`` without ``noisy``:
        :func:`~keras_dqn.agents.settings.settings_in_use`).
        """
        state = list(self.state_shape) if self.state_argument == "state_shape" else self.state_size
        about = (type(self).__name__, self.env_id, dict(self.env_kwargs), self.action_size)
        config: dict[str, Any] = {**dict(zip(WEIGHTS_FILE_METADATA, about, strict=True)), self.state_argument: state}
        settings = {name: getattr(self, name) for name in weights_file_settings(type(self)) if hasattr(self, name)}
        for name, value in settings_in_use(settings).items():
            config[name] = list(value) if isinstance(value, tuple) else value
        return config

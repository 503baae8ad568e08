""":class:`TargetDQNAgent`: DQN with a frozen target network, Double DQN and the Huber loss.
"""

from __future__ import annotations

import os
import random
from collections.abc import Sequence
from typing import Any

import keras
from keras import ops

from keras_dqn.agents.dqn import DQNAgent
from keras_dqn.agents.settings import check_setting
from keras_dqn.learning import backends
from keras_dqn.learning.td_update import action_values
from keras_dqn.networks.noisy import reseed_noise


class TargetDQNAgent(DQNAgent):
    """DQN with a frozen target network: Double DQN and the Huber loss by default.

    Targets come from ``target_model``, a clone of ``model`` that is never trained and only
    follows it: a hard copy every ``C`` gradient steps, or a soft (Polyak) step
    ``target <- tau * online + (1 - tau) * target`` after every gradient step.

    The defaults are the CartPole recipe we validated (``keras_dqn.get_recipe("cartpole-target")``;
    its seed study is in the README), so
    ``TargetDQNAgent(4, 2).load(keras_dqn.weights_path("cartpole-target-dqn"))`` just works.

    Args:
        state_size: as :class:`DQNAgent`.
        action_size: as :class:`DQNAgent`.
        target_update: an ``int`` C >= 1 copies the weights every C gradient steps; a float tau
            in (0, 1) averages them in every step (keras-rl's ``target_model_update``; a
            float >= 1 that is a whole number means C, as there).
        double: Double DQN — the online network picks ``argmax_a' Q(s', a')`` and the
            target network values it, which curbs the max operator's over-estimation.
        gamma: as :class:`DQNAgent`, with this agent's validated default.
        memory_size: as :class:`DQNAgent`, with this agent's validated default.
        hidden: as :class:`DQNAgent`, with this agent's validated default.
        loss: as :class:`DQNAgent`, with this agent's validated default.
        clipnorm: as :class:`DQNAgent`, with this agent's validated default.
        **kwargs: any other :class:`DQNAgent` argument (epsilon..., dueling, seed, model, memory).

    The blog's per-episode copy still reads as in the blog: call
    :meth:`update_target_model` at each episode end (with a large ``target_update``).
    """

    def __init__(
        self,
        state_size: int,
        action_size: int,
        *,
        target_update: int | float = 500,
        double: bool = True,
        gamma: float = 0.99,
        memory_size: int = 10_000,
        hidden: Sequence[int] = (64, 64),
        loss: str = "huber",
        clipnorm: float | None = 10.0,
        **kwargs: Any,
    ):
        super().__init__(
            state_size, action_size, gamma=gamma, memory_size=memory_size, hidden=hidden, loss=loss,
            clipnorm=clipnorm, **kwargs,
        )  # fmt: skip
        self.target_update = check_setting("target_update", target_update)
        self.double = bool(double)
        self.target_model = keras.models.clone_model(self.model)
        self.reseed_target_noise()
        self.update_target_model()

    @property
    def tau(self) -> float | None:
        """The soft-update rate, or ``None`` for hard copies."""
        return self.target_update if isinstance(self.target_update, float) else None

    @property
    def target_update_every(self) -> int | None:
        """Gradient steps between hard copies, or ``None`` for soft updates."""
        return self.target_update if isinstance(self.target_update, int) else None

    def reseed_target_noise(self) -> None:
        """Give the target network's noisy layers noise streams of their own: a clone of the online
        network would repeat its noise.  Seeded from ``seed`` (else from Python's ``random``, as
        Keras seeds the online network's, so ``keras.utils.set_random_seed`` fixes both)."""
        if self.noisy:
            reseed_noise(self.target_model, (random.getrandbits(63) if self.seed is None else self.seed, 1))

    def update_target_model(self) -> None:
        """Copy the online network's weights into the target network."""
        self.target_model.set_weights(self.model.get_weights())

    def traced_settings(self) -> tuple:
        return (*super().traced_settings(), self.double, self.target_update)

    def next_action_outputs(self, next_states: Any) -> Any:
        """The target network values ``a*``; the online network picks it (Double DQN) or the target does.

        Noisy networks draw noise here too, each its own (the NoisyNet paper's targets: the
        target network's noise is independent of the online network's, which picks with a
        fresh draw of its own); only greedy action choices use the mean weights."""
        target_outputs = self.target_model(next_states, training=self.noisy)
        chooser = self.model(next_states, training=self.noisy) if self.double else target_outputs
        return action_values(target_outputs, ops.argmax(self._expected(chooser), axis=1))

    def sync_target(self) -> None:
        """Inside the compiled step, after each update: exact even for K updates a call."""
        pairs = list(zip(self.target_model.weights, self.model.weights, strict=True))
        if self.tau is not None:  # soft: target <- tau * online + (1 - tau) * target
            for target, online in pairs:
                target.assign(self.tau * online.value + (1.0 - self.tau) * target.value)
            return
        # hard: copy when the optimizer's step counter reaches a multiple of C
        due = ops.equal(self.model.optimizer.iterations % self.target_update_every, 0)
        backends.current().assign_if(due, pairs)

    def load(self, name: str | os.PathLike) -> TargetDQNAgent:
        """Load the online network's weights (see :meth:`DQNAgent.load`) and sync the target."""
        super().load(name)
        self.update_target_model()
        return self

"""The TD update: targets, Q(s, a), per-sample losses, one gradient step, target sync.

:class:`TDUpdate` is the part of every agent that the compiled step
(:mod:`keras_dqn.learning.compiled_step`) runs: read :meth:`TDUpdate.td_update` top to
bottom.  Agents differ only in the hooks it calls: :meth:`~TDUpdate.next_action_outputs`
(which network picks and values the next action: :class:`~keras_dqn.TargetDQNAgent`'s
target network, Double DQN) and :meth:`~TDUpdate.sync_target`.

Written once in ``keras.ops``, it runs on TensorFlow, JAX and PyTorch: taking the gradient,
and applying it only if it is finite, are the backend's (:mod:`keras_dqn.learning.backends`).
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_dqn.learning import backends
from keras_dqn.learning.distributional import cross_entropy, expected_q, project_distribution
from keras_dqn.replay.base import Batch


def action_values(outputs: Any, actions: Any) -> Any:
    """Each row's output for its action: ``(B, A)`` Q-values to ``(B,)``, or ``(B, A, N)``
    distributions to ``(B, N)`` (a one-hot product: the same on every backend, and cheap for
    the few actions of a DQN)."""
    mask = ops.one_hot(ops.cast(actions, "int32"), outputs.shape[1], dtype=outputs.dtype)
    if len(outputs.shape) == 3:
        mask = mask[..., None]
    return ops.sum(outputs * mask, axis=1)


class TDUpdate:
    """The TD update of a :class:`~keras_dqn.DQNAgent` (a mixin: it reads the agent's ``model``,
    ``atoms``, ``noisy`` and ``numpy_model``)."""

    def td_update(self, batch: Batch, healthy: Any = True) -> tuple[Any, Any]:
        """One gradient step on ``batch`` (tensors): targets, Q(s, a), loss, gradient, target sync.

        Returns the loss (or NaN for a step that changed nothing: one whose loss or gradient is
        not finite, or any step while ``healthy`` is False; the compiled step then raises) and
        each transition's new priority for prioritized replay (its TD error)."""
        model, backend = self.model, backends.current()
        # 1. The targets y = r + gamma^k * V(s') (a distribution over the atoms, for C51): constants.
        with backend.no_grad():
            targets = ops.stop_gradient(self.compute_targets(batch))

        def compute_loss() -> tuple[Any, tuple[Any, Any]]:
            # 2. Q(s, a): the network's value of each state for the action taken (or its distribution).
            taken = action_values(model(batch.states, training=True), batch.actions)
            # 3. The loss: each transition's, weighted for prioritized sampling (else all weights are 1).
            sample_losses = self.sample_losses(targets, taken)
            return ops.mean(batch.weights * sample_losses), (taken, sample_losses)

        trainable = model.trainable_variables
        others = [v for v in model.variables if not v.trainable]  # a noisy layer's seed state
        loss, (taken, sample_losses), grads = backend.value_and_grad(compute_loss, trainable, others)
        # 4. One optimizer step down the gradient, if the loss and every gradient are finite.
        cheap = self.numpy_model is not None  # the step puts back the weights itself (see the backend)
        ok = ops.logical_and(ops.isfinite(loss), healthy)
        if not cheap:
            ok = ops.logical_and(ok, ops.all(ops.stack([ops.all(ops.isfinite(g)) for g in grads])))
        backend.apply_gradients_if(ok, model.optimizer, grads, trainable, cheap)
        # 5. Keep a target network in step (agents that have one).
        self.sync_target()
        loss = ops.where(ok, loss, ops.cast(float("nan"), loss.dtype))
        return loss, self.priorities(targets, ops.stop_gradient(taken), ops.stop_gradient(sample_losses))

    def priorities(self, targets: Any, taken: Any, sample_losses: Any) -> Any:
        """Each transition's new priority for prioritized replay: ``|TD error|``, or for C51 the
        KL divergence of its predicted distribution from the target (the cross-entropy minus the
        target's entropy, so a transition that is learnt has priority ~0 however wide its target)."""
        if self.atoms is None:
            return ops.abs(targets - taken)
        target_entropy = -ops.sum(ops.where(targets > 0, targets * ops.log(ops.maximum(targets, 1e-30)), 0.0), axis=-1)
        return ops.maximum(sample_losses - target_entropy, 0.0)

    def compute_targets(self, batch: Batch) -> Any:
        """Q-learning targets ``r + discount * Q(s', a*)`` with ``a* = argmax_a' Q(s', a')``.

        ``r`` is the (n-step) return and ``discount`` is ``gamma^n``, 0 after a termination
        (:class:`~keras_dqn.replay.base.Batch`).  A distributional agent shifts and shrinks the whole
        distribution of ``s'`` the same way and projects it back onto its atoms.  Which network
        picks ``a*`` and which one values it is :meth:`next_action_outputs`'s business."""
        next_outputs = self.next_action_outputs(batch.next_states)
        rewards, discounts = ops.convert_to_tensor(batch.rewards), ops.convert_to_tensor(batch.discounts)
        if self.atoms is None:
            return rewards + discounts * next_outputs
        return project_distribution(next_outputs, rewards, discounts, self.atoms)

    def next_action_outputs(self, next_states: Any) -> Any:
        """The network's output at ``s'`` for the greedy next action: here the online network both
        picks and values it (:class:`TargetDQNAgent` uses its target network).  A noisy network
        does so with a fresh draw of its noise, as in the NoisyNet paper's targets."""
        outputs = self.model(next_states, training=self.noisy)
        return action_values(outputs, ops.argmax(self._expected(outputs), axis=1))

    def _expected(self, outputs: Any) -> Any:
        """Q-values from the network's outputs: themselves, or a distribution's means (C51)."""
        return outputs if self.atoms is None else expected_q(outputs, self.atoms)

    def sample_losses(self, targets: Any, taken: Any) -> Any:
        """Each transition's loss: the model's compiled loss (MSE or Huber), or C51's cross-entropy."""
        if self.atoms is not None:
            return cross_entropy(targets, taken)
        loss = keras.losses.get(self.model.loss)
        per_sample = loss.call if isinstance(loss, keras.losses.Loss) else loss  # a Loss object's, unreduced
        return per_sample(targets[:, None], taken[:, None])

    def sync_target(self) -> None:
        """After each update inside the compiled step: nothing to sync without a target network."""
        return None  # (a docstring-only body trips up AutoGraph)

    def traced_settings(self) -> tuple:
        """Python values baked into the compiled step; when one changes, it is traced again.

        (Gamma is not one: it reaches the step as data, in each batch's discounts.)"""
        return ()

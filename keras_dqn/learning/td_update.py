"""The TD update: targets, Q(s, a), per-sample losses, one gradient step, target sync.

:class:`TDUpdate` is the part of every agent that the compiled step
(:mod:`keras_dqn.learning.compiled_step`) traces: read :meth:`TDUpdate.td_update` top to
bottom.  Agents differ only in the hooks it calls: :meth:`~TDUpdate.next_action_outputs`
(which network picks and values the next action: :class:`~keras_dqn.TargetDQNAgent`'s
target network, Double DQN) and :meth:`~TDUpdate.sync_target`.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from keras_dqn.learning.distributional import cross_entropy, expected_q, project_distribution
from keras_dqn.replay.base import Batch


class TDUpdate:
    """The TD update of a :class:`~keras_dqn.DQNAgent` (a mixin: it reads the agent's ``model``,
    ``atoms``, ``noisy`` and ``numpy_model``)."""

    def td_update(self, batch: Batch, healthy: tf.Tensor | bool = True) -> tuple[tf.Tensor, tf.Tensor]:
        """One gradient step on ``batch`` (tensors): targets, Q(s, a), loss, gradient, target sync.

        Returns the loss (or NaN for a step that changed nothing: one whose loss or gradient is
        not finite, or any step while ``healthy`` is False; :class:`TrainStep` then raises) and
        each transition's new priority for prioritized replay (its TD error)."""
        model = self.model
        # 1. The targets y = r + gamma^k * V(s') (a distribution over the atoms, for C51): constants.
        targets = tf.stop_gradient(self.compute_targets(batch))
        with tf.GradientTape() as tape:
            # 2. Q(s, a): the network's value of each state for the action taken (or its distribution).
            taken = tf.gather(model(batch.states, training=True), batch.actions, axis=1, batch_dims=1)
            # 3. The loss: each transition's, weighted for prioritized sampling (else all weights are 1).
            sample_losses = self.sample_losses(targets, taken)
            loss = tf.reduce_mean(batch.weights * sample_losses)
        # 4. One optimizer step down the gradient, if the loss and every gradient are finite.
        grads = tape.gradient(loss, model.trainable_variables)
        applied = self._apply_if_finite(loss, grads, healthy)
        # 5. Keep a target network in step (agents that have one).
        self.sync_target()
        return tf.where(applied, loss, tf.constant(np.nan, loss.dtype)), self.priorities(targets, taken, sample_losses)

    def priorities(self, targets: tf.Tensor, taken: tf.Tensor, sample_losses: tf.Tensor) -> tf.Tensor:
        """Each transition's new priority for prioritized replay: ``|TD error|``, or for C51 the
        KL divergence of its predicted distribution from the target (the cross-entropy minus the
        target's entropy, so a transition that is learnt has priority ~0 however wide its target)."""
        if self.atoms is None:
            return tf.abs(targets - taken)
        target_entropy = -tf.reduce_sum(tf.math.multiply_no_nan(tf.math.log(targets), targets), axis=-1)
        return tf.maximum(sample_losses - target_entropy, 0.0)

    def _apply_if_finite(self, loss: tf.Tensor, grads: list, healthy: tf.Tensor | bool) -> tf.Tensor:
        """Apply ``grads`` unless the loss (or, without a NumPy twin, a gradient) is not finite.

        Agents that act with a NumPy twin (MLPs, trained under XLA) take the cheap way: a bad
        step runs with zero gradients at a zero learning rate, which keeps Adam's moments finite,
        and :class:`TrainStep` puts back the weights from before the call (under XLA a
        ``tf.cond`` here, or any reduction over the gradients, costs more than the update
        itself).  Other agents (the CNN, without XLA) skip the step exactly with ``tf.cond``."""
        optimizer = self.model.optimizer
        variables = self.model.trainable_variables
        if self.numpy_model is None:
            ok = tf.math.is_finite(loss) & tf.math.is_finite(tf.linalg.global_norm(grads)) & healthy

            def apply() -> tf.Tensor:
                optimizer.apply_gradients(zip(grads, variables, strict=True))
                return tf.constant(True)

            tf.cond(ok, apply, lambda: tf.constant(False))
            return ok
        ok = tf.math.is_finite(loss) & healthy
        scale = tf.cast(ok, loss.dtype)
        grads = [tf.math.multiply_no_nan(g, scale) for g in grads]  # 0, even where g is nan
        rate = optimizer.learning_rate
        if hasattr(rate, "assign"):  # a plain learning rate (a schedule has no variable to zero)
            value = tf.identity(rate)
            rate.assign(value * tf.cast(scale, value.dtype))
        optimizer.apply_gradients(zip(grads, variables, strict=True))
        if hasattr(rate, "assign"):
            rate.assign(value)
        return ok

    def compute_targets(self, batch: Batch) -> tf.Tensor:
        """Q-learning targets ``r + discount * Q(s', a*)`` with ``a* = argmax_a' Q(s', a')``.

        ``r`` is the (n-step) return and ``discount`` is ``gamma^n``, 0 after a termination
        (:class:`~keras_dqn.replay.base.Batch`).  A distributional agent shifts and shrinks the whole
        distribution of ``s'`` the same way and projects it back onto its atoms.  Which network
        picks ``a*`` and which one values it is :meth:`next_action_outputs`'s business."""
        next_outputs = self.next_action_outputs(batch.next_states)
        if self.atoms is None:
            return batch.rewards + batch.discounts * next_outputs
        return project_distribution(next_outputs, batch.rewards, batch.discounts, tf.constant(self.atoms))

    def next_action_outputs(self, next_states: tf.Tensor) -> tf.Tensor:
        """The network's output at ``s'`` for the greedy next action: here the online network both
        picks and values it (:class:`TargetDQNAgent` uses its target network).  A noisy network
        does so with a fresh draw of its noise, as in the NoisyNet paper's targets."""
        outputs = self.model(next_states, training=self.noisy)
        best = tf.argmax(self._expected(outputs), axis=1, output_type=tf.int32)
        return tf.gather(outputs, best, axis=1, batch_dims=1)

    def _expected(self, outputs: tf.Tensor) -> tf.Tensor:
        """Q-values from the network's outputs: themselves, or a distribution's means (C51)."""
        return outputs if self.atoms is None else expected_q(outputs, tf.constant(self.atoms))

    def sample_losses(self, targets: tf.Tensor, taken: tf.Tensor) -> tf.Tensor:
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

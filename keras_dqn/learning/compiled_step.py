"""The compiled training step: ``K`` TD updates of an agent, run for the Keras backend.

The update itself is the agent's (:class:`keras_dqn.learning.td_update.TDUpdate`), the same
on every backend; this module runs it and hands back the losses, the new weights for the
agent's NumPy forward pass and a prioritized memory's new priorities (:class:`StepResult`).
:func:`train_step_for` picks the step for the backend Keras runs on:

* TensorFlow, :class:`TrainStep`: the minibatches packed into one tensor, the ``K`` updates in
  one XLA-compiled call, traced once per kind of agent (agents alike in all but their
  weights share the trace);
* JAX and PyTorch, :class:`PortableStep`: the ``K`` updates in one ``jax.jit`` call (the update
  made pure, scanned over the minibatches: :mod:`keras_dqn.learning.backends.jax`), or one
  after another in eager PyTorch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

import keras
import numpy as np
import tensorflow as tf

from keras_dqn._internals.tf import SharedFunctions, release_custom_gradients
from keras_dqn.learning import backends
from keras_dqn.replay.base import Batch


class Learner(Protocol):
    """What the compiled step reads of an agent (:class:`keras_dqn.DQNAgent` is one): its
    network and settings, and its TD update, :meth:`~keras_dqn.learning.td_update.TDUpdate.td_update`."""

    model: keras.Model
    numpy_model: Any
    learning_rate: float
    gamma: float
    n_step: int
    state_dtype: type
    state_shape: tuple[int, ...]
    jit_compile: bool

    def traced_settings(self) -> tuple: ...

    def builds_its_network(self) -> bool: ...

    def get_config(self) -> dict[str, Any]: ...

    def td_update(self, *args: Any, **kwargs: Any) -> Any: ...


@dataclass(frozen=True)
class StepResult:
    """What one call of the compiled step computed, for the agent to apply."""

    losses: np.ndarray  # one per update
    finite: bool  # the losses and the new weights are all finite (else the agent stops training)
    weights: list[np.ndarray] | None  # the new weights, for agents that act with a NumPy twin (else None)
    priorities: np.ndarray  # (K, B): each sampled transition's new priority, for prioritized replay


def train_step_for(agent: Learner) -> TrainStep | PortableStep:
    """The training step of ``agent`` for the Keras backend in use (``KERAS_BACKEND``)."""
    backends.current()  # a backend keras_dqn cannot train on fails here, saying which
    return TrainStep(agent) if keras.backend.backend() == "tensorflow" else PortableStep(agent)


def bootstrap_scalars(agent: Learner, batches: Batch) -> tuple[np.ndarray, np.ndarray]:
    """The ``(K, B)`` discounts of the bootstrap and importance weights of ``batches``, float32.

    The discount is ``gamma**k`` for ``k`` rewards summed by an n-step memory (0 after a
    termination), else the agent's own gamma (a memory may be shared by agents); the weights
    are a prioritized sample's, else 1."""
    n_step = batches.discounts is not None and agent.n_step > 1
    dones = np.asarray(batches.dones, np.float32)
    discounts = np.asarray(batches.discounts, np.float32) if n_step else (agent.gamma * (1 - dones)).astype(np.float32)
    weights = np.float32(1.0) if batches.weights is None else np.asarray(batches.weights, np.float32)
    return discounts, np.broadcast_to(weights, dones.shape)  # (all ones: a view, nothing allocated)


def sync_learning_rate(agent: Learner, known: float) -> float:
    """Give the optimizer ``agent.learning_rate`` if it changed since ``known``; returns it."""
    if known != agent.learning_rate:
        rate = agent.model.optimizer.learning_rate
        if hasattr(rate, "assign"):  # (a schedule keeps its own)
            rate.assign(agent.learning_rate)
    return agent.learning_rate


def step_variables(agent: Learner) -> list:
    """Every variable a training step reads or writes, in an order the same for every agent alike."""
    target = getattr(agent, "target_model", None)
    return [*agent.model.variables, *(target.variables if target is not None else []),
            *agent.model.optimizer.variables]  # fmt: skip


def check_compiled(agent: Learner) -> None:
    """Build the optimizer's variables.

    Raises:
        ValueError: the agent's model has no optimizer (it was never compiled)."""
    if getattr(agent.model, "optimizer", None) is None:
        raise ValueError("the agent's model is not compiled: call model.compile(optimizer=..., loss=...) first")
    agent.model.optimizer.build(agent.model.trainable_variables)


class _Step:
    """What both steps keep: the agent, the learning rate its optimizer was last given, and
    whether the agent needs the new weights back."""

    def __init__(self, agent: Learner):
        self.agent = agent
        self._learning_rate = agent.learning_rate  # the optimizer's; agent.learning_rate may change

    @property
    def returns_weights(self) -> bool:
        """MLPs act with a NumPy twin, which needs the new weights after each call."""
        return self.agent.numpy_model is not None


class TrainStep(_Step):
    """An agent's compiled training step on TensorFlow: ``K`` TD updates in one TensorFlow call.

    It is traced on first use and again after :meth:`invalidate` — which the agent calls
    itself when a setting baked into the graph changes (``double``, the target update, a new
    optimizer).  Call it yourself after changing the model or optimizer by hand.

    The call takes a :class:`~keras_dqn.replay.base.Batch` whose arrays have a leading ``K`` axis
    and returns what it computed, a :class:`StepResult`: the ``K`` losses, whether they and the
    new weights are finite, the new weights (for the agent's NumPy forward pass) and the sampled
    transitions' new priorities (the TD errors the step computed anyway).  The agent applies
    them (:meth:`keras_dqn.DQNAgent.train_on_batches`); the step writes nothing of the agent's.
    Every array is handed over in one packed float32 tensor (states, next states, actions,
    rewards, dones, discounts and importance weights side by side; uint8 frames come in a
    second tensor of their own) and the losses and new weights come back in one flat tensor: each tensor crossing into
    TensorFlow costs ~10-30 µs, and on one CartPole these calls happen every few env steps.
    (Each call still costs ~0.4 ms however small: XLA's launch reads and writes every variable
    it touches, ~7 µs each, 19 for a DQN MLP with Adam.)

    TensorFlow never frees an XLA compilation (~4 MB for an MLP's step), so our own agent
    classes, on networks they built, share one traced step among agents alike in all but their
    weights (a learning-rate or gamma sweep, a seed study): each runs it on its own variables.
    """

    def __init__(self, agent: Learner):
        super().__init__(agent)
        self._functions: dict[bool, Any] = {}  # single update?, -> concrete function, traced for the settings below
        self._settings: tuple | None = None
        self._state_dtype = tf.as_dtype(agent.state_dtype)
        # float32 states travel in the one packed tensor, next to the scalars; frames in their own
        self._packed = self._state_dtype == tf.float32
        self._state_size = int(np.prod(agent.state_shape))
        # where each weight sits in the flat tensor of new weights a call hands back
        self._weight_slices, start = [], 0
        for shape in (tuple(w.shape) for w in agent.model.weights):
            size = int(np.prod(shape))
            self._weight_slices.append((slice(start, start + size), shape))
            start += size

    def traced(self, single: bool = True) -> Any:
        """The compiled function this step runs for one update (``single``) or K at once, or ``None``
        before its first call; agents alike share one (the same object)."""
        function = self._functions.get(single)
        return getattr(function, "function", function)

    def invalidate(self) -> None:
        """Forget the compiled functions: the next call traces them again."""
        self._functions.clear()
        self._settings = None

    def __call__(self, batches: Batch) -> StepResult:
        agent = self.agent
        if self._settings != agent.traced_settings():
            self._functions.clear()
            self._settings = agent.traced_settings()
        # replay()'s one update is traced without a loop; K updates run in a tf.range loop, one
        # trace for any K (unrolling 4 of them measured no faster).
        single = len(batches.actions) == 1
        if single not in self._functions:
            self._functions[single] = self._compile(single)
        self._learning_rate = sync_learning_rate(agent, self._learning_rate)
        k, b = np.shape(batches.actions)
        size = 2 * self._state_size if self._packed else 0
        packed = np.empty((k, b, size + 5), np.float32)  # (K, B, [state, next state,] 5 scalars)
        if self._packed:
            packed[..., : self._state_size] = batches.states.reshape(k, b, -1)
            packed[..., self._state_size : size] = batches.next_states.reshape(k, b, -1)
        scalars = packed[..., size:]  # one column per field:
        scalars[..., 0], scalars[..., 1], scalars[..., 2] = batches.actions, batches.rewards, batches.dones
        scalars[..., 3], scalars[..., 4] = bootstrap_scalars(agent, batches)
        inputs = [tf.constant(packed)]
        if not self._packed:  # frames: (K, B, 2, *state_shape) in their own dtype
            inputs.append(tf.constant(np.stack((batches.states, batches.next_states), axis=2), self._state_dtype))
        report, priorities = self._functions[single](*inputs)
        report = report.numpy()  # [K losses, 1 if they and the new weights are finite, the new weights (MLPs)]
        weights = None
        if self.returns_weights:
            flat = report[k + 1 :]
            weights = [flat[where].reshape(shape) for where, shape in self._weight_slices]
        return StepResult(losses=report[:k], finite=bool(report[k] == 1), weights=weights,
                          priorities=priorities.numpy())  # fmt: skip

    def _compile(self, single: bool):
        """Trace the K-update function (a ``tf.range`` loop), or the one-update function ``replay`` uses."""
        agent = self.agent
        check_compiled(agent)
        returns_weights = self.returns_weights  # big CNNs act in TensorFlow: no copy needed

        size = self._state_size

        def unpack(packed, frames=None):
            """The packed tensor (and the frames) as states (K, B, 2, *state_shape) and scalars (K, B, 5)."""
            if frames is not None:
                return frames, packed
            shape = tf.shape(packed)
            states = tf.reshape(packed[..., : 2 * size], tf.concat([shape[:2], [2], agent.state_shape], axis=0))
            return states, packed[..., 2 * size :]

        def update(states, scalars, i, healthy):
            batch = Batch(
                states=states[i, :, 0],
                actions=tf.cast(scalars[i, :, 0], tf.int32),
                rewards=scalars[i, :, 1],
                next_states=states[i, :, 1],
                dones=scalars[i, :, 2],
                discounts=scalars[i, :, 3],
                weights=scalars[i, :, 4],
            )
            return agent.td_update(batch, healthy)

        def k_updates(*inputs):
            states, scalars = unpack(*inputs)
            if single:
                loss, priorities = update(states, scalars, 0, True)
                losses, priorities = loss[None], priorities[None]
            else:
                k = tf.shape(scalars)[0]
                loss_array = tf.TensorArray(tf.float32, size=k)
                priority_array = tf.TensorArray(tf.float32, size=k)
                healthy = tf.constant(True)  # after a non-finite update, the rest of the call changes nothing
                for i in tf.range(k):
                    loss, priorities = update(states, scalars, i, healthy)
                    healthy = tf.logical_and(healthy, tf.math.is_finite(loss))
                    loss_array = loss_array.write(i, loss)
                    priority_array = priority_array.write(i, priorities)
                losses, priorities = loss_array.stack(), priority_array.stack()
            # One tensor back: the losses, whether they and the new weights are all finite, the new weights.
            weights = [tf.reshape(tf.cast(w.value, tf.float32), [-1]) for w in agent.model.weights]
            weights = weights if returns_weights else []
            finite = tf.reduce_all([tf.reduce_all(tf.math.is_finite(x)) for x in [losses, *weights]])
            return tf.concat([losses, tf.cast(finite, tf.float32)[None], *weights], axis=0), priorities

        def trace() -> Any:
            with release_custom_gradients():  # else TF's gradient registry keeps the graph alive for good
                k = 1 if single else None
                specs = [tf.TensorSpec((k, None, 2 * size + 5 if self._packed else 5), tf.float32)]
                if not self._packed:
                    specs.append(tf.TensorSpec((k, None, 2, *agent.state_shape), self._state_dtype))
                return tf.function(k_updates, jit_compile=agent.jit_compile).get_concrete_function(*specs)

        # Agents alike in all but their weights share one trace (XLA never frees a compilation).
        return SHARED_STEPS.get(self._sharing_key(single), step_variables(agent), trace)

    def _sharing_key(self, single: bool) -> tuple | None:
        """What the traced step depends on besides its variables' values; None: don't share it.

        Only the XLA-compiled steps of our own agent classes, on networks they built, are
        shared: a subclass or a model of yours may bake in anything."""
        agent = self.agent
        ours = type(agent).__module__.startswith("keras_dqn.agents.")  # a class of this package, not one of yours
        if not agent.jit_compile or not ours or not agent.builds_its_network():
            return None
        config = {k: v for k, v in agent.get_config().items() if k not in _DATA_ONLY}
        optimizer = agent.model.optimizer
        optimizer_config = optimizer.get_config()
        optimizer_config.pop("name", None)
        if isinstance(optimizer_config.get("learning_rate"), float):  # a variable (a schedule is traced)
            del optimizer_config["learning_rate"]
        networks = [agent.model, getattr(agent, "target_model", None)]
        parts = [config, type(optimizer).__name__, optimizer_config, agent.model.loss, [_layers(n) for n in networks]]
        try:
            described = json.dumps(parts, sort_keys=True)
        except TypeError:  # something only its repr describes
            return None
        return type(agent), single, described, agent.traced_settings(), self._state_dtype.name, self.returns_weights


class PortableStep(_Step):
    """An agent's training step on JAX or PyTorch: its ``K`` TD updates in one ``jax.jit``-compiled
    call (JAX) or run eagerly one after another (PyTorch); see :mod:`keras_dqn.learning.backends`.

    Called and invalidated like :class:`TrainStep`, and hands back the same :class:`StepResult`.
    """

    def __init__(self, agent: Learner):
        super().__init__(agent)
        self._run: Any = None
        self._settings: tuple | None = None

    def traced(self, single: bool = True) -> Any:
        """The compiled update runner, or ``None`` before the first call (``single`` is ignored)."""
        return self._run

    def invalidate(self) -> None:
        """Forget the compiled update: the next call compiles it again."""
        self._run = None
        self._settings = None

    def __call__(self, batches: Batch) -> StepResult:
        agent = self.agent
        if self._settings != agent.traced_settings():
            self._run, self._settings = None, agent.traced_settings()
        if self._run is None:
            check_compiled(agent)
            small = agent.numpy_model is not None  # an MLP: one CPU thread is fastest
            self._run = backends.current().compile_updates(self._update, step_variables(agent), small)
        self._learning_rate = sync_learning_rate(agent, self._learning_rate)
        discounts, weights = bootstrap_scalars(agent, batches)
        rewards = np.asarray(batches.rewards, np.float32)
        dones = np.asarray(batches.dones, np.float32)
        actions = np.asarray(batches.actions, np.int32)
        stacked = (batches.states, actions, rewards, batches.next_states, dones, discounts, weights)  # (K, B, ...)
        losses, priorities = self._run(stacked)
        # As TrainStep: the new weights come back (and are checked) for an agent that acts with them;
        # a CNN's step is checked by its losses (an update with a non-finite gradient changed nothing).
        new_weights = None
        if self.returns_weights:
            new_weights = [keras.ops.convert_to_numpy(w.value) for w in agent.model.weights]
        finite = bool(np.isfinite(losses).all() and all(np.isfinite(w).all() for w in new_weights or []))
        return StepResult(losses=losses, finite=finite, weights=new_weights,
                          priorities=priorities.astype(np.float32, copy=False))  # fmt: skip

    def _update(self, arrays: Any, healthy: Any) -> tuple[Any, Any]:
        """One TD update of the agent on one minibatch's arrays (backend tensors); none if not ``healthy``."""
        return self.agent.td_update(Batch(*arrays), healthy)


# Constructor arguments that reach the compiled step as data (batches, variables), not traced into it.
_DATA_ONLY = frozenset({"env_id", "env_kwargs", "gamma", "learning_rate", "seed", "epsilon", "epsilon_min",
                        "epsilon_decay", "memory_size", "priority_alpha"})  # fmt: skip
SHARED_STEPS = SharedFunctions()


def _layers(network: keras.Model | None) -> list | None:
    """A network's layers as the compiled step sees them: their types and settings, not names or initializers."""
    if network is None:
        return None
    return [[type(layer).__name__, _settings(layer.get_config())] for layer in network.layers]


def _settings(config: Any) -> Any:
    if isinstance(config, dict):
        return {k: _settings(v) for k, v in config.items()
                if k not in ("name", "seed") and not k.endswith("initializer")}  # fmt: skip
    if isinstance(config, (list, tuple)):
        return [_settings(v) for v in config]
    return config

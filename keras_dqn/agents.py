"""Deep Q-learning agents.

:class:`DQNAgent` is Keon Kim's blog agent — same constructor, same ``remember`` / ``act`` /
``replay`` / ``save`` / ``load`` — made fast on Keras 3:

* ``replay`` trains on the whole minibatch in one compiled (XLA) TensorFlow step instead of
  two ``model.predict`` calls and one ``model.fit`` call per sample;
* ``act`` computes Q-values with a NumPy forward pass of a weight snapshot that each
  training step hands back, because even a compiled Keras call costs ~0.2 ms;
* memory is a preallocated ring buffer (:class:`keras_dqn.memory.ReplayBuffer`).

One mechanism, many agents.  The whole TD update is one method, :meth:`DQNAgent.td_update`:
targets, Q(s, a), loss, gradient, target sync, in that order.  :class:`TrainStep` compiles it
once per kind of agent (agents alike in all but their weights share it).  Agents differ only
in the hooks the update calls: :meth:`DQNAgent.compute_targets`
(``TargetDQNAgent``: target network, Double DQN) and :meth:`DQNAgent.sync_target`, and in the
network and memory they build (``ConvDQNAgent``).
"""

from __future__ import annotations

import json
import os
import random
import warnings
import weakref
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from keras_dqn._tf_leaks import SharedFunctions, release_custom_gradients
from keras_dqn.checks import (
    check_action,
    check_choice,
    check_done,
    check_fraction,
    check_non_negative_number,
    check_numeric_array,
    check_positive_int,
    check_positive_number,
    check_reward,
    check_state_shape,
)
from keras_dqn.distributional import cross_entropy, expected_q, project_distribution, support
from keras_dqn.exploration import MultiplicativeDecay, Schedule
from keras_dqn.memory import Batch, FrameReplayBuffer, ReplayBuffer
from keras_dqn.networks import (
    ADAM_EPSILON,
    NoisyDense,
    NumpyMLP,
    bf16_supported,
    build_mlp,
    build_nature_cnn,
    reseed_noise,
)
from keras_dqn.prioritized import PrioritizedFrameReplayBuffer, PrioritizedReplayBuffer
from keras_dqn.settings import LOSSES, check_agent_settings, check_hidden, check_target_update
from keras_dqn.weights import load_h5, read_h5, save_h5


class TrainStep:
    """An agent's compiled training step: ``K`` TD updates in one TensorFlow call.

    It is traced on first use and again after :meth:`invalidate` — which the agent calls
    itself when a setting baked into the graph changes (``double``, the target update, a new
    optimizer).  Call it yourself after changing the model or optimizer by hand.

    The call takes a :class:`~keras_dqn.memory.Batch` whose arrays have a leading ``K`` axis
    and returns the ``K`` losses; a prioritized memory gets the new priorities of the sampled
    transitions (the TD errors the step computed anyway).  Every array is handed over in one
    packed float32 tensor (states, next states, actions, rewards, dones, discounts and
    importance weights side by side; uint8 frames come in a second tensor of their own) and
    the losses and new weights come back in one flat tensor: each tensor crossing into
    TensorFlow costs ~10-30 µs, and on one CartPole these calls happen every few env steps.
    (Each call still costs ~0.4 ms however small: XLA's launch reads and writes every variable
    it touches, ~7 µs each, 19 for a DQN MLP with Adam.)

    TensorFlow never frees an XLA compilation (~4 MB for an MLP's step), so our own agent
    classes, on networks they built, share one traced step among agents alike in all but their
    weights (a learning-rate or gamma sweep, a seed study): each runs it on its own variables.
    """

    def __init__(self, agent: DQNAgent):
        self.agent = agent
        self._functions: dict[bool, Any] = {}  # single update?, -> concrete function, traced for the settings below
        self._settings: tuple | None = None
        self._learning_rate = agent.learning_rate  # the optimizer's; agent.learning_rate may change
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

    def invalidate(self) -> None:
        """Forget the compiled functions: the next call traces them again."""
        self._functions.clear()
        self._settings = None

    def __call__(self, batches: Batch) -> np.ndarray:
        agent = self.agent
        if self._settings != agent.traced_settings():
            self._functions.clear()
            self._settings = agent.traced_settings()
        # replay()'s one update is traced without a loop; K updates run in a tf.range loop, one
        # trace for any K (unrolling 4 of them measured no faster).
        single = len(batches.actions) == 1
        if single not in self._functions:
            self._functions[single] = self._compile(single)
        if self._learning_rate != agent.learning_rate:  # agent.learning_rate changed
            rate = agent.model.optimizer.learning_rate
            if hasattr(rate, "assign"):  # (a schedule keeps its own)
                rate.assign(agent.learning_rate)
            self._learning_rate = agent.learning_rate
        if batches.indices is not None and not hasattr(agent.memory, "update_priorities"):
            raise ValueError(
                "this batch comes from a prioritized memory (it has indices), but the agent's memory cannot take "
                "new priorities; train on batches of the agent's own memory"
            )
        k, b = np.shape(batches.actions)
        size = 2 * self._state_size if self._packed else 0
        packed = np.empty((k, b, size + 5), np.float32)  # (K, B, [state, next state,] 5 scalars)
        if self._packed:
            packed[..., : self._state_size] = batches.states.reshape(k, b, -1)
            packed[..., self._state_size : size] = batches.next_states.reshape(k, b, -1)
        scalars = packed[..., size:]  # one column per field:
        scalars[..., 0], scalars[..., 1], scalars[..., 2] = batches.actions, batches.rewards, batches.dones
        # the bootstrap's discount: gamma**k for k rewards summed by an n-step memory (0 after a
        # termination), else the agent's own gamma (a memory may be shared by agents) ...
        n_step = batches.discounts is not None and agent.n_step > 1
        scalars[..., 3] = batches.discounts if n_step else agent.gamma * (1 - scalars[..., 2])
        scalars[..., 4] = batches.weights if batches.weights is not None else 1.0  # ... and importance weights
        inputs = [tf.constant(packed)]
        if not self._packed:  # frames: (K, B, 2, *state_shape) in their own dtype
            inputs.append(tf.constant(np.stack((batches.states, batches.next_states), axis=2), self._state_dtype))
        before = None  # MLPs: the weights before this call (acting's copy), to put back if it goes wrong
        if agent.numpy_model is not None:
            before = agent.policy_weights if agent.policy_weights is not None else agent.model.get_weights()
        report, priorities = self._functions[single](*inputs)
        report = report.numpy()  # [K losses, 1 if they and the new weights are finite, the new weights (MLPs)]
        losses = report[:k]
        if report[k] != 1:
            self._stop(losses, before)
        if before is not None:  # hand the new weights to the NumPy forward pass
            flat = report[k + 1 :]
            agent.policy_weights = [flat[where].reshape(shape) for where, shape in self._weight_slices]
        agent.train_steps += len(losses)
        if batches.indices is not None:  # prioritized replay: sampled transitions get their new TD errors
            agent.memory.update_priorities(batches.indices, priorities.numpy())
        return losses

    def _stop(self, losses: np.ndarray, before: list[np.ndarray] | None) -> None:
        """A loss or weight went non-finite: leave finite weights and raise one clear error."""
        agent = self.agent
        first_bad = int(np.argmin(np.isfinite(losses))) if not np.isfinite(losses).all() else len(losses) - 1
        step = agent.train_steps + first_bad + 1
        if before is not None:  # MLPs: the whole call is undone
            agent.model.set_weights(before)
            agent.policy_weights = before
            kept = f"the network's weights from before gradient step {agent.train_steps + 1} are restored"
        else:  # the compiled step skipped the bad update and the ones after it
            agent.train_steps += first_bad
            kept = "it and the updates after it were not applied"
        target = getattr(agent, "target_model", None)
        if target is not None and not all(np.isfinite(w).all() for w in target.get_weights()):
            agent.update_target_model()
        raise FloatingPointError(
            f"training stopped at gradient step {step}: a non-finite loss or weight ({losses[first_bad]}); {kept}. "
            f"Likely causes: a non-finite reward or state in the replay memory, or a learning rate too high for "
            f"this problem ({agent.learning_rate:g}). The optimizer's state may not be usable: to go on training, "
            "load a checkpoint or weights into a new agent"
        )

    def _compile(self, single: bool):
        """Trace the K-update function (a ``tf.range`` loop), or the one-update function ``replay`` uses."""
        agent = self.agent
        if getattr(agent.model, "optimizer", None) is None:
            raise ValueError("the agent's model is not compiled: call model.compile(optimizer=..., loss=...) first")
        agent.model.optimizer.build(agent.model.trainable_variables)
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
        return _SHARED_STEPS.get(self._sharing_key(single), self._variables(), trace)

    def _variables(self) -> list:
        """Every variable the step reads or writes, in an order the same for every agent alike."""
        agent = self.agent
        target = getattr(agent, "target_model", None)
        return [*agent.model.variables, *(target.variables if target is not None else []),
                *agent.model.optimizer.variables]  # fmt: skip

    def _sharing_key(self, single: bool) -> tuple | None:
        """What the traced step depends on besides its variables' values; None: don't share it.

        Only the XLA-compiled steps of our own agent classes, on networks they built, are
        shared: a subclass or a model of yours may bake in anything."""
        agent = self.agent
        if not agent.jit_compile or type(agent).__module__ != __name__ or agent._own_model() is not agent.model:
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

    @property
    def returns_weights(self) -> bool:
        """MLPs act with a NumPy twin, which needs the new weights after each call."""
        return self.agent.numpy_model is not None


# Constructor arguments that reach the compiled step as data (batches, variables), not traced into it.
_DATA_ONLY = frozenset({"env_id", "env_kwargs", "gamma", "learning_rate", "seed", "epsilon", "epsilon_min",
                        "epsilon_decay", "memory_size", "priority_alpha"})  # fmt: skip
_SHARED_STEPS = SharedFunctions()


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


class DQNAgent:
    """The blog's deep Q-learning agent: an MLP Q-network, replay memory, epsilon-greedy.

    Args:
        state_size: length of the observation vector (``env.observation_space.shape[0]``);
            with ``model=``, the model's input shape (a tuple).
        action_size: number of discrete actions (``env.action_space.n``).
        gamma: discount rate of future rewards.
        epsilon: initial exploration rate (probability of a random action).
        epsilon_min: the default schedule never decays epsilon below this (and it is a linear
            schedule's end unless ``train``'s ``exploration_final_eps`` says otherwise).
        epsilon_decay: ``epsilon`` is multiplied by this after every gradient step (the
            default schedule, :class:`keras_dqn.exploration.MultiplicativeDecay`, built from
            ``epsilon_decay`` and ``epsilon_min`` here: set ``agent.exploration`` to change it later).
        learning_rate: the optimizer's learning rate (Adam).
        memory_size: replay memory capacity (the blog's ``deque(maxlen=2000)``).
        hidden: units of the hidden ReLU layers.
        seed: seeds weight initialisation, exploration and replay sampling.
        loss: ``"mse"`` (the blog's) or ``"huber"`` (less sensitive to large TD errors).
        dueling: end the network in a dueling head, ``Q = V + A - mean(A)``.
        clipnorm: clip each gradient to this L2 norm (``None``: no clipping).
        adam_epsilon: Adam's epsilon (added to the root of its running mean of squared
            gradients): a larger one shrinks the steps once gradients are tiny, as they are when
            the agent has learnt the task (Keras' 1e-7; the Rainbow paper's 1.5e-4).
        model: your own compiled Keras Q-network (input a state, output one Q-value per
            action) instead of the MLP; ``hidden``, ``learning_rate``, ``loss``, ``dueling``,
            ``clipnorm`` and ``adam_epsilon`` then come from the model and its ``compile``.
        memory: your own replay memory (any :class:`keras_dqn.memory.ReplayMemory` holding
            states of this agent's shape) instead of a ``ReplayBuffer(memory_size)``; it must
            agree with the agent's ``n_step``, ``gamma``, ``prioritized`` and ``priority_alpha``.
        n_step: learn from n-step returns ``r_t + ... + gamma^(n-1) r_(t+n-1) + gamma^n V(s_(t+n))``
            (Rainbow's multi-step learning; 1 is one-step Q-learning).
        prioritized: sample transitions in proportion to their last TD error
            (:class:`keras_dqn.PrioritizedReplayBuffer`) and weight the loss to correct for it.
        priority_alpha: how strongly priorities skew the sampling (only with ``prioritized``):
            transition ``i`` is drawn with probability ``p_i**alpha / sum_k p_k**alpha``; 0 is
            uniform replay, 1 fully proportional (the PER paper's 0.6; Rainbow's 0.5).
        noisy: explore with learned noise in the fully-connected layers (:class:`keras_dqn.NoisyDense`)
            instead of epsilon, which is then 0; greedy actions use the mean weights.  The TD
            targets draw noise too, the target network its own (the NoisyNet paper's): the
            networks are called with ``training=True`` there, which a ``model`` of your own
            with Dropout or BatchNorm would feel too.
        sigma0: the noisy layers' initial noise scale (each sigma starts at ``sigma0 / sqrt(inputs)``;
            only with ``noisy``; the paper's 0.5).
        noisy_hidden: with ``noisy``, ``False`` makes only the output head noisy and keeps the
            hidden layers plain ``Dense`` (cheaper: on Atari the noisy 512-unit layer is a third of
            the wall time on a CPU); the paper's ``True`` makes every fully-connected layer noisy.
        distributional: learn the distribution of returns on ``n_atoms`` atoms spread evenly over
            ``[v_min, v_max]`` (C51) instead of its mean; ``q_values`` returns the expected values.
        n_atoms, v_min, v_max: the atoms of the distributional head (only with ``distributional``).
        exploration: how epsilon falls (:mod:`keras_dqn.exploration`); ``None``: the blog's
            ``MultiplicativeDecay(epsilon_decay, epsilon_min)``.  ``train(...,
            exploration_fraction=...)`` follows a linear schedule over that run instead.  A
            :class:`~keras_dqn.exploration.LinearDecay` counts env steps, which ``replay()``
            does not see: in the blog loop call ``agent.decay_epsilon(env_steps=t)`` yourself.

    The Rainbow switches (``n_step``, ``prioritized``, ``noisy``, ``distributional``, with
    ``dueling`` and :class:`TargetDQNAgent`'s ``double``) change only what differs — the memory,
    the network and the target — and all go through the one TD update, :meth:`td_update`.

    Example::

        agent = DQNAgent(4, 2, seed=0)
        state, _ = env.reset(seed=0)
        action = agent.act(state)
        next_state, reward, terminated, truncated, _ = env.step(action)
        agent.remember(state, action, reward, next_state, terminated)  # not truncated!
        if len(agent.memory) >= 32:
            loss = agent.replay(32)
    """

    state_dtype: type = np.float32  # how states are stored and fed to the network
    jit_compile: bool = True  # XLA-compile the training step (fastest for MLPs on the CPU)

    def __init__(
        self,
        state_size: int,
        action_size: int,
        *,
        gamma: float = 0.95,
        epsilon: float = 1.0,
        epsilon_min: float = 0.01,
        epsilon_decay: float = 0.995,
        learning_rate: float = 0.001,
        memory_size: int = 2000,
        hidden: Sequence[int] = (24, 24),
        seed: int | None = None,
        loss: str = "mse",
        dueling: bool = False,
        clipnorm: float | None = None,
        adam_epsilon: float = ADAM_EPSILON,
        model: keras.Model | None = None,
        memory: Any = None,
        n_step: int = 1,
        prioritized: bool = False,
        priority_alpha: float = 0.6,
        noisy: bool = False,
        sigma0: float = 0.5,
        noisy_hidden: bool = True,
        distributional: bool = False,
        n_atoms: int = 51,
        v_min: float = -10.0,
        v_max: float = 10.0,
        exploration: Schedule | None = None,
    ):
        self.state_shape: tuple[int, ...] = self._check_state_shape(state_size)
        self.state_size = self.state_shape[0] if len(self.state_shape) == 1 else self.state_shape
        self.action_size = check_positive_int("action_size", action_size)
        self.gamma = check_fraction("gamma", gamma)
        self.epsilon = check_fraction("epsilon", epsilon)
        self.epsilon_min = check_fraction("epsilon_min", epsilon_min)
        self.epsilon_decay = check_fraction("epsilon_decay", epsilon_decay, low_open=True)
        self.learning_rate = check_positive_number("learning_rate", learning_rate)
        self.hidden = check_hidden("hidden", hidden)
        self.loss = check_choice("loss", loss, LOSSES)
        self.dueling = bool(dueling)
        self.clipnorm = None if clipnorm is None else check_positive_number("clipnorm (or None)", clipnorm)
        self.adam_epsilon = check_positive_number("adam_epsilon", adam_epsilon)
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.env_id: str | None = None  # set by train() / the examples; saved with the weights
        self.env_kwargs: dict[str, Any] = {}  # the env's options (make_env keyword arguments), saved with them
        self.train_steps = 0  # gradient steps taken so far
        # The Rainbow switches (all off: the blog's DQN).
        self.n_step = check_positive_int("n_step", n_step)
        self.prioritized = bool(prioritized)
        self._priority_alpha = check_non_negative_number("priority_alpha", priority_alpha, "0: uniform replay")
        self.noisy = bool(noisy)
        self.sigma0 = check_positive_number("sigma0", sigma0)
        self.noisy_hidden = bool(noisy_hidden)
        if not self.noisy_hidden and not self.noisy:
            raise ValueError("noisy_hidden=False (noise in the head alone) needs noisy=True")
        if self.noisy:  # the noise explores; epsilon-greedy would only add random actions
            self.epsilon = self.epsilon_min = 0.0
        # How epsilon falls: one small function of the steps taken (keras_dqn.exploration).
        self.exploration: Schedule = exploration or MultiplicativeDecay(self.epsilon_decay, self.epsilon_min)
        if not callable(self.exploration):
            raise ValueError(f"exploration must be a schedule (see keras_dqn.exploration), got {exploration!r}")
        if self.noisy and exploration is not None:
            raise ValueError("exploration: a noisy agent explores with its noise (epsilon is 0); leave it unset")
        self.distributional = bool(distributional)
        # Atoms z_1..z_N of the return distribution (C51), or None: the network outputs Q-values.
        self.atoms: np.ndarray | None = support(n_atoms, v_min, v_max) if self.distributional else None
        self.v_min, self.v_max = float(v_min), float(v_max)

        # The replay memory and the Q-network: the blog's, or the ones you pass.
        capacity = check_positive_int("memory_size", memory_size)
        self.memory = self._build_memory(capacity) if memory is None else self._check_memory(memory)
        self.model = self._build_model() if model is None else self._check_model(model)
        self._own_model = weakref.ref(self.model) if model is None else lambda: None  # built here (see TrainStep)

        # Acting: a NumPy twin of the model when it is a plain MLP (else one compiled TF call).
        self.numpy_model = NumpyMLP.from_model(self.model)
        self.policy_weights: list[np.ndarray] | None = None  # the twin's weights; None: re-read
        self._predict: dict[bool, Any] = {}  # noisy?, -> compiled forward pass (no NumPy twin)
        # Learning: the TD update, compiled on the first replay().
        self.train_step = TrainStep(self)

    @property
    def gamma(self) -> float:
        """The discount rate; setting it also sets an n-step replay memory's (it sums the returns)."""
        return self._gamma

    @gamma.setter
    def gamma(self, value: float) -> None:
        self._gamma = check_fraction("gamma", value)
        if getattr(self, "n_step", 1) > 1 and hasattr(getattr(self, "memory", None), "gamma"):
            self.memory.gamma = self._gamma

    @property
    def priority_alpha(self) -> float:
        """The prioritized memory's exponent (read-only: the memory stores its priorities raised to it)."""
        return self._priority_alpha

    @property
    def n_atoms(self) -> int:
        """Atoms of the distributional head (1: the network outputs Q-values)."""
        return 1 if self.atoms is None else len(self.atoms)

    # ------------------------------------------------------------------ what differs per agent
    # These build what the agent is made of.  They read only the fields set above them.

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

    def _build_model(self) -> keras.Model:
        """The Q-network: Dense ReLU layers, one linear output per action (or a dueling head), Adam."""
        if len(self.state_shape) != 1:
            raise ValueError(
                f"{type(self).__name__}'s MLP takes vector states; got states of shape {self.state_shape} "
                "(flatten them, pass model=, or use ConvDQNAgent for frames)"
            )
        return build_mlp(self.state_size, self.action_size, self.hidden, **self._network_settings())

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
            probe = np.asarray(model(np.zeros((1, *self.state_shape), self.state_dtype), training=False))
            if not (np.all(probe >= 0) and np.allclose(probe.sum(axis=-1), 1.0, atol=1e-3)):
                raise ValueError(
                    "a distributional agent's model must output probabilities over the atoms (a softmax on the "
                    f"last axis, e.g. keras_dqn.networks.DistributionalHead); its outputs sum to {probe.sum(-1)}"
                )
        if getattr(model, "optimizer", None) is not None:  # the model's own optimizer settings win
            self.learning_rate = float(model.optimizer.learning_rate.numpy())
            self.adam_epsilon = float(getattr(model.optimizer, "epsilon", self.adam_epsilon))
        return model

    def _as_state_array(self, states: Any, what: str) -> np.ndarray:
        """``states`` as an array of :attr:`state_dtype`, every value kept and finite (the conv
        agent insists on uint8 frames).  ``what`` names them in errors, e.g. ``"act() state"``."""
        return check_numeric_array(what, states, self.state_dtype)

    # ------------------------------------------------------------------ acting
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

    def q_values(self, states: Any, *, greedy: bool = True) -> np.ndarray:
        """Q-values of one state or a batch of states, as a ``(batch, action_size)`` array.

        Args:
            states: one state or a batch.
            greedy: with ``noisy`` networks, ``False`` draws fresh noise (how the agent explores);
                ``True`` uses the mean weights.  Other networks ignore it.

        A distributional agent returns the expected value of each action's return distribution.

        Raises:
            ValueError: states of another shape, or with nan/inf in them."""
        return self._q_values(self._as_batch(states, "q_values()"), noise=self.noisy and not greedy)

    def _q_values(self, states: np.ndarray, noise: bool = False) -> np.ndarray:
        """:meth:`q_values` of a checked batch (``noise``: a fresh draw of the noisy layers' noise)."""
        if self.numpy_model is not None:
            if self.policy_weights is None:
                self.policy_weights = self.model.get_weights()
            outputs = self.numpy_model(states, self.policy_weights, rng=self.rng if noise else None)
        else:
            if noise not in self._predict:
                spec = tf.TensorSpec((None, *self.state_shape), tf.as_dtype(self.state_dtype))
                forward = tf.function(lambda x: self.model(x, training=noise))
                self._predict[noise] = forward.get_concrete_function(spec)
            outputs = self._predict[noise](tf.constant(states)).numpy()
        return outputs if self.atoms is None else outputs @ self.atoms  # C51: the mean of each distribution

    def act(self, state: Any, *, greedy: bool = False) -> int:
        """Pick an action for one state: random with probability ``epsilon``, else argmax Q.

        Args:
            state: shape ``(state_size,)`` or the blog's ``(1, state_size)``.
            greedy: ignore epsilon (for evaluation and for watching a trained agent).

        Returns:
            The action, a Python ``int``.

        Raises:
            ValueError: a state of another shape, or with nan/inf in it (checked even when
                the action is random).

        If you change ``agent.model``'s weights yourself (not through ``replay``/``load``),
        call :meth:`refresh_policy` so ``act`` sees them.
        """
        batch = self._as_batch(state, "act()")
        if len(batch) != 1:
            raise ValueError(f"act() takes one state; got a batch of {len(batch)} (use q_values() for batches)")
        if not greedy and self.rng.random() < self.epsilon:
            return int(self.rng.integers(self.action_size))
        return int(np.argmax(self._q_values(batch, noise=self.noisy and not greedy)[0]))

    def refresh_policy(self) -> None:
        """Re-read the model's weights for acting (after you set them outside replay/load)."""
        self.policy_weights = None

    # ------------------------------------------------------------------ learning
    def remember(
        self, state: Any, action: int, reward: float, next_state: Any, done: bool, truncated: bool = False
    ) -> None:
        """Store one transition in replay memory.

        ``done`` must be True only when the episode *terminated* (e.g. the pole fell): the
        target then has no future term.  When an episode is cut by a time limit
        (``truncated``), pass ``done=False``: the state after it still has value.  Pass
        ``truncated=True`` then, so n-step returns stop there (the next transition stored
        starts a new episode; without the flag the memory also sees it from the states).

        Raises:
            ValueError: nothing is stored when a state is not of the agent's shape (the blog's
                ``(1, state_size)`` is fine) or holds nan/inf, the action is not an integer in
                ``[0, action_size)``, the reward is not a finite number, or ``done`` is not a
                bool (or 0/1).
        """
        state = check_state_shape(
            "remember()", "state", self._as_state_array(state, "remember() state"), self.state_shape
        )
        next_state = check_state_shape(
            "remember()", "next_state", self._as_state_array(next_state, "remember() next_state"), self.state_shape
        )
        action = check_action("remember() action", action, self.action_size)
        reward = check_reward("remember() reward", reward)
        done = check_done("remember() done", done)
        if truncated:
            self.memory.append((state, action, reward, next_state, done), truncated=check_done("truncated", truncated))
        else:
            self.memory.append((state, action, reward, next_state, done))

    def replay(self, batch_size: int = 32) -> float:
        """One gradient step on a random minibatch from memory, then decay epsilon.

        Moves ``Q(s, a)`` toward ``r + gamma * max_a' Q(s', a')`` (toward ``r`` alone for
        terminal transitions), all ``batch_size`` samples at once.

        Returns:
            The minibatch loss before the step.

        Raises:
            ValueError: memory holds fewer than ``batch_size`` transitions.
        """
        batch = self.memory.sample(check_positive_int("batch_size", batch_size))
        loss = self.train_on_batch(batch)
        self.decay_epsilon(1)
        return loss

    def decay_epsilon(self, gradient_steps: int = 1, env_steps: int | None = None) -> None:
        """Move epsilon along ``self.exploration`` (the one place epsilon changes).

        Args:
            gradient_steps: gradient steps taken since the last call (the blog's decay counts these).
            env_steps: env steps taken so far in all (a linear schedule follows these; ``None``:
                not counted, as in ``replay()``).
        """
        if not self.noisy:  # noisy networks explore with their noise: epsilon stays 0
            self.epsilon = float(self.exploration(self.epsilon, env_steps, gradient_steps))

    def train_on_batch(self, batch: Batch) -> float:
        """One compiled gradient step on ``batch``; returns its loss (epsilon is left alone)."""
        return float(self.train_step(Batch(*(None if a is None else np.asarray(a)[None] for a in batch)))[0])

    def train_on_batches(self, batches: Batch) -> np.ndarray:
        """``K`` gradient steps in one compiled call; every array of ``batches`` has a leading
        ``K`` axis (see :meth:`ReplayBuffer.sample_batches`).  Returns the ``K`` losses.

        One call costs ~0.4 ms however small, so a training loop that takes several steps at
        a time (every few env steps, or over a vector env) should take them here."""
        return self.train_step(batches)

    # The TD update, traced into the compiled step.  Read it top to bottom.
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
        (:class:`~keras_dqn.memory.Batch`).  A distributional agent shifts and shrinks the whole
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

    # ------------------------------------------------------------------ files
    def get_config(self) -> dict[str, Any]:
        """The agent's constructor arguments (stored in saved weight files)."""
        return {
            "agent": type(self).__name__,
            "env_id": self.env_id,
            "env_kwargs": dict(self.env_kwargs),
            "state_size": self.state_size,
            "action_size": self.action_size,
            "hidden": list(self.hidden),
            "gamma": self.gamma,
            "learning_rate": self.learning_rate,
            "loss": self.loss,
            "dueling": self.dueling,
            **self._rainbow_config(),
        }

    def _rainbow_config(self) -> dict[str, Any]:
        """The Rainbow switches, on or off, as constructor arguments (a class's defaults may be either)."""
        config: dict[str, Any] = dict(n_step=self.n_step, prioritized=self.prioritized, noisy=self.noisy,
                                      distributional=self.distributional)  # fmt: skip
        if self.prioritized:
            config.update(priority_alpha=self.priority_alpha)
        if self.noisy:
            config.update(sigma0=self.sigma0, noisy_hidden=self.noisy_hidden)
        if self.atoms is not None:
            config.update(n_atoms=self.n_atoms, v_min=self.v_min, v_max=self.v_max)
        return config

    def save(self, name: str | os.PathLike) -> None:
        """Save the Q-network's weights to an HDF5 file at ``name`` (any file name).

        The file is written beside its destination and renamed into place, so an existing
        file survives a failed save.

        Raises:
            ValueError: a weight is NaN or infinite (nothing is written).
        """
        weights = self.model.get_weights()
        if not all(np.isfinite(w).all() for w in weights):
            raise ValueError(f"refusing to save {str(name)!r}: the network's weights are not all finite (NaN or inf)")
        save_h5(self.model, name, config=self.get_config())

    def load(self, name: str | os.PathLike) -> DQNAgent:
        """Load Q-network weights from an ``.h5`` file saved by :meth:`save` or by Keras 2.

        Raises:
            FileNotFoundError: no such file.
            ValueError: not an HDF5 weights file, or its weights do not fit this network
                (the message names the layer and both shapes).
        """
        load_h5(self.model, name)
        self.refresh_policy()
        return self


class TargetDQNAgent(DQNAgent):
    """DQN with a frozen target network: Double DQN and the Huber loss by default.

    Targets come from ``target_model``, a clone of ``model`` that is never trained and only
    follows it: a hard copy every ``C`` gradient steps, or a soft (Polyak) step
    ``target <- tau * online + (1 - tau) * target`` after every gradient step.

    The defaults are the CartPole recipe we validated (``keras_dqn.get_recipe("cartpole-target")``:
    10 of 10 seeds solved CartPole-v1 and stayed solved; see the README), so
    ``TargetDQNAgent(4, 2).load(keras_dqn.weights_path("cartpole-target-dqn"))`` just works.

    Args:
        state_size, action_size: as :class:`DQNAgent`.
        target_update: an ``int`` C >= 1 copies the weights every C gradient steps; a float tau
            in (0, 1) averages them in every step (keras-rl's ``target_model_update``; a
            float >= 1 that is a whole number means C, as there).
        double: Double DQN — the online network picks ``argmax_a' Q(s', a')`` and the
            target network values it, which curbs the max operator's over-estimation.
        gamma, memory_size, hidden, loss, clipnorm: as :class:`DQNAgent`, with this agent's
            validated values.
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
        self.target_update = check_target_update("target_update", target_update)
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

    def next_action_outputs(self, next_states: tf.Tensor) -> tf.Tensor:
        """The target network values ``a*``; the online network picks it (Double DQN) or the target does.

        Noisy networks draw noise here too, each its own (the NoisyNet paper's targets: the
        target network's noise is independent of the online network's, which picks with a
        fresh draw of its own); only greedy action choices use the mean weights."""
        target_outputs = self.target_model(next_states, training=self.noisy)
        chooser = self.model(next_states, training=self.noisy) if self.double else target_outputs
        best = tf.argmax(self._expected(chooser), axis=1, output_type=tf.int32)
        return tf.gather(target_outputs, best, axis=1, batch_dims=1)

    def sync_target(self) -> None:
        """Inside the compiled step, after each update: exact even for K updates a call."""
        pairs = list(zip(self.target_model.weights, self.model.weights, strict=True))
        if self.tau is not None:  # soft: target <- tau * online + (1 - tau) * target
            for target, online in pairs:
                target.assign(self.tau * online + (1.0 - self.tau) * target)
            return

        def copy() -> tf.Tensor:
            for target, online in pairs:
                target.assign(online)
            return tf.constant(True)

        # hard: copy when the optimizer's step counter reaches a multiple of C
        due = tf.equal(self.model.optimizer.iterations % self.target_update_every, 0)
        tf.cond(due, copy, lambda: tf.constant(False))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "target_update": self.target_update, "double": self.double}

    def load(self, name: str | os.PathLike) -> TargetDQNAgent:
        """Load the online network's weights (see :meth:`DQNAgent.load`) and sync the target."""
        super().load(name)
        self.update_target_model()
        return self


class ConvDQNAgent(TargetDQNAgent):
    """DQN for Atari frames: the Nature-DQN CNN, Double DQN, Huber loss, Adam 1e-4.

    Everything but three things is :class:`TargetDQNAgent`'s — the same ``act``, ``replay``,
    compiled training step and target network.  What differs:

    * states are ``uint8`` image stacks, e.g. ``(4, 84, 84)`` from :func:`keras_dqn.make_atari_env`,
      scaled to [0, 1] inside the network (:func:`keras_dqn.networks.build_nature_cnn`);
    * the network is that CNN;
    * the replay memory is a :class:`keras_dqn.memory.FrameReplayBuffer`, which keeps each frame
      once (~7 KB per transition instead of 56 KB).

    The defaults are the Pong recipe (``keras_dqn.get_recipe("pong")``) that made the shipped
    ``weights/pong-conv-dqn.h5`` (+20.7).

    Args:
        state_shape: shape of one observation (``env.observation_space.shape``): stacked frames
            first ``(k, H, W)`` or last ``(H, W, k)``; height and width at least 36.
        action_size: ``env.action_space.n``.
        gamma, learning_rate, memory_size, target_update, epsilon_decay, clipnorm: as
            :class:`TargetDQNAgent`, with Atari defaults: gamma 0.99, Adam 1e-4, 100,000
            transitions (0.7 GB), a hard target copy every 1,000 gradient steps, epsilon
            decaying from 1 to 0.01 over ~50,000 gradient steps (0.99991 per step), gradients
            clipped to norm 10.
        frame_memory: ``False`` stores whole states (8× the memory; for observations that
            are not frame stacks).
        precision: ``"float32"``, or ``"mixed_bfloat16"`` to compute the network in bfloat16
            (variables stay float32): faster on CPUs with AVX-512 BF16 or AMX and on GPUs.  On a
            machine without fast bfloat16 it falls back to float32 with a warning
            (:func:`keras_dqn.networks.bf16_supported`).
        **kwargs: any other :class:`TargetDQNAgent` argument (double, loss, dueling, seed).

    Example::

        env = keras_dqn.make_atari_env("Pong")
        agent = ConvDQNAgent(env.observation_space.shape, env.action_space.n, seed=0)
        keras_dqn.train(agent, env, 1_000_000, train_every=4, learning_starts=20_000,
                        eval_env=keras_dqn.make_atari_vector_env("Pong", 4, training=False))
    """

    state_dtype = np.uint8
    jit_compile = False  # on the CPU, XLA's convolutions are 2-30x slower than TensorFlow's own (oneDNN)

    def __init__(
        self,
        state_shape: Sequence[int],
        action_size: int,
        *,
        gamma: float = 0.99,
        learning_rate: float = 1e-4,
        memory_size: int = 100_000,
        target_update: int | float = 1000,
        epsilon_decay: float = 0.99991,
        clipnorm: float | None = 10.0,
        frame_memory: bool = True,
        precision: str = "float32",
        **kwargs: Any,
    ):
        if "hidden" in kwargs:
            raise TypeError("ConvDQNAgent's network is the Nature CNN: it takes no hidden= sizes")
        shape = _check_frames_shape(state_shape)
        # Read by _build_memory and _build_model, which DQNAgent.__init__ calls.
        self.frame_memory = bool(frame_memory)
        self.precision = _check_precision(precision)
        super().__init__(
            shape, action_size, gamma=gamma, learning_rate=learning_rate, memory_size=memory_size,
            target_update=target_update, epsilon_decay=epsilon_decay, clipnorm=clipnorm, **kwargs,
        )  # fmt: skip

    def _build_memory(self, capacity: int) -> ReplayBuffer | FrameReplayBuffer:
        """A frame memory (prioritized if asked), sampled with its own generator seeded from ``seed``."""
        if not self.frame_memory:
            return super()._build_memory(capacity)
        cls = PrioritizedFrameReplayBuffer if self.prioritized else FrameReplayBuffer
        return cls(
            capacity,
            self.state_shape,
            seed=None if self.seed is None else np.random.SeedSequence(self.seed).spawn(1)[0],
            stack_axis=0 if _channels_first(self.state_shape) else -1,
            action_size=self.action_size,
            **self._memory_settings(),
        )

    def _build_model(self) -> keras.Model:
        return build_nature_cnn(
            self.state_shape,
            self.action_size,
            channels_first=_channels_first(self.state_shape),
            dtype_policy=None if self.precision == "float32" else self.precision,
            **self._network_settings(),
        )

    def _as_state_array(self, states: Any, what: str) -> np.ndarray:
        try:
            states = np.asarray(states)
        except (TypeError, ValueError):  # a ragged nested list
            states = np.asarray(None)  # reported below as an object array
        if states.dtype != np.uint8:
            raise ValueError(f"{what} expected uint8 frames (0-255 pixels, as the env gives them), got {states.dtype}")
        return states

    def get_config(self) -> dict[str, Any]:
        config = {**super().get_config(), "state_shape": list(self.state_shape), "frame_memory": self.frame_memory}
        del config["state_size"], config["hidden"]  # the CNN has no hidden-size setting
        if self.precision != "float32":
            config["precision"] = self.precision
        return config


class _RainbowSwitches:
    """What both Rainbow agents share: the paper's switches, all on, and its priority exponent,
    0.5 (:class:`DQNAgent`'s default is 0.6, the PER paper's).  Each agent class adds
    only its own defaults (the atoms' range, the optimizer, the target copy, ...)."""

    def __init__(
        self,
        state: Any,  # state_size or state_shape
        action_size: int,
        /,
        *,
        n_step: int = 3,
        prioritized: bool = True,
        priority_alpha: float = 0.5,
        noisy: bool = True,
        distributional: bool = True,
        n_atoms: int = 51,
        v_min: float = -10.0,
        dueling: bool = True,
        double: bool = True,
        **kwargs: Any,
    ):
        super().__init__(
            state, action_size, n_step=n_step, prioritized=prioritized, priority_alpha=priority_alpha, noisy=noisy,
            distributional=distributional, n_atoms=n_atoms, v_min=v_min, dueling=dueling, double=double, **kwargs,
        )  # fmt: skip


class RainbowAgent(_RainbowSwitches, TargetDQNAgent):
    """Rainbow (Hessel et al., 2018) for vector states: all six DQN improvements at once.

    Double DQN and a dueling head (which :class:`TargetDQNAgent` has), plus 3-step returns,
    prioritized replay, noisy layers instead of epsilon-greedy and a distributional (C51) head.
    Each is one switch of :class:`DQNAgent`/:class:`TargetDQNAgent`; this class only turns them
    on.  The defaults are the switches' values from the paper (n 3, 51 atoms, priority exponent
    0.5, importance exponent 0.4 annealed to 1) with the CartPole recipe we validated for the
    rest (``keras_dqn.get_recipe("cartpole-rainbow")``): returns of CartPole lie in [-10, 100]
    at gamma 0.99 (with the blog's -10 on a fall), so the atoms span that instead of Atari's
    [-10, 10].

    Args:
        state_size, action_size: as :class:`DQNAgent`.
        v_max: the top atom (CartPole's returns reach 100).
        sigma0: the noisy layers' initial noise scale (the paper's 0.5; with a memory of 10,000,
            0.25 and 1.0 on CartPole let 3 of 10 seeds slip after solving where 0.5 let 2).
        memory_size: twice :class:`TargetDQNAgent`'s: Rainbow stops failing sooner, and with
            10,000 transitions its failures left the memory soon after (2 of 10 CartPole seeds
            slipped in 20,000 more steps; with 20,000, none).
        learning_rate, target_update: as :class:`TargetDQNAgent`.
        **kwargs: the switches, all on by default (see :class:`DQNAgent`): ``n_step=3``,
            ``prioritized=True`` (with ``priority_alpha=0.5``), ``noisy=True``,
            ``distributional=True``, ``n_atoms=51``, ``v_min=-10.0``, ``dueling=True``,
            ``double=True``; and any other :class:`TargetDQNAgent` argument.
    """

    def __init__(
        self,
        state_size: int,
        action_size: int,
        *,
        v_max: float = 100.0,
        sigma0: float = 0.5,
        memory_size: int = 20_000,
        learning_rate: float = 0.001,
        target_update: int | float = 500,
        **kwargs: Any,
    ):
        super().__init__(state_size, action_size, v_max=v_max, sigma0=sigma0, memory_size=memory_size,
                         learning_rate=learning_rate, target_update=target_update, **kwargs)  # fmt: skip


class ConvRainbowAgent(_RainbowSwitches, ConvDQNAgent):
    """Rainbow for Atari frames: :class:`ConvDQNAgent` with all six switches on.

    The paper's switches (Hessel et al., 2018): 3-step returns, prioritized replay (exponent
    0.5, importance exponent 0.4 annealed to 1), noisy layers (sigma0 0.5) instead of epsilon,
    a dueling distributional head with 51 atoms on [-10, 10] (rewards are clipped to [-1, 1] by
    :func:`keras_dqn.make_atari_env` when training) and Double DQN.  The optimizer and target
    copy are our Pong DQN's (Adam 1e-4, a copy every 1,000 gradient steps) rather than the
    paper's (6.25e-5, 2,000), which were set for 200M frames, not a CPU's few million: the
    recipe ``keras_dqn.get_recipe("pong-rainbow")``.

    Args:
        state_shape, action_size: as :class:`ConvDQNAgent`.
        v_max: the top atom (the paper's Atari value).
        learning_rate, target_update: as :class:`ConvDQNAgent`.
        **kwargs: the switches, all on as in :class:`RainbowAgent`; and any other
            :class:`ConvDQNAgent` argument (memory_size, precision, seed...).  On a CPU,
            ``noisy_hidden=False`` keeps the noise in the head alone and trains 1.25× faster
            (the recipe ``pong-rainbow-noisy-head``, which met the 90-minute Pong target).
    """

    def __init__(
        self,
        state_shape: Sequence[int],
        action_size: int,
        *,
        v_max: float = 10.0,
        learning_rate: float = 1e-4,
        target_update: int | float = 1000,
        **kwargs: Any,
    ):
        super().__init__(state_shape, action_size, v_max=v_max, learning_rate=learning_rate,
                         target_update=target_update, **kwargs)  # fmt: skip


def _check_precision(precision: Any) -> str:
    """``"float32"`` or ``"mixed_bfloat16"``; the latter only where bfloat16 is fast (else float32, with a warning)."""
    check_choice("precision", precision, ("float32", "mixed_bfloat16"))
    if precision == "mixed_bfloat16" and not bf16_supported():
        warnings.warn(
            "precision='mixed_bfloat16' needs a CPU with AVX-512 BF16 or AMX (or an Ampere-or-newer GPU); "
            "this machine has neither, so the network computes in float32",
            stacklevel=3,
        )
        return "float32"
    return precision


def _channels_first(shape: tuple[int, ...]) -> bool:
    """Frames are stacked on the first axis when it is the shortest (FrameStackObservation's layout)."""
    return shape[0] < shape[-1]


def _check_frames_shape(state_shape: Any) -> tuple[int, ...]:
    expected = (
        "ConvDQNAgent needs image observations: a shape (frames, height, width) such as (4, 84, 84) "
        "from make_atari_env, or (height, width, frames)"
    )
    try:
        shape = tuple(int(n) for n in state_shape)
    except TypeError:
        raise ValueError(f"{expected}; got {state_shape!r} (for vector observations use DQNAgent)") from None
    if len(shape) != 3 or min(shape) < 1:
        hint = " (for vector observations use DQNAgent)" if len(shape) == 1 else ""
        raise ValueError(f"{expected}; got {state_shape!r}{hint}")
    height, width = shape[1:] if _channels_first(shape) else shape[:2]
    if min(height, width) < 36:
        raise ValueError(f"{expected}; the Nature CNN needs frames of at least 36x36, got {height}x{width}")
    return shape


AGENT_CLASSES = {
    cls.__name__: cls for cls in (DQNAgent, TargetDQNAgent, ConvDQNAgent, RainbowAgent, ConvRainbowAgent)
}


def load_agent(path: str | os.PathLike) -> DQNAgent:
    """Build the agent a weights file describes, and load the weights into it.

    Our files carry the agent's config (class, env id, architecture) as an HDF5 attribute.
    Files without it — the blog's Keras-2 file — must hold a plain Dense MLP; its shape is
    read off the weights and a DQNAgent is built.  ``agent.env_id`` is ``None`` then.

    Raises:
        FileNotFoundError, ValueError: as :meth:`DQNAgent.load`; ValueError (one, naming the
            file and what was expected) also for a config that is not JSON, not an object,
            names an unknown agent class, lacks the state size or action count, or holds a
            setting of the wrong type, and for a file without config whose architecture
            cannot be read.
    """
    layers, config = read_h5(path)  # a config attribute that is not JSON: ValueError naming the file
    if config is None:
        kernels = [arrays[0] for _, arrays in layers]
        if not kernels or any(k.ndim != 2 for k in kernels):
            raise ValueError(f"{str(path)!r} carries no keras_dqn config and is not a plain Dense network")
        agent = DQNAgent(kernels[0].shape[0], kernels[-1].shape[1], hidden=[k.shape[1] for k in kernels[:-1]])
        return agent.load(path)
    cls, state, action_size, kwargs, env_id, env_kwargs = _read_agent_config(path, config)
    agent = cls(state, action_size, **kwargs)
    agent.env_id, agent.env_kwargs = env_id, env_kwargs
    return agent.load(path)


def _read_agent_config(
    path: str | os.PathLike, config: Any
) -> tuple[type[DQNAgent], Any, int, dict, str | None, dict[str, Any]]:
    """``(class, state size or shape, action count, settings, env id, env options)`` from a file's config,
    all checked."""
    from keras_dqn.weights import CONFIG_ATTR  # (imported here: load_agent is this module's only reader of it)

    expected = (
        f"expected its {CONFIG_ATTR} attribute to be a JSON object with 'agent' (one of {sorted(AGENT_CLASSES)}), "
        "'state_size' ('state_shape' for ConvDQNAgent), 'action_size' and the agent's settings, as DQNAgent.save "
        "writes it"
    )

    def broken(detail: str) -> ValueError:
        return ValueError(f"{str(path)!r} has a broken keras_dqn config: {detail}; {expected}")

    if not isinstance(config, dict):
        raise broken(f"it is {type(config).__name__} {config!r}")
    if config.get("agent") not in AGENT_CLASSES:
        raise ValueError(f"{str(path)!r} was saved by an unknown agent {config.get('agent')!r}; {expected}")
    cls = AGENT_CLASSES[config["agent"]]
    state_key = "state_shape" if issubclass(cls, ConvDQNAgent) else "state_size"
    missing = [key for key in (state_key, "action_size") if key not in config]
    if missing:
        raise broken(f"no {' or '.join(repr(key) for key in missing)}")
    names = ["hidden", "gamma", "learning_rate", "loss", "dueling", "n_step", "prioritized", "priority_alpha", "noisy",
             "sigma0", "noisy_hidden", "distributional", "n_atoms", "v_min", "v_max"]  # fmt: skip
    if issubclass(cls, TargetDQNAgent):
        names += ["target_update", "double"]
    if issubclass(cls, ConvDQNAgent):
        names = [name for name in names if name != "hidden"] + ["frame_memory", "precision"]
    kwargs = {name: config[name] for name in names if name in config}
    env_id, env_kwargs = config.get("env_id"), config.get("env_kwargs", {})
    try:
        if env_id is not None and not isinstance(env_id, str):
            raise ValueError(f"env_id must be a string or null, got {env_id!r}")
        if not isinstance(env_kwargs, dict):
            raise ValueError(f"env_kwargs must be an object of the env's options, got {env_kwargs!r}")
        check_agent_settings(cls, kwargs)
        state = config[state_key]
        if issubclass(cls, ConvDQNAgent):
            state = _check_frames_shape(state)
        else:
            check_positive_int(state_key, state)
        check_positive_int("action_size", config["action_size"])
    except ValueError as error:
        raise broken(str(error)) from None
    return cls, state, config["action_size"], kwargs, env_id, env_kwargs

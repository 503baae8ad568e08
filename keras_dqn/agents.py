"""Deep Q-learning agents.

:class:`DQNAgent` is Keon Kim's blog agent — same constructor, same ``remember`` / ``act`` /
``replay`` / ``save`` / ``load`` — made fast on Keras 3:

* ``replay`` trains on the whole minibatch in one compiled (XLA) TensorFlow step instead of
  two ``model.predict`` calls and one ``model.fit`` call per sample;
* ``act`` computes Q-values with a NumPy forward pass of a weight snapshot that each
  training step hands back, because even a compiled Keras call costs ~0.2 ms;
* memory is a preallocated ring buffer (:class:`keras_dqn.memory.ReplayBuffer`).

The Q-learning target lives in one method, :meth:`DQNAgent._compute_targets`; agents that
learn differently (a target network, Double DQN) override that and nothing else of the
training step.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from keras_dqn.memory import Batch, FrameReplayBuffer, ReplayBuffer
from keras_dqn.networks import NumpyMLP, build_mlp, build_nature_cnn
from keras_dqn.weights import load_h5, read_h5, save_h5

LOSSES = {"mse": "mse", "huber": "huber"}  # our names -> Keras loss identifiers


def _check_positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _check_fraction(name: str, value: Any, *, low_open: bool = False) -> float:
    value = float(value)
    if not (0.0 < value <= 1.0 if low_open else 0.0 <= value <= 1.0):
        interval = "(0, 1]" if low_open else "[0, 1]"
        raise ValueError(f"{name} must be in {interval}, got {value!r}")
    return value


class DQNAgent:
    """The blog's deep Q-learning agent: an MLP Q-network, replay memory, epsilon-greedy.

    Args:
        state_size: length of the observation vector (``env.observation_space.shape[0]``).
        action_size: number of discrete actions (``env.action_space.n``).
        gamma: discount rate of future rewards.
        epsilon: initial exploration rate (probability of a random action).
        epsilon_min: exploration never decays below this.
        epsilon_decay: ``epsilon`` is multiplied by this after every ``replay``.
        learning_rate: Adam's learning rate.
        memory_size: replay memory capacity (the blog's ``deque(maxlen=2000)``).
        hidden: units of the hidden ReLU layers.
        seed: seeds weight initialisation, exploration and replay sampling.
        loss: ``"mse"`` (the blog's) or ``"huber"`` (less sensitive to large TD errors).
        dueling: end the network in a dueling head, ``Q = V + A - mean(A)``.
        clipnorm: clip each gradient to this L2 norm (``None``: no clipping).

    Example::

        agent = DQNAgent(4, 2, seed=0)
        state, _ = env.reset(seed=0)
        action = agent.act(state)
        next_state, reward, terminated, truncated, _ = env.step(action)
        agent.remember(state, action, reward, next_state, terminated)  # not truncated!
        if len(agent.memory) >= 32:
            loss = agent.replay(32)
    """

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
    ):
        self.state_shape: tuple[int, ...] = self._check_state_shape(state_size)
        self.state_size = self.state_shape[0] if len(self.state_shape) == 1 else self.state_shape
        self.action_size = _check_positive_int("action_size", action_size)
        self.gamma = _check_fraction("gamma", gamma)
        self.epsilon = _check_fraction("epsilon", epsilon)
        self.epsilon_min = _check_fraction("epsilon_min", epsilon_min)
        self.epsilon_decay = _check_fraction("epsilon_decay", epsilon_decay, low_open=True)
        self.learning_rate = float(learning_rate)
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be positive, got {learning_rate!r}")
        self.hidden = tuple(_check_positive_int("hidden units", h) for h in hidden)
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {sorted(LOSSES)}, got {loss!r}")
        self.loss = loss
        self.dueling = bool(dueling)
        if clipnorm is not None and not float(clipnorm) > 0:
            raise ValueError(f"clipnorm must be positive or None, got {clipnorm!r}")
        self.clipnorm = None if clipnorm is None else float(clipnorm)
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.memory = self._build_memory(_check_positive_int("memory_size", memory_size))
        self.model = self._build_model()
        self.train_steps = 0  # gradient steps taken so far
        self.env_id: str | None = None  # set by train() / the examples; saved with the weights

        # Acting: a NumPy twin of the model when it is a plain MLP, else a compiled call.
        self._numpy_model = NumpyMLP.from_model(self.model)
        self._policy_weights: list[np.ndarray] | None = None
        self._predict_fn = None
        # Training: compiled on the first replay() (and again if a traced setting changes).
        self._compiled: dict[bool, Any] = {}
        self._compiled_with: tuple | None = None
        self._optimizer_lr = self.learning_rate

    # ------------------------------------------------------------------ what differs per agent
    # Subclasses change the state they take, the memory and the network here; acting and the
    # compiled training step below are shared by every agent.
    state_dtype: type = np.float32  # how states are stored and fed to the network
    jit_compile: bool = True  # XLA-compile the training step (fastest for MLPs on the CPU)

    def _check_state_shape(self, state_size: Any) -> tuple[int, ...]:
        """The shape of one state, from the constructor's first argument (an int here)."""
        return (_check_positive_int("state_size", state_size),)

    def _build_memory(self, capacity: int) -> ReplayBuffer:
        """The replay memory: a ring buffer of whole states."""
        return ReplayBuffer(capacity, self.state_shape, seed=self.rng, state_dtype=self.state_dtype)

    def _build_model(self) -> keras.Model:
        """The Q-network: Dense ReLU layers, one linear output per action (or a dueling head), Adam."""
        return build_mlp(
            self.state_size,
            self.action_size,
            self.hidden,
            learning_rate=self.learning_rate,
            loss=LOSSES[self.loss],
            dueling=self.dueling,
            clipnorm=self.clipnorm,
            seed=self.seed,
        )

    # ------------------------------------------------------------------ acting
    def _as_batch(self, states: Any, what: str) -> np.ndarray:
        states = self._as_state_array(states, what)
        if states.shape == self.state_shape:
            return states[None]
        if states.ndim == len(self.state_shape) + 1 and states.shape[1:] == self.state_shape:
            return states
        raise ValueError(
            f"{what} expected a state of shape {self.state_shape} or a batch of shape "
            f"(n, {', '.join(map(str, self.state_shape))}), got an array of shape {states.shape}"
        )

    def _as_state_array(self, states: Any, what: str) -> np.ndarray:
        """``states`` as an array of :attr:`state_dtype` (the conv agent insists on uint8 frames)."""
        return np.asarray(states, dtype=self.state_dtype)

    def q_values(self, states: Any) -> np.ndarray:
        """Q-values of one state or a batch of states, as a ``(batch, action_size)`` array."""
        states = self._as_batch(states, "q_values()")
        if self._numpy_model is not None:
            if self._policy_weights is None:
                self._policy_weights = self.model.get_weights()
            return self._numpy_model(states, self._policy_weights)
        if self._predict_fn is None:
            spec = tf.TensorSpec((None, *self.state_shape), tf.as_dtype(self.state_dtype))
            self._predict_fn = tf.function(lambda x: self.model(x, training=False)).get_concrete_function(spec)
        return self._predict_fn(tf.constant(states)).numpy()

    def act(self, state: Any, *, greedy: bool = False) -> int:
        """Pick an action for one state: random with probability ``epsilon``, else argmax Q.

        Args:
            state: shape ``(state_size,)`` or the blog's ``(1, state_size)``.
            greedy: ignore epsilon (for evaluation and for watching a trained agent).

        Returns:
            The action, a Python ``int``.

        If you change ``agent.model``'s weights yourself (not through ``replay``/``load``),
        call :meth:`refresh_policy` so ``act`` sees them.
        """
        batch = self._as_batch(state, "act()")
        if len(batch) != 1:
            raise ValueError(f"act() takes one state; got a batch of {len(batch)} (use q_values() for batches)")
        if not greedy and self.rng.random() < self.epsilon:
            return int(self.rng.integers(self.action_size))
        return int(np.argmax(self.q_values(batch)[0]))

    def refresh_policy(self) -> None:
        """Re-read the model's weights for acting (after you set them outside replay/load)."""
        self._policy_weights = None

    # ------------------------------------------------------------------ learning
    def remember(self, state: Any, action: int, reward: float, next_state: Any, done: bool) -> None:
        """Store one transition in replay memory.

        ``done`` must be True only when the episode *terminated* (e.g. the pole fell): the
        target then has no future term.  When an episode is cut by a time limit
        (``truncated``), pass ``done=False``: the state after it still has value.
        """
        state, next_state = (self._as_state_array(s, "remember()") for s in (state, next_state))
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
        batch = self.memory.sample(_check_positive_int("batch_size", batch_size))
        loss = self.train_on_batch(batch)
        if self.epsilon > self.epsilon_min:
            self.epsilon = max(self.epsilon_min, self.epsilon * self.epsilon_decay)
        return loss

    def train_on_batch(self, batch: Batch) -> float:
        """One compiled gradient step on ``batch``; returns its loss."""
        return float(self._run_compiled(batch, many=False)[0])

    def train_on_batches(self, batches: Batch) -> np.ndarray:
        """``K`` gradient steps in one compiled call; every array of ``batches`` has a leading
        ``K`` axis (see :meth:`ReplayBuffer.sample_batches`).  Returns the ``K`` losses.

        One call costs ~0.2 ms however small, so a training loop that takes several steps at
        a time (every few env steps, or over a vector env) should take them here."""
        return self._run_compiled(batches, many=True)

    def _run_compiled(self, batch: Batch, many: bool) -> np.ndarray:
        if self._compiled_with != self._trace_settings():  # first call, or gamma/double/tau changed
            self._compiled = {}
            self._compiled_with = self._trace_settings()
        if many not in self._compiled:
            self._compiled[many] = self._compile_train_step(many)
        if self._optimizer_lr != self.learning_rate:  # the user changed agent.learning_rate
            self.model.optimizer.learning_rate.assign(self.learning_rate)
            self._optimizer_lr = self.learning_rate
        losses, *weights = self._compiled[many](
            tf.constant(batch.states, tf.as_dtype(self.state_dtype)),
            tf.constant(batch.actions, tf.int32),
            tf.constant(batch.rewards, tf.float32),
            tf.constant(batch.next_states, tf.as_dtype(self.state_dtype)),
            tf.constant(batch.dones, tf.float32),
        )
        # The step returns the new weights: keeping them saves a slow read before the next act().
        self._policy_weights = [w.numpy() for w in weights] if self._numpy_model is not None else None
        losses = np.atleast_1d(losses.numpy())
        self.train_steps += len(losses)
        return losses

    def _trace_settings(self) -> tuple:
        """Python values baked into the compiled step; changing one recompiles it."""
        return (self.gamma,)

    def _compute_targets(self, rewards: tf.Tensor, next_states: tf.Tensor, dones: tf.Tensor) -> tf.Tensor:
        """Q-learning targets ``r + gamma * max_a' Q(s', a')``, with no future term when done."""
        next_q = self.model(next_states, training=False)
        return rewards + self.gamma * (1.0 - dones) * tf.reduce_max(next_q, axis=1)

    def _after_gradient_step(self) -> None:
        """Traced into the compiled step after each update (target-network agents sync here)."""
        return None  # (a docstring-only body trips up AutoGraph)

    def _gradient_step(self, states, actions, rewards, next_states, dones) -> tf.Tensor:
        """One update, traced into the compiled step: targets, loss on Q(s, a), gradient, Adam."""
        model = self.model
        targets = tf.stop_gradient(self._compute_targets(rewards, next_states, dones))
        with tf.GradientTape() as tape:
            q = model(states, training=True)
            q_taken = tf.gather(q, actions, axis=1, batch_dims=1)  # Q(s, a) for the action taken
            loss = keras.losses.get(model.loss)(targets, q_taken)
        grads = tape.gradient(loss, model.trainable_variables)
        model.optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        self._after_gradient_step()
        return loss

    def _compile_train_step(self, many: bool):
        """Compile (with XLA if :attr:`jit_compile`) one gradient step, or a loop of K steps over
        batches stacked on axis 0.

        Both return the losses, and the network's new weights when acting uses the NumPy twin."""
        self.model.optimizer.build(self.model.trainable_variables)

        def new_weights() -> list[tf.Tensor]:  # only the NumPy twin needs them (big CNNs act in TF)
            return [tf.identity(w.value) for w in self.model.weights] if self._numpy_model is not None else []

        def one_step(*batch):
            return [self._gradient_step(*batch), *new_weights()]

        def many_steps(*batches):
            k = tf.shape(batches[1])[0]
            losses = tf.TensorArray(tf.float32, size=k)
            for i in tf.range(k):
                losses = losses.write(i, self._gradient_step(*(b[i] for b in batches)))
            return [losses.stack(), *new_weights()]

        lead = (None, None) if many else (None,)
        state_spec = tf.TensorSpec((*lead, *self.state_shape), tf.as_dtype(self.state_dtype))
        vector = tf.TensorSpec(lead, tf.float32)
        return tf.function(many_steps if many else one_step, jit_compile=self.jit_compile).get_concrete_function(
            state_spec, tf.TensorSpec(lead, tf.int32), vector, state_spec, vector
        )

    # ------------------------------------------------------------------ files
    def get_config(self) -> dict[str, Any]:
        """The agent's constructor arguments (stored in saved weight files)."""
        return {
            "agent": type(self).__name__,
            "env_id": self.env_id,
            "state_size": self.state_size,
            "action_size": self.action_size,
            "hidden": list(self.hidden),
            "gamma": self.gamma,
            "learning_rate": self.learning_rate,
            "loss": self.loss,
            "dueling": self.dueling,
        }

    def save(self, name: str | os.PathLike) -> None:
        """Save the Q-network's weights to an HDF5 file at ``name`` (any file name).

        The file is written beside its destination and renamed into place, so an existing
        file survives a failed save.
        """
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

    Targets come from ``target_model``, a copy of ``model`` that is never trained and only
    follows it: a hard copy every ``C`` replay steps, or a soft (Polyak) step
    ``target <- tau * online + (1 - tau) * target`` after every replay step.

    Args:
        state_size, action_size: as :class:`DQNAgent`.
        target_update: an ``int`` C >= 1 copies the weights every C replay steps; a float tau
            in (0, 1) averages them in every step (keras-rl's ``target_model_update``; a
            float >= 1 that is a whole number means C, as there).
        double: Double DQN — the online network picks ``argmax_a' Q(s', a')`` and the
            target network values it, which curbs the max operator's over-estimation.
        loss: ``"huber"`` (default) or ``"mse"``.
        **kwargs: any other :class:`DQNAgent` argument (gamma, epsilon..., dueling, clipnorm).

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
        loss: str = "huber",
        **kwargs: Any,
    ):
        self.tau, self.target_update_every = _parse_target_update(target_update)
        self.target_update = self.tau if self.tau is not None else self.target_update_every
        self.double = bool(double)
        super().__init__(state_size, action_size, loss=loss, **kwargs)
        self.target_model = self._build_model()
        self.update_target_model()

    def update_target_model(self) -> None:
        """Copy the online network's weights into the target network."""
        self.target_model.set_weights(self.model.get_weights())

    def _trace_settings(self) -> tuple:
        return (*super()._trace_settings(), self.double, self.tau, self.target_update_every)

    def _compute_targets(self, rewards: tf.Tensor, next_states: tf.Tensor, dones: tf.Tensor) -> tf.Tensor:
        """``r + gamma * Q_target(s', a*)``: a* by the online net (Double DQN) or by the target."""
        next_q_target = self.target_model(next_states, training=False)
        if self.double:
            best = tf.argmax(self.model(next_states, training=False), axis=1, output_type=tf.int32)
            next_value = tf.gather(next_q_target, best, axis=1, batch_dims=1)
        else:
            next_value = tf.reduce_max(next_q_target, axis=1)
        return rewards + self.gamma * (1.0 - dones) * next_value

    def _after_gradient_step(self) -> None:
        """Sync the target inside the compiled step: no extra call, exact even for K steps a call."""
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


def _parse_target_update(value: Any) -> tuple[float | None, int | None]:
    """``(tau, None)`` for a soft update, ``(None, C)`` for a hard copy every C steps."""
    expected = "an int C >= 1 (hard copy every C replay steps) or a float tau in (0, 1) (soft update)"
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"target_update must be {expected}, got {value!r}")
    if isinstance(value, (int, np.integer)):
        if value < 1:
            raise ValueError(f"target_update must be {expected}; got the int {value}")
        return None, int(value)
    value = float(value)
    if 0.0 < value < 1.0:
        return value, None
    if value >= 1.0 and value.is_integer():
        return None, int(value)
    raise ValueError(f"target_update must be {expected}, got {value!r}")


class ConvDQNAgent(TargetDQNAgent):
    """DQN for Atari frames: the Nature-DQN CNN, Double DQN, Huber loss, Adam 1e-4.

    Everything but three things is :class:`TargetDQNAgent`'s — the same ``act``, ``replay``,
    compiled training step and target network.  What differs:

    * states are ``uint8`` image stacks, e.g. ``(4, 84, 84)`` from :func:`keras_dqn.make_atari_env`,
      scaled to [0, 1] inside the network (:func:`keras_dqn.networks.build_nature_cnn`);
    * the network is that CNN;
    * the replay memory is a :class:`keras_dqn.memory.FrameReplayBuffer`, which keeps each frame
      once (~7 KB per transition instead of 56 KB).

    Args:
        state_shape: shape of one observation (``env.observation_space.shape``): stacked frames
            first ``(k, H, W)`` or last ``(H, W, k)``; height and width at least 36.
        action_size: ``env.action_space.n``.
        gamma, learning_rate, memory_size, target_update, epsilon_decay...: as
            :class:`TargetDQNAgent`, with Atari defaults: gamma 0.99, Adam 1e-4, 100,000
            transitions (0.7 GB), a hard target copy every 1,000 gradient steps, and epsilon
            decaying from 1 to 0.01 over ~50,000 gradient steps (0.99991 per step).
        frame_memory: ``False`` stores whole states (8× the memory; for observations that
            are not frame stacks).
        **kwargs: any other :class:`TargetDQNAgent` argument (double, loss, dueling, clipnorm, seed).

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
        frame_memory: bool = True,
        **kwargs: Any,
    ):
        if "hidden" in kwargs:
            raise TypeError("ConvDQNAgent's network is the Nature CNN: it takes no hidden= sizes")
        self.frame_memory = bool(frame_memory)
        super().__init__(
            state_shape,
            action_size,
            gamma=gamma,
            learning_rate=learning_rate,
            memory_size=memory_size,
            target_update=target_update,
            epsilon_decay=epsilon_decay,
            **kwargs,
        )

    def _check_state_shape(self, state_shape: Any) -> tuple[int, ...]:
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
        height, width = shape[1:] if self._channels_first(shape) else shape[:2]
        if min(height, width) < 36:
            raise ValueError(f"{expected}; the Nature CNN needs frames of at least 36x36, got {height}x{width}")
        return shape

    @staticmethod
    def _channels_first(shape: tuple[int, ...]) -> bool:
        """Frames are stacked on the first axis when it is the shortest (FrameStackObservation's layout)."""
        return shape[0] < shape[-1]

    def _build_memory(self, capacity: int) -> ReplayBuffer | FrameReplayBuffer:
        if not self.frame_memory:
            return super()._build_memory(capacity)
        axis = 0 if self._channels_first(self.state_shape) else -1
        return FrameReplayBuffer(capacity, self.state_shape, seed=self.rng, stack_axis=axis)

    def _build_model(self) -> keras.Model:
        return build_nature_cnn(
            self.state_shape,
            self.action_size,
            learning_rate=self.learning_rate,
            loss=LOSSES[self.loss],
            dueling=self.dueling,
            clipnorm=self.clipnorm,
            channels_first=self._channels_first(self.state_shape),
            seed=self.seed,
        )

    def _as_state_array(self, states: Any, what: str) -> np.ndarray:
        states = np.asarray(states)
        if states.dtype != np.uint8:
            raise ValueError(f"{what} expected uint8 frames (0-255 pixels, as the env gives them), got {states.dtype}")
        return states

    def get_config(self) -> dict[str, Any]:
        config = {**super().get_config(), "state_shape": list(self.state_shape), "frame_memory": self.frame_memory}
        del config["state_size"], config["hidden"]  # the CNN has no hidden-size setting
        return config


AGENT_CLASSES = {"DQNAgent": DQNAgent, "TargetDQNAgent": TargetDQNAgent, "ConvDQNAgent": ConvDQNAgent}


def load_agent(path: str | os.PathLike) -> DQNAgent:
    """Build the agent a weights file describes, and load the weights into it.

    Our files carry the agent's config (class, env id, architecture) as an HDF5 attribute.
    Files without it — the blog's Keras-2 file — must hold a plain Dense MLP; its shape is
    read off the weights and a DQNAgent is built.  ``agent.env_id`` is ``None`` then.

    Raises:
        FileNotFoundError, ValueError: as :meth:`DQNAgent.load`; ValueError also for an
            unknown agent class or a file whose architecture cannot be read.
    """
    layers, config = read_h5(path)
    if config is None:
        kernels = [arrays[0] for _, arrays in layers]
        if not kernels or any(k.ndim != 2 for k in kernels):
            raise ValueError(f"{str(path)!r} carries no keras_dqn config and is not a plain Dense network")
        agent = DQNAgent(kernels[0].shape[0], kernels[-1].shape[1], hidden=[k.shape[1] for k in kernels[:-1]])
        return agent.load(path)
    if config.get("agent") not in AGENT_CLASSES:
        raise ValueError(f"{str(path)!r} was saved by an unknown agent {config.get('agent')!r}")
    cls = AGENT_CLASSES[config["agent"]]
    kwargs = {k: config[k] for k in ("hidden", "gamma", "learning_rate", "loss", "dueling") if k in config}
    if issubclass(cls, TargetDQNAgent):
        kwargs.update({k: config[k] for k in ("target_update", "double") if k in config})
    if cls is ConvDQNAgent:
        kwargs.pop("hidden", None)
        kwargs.update({k: config[k] for k in ("frame_memory",) if k in config})
    agent = cls(config["state_shape"] if cls is ConvDQNAgent else config["state_size"], config["action_size"], **kwargs)
    agent.env_id = config.get("env_id")
    return agent.load(path)

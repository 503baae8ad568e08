"""Keon Kim's blog agent, :class:`DQNAgent`: remember, act, replay, save, load.

The same constructor and methods as the blog, made fast on Keras 3:

* ``replay`` trains on the whole minibatch in one compiled (XLA) TensorFlow step
  (:mod:`keras_dqn.learning.compiled_step`) instead of two ``model.predict`` calls and one
  ``model.fit`` call per sample;
* ``act`` computes Q-values with a NumPy forward pass of a weight snapshot that each
  training step hands back, because even a compiled Keras call costs ~0.2 ms;
* memory is a preallocated ring buffer (:class:`keras_dqn.replay.uniform.ReplayBuffer`).

The TD update is :mod:`keras_dqn.learning.td_update`; how the memory and network are built
and checked, :mod:`keras_dqn.agents.parts`.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from keras_dqn.agents.parts import AgentParts
from keras_dqn.agents.settings import check_setting
from keras_dqn.agents.state import TrainingState
from keras_dqn.checks import (
    check_action,
    check_done,
    check_positive_int,
    check_reward,
    check_state_shape,
)
from keras_dqn.exploration import MultiplicativeDecay, Schedule
from keras_dqn.files.export import export_model
from keras_dqn.files.weights import load_h5, save_h5
from keras_dqn.learning.compiled_step import train_step_for
from keras_dqn.learning.distributional import support
from keras_dqn.learning.td_update import TDUpdate
from keras_dqn.networks.builders import ADAM_EPSILON, build_mlp
from keras_dqn.networks.greedy import greedy_q_network
from keras_dqn.networks.numpy_twin import NumpyMLP
from keras_dqn.replay.base import Batch


class DQNAgent(AgentParts, TrainingState, TDUpdate):
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
        memory: your own replay memory (any :class:`keras_dqn.replay.base.ReplayMemory` holding
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
        n_atoms: atoms of the distributional head (only with ``distributional``).
        v_min: the lowest atom: the smallest return the distributional head can represent.
        v_max: the highest atom: the largest return the distributional head can represent.
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
    state_argument: str = "state_size"  # the constructor's name for the state's size or shape
    unused_settings: frozenset[str] = frozenset()  # a base class's settings a subclass refuses

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
        self.gamma = gamma  # checked by its setter
        self.epsilon = check_setting("epsilon", epsilon)
        self.epsilon_min = check_setting("epsilon_min", epsilon_min)
        self.epsilon_decay = check_setting("epsilon_decay", epsilon_decay)
        self.learning_rate = check_setting("learning_rate", learning_rate)
        self.hidden = check_setting("hidden", hidden)
        self.loss = check_setting("loss", loss)
        self.dueling = bool(dueling)
        self.clipnorm = check_setting("clipnorm", clipnorm)
        self.adam_epsilon = check_setting("adam_epsilon", adam_epsilon)
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.env_id: str | None = None  # set by train() / the examples; saved with the weights
        self.env_kwargs: dict[str, Any] = {}  # the env's options (make_env keyword arguments), saved with them
        self.train_steps = 0  # gradient steps taken so far
        # The Rainbow switches (all off: the blog's DQN).
        self.n_step = check_setting("n_step", n_step)
        self.prioritized = bool(prioritized)
        self._priority_alpha = check_setting("priority_alpha", priority_alpha)
        self.noisy = bool(noisy)
        self.sigma0 = check_setting("sigma0", sigma0)
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
        capacity = check_setting("memory_size", memory_size)
        self.memory = self._build_memory(capacity) if memory is None else self._check_memory(memory)
        self.model = self._build_model() if model is None else self._check_model(model)
        self._own_model = weakref.ref(self.model) if model is None else lambda: None  # built here (see TrainStep)

        # Acting: a NumPy twin of the model when it is a plain MLP (else one compiled TF call).
        self.numpy_model = NumpyMLP.from_model(self.model)
        self.policy_weights: list[np.ndarray] | None = None  # the twin's weights; None: re-read
        self._predict: dict[bool, Any] = {}  # noisy?, -> compiled forward pass (no NumPy twin)
        # Learning: the TD update, compiled on the first replay().
        self.train_step = train_step_for(self)

    @property
    def gamma(self) -> float:
        """The discount rate; setting it also sets an n-step replay memory's (it sums the returns)."""
        return self._gamma

    @gamma.setter
    def gamma(self, value: float) -> None:
        self._gamma = check_setting("gamma", value)
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

    # ------------------------------------------------------------------ the blog's methods
    def _build_model(self) -> keras.Model:
        """The Q-network: Dense ReLU layers, one linear output per action (or a dueling head), Adam."""
        if len(self.state_shape) != 1:
            raise ValueError(
                f"{type(self).__name__}'s MLP takes vector states; got states of shape {self.state_shape} "
                "(flatten them, pass model=, or use ConvDQNAgent for frames)"
            )
        return build_mlp(self.state_size, self.action_size, self.hidden, **self._network_settings())

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

    memorize = remember  # the name the blog repository's scripts use

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

    def export(self, path: str | os.PathLike) -> Path:
        """Export the greedy Q-network, states to Q-values, to run without keras_dqn.

        The format follows ``path``: ``NAME.onnx`` (ONNX, the ``onnx`` extra; ONNX Runtime runs
        it), ``NAME.tflite`` (TFLite / LiteRT) or a folder name without a suffix (a TensorFlow
        SavedModel, signature ``serve``). The exported network takes a batch of states of
        :attr:`state_dtype` (``uint8`` frames for the conv agents) and returns what
        :meth:`q_values` returns with ``greedy=True``: no noise, and for a distributional agent
        the expected value of each action; its argmax is :meth:`act`'s greedy action.

        Raises:
            ValueError: an unknown suffix, or weights that are not all finite (nothing is written).
            FileExistsError: a SavedModel folder that exists.
            ImportError: ONNX without the ``onnx`` extra.
        """
        return export_model(greedy_q_network(self.model, self.state_shape, self.state_dtype, self.atoms), path)

    # ------------------------------------------------------------------ batched: what train() calls
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

    def refresh_policy(self) -> None:
        """Re-read the model's weights for acting (after you set them outside replay/load)."""
        self.policy_weights = None

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
        return float(self.train_on_batches(Batch(*(None if a is None else np.asarray(a)[None] for a in batch)))[0])

    def train_on_batches(self, batches: Batch) -> np.ndarray:
        """``K`` gradient steps in one compiled call; every array of ``batches`` has a leading
        ``K`` axis (see :meth:`ReplayBuffer.sample_batches`).  Returns the ``K`` losses.

        One call costs ~0.4 ms however small, so a training loop that takes several steps at
        a time (every few env steps, or over a vector env) should take them here.

        Raises:
            FloatingPointError: a loss or new weight was not finite; finite weights are kept
                (see :meth:`stop_training`).
            ValueError: ``batches`` carry a prioritized memory's indices but the agent's memory
                takes no priorities."""
        if batches.indices is not None and not hasattr(self.memory, "update_priorities"):
            raise ValueError(
                "this batch comes from a prioritized memory (it has indices), but the agent's memory cannot take "
                "new priorities; train on batches of the agent's own memory"
            )
        before = self.acting_weights()  # MLPs: the weights to put back if the call goes wrong
        result = self.train_step(batches)
        if not result.finite:
            self.stop_training(result.losses, before)
        if result.weights is not None:  # the NumPy forward pass acts with the new weights
            self.policy_weights = result.weights
        self.train_steps += len(result.losses)
        if batches.indices is not None:  # prioritized replay: the sampled transitions' new TD errors
            self.memory.update_priorities(batches.indices, result.priorities)
        return result.losses

"""keras-rl's DQN API on Keras 3 and gymnasium: ``DQNAgent(model=...).compile().fit().test()``.

The keras-rl CartPole walkthrough builds its own Keras model and hands it to keras-rl::

    model = Sequential()
    model.add(Flatten(input_shape=(1,) + env.observation_space.shape))
    ...
    dqn = DQNAgent(model=model, nb_actions=nb_actions, memory=SequentialMemory(limit=50000, window_length=1),
                   nb_steps_warmup=10, target_model_update=1e-2, policy=EpsGreedyQPolicy())
    dqn.compile(Adam(learning_rate=1e-3), metrics=["mae"])
    dqn.fit(env, nb_steps=5000, visualize=False, verbose=2)
    dqn.test(env, nb_episodes=5, visualize=False)

keras-rl itself no longer imports on Keras 3.  This module gives the same names and
arguments, and runs them on :class:`keras_dqn.TargetDQNAgent`'s machinery: the user's model
becomes the agent's online network, a ``keras.models.clone_model`` copy its target network,
and replay, Double DQN, the Huber loss and the target sync are the agent's one compiled
training step.  Only the driving loop (``fit`` / ``test``), the policies and the
observation window are new here.

Differences from keras-rl, all deliberate:

* ``fit`` stores ``done = terminated``.  An episode cut by a time limit (gymnasium's
  ``truncated``, or ``nb_max_episode_steps``) still bootstraps; keras-rl stored it as terminal.
* A gradient step needs ``batch_size`` stored transitions (keras-rl warned and sampled with
  replacement from fewer).
* A hard target update (``target_model_update >= 1``) copies after every
  ``C = max(1, target_model_update // train_interval)`` gradient steps (rounded down, so
  never later than keras-rl), counted over the agent's life.  keras-rl copied whenever its
  env-step counter, reset by each ``fit``, hit a multiple of ``target_model_update``; with
  ``train_interval`` dividing ``target_model_update`` both copy every ``target_model_update``
  env steps once learning runs.
* ``compile``'s ``metrics`` are checked but not computed: the compiled training step returns
  only its loss.  ``fit`` prints the loss and the mean Q of the acted states.
* Policies take a ``seed``.  ``DQNAgent(seed=...)`` seeds the policies built without one;
  with no seed anywhere they draw from ``np.random``, so the tutorial's
  ``np.random.seed(123)`` still makes exploration repeatable.
* ``BoltzmannQPolicy`` subtracts ``max(Q / tau)`` before clipping the exponent, so large
  Q-values keep their differences (keras-rl clipped ``Q / tau`` to +-500 first, which could
  make two different Q-values equally likely).
* Callbacks get ``on_train_begin``, ``on_episode_begin``, ``on_episode_end`` and
  ``on_epoch_end`` (both, where defined; keras-rl called ``on_epoch_end`` only on objects
  lacking ``on_episode_end``) and ``on_train_end``, with ``{"did_abort": ...}`` from ``fit``.
  There are no per-step or per-action calls (``on_step_end``, ``on_action_begin``...), and no
  ``_set_env``.
* keras-rl's ``processor``, ``memory_interval``, ``custom_model_objects`` (``DQNAgent``) and
  ``action_repetition``, ``nb_max_start_steps``, ``start_step_policy`` (``fit``/``test``) are
  not supported: passing one raises a ``TypeError`` saying so.  ``SequentialMemory`` takes
  ``limit`` and ``window_length`` only.

As in keras-rl, ``agent.step`` counts the env steps of the current ``fit`` (or ``test``)
call from 0, so ``LinearAnnealedPolicy`` and ``nb_steps_warmup`` start again with every
``fit``; ``delta_clip=np.inf`` is the loss ``0.5 * error**2``; and Ctrl-C during ``fit``
ends training, calls ``on_train_end(logs={"did_abort": True})`` and returns the history.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import keras
import numpy as np

from keras_dqn.agents import TargetDQNAgent
from keras_dqn.checks import check_positive_int as _check_positive_int
from keras_dqn.memory import Batch, ReplayBuffer
from keras_dqn.networks import DuelingHead, activation_name
from keras_dqn.weights import load_h5, save_h5

__all__ = [
    "BoltzmannQPolicy",
    "DQNAgent",
    "EpsGreedyQPolicy",
    "GreedyQPolicy",
    "LinearAnnealedPolicy",
    "Policy",
    "SequentialMemory",
]


def _as_float(name: str, value: Any) -> float:
    """``value`` as a float, or one ValueError naming the argument (``float(None)`` says less)."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number, got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None


def _reject_keras_rl_arguments(where: str, kwargs: dict[str, Any], known: Sequence[str]) -> None:
    """One clear error for keyword arguments we do not take: keras-rl's own, or typos."""
    if not kwargs:
        return
    unsupported = sorted(k for k in kwargs if k in known)
    unknown = sorted(k for k in kwargs if k not in known)
    parts = []
    if unsupported:
        parts.append(f"keras-rl's {unsupported} {'is' if len(unsupported) == 1 else 'are'} not supported here")
    if unknown:
        parts.append(f"unexpected keyword argument(s) {unknown}")
    raise TypeError(f"{where}: " + "; ".join(parts) + " (see keras_dqn.rl's 'Differences from keras-rl')")


# ---------------------------------------------------------------------------------- memory
class SequentialMemory(ReplayBuffer):
    """keras-rl's replay memory: the last ``limit`` transitions, states of ``window_length`` observations.

    With ``window_length > 1`` each stored state stacks that many consecutive observations,
    oldest first, so the model's input is ``(window_length,) + observation shape``.  At the
    start of an episode the slots before its first observation are zeros (as keras-rl pads),
    never observations of the previous episode.

    The arrays are allocated when a :class:`DQNAgent` takes the memory (only then is the
    observation shape known); after that it is a :class:`keras_dqn.memory.ReplayBuffer` of
    stacked states: ``len(memory)``, ``memory[i]``, ``memory.sample(32)``.

    Args:
        limit: capacity in transitions.
        window_length: consecutive observations per state (1: the observation alone).
    """

    def __init__(self, limit: int, window_length: int = 1, **kwargs: Any):
        if kwargs:  # keras-rl's ignore_episode_boundaries and friends
            raise TypeError(f"SequentialMemory takes limit and window_length only, got {sorted(kwargs)}")
        self.limit = _check_positive_int("SequentialMemory limit", limit)
        self.window_length = _check_positive_int("SequentialMemory window_length", window_length)
        self.maxlen = self.limit
        self._size = 0
        self._bound = False

    def _require_storage(self) -> None:
        if not self._bound:
            raise RuntimeError(
                "this SequentialMemory has no storage yet: it is allocated when a DQNAgent takes it, "
                "DQNAgent(model=..., memory=memory, ...), as only the model tells the state shape"
            )

    # The ReplayBuffer methods that touch the arrays, guarded against use before _bind.
    def append(self, transition: tuple) -> None:
        self._require_storage()
        super().append(transition)

    def extend(self, *args: Any, **kwargs: Any) -> None:
        self._require_storage()
        super().extend(*args, **kwargs)

    def sample(self, batch_size: int) -> Batch:
        self._require_storage()
        return super().sample(batch_size)

    def sample_batches(self, n_batches: int, batch_size: int) -> Batch:
        self._require_storage()
        return super().sample_batches(n_batches, batch_size)

    def __getitem__(self, index: int) -> tuple:
        self._require_storage()
        return super().__getitem__(index)

    def _bind(self, state_shape: tuple[int, ...], rng: np.random.Generator) -> SequentialMemory:
        """Allocate the ring buffer for states of ``state_shape`` (window first)."""
        if self._bound:
            if tuple(state_shape) != self.state_shape:
                raise ValueError(
                    f"this SequentialMemory already holds states of shape {self.state_shape}; "
                    f"make a new one for a model taking {tuple(state_shape)}"
                )
            return self
        super().__init__(self.limit, state_shape, seed=rng)
        self._bound = True
        return self


class _ObservationWindow:
    """The last ``length`` observations of the current episode, zeros before its start."""

    def __init__(self, length: int, observation_shape: tuple[int, ...]):
        self.frames = np.zeros((length, *observation_shape), dtype=np.float32)

    def reset(self, observation: Any) -> np.ndarray:
        self.frames[:] = 0.0
        self.frames[-1] = observation
        return self.frames.copy()

    def push(self, observation: Any) -> np.ndarray:
        self.frames[:-1] = self.frames[1:]
        self.frames[-1] = observation
        return self.frames.copy()


# ---------------------------------------------------------------------------------- policies
class Policy:
    """Chooses an action from one state's Q-values (keras-rl's ``select_action(q_values)``).

    Args:
        seed: seeds this policy's random choices; ``None`` draws from NumPy's global
            generator (``np.random.seed`` then controls it, as in keras-rl).
    """

    def __init__(self, seed: int | None = None):
        self.rng = np.random.default_rng(seed) if seed is not None else None
        self.agent: DQNAgent | None = None

    def _set_agent(self, agent: DQNAgent) -> None:
        self.agent = agent

    def _seed_if_unseeded(self, seed: np.random.SeedSequence) -> None:
        """Give a policy built without a ``seed`` its own generator (``DQNAgent(seed=...)`` does)."""
        if self.rng is None:
            self.rng = np.random.default_rng(seed)

    def _random(self) -> float:
        return float((self.rng or np.random).random())

    def _choice(self, n: int, p: np.ndarray | None = None) -> int:
        return int((self.rng or np.random).choice(n, p=p))

    @staticmethod
    def _check_q(q_values: Any) -> np.ndarray:
        q = np.asarray(q_values, dtype=np.float64)
        if q.ndim != 1 or len(q) < 1:
            raise ValueError(f"select_action expects the Q-values of one state, shape (nb_actions,); got {q.shape}")
        return q

    def select_action(self, q_values: np.ndarray) -> int:
        """The action to take, given ``q_values`` of shape ``(nb_actions,)``."""
        raise NotImplementedError


class GreedyQPolicy(Policy):
    """Always the action with the highest Q-value (keras-rl's default ``test_policy``)."""

    def select_action(self, q_values: np.ndarray) -> int:
        return int(np.argmax(self._check_q(q_values)))


class EpsGreedyQPolicy(Policy):
    """A uniformly random action with probability ``eps``, else the argmax of Q.

    Args:
        eps: exploration probability in [0, 1] (keras-rl's default 0.1).
        seed: see :class:`Policy`.
    """

    def __init__(self, eps: float = 0.1, seed: int | None = None):
        super().__init__(seed)
        self.eps = eps

    @property
    def eps(self) -> float:
        return self._eps

    @eps.setter
    def eps(self, value: float) -> None:
        value = _as_float("eps", value)
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"eps must be in [0, 1], got {value!r}")
        self._eps = value

    def select_action(self, q_values: np.ndarray) -> int:
        q = self._check_q(q_values)
        if self._random() < self.eps:
            return self._choice(len(q))
        return int(np.argmax(q))


class BoltzmannQPolicy(Policy):
    """Sample an action with probability ``softmax(Q / tau)``.

    Args:
        tau: temperature > 0: large is nearly uniform, small nearly greedy.
        clip: ``(low, high)``; ``low`` bounds the exponent ``Q / tau - max(Q / tau)`` from
            below, so no probability underflows to exactly 0.  The exponent is never above 0,
            so ``high`` changes nothing; it is kept for keras-rl's signature.
        seed: see :class:`Policy`.
    """

    def __init__(self, tau: float = 1.0, clip: tuple[float, float] = (-500.0, 500.0), seed: int | None = None):
        super().__init__(seed)
        self.tau = tau
        low, high = (float(c) for c in clip)
        if not low < 0:
            raise ValueError(f"clip[0], the lowest exponent, must be negative; got clip={clip!r}")
        self.clip = (low, high)

    @property
    def tau(self) -> float:
        return self._tau

    @tau.setter
    def tau(self, value: float) -> None:
        value = _as_float("tau", value)
        if not value > 0:
            raise ValueError(f"tau must be positive, got {value!r}")
        self._tau = value

    def probabilities(self, q_values: np.ndarray) -> np.ndarray:
        """The probability of each action for these Q-values."""
        z = self._check_q(q_values) / self.tau
        # Subtract the max first: softmax is unchanged by a shift, and exp(z) then cannot
        # overflow.  (keras-rl clipped Q / tau before the shift, which flattens large Q-values:
        # Q = [100, 90] with tau = 0.1 became [500, 500] and a coin flip.)
        z -= z.max()
        e = np.exp(np.clip(z, self.clip[0], 0.0))
        return e / e.sum()

    def select_action(self, q_values: np.ndarray) -> int:
        p = self.probabilities(q_values)
        return self._choice(len(p), p=p)


class LinearAnnealedPolicy(Policy):
    """Anneal one attribute of ``inner_policy`` linearly over the agent's training steps.

    ``value = max(value_min, value_max - (value_max - value_min) * step / nb_steps)`` while
    training, ``value_test`` while testing.  ``step`` counts the env steps of the current
    :meth:`DQNAgent.fit` call (each call starts again from ``value_max``, as in keras-rl).  The usual use::

        LinearAnnealedPolicy(EpsGreedyQPolicy(), attr="eps", value_max=1.0, value_min=0.1,
                             value_test=0.05, nb_steps=10_000)

    Args:
        inner_policy: the policy whose attribute is annealed.
        attr: the attribute's name (``"eps"``, ``"tau"``).
        value_max, value_min: start and end values.
        value_test: the value used by :meth:`DQNAgent.test`.
        nb_steps: env steps over which to anneal (>= 1).

    Raises:
        ValueError: ``value_max < value_min``, ``nb_steps < 1``, or ``inner_policy`` lacks ``attr``.
    """

    def __init__(
        self,
        inner_policy: Policy,
        attr: str,
        value_max: float,
        value_min: float,
        value_test: float,
        nb_steps: int,
    ):
        if not isinstance(inner_policy, Policy):
            raise ValueError(f"inner_policy must be a keras_dqn.rl Policy, got {type(inner_policy).__name__}")
        if not hasattr(inner_policy, attr):
            raise ValueError(f"{type(inner_policy).__name__} has no attribute {attr!r} to anneal")
        super().__init__()
        self.inner_policy = inner_policy
        self.attr = attr
        self.value_max = _as_float("value_max", value_max)
        self.value_min = _as_float("value_min", value_min)
        self.value_test = _as_float("value_test", value_test)
        if not self.value_max >= self.value_min:
            raise ValueError(
                f"LinearAnnealedPolicy anneals down from value_max to value_min, so value_max >= value_min "
                f"is expected; got value_max={value_max!r}, value_min={value_min!r}"
            )
        self.nb_steps = _check_positive_int("nb_steps", nb_steps)

    def _set_agent(self, agent: DQNAgent) -> None:
        super()._set_agent(agent)
        self.inner_policy._set_agent(agent)

    def _seed_if_unseeded(self, seed: np.random.SeedSequence) -> None:
        self.inner_policy._seed_if_unseeded(seed)  # the inner policy is the one that draws

    def value_at(self, step: int, training: bool = True) -> float:
        """The annealed value at env step ``step`` (``value_test`` when not training)."""
        if not training:
            return self.value_test
        slope = -(self.value_max - self.value_min) / self.nb_steps
        return max(self.value_min, self.value_max + slope * step)

    def get_current_value(self) -> float:
        """The value now: from the agent's step and mode (``value_max`` before any agent)."""
        if self.agent is None:
            return self.value_max
        return self.value_at(self.agent.step, self.agent.training)

    def select_action(self, q_values: np.ndarray) -> int:
        setattr(self.inner_policy, self.attr, self.get_current_value())
        return self.inner_policy.select_action(q_values)


# ---------------------------------------------------------------------------------- the agent
@keras.saving.register_keras_serializable(package="keras_dqn")
def half_squared_error(y_true: Any, y_pred: Any) -> Any:
    """``mean(0.5 * (y_pred - y_true)**2)`` over the last axis: keras-rl's loss for ``delta_clip=np.inf``.

    It is the Huber loss with an infinite delta; Keras' ``"mse"`` would be twice it, and so
    double the gradients (and the effective learning rate of plain SGD).
    """
    return keras.ops.mean(0.5 * keras.ops.square(y_pred - y_true), axis=-1)


def _model_input_shape(model: Any) -> tuple:
    if not isinstance(model, keras.Model):
        raise ValueError(f"model must be a keras.Model, got {type(model).__name__}")
    try:
        shape = model.input_shape
    except (AttributeError, ValueError):
        raise ValueError(
            "the model has no input shape yet; give its first layer one, as the tutorial does: "
            "Flatten(input_shape=(window_length,) + env.observation_space.shape)"
        ) from None
    if isinstance(shape, list):
        raise ValueError(f"DQN expects a model with a single input, this one has {len(shape)}")
    return tuple(shape)


def _add_dueling_head(model: keras.Model, nb_actions: int, seed: int | None) -> keras.Model:
    """``model`` with its output Dense layer replaced by a dueling head (shares the other layers)."""
    layers = list(model.layers)
    last = len(layers) - 1
    while last >= 0 and isinstance(layers[last], keras.layers.Activation):
        if activation_name(layers[last].activation) != "linear":
            raise ValueError("enable_dueling_network needs a model ending in a linear Dense(nb_actions) layer")
        last -= 1
    if last < 0 or not isinstance(layers[last], keras.layers.Dense) or layers[last].units != nb_actions:
        raise ValueError("enable_dueling_network needs a model ending in a linear Dense(nb_actions) layer")
    head = DuelingHead(nb_actions, kernel_initializer=keras.initializers.GlorotUniform(seed=seed), name="dueling")
    if isinstance(model, keras.Sequential):
        name = f"{model.name}_dueling"
        return keras.Sequential([keras.Input(model.input_shape[1:]), *layers[:last], head], name=name)
    return keras.Model(model.inputs, head(layers[last].input), name=f"{model.name}_dueling")


class DQNAgent:
    """keras-rl's ``DQNAgent``, on :class:`keras_dqn.TargetDQNAgent`'s compiled training step.

    Args:
        model: a Keras model mapping a state, shape ``(window_length,) + observation shape``,
            to ``nb_actions`` Q-values (one output, linear).
        nb_actions: number of discrete actions.
        memory: a :class:`SequentialMemory`.
        policy: chooses actions in :meth:`fit` (default ``EpsGreedyQPolicy(0.1)``).
        test_policy: chooses actions in :meth:`test` (default :class:`GreedyQPolicy`).
        gamma: discount rate.
        batch_size: minibatch size of each gradient step.
        nb_steps_warmup: env steps before the first gradient step.
        train_interval: env steps between gradient steps.
        target_model_update: < 1: soft update ``target <- tau * online + (1 - tau) * target``
            after each gradient step with tau = this; >= 1: hard copy every this many steps.
        enable_double_dqn: Double DQN targets (online net picks a', target net values it).
        enable_dueling_network: replace the model's output layer by a dueling head,
            ``Q = V + A - mean(A)`` (keras-rl's ``dueling_type="avg"``, the only one here).
        dueling_type: ``"avg"``.
        delta_clip: Huber loss with this delta; ``np.inf`` (default) is ``0.5 * error**2``,
            keras-rl's ``huber_loss`` with no clipping.
        seed: seeds replay sampling, the dueling head's initializer, and every policy built
            without a ``seed`` of its own (default: drawn from ``np.random``, and the policies
            then draw from ``np.random`` too).

    Raises:
        ValueError: the model's output is not ``(None, nb_actions)``, its input does not
            start with ``memory.window_length``, or an argument is out of range.
        TypeError: a keras-rl argument this agent does not support (``processor``, ...).
    """

    def __init__(
        self,
        model: keras.Model,
        nb_actions: int,
        memory: SequentialMemory,
        *,
        policy: Policy | None = None,
        test_policy: Policy | None = None,
        gamma: float = 0.99,
        batch_size: int = 32,
        nb_steps_warmup: int = 1000,
        train_interval: int = 1,
        target_model_update: float = 10000,
        enable_double_dqn: bool = False,
        enable_dueling_network: bool = False,
        dueling_type: str = "avg",
        delta_clip: float = np.inf,
        seed: int | None = None,
        **kwargs: Any,
    ):
        _reject_keras_rl_arguments("DQNAgent", kwargs, ("processor", "memory_interval", "custom_model_objects"))
        self.nb_actions = _check_positive_int("nb_actions", nb_actions)
        if not isinstance(memory, SequentialMemory):
            raise ValueError(f"memory must be a keras_dqn.rl.SequentialMemory, got {type(memory).__name__}")
        input_shape = _model_input_shape(model)
        if len(model.outputs) != 1:
            raise ValueError(f"DQN expects a model with a single output, this one has {len(model.outputs)}")
        output_shape = tuple(model.output_shape)
        if output_shape != (None, self.nb_actions):
            raise ValueError(
                f"the model's output must be one Q-value per action, shape (None, {self.nb_actions}) for "
                f"nb_actions={self.nb_actions}; got {output_shape} (end the model with Dense(nb_actions))"
            )
        if len(input_shape) < 2 or input_shape[1] != memory.window_length:
            raise ValueError(
                f"the model's input must be (window_length,) + observation shape with "
                f"window_length={memory.window_length}, i.e. (None, {memory.window_length}, ...); got {input_shape}. "
                f"Start the model with Flatten(input_shape=({memory.window_length},) + env.observation_space.shape)"
            )
        if any(d is None for d in input_shape[1:]):
            raise ValueError(f"the model's input shape must be fully known apart from the batch, got {input_shape}")
        self.batch_size = _check_positive_int("batch_size", batch_size)
        self.train_interval = _check_positive_int("train_interval", train_interval)
        if isinstance(nb_steps_warmup, bool) or int(nb_steps_warmup) != nb_steps_warmup or nb_steps_warmup < 0:
            raise ValueError(f"nb_steps_warmup must be a non-negative integer, got {nb_steps_warmup!r}")
        self.nb_steps_warmup = int(nb_steps_warmup)
        target_model_update = _as_float("target_model_update", target_model_update)
        if not 0 < target_model_update < np.inf:
            raise ValueError(f"target_model_update must be > 0 (< 1: soft, >= 1: hard), got {target_model_update}")
        self.target_model_update = target_model_update
        self.delta_clip = _as_float("delta_clip (np.inf for no clipping)", delta_clip)
        if not self.delta_clip > 0:
            raise ValueError(f"delta_clip must be positive (np.inf: no clipping), got {delta_clip!r}")
        if dueling_type != "avg":
            raise ValueError(f"only dueling_type='avg' (Q = V + A - mean(A)) is supported, got {dueling_type!r}")
        self.enable_double_dqn = bool(enable_double_dqn)
        self.enable_dueling_network = bool(enable_dueling_network)
        self.dueling_type = dueling_type
        self.gamma = _as_float("gamma", gamma)
        if not 0.0 <= self.gamma <= 1.0:
            raise ValueError(f"gamma, the discount rate, must be in [0, 1], got {gamma!r}")
        seeded = seed is not None
        if seed is None:
            seed = int(np.random.randint(2**31 - 1))  # follows np.random.seed, as keras-rl did
        if self.enable_dueling_network:
            model = _add_dueling_head(model, self.nb_actions, seed)
        if target_model_update < 1:
            target_update: float | int = target_model_update
        else:  # keras-rl counts env steps; we copy after gradient steps, one per train_interval env steps
            target_update = max(1, int(target_model_update // self.train_interval))
        state_shape = tuple(int(d) for d in model.input_shape[1:])
        self.core = TargetDQNAgent(
            state_shape,
            self.nb_actions,
            model=model,
            memory=memory._bind(state_shape, np.random.default_rng(seed)),
            target_update=target_update,
            double=self.enable_double_dqn,
            loss="mse" if np.isinf(self.delta_clip) else "huber",
            gamma=self.gamma,
            epsilon=0.0,  # the policies explore, not the core agent
            seed=seed,
        )
        self.memory = memory
        self.policy = policy if policy is not None else EpsGreedyQPolicy()
        self.test_policy = test_policy if test_policy is not None else GreedyQPolicy()
        for p in (self.policy, self.test_policy):
            if not isinstance(p, Policy):
                raise ValueError(f"policies must be keras_dqn.rl Policy objects, got {type(p).__name__}")
            p._set_agent(self)
        if seeded:  # seed=... makes the whole run repeatable: exploration too, not only replay
            policy_seed, test_seed = np.random.SeedSequence(seed).spawn(2)
            self.policy._seed_if_unseeded(policy_seed)
            self.test_policy._seed_if_unseeded(test_seed)
        self.compiled = False
        self.training = False
        self.step = 0  # env steps taken by fit()

    @property
    def model(self) -> keras.Model:
        """The online Q-network (the user's model, or it with a dueling head)."""
        return self.core.model

    @property
    def target_model(self) -> keras.Model:
        """The target network: a clone of :attr:`model`, synced per ``target_model_update``."""
        return self.core.target_model

    @property
    def window_length(self) -> int:
        """Observations per state (the memory's ``window_length``, the model's first input axis)."""
        return self.memory.window_length

    # ------------------------------------------------------------------ compile
    def compile(self, optimizer: keras.optimizers.Optimizer | str, metrics: Sequence[Any] | None = None) -> None:
        """Compile the online model with ``optimizer`` and the loss ``delta_clip`` selects.

        Args:
            optimizer: a Keras optimizer, e.g. ``Adam(learning_rate=1e-3)`` (keras-rl's ``lr=``
                is ``learning_rate=`` on Keras 3), or its name.
            metrics: keras-rl's metric names; each must be a Keras metric.  They are checked,
                not computed (the compiled step reports its loss only).
        """
        for metric in metrics or []:
            try:
                keras.metrics.get(metric)
            except (ValueError, TypeError):
                raise ValueError(f"unknown Keras metric {metric!r} in compile(metrics=...)") from None
        self.metrics = list(metrics or [])
        loss = half_squared_error if np.isinf(self.delta_clip) else keras.losses.Huber(delta=self.delta_clip)
        self.model.compile(optimizer=optimizer, loss=loss)
        self.core.learning_rate = float(self.model.optimizer.learning_rate.numpy())
        self.core.train_step.invalidate()  # retrace with this optimizer
        self.compiled = True

    # ------------------------------------------------------------------ running episodes
    def _check_env(self, env: gym.Env, visualize: bool, what: str) -> None:
        if not isinstance(getattr(env, "action_space", None), gym.spaces.Discrete):
            space = getattr(env, "action_space", None)
            raise ValueError(f"{what} needs an env with a Discrete action space (one Q-value per action), got {space}")
        if int(env.action_space.n) != self.nb_actions:
            raise ValueError(f"the env has {env.action_space.n} actions, the agent nb_actions={self.nb_actions}")
        obs_shape = tuple(env.observation_space.shape or ())
        if (self.window_length, *obs_shape) != self.core.state_shape:
            raise ValueError(
                f"the env's observations have shape {obs_shape}, so the model's input must be "
                f"{(self.window_length, *obs_shape)} (window_length first); it is {self.core.state_shape}"
            )
        if visualize and getattr(env, "render_mode", None) != "human":
            raise ValueError(
                f"visualize=True needs an env made with render_mode='human' (gymnasium picks the render mode "
                f"in gym.make, e.g. gym.make('CartPole-v1', render_mode='human')); this env's is "
                f"{getattr(env, 'render_mode', None)!r}"
            )

    def _q(self, state: np.ndarray) -> np.ndarray:
        return self.core.q_values(state[None])[0]

    @staticmethod
    def _callbacks(model: keras.Model, callbacks: Sequence[Any] | None) -> tuple[keras.callbacks.History, list]:
        history = keras.callbacks.History()
        all_callbacks = [history, *(callbacks or [])]
        for cb in all_callbacks:
            if hasattr(cb, "set_model"):
                cb.set_model(model)
        return history, all_callbacks

    @staticmethod
    def _call(callbacks: list, method: str, *args: Any) -> None:
        for cb in callbacks:
            fn = getattr(cb, method, None)
            if fn is not None:
                fn(*args)

    def fit(
        self,
        env: gym.Env,
        nb_steps: int,
        visualize: bool = False,
        verbose: int = 1,
        nb_max_episode_steps: int | None = None,
        callbacks: Sequence[Any] | None = None,
        log_interval: int = 10000,
        **kwargs: Any,
    ) -> keras.callbacks.History:
        """Train for ``nb_steps`` env steps with :attr:`policy`; one gradient step every ``train_interval``.

        Episodes start with ``env.reset()`` (seed the env once beforehand with
        ``env.reset(seed=...)``, the gymnasium form of the tutorial's ``env.seed``).
        Transitions are stored with ``done = terminated``; time-limit truncations (the env's,
        or ``nb_max_episode_steps``) end the episode but still bootstrap.

        Args:
            env: a gymnasium env with a Discrete action space.
            nb_steps: env steps to train for.
            visualize: show the episodes; needs ``render_mode="human"`` (see :meth:`_check_env`).
            verbose: 0 silent, 1 a progress bar per ``log_interval`` steps, 2 a line per episode.
            nb_max_episode_steps: end (truncate) episodes after this many steps.
            callbacks: Keras callbacks (``on_train_begin``, ``on_epoch_end(episode, logs)``,
                ``on_train_end``) and/or keras-rl-style objects with ``on_episode_end(episode,
                logs)``; ``logs`` holds ``episode_reward``, ``nb_episode_steps``, ``nb_steps``.
            log_interval: steps per progress bar with ``verbose=1``.

        Ctrl-C (``KeyboardInterrupt``) stops training cleanly, as in keras-rl: callbacks get
        ``on_train_end(logs={"did_abort": True})`` and the History so far is returned.

        Returns:
            A ``keras.callbacks.History``: ``history.history["episode_reward"]``,
            ``["nb_episode_steps"]``, ``["nb_steps"]``, one entry per finished episode.

        Raises:
            RuntimeError: :meth:`compile` was not called.
            ValueError: the env does not fit the model, or ``visualize`` without a window.
            TypeError: a keras-rl argument not supported here (``action_repetition``, ...).
        """
        _reject_keras_rl_arguments("fit()", kwargs, ("action_repetition", "nb_max_start_steps", "start_step_policy"))
        if not self.compiled:
            raise RuntimeError("call compile() before fit(): e.g. dqn.compile(Adam(learning_rate=1e-3))")
        nb_steps = _check_positive_int("nb_steps", nb_steps)
        log_interval = _check_positive_int("log_interval", log_interval)
        if nb_max_episode_steps is not None:
            nb_max_episode_steps = _check_positive_int("nb_max_episode_steps", nb_max_episode_steps)
        if verbose not in (0, 1, 2):
            raise ValueError(f"verbose must be 0, 1 or 2, got {verbose!r}")
        self._check_env(env, visualize, "fit()")
        history, cbs = self._callbacks(self.model, callbacks)
        window = _ObservationWindow(self.window_length, self.core.state_shape[1:])
        self.step = 0  # keras-rl counts each fit() from 0: annealing and warmup start again
        self.training = True
        start = time.perf_counter()
        if verbose:
            print(f"Training for {nb_steps} steps ...")
        self._call(cbs, "on_train_begin", {})
        did_abort = False
        try:
            self._fit_loop(env, nb_steps, verbose, nb_max_episode_steps, cbs, log_interval, window)
        except KeyboardInterrupt:  # Ctrl-C: keep what was learned, tell the callbacks, return the history
            did_abort = True
            if verbose:
                print("training aborted (KeyboardInterrupt)")
        finally:
            self.training = False
        self._call(cbs, "on_train_end", {"did_abort": did_abort})
        if verbose:
            print(f"done, took {time.perf_counter() - start:.3f} seconds")
        return history

    def _fit_loop(self, env, nb_steps, verbose, nb_max_episode_steps, cbs, log_interval, window) -> None:
        """:meth:`fit`'s episodes; the per-interval lists are kept only for ``verbose=1``'s summaries."""
        bar, interval_rewards, interval_losses, interval_q = None, [], [], []
        state, episode = None, 0
        while self.step < nb_steps:
            if state is None:  # a new episode
                observation, _ = env.reset()
                state = window.reset(observation)
                episode_reward, episode_step, actions, rewards, losses, episode_q = 0.0, 0, [], [], [], []
                episode_start = time.perf_counter()
                self._call(cbs, "on_episode_begin", episode, {})
            if verbose == 1 and bar is None:  # keras-rl's interval logger: a bar per log_interval steps
                print(f"Interval {self.step // log_interval + 1} ({self.step} steps performed)")
                bar = keras.utils.Progbar(min(log_interval, nb_steps - self.step))
            q = self._q(state)
            action = self.policy.select_action(q)
            observation, reward, terminated, truncated, _ = env.step(action)
            self.step += 1
            episode_step += 1
            if nb_max_episode_steps is not None and episode_step >= nb_max_episode_steps:
                truncated = True  # a time limit: the episode ends, the target still bootstraps
            next_state = window.push(observation)
            self.memory.append((state, action, reward, next_state, terminated))  # terminated, not truncated
            state = next_state
            episode_reward += float(reward)
            actions.append(action)
            rewards.append(float(reward))
            episode_q.append(float(q.max()))
            loss = None
            if (
                self.step > self.nb_steps_warmup
                and self.step % self.train_interval == 0
                and len(self.memory) >= self.batch_size
            ):
                loss = self.core.train_on_batch(self.memory.sample(self.batch_size))
                losses.append(loss)
            if bar is not None:
                values = [("reward", float(reward))] + ([("loss", losses[-1])] if losses else [])
                bar.update((self.step - 1) % log_interval + 1, values=values)
            if terminated or truncated:
                logs = {"episode_reward": episode_reward, "nb_episode_steps": episode_step, "nb_steps": self.step}
                if verbose == 2:
                    self._print_episode(episode, nb_steps, self.step, episode_start, episode_step, rewards, actions,
                                        losses, episode_q)  # fmt: skip
                self._call(cbs, "on_episode_end", episode, logs)
                self._call(cbs, "on_epoch_end", episode, logs)
                episode += 1
                state = None
            if bar is not None:
                interval_rewards += [episode_reward] if state is None else []
                interval_losses += [] if loss is None else [loss]
                interval_q.append(episode_q[-1])
                if self.step % log_interval == 0 or self.step == nb_steps:
                    self._print_interval(interval_rewards, interval_losses, interval_q)
                    bar, interval_rewards, interval_losses, interval_q = None, [], [], []

    @staticmethod
    def _print_interval(rewards: list, losses: list, max_q: list) -> None:
        line = f"{len(rewards)} episodes"
        if rewards:
            line += f" - episode_reward: {np.mean(rewards):.3f} [{np.min(rewards):.3f}, {np.max(rewards):.3f}]"
        if losses:
            line += f" - loss: {np.mean(losses):.4f}"
        if max_q:
            line += f" - mean_q: {np.mean(max_q):.3f}"
        print(line)

    @staticmethod
    def _print_episode(episode, nb_steps, steps_done, episode_start, episode_step, rewards, actions, losses, max_q):
        duration = time.perf_counter() - episode_start
        digits = len(str(nb_steps))
        loss = f"{np.mean(losses):.6f}" if losses else "--"
        print(
            f"{steps_done:{digits}d}/{nb_steps}: episode: {episode + 1}, duration: {duration:.3f}s, "
            f"episode steps: {episode_step:3d}, steps per second: {episode_step / max(duration, 1e-9):4.0f}, "
            f"episode reward: {sum(rewards):6.3f}, mean reward: {np.mean(rewards):6.3f} "
            f"[{np.min(rewards):6.3f}, {np.max(rewards):6.3f}], mean action: {np.mean(actions):.3f} "
            f"[{np.min(actions):.3f}, {np.max(actions):.3f}], loss: {loss}, mean_q: {np.mean(max_q):.3f}"
        )

    def test(
        self,
        env: gym.Env,
        nb_episodes: int = 1,
        visualize: bool = False,
        nb_max_episode_steps: int | None = None,
        callbacks: Sequence[Any] | None = None,
        verbose: int = 1,
        **kwargs: Any,
    ) -> keras.callbacks.History:
        """Play ``nb_episodes`` episodes with :attr:`test_policy` (greedy by default); no learning.

        Args:
            env: a gymnasium env with a Discrete action space.
            nb_episodes: episodes to play.
            visualize: show them; needs ``render_mode="human"``.
            nb_max_episode_steps: end episodes after this many steps.
            callbacks: as in :meth:`fit`; ``logs`` holds ``episode_reward`` and ``nb_steps``.
            verbose: 1 prints a line per episode, 0 nothing.

        Returns:
            A ``keras.callbacks.History`` with ``history.history["episode_reward"]`` and
            ``["nb_steps"]`` (steps of each episode), one entry per episode.

        Raises:
            TypeError: a keras-rl argument not supported here (``action_repetition``, ...).
        """
        _reject_keras_rl_arguments("test()", kwargs, ("action_repetition", "nb_max_start_steps", "start_step_policy"))
        nb_episodes = _check_positive_int("nb_episodes", nb_episodes)
        if nb_max_episode_steps is not None:
            nb_max_episode_steps = _check_positive_int("nb_max_episode_steps", nb_max_episode_steps)
        self._check_env(env, visualize, "test()")
        history, cbs = self._callbacks(self.model, callbacks)
        window = _ObservationWindow(self.window_length, self.core.state_shape[1:])
        was_training, self.training = self.training, False
        self.step = 0  # as in keras-rl, test() counts its own steps
        if verbose:
            print(f"Testing for {nb_episodes} episodes ...")
        self._call(cbs, "on_train_begin", {})
        for episode in range(nb_episodes):
            observation, _ = env.reset()
            state = window.reset(observation)
            total, steps, done = 0.0, 0, False
            self._call(cbs, "on_episode_begin", episode, {})
            while not done:
                action = self.test_policy.select_action(self._q(state))
                observation, reward, terminated, truncated, _ = env.step(action)
                state = window.push(observation)
                total += float(reward)
                steps += 1
                self.step += 1
                done = terminated or truncated or (nb_max_episode_steps is not None and steps >= nb_max_episode_steps)
            logs = {"episode_reward": total, "nb_steps": steps}
            if verbose:
                print(f"Episode {episode + 1}: reward: {total:.3f}, steps: {steps}")
            self._call(cbs, "on_episode_end", episode, logs)
            self._call(cbs, "on_epoch_end", episode, logs)
        self._call(cbs, "on_train_end", {})
        self.training = was_training
        return history

    # ------------------------------------------------------------------ files
    def save_weights(self, filepath: str | os.PathLike, overwrite: bool = False) -> None:
        """Save the online model's weights to an HDF5 file (any name), atomically.

        Raises:
            FileExistsError: the file exists and ``overwrite`` is False.
        """
        if not overwrite and os.path.exists(filepath):
            raise FileExistsError(f"{str(filepath)!r} exists; pass overwrite=True to replace it")
        save_h5(self.model, filepath)

    def load_weights(self, filepath: str | os.PathLike) -> None:
        """Load weights saved by :meth:`save_weights` into the online and the target model."""
        load_h5(self.model, filepath)
        self.core.update_target_model()
        self.core.refresh_policy()

"""keras-rl's ``DQNAgent``: the user's model and a :class:`SequentialMemory` on :class:`keras_dqn.TargetDQNAgent`.

The learning (replay, Double DQN, the loss, the target sync) is the core agent's compiled
training step.  This module checks the user's model, builds the core agent around it, and
drives it keras-rl's way: ``compile``, ``fit`` and ``test`` loops over a gymnasium env,
``save_weights`` / ``load_weights``.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import gymnasium as gym
import keras
import numpy as np

from keras_dqn.agents import TargetDQNAgent
from keras_dqn.checks import (
    check_fraction,
    check_non_negative_int,
    check_number,
    check_positive_int,
    check_positive_number,
)
from keras_dqn.envs.make import flat_observations
from keras_dqn.files.weights import load_h5, save_h5
from keras_dqn.networks.heads import DuelingHead, activation_name
from keras_dqn.rl.memory import SequentialMemory
from keras_dqn.rl.policies import EpsGreedyQPolicy, GreedyQPolicy, Policy
from keras_dqn.training.evaluation import check_agent_fits_env

_RUN_ARGUMENTS = ("action_repetition", "nb_max_start_steps", "start_step_policy")  # keras-rl's, for fit/test


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


@keras.saving.register_keras_serializable(package="keras_dqn")
def half_squared_error(y_true: Any, y_pred: Any) -> Any:
    """``mean(0.5 * (y_pred - y_true)**2)`` over the last axis: keras-rl's loss for ``delta_clip=np.inf``.

    It is the Huber loss with an infinite delta; Keras' ``"mse"`` would be twice it, and so
    double the gradients (and the effective learning rate of plain SGD).
    """
    return keras.ops.mean(0.5 * keras.ops.square(y_pred - y_true), axis=-1)


# ---------------------------------------------------------------------------------- the model
def _check_model(model: Any, nb_actions: int, window_length: int) -> tuple[int, ...]:
    """The state shape ``model`` takes, ``(window_length,) + observation shape``; or one clear ValueError."""
    if not isinstance(model, keras.Model):
        raise ValueError(f"model must be a keras.Model, got {type(model).__name__}")
    try:
        input_shape = model.input_shape
    except (AttributeError, ValueError):
        raise ValueError(
            "the model has no input shape yet; give its first layer one, as the tutorial does: "
            "Flatten(input_shape=(window_length,) + env.observation_space.shape)"
        ) from None
    if isinstance(input_shape, list):
        raise ValueError(f"DQN expects a model with a single input, this one has {len(input_shape)}")
    input_shape = tuple(input_shape)
    if len(model.outputs) != 1:
        raise ValueError(f"DQN expects a model with a single output, this one has {len(model.outputs)}")
    output_shape = tuple(model.output_shape)
    if output_shape != (None, nb_actions):
        raise ValueError(
            f"the model's output must be one Q-value per action, shape (None, {nb_actions}) for "
            f"nb_actions={nb_actions}; got {output_shape} (end the model with Dense(nb_actions))"
        )
    if len(input_shape) < 2 or input_shape[1] != window_length:
        raise ValueError(
            f"the model's input must be (window_length,) + observation shape with "
            f"window_length={window_length}, i.e. (None, {window_length}, ...); got {input_shape}. "
            f"Start the model with Flatten(input_shape=({window_length},) + env.observation_space.shape)"
        )
    if any(d is None for d in input_shape[1:]):
        raise ValueError(f"the model's input shape must be fully known apart from the batch, got {input_shape}")
    return tuple(int(d) for d in input_shape[1:])


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


# ---------------------------------------------------------------------------------- episodes
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


class _Step(NamedTuple):
    """One env step of an episode, as :meth:`DQNAgent._play` yields it."""

    state: np.ndarray
    q: np.ndarray  # Q-values of ``state``, from which the policy chose ``action``
    action: int
    reward: float
    next_state: np.ndarray
    terminated: bool
    ended: bool  # terminated, truncated, or cut at nb_max_episode_steps


class _IntervalLog:
    """``fit(verbose=1)``'s output, as keras-rl's: a progress bar per ``log_interval`` steps, then a summary."""

    def __init__(self, log_interval: int, nb_steps: int):
        self.log_interval, self.nb_steps = log_interval, nb_steps
        self.bar: keras.utils.Progbar | None = None
        self.rewards: list[float] = []  # of the episodes that ended in this interval
        self.losses: list[float] = []
        self.max_q: list[float] = []

    def update(self, step: int, reward: float, last_loss: float | None) -> None:
        """Advance the bar to env step ``step`` (counted from 1), showing the latest loss of the episode."""
        done_before = step - 1
        if self.bar is None:
            print(f"Interval {done_before // self.log_interval + 1} ({done_before} steps performed)")
            self.bar = keras.utils.Progbar(min(self.log_interval, self.nb_steps - done_before))
        values = [("reward", reward)] + ([] if last_loss is None else [("loss", last_loss)])
        self.bar.update(done_before % self.log_interval + 1, values=values)

    def record(self, step: int, episode_reward: float | None, loss: float | None, max_q: float) -> None:
        """Count step ``step``'s results (``episode_reward``: the episode ended) and summarize each interval."""
        self.rewards += [] if episode_reward is None else [episode_reward]
        self.losses += [] if loss is None else [loss]
        self.max_q.append(max_q)
        if step % self.log_interval == 0 or step == self.nb_steps:
            line = f"{len(self.rewards)} episodes"
            if self.rewards:
                rewards = self.rewards
                line += f" - episode_reward: {np.mean(rewards):.3f} [{np.min(rewards):.3f}, {np.max(rewards):.3f}]"
            if self.losses:
                line += f" - loss: {np.mean(self.losses):.4f}"
            if self.max_q:
                line += f" - mean_q: {np.mean(self.max_q):.3f}"
            print(line)
            self.bar, self.rewards, self.losses, self.max_q = None, [], [], []


def _print_episode(episode, nb_steps, steps_done, episode_start, rewards, actions, losses, max_q) -> None:
    """``fit(verbose=2)``'s line for a finished episode, as keras-rl's."""
    duration = time.perf_counter() - episode_start
    episode_step = len(rewards)
    digits = len(str(nb_steps))
    loss = f"{np.mean(losses):.6f}" if losses else "--"
    print(
        f"{steps_done:{digits}d}/{nb_steps}: episode: {episode + 1}, duration: {duration:.3f}s, "
        f"episode steps: {episode_step:3d}, steps per second: {episode_step / max(duration, 1e-9):4.0f}, "
        f"episode reward: {sum(rewards):6.3f}, mean reward: {np.mean(rewards):6.3f} "
        f"[{np.min(rewards):6.3f}, {np.max(rewards):6.3f}], mean action: {np.mean(actions):.3f} "
        f"[{np.min(actions):.3f}, {np.max(actions):.3f}], loss: {loss}, mean_q: {np.mean(max_q):.3f}"
    )


def _callbacks(model: keras.Model, callbacks: Sequence[Any] | None) -> tuple[keras.callbacks.History, list]:
    """A fresh History and it followed by ``callbacks``, each given ``model`` if it takes one."""
    history = keras.callbacks.History()
    all_callbacks = [history, *(callbacks or [])]
    for cb in all_callbacks:
        if hasattr(cb, "set_model"):
            cb.set_model(model)
    return history, all_callbacks


def _call(callbacks: list, method: str, *args: Any) -> None:
    """``cb.method(*args)`` for each callback that has ``method``."""
    for cb in callbacks:
        fn = getattr(cb, method, None)
        if fn is not None:
            fn(*args)


# ---------------------------------------------------------------------------------- the agent
def _check_env(core: TargetDQNAgent, window_length: int, env: gym.Env, visualize: bool) -> None:
    """``env`` must fit the agent: Discrete actions, one per Q-value, observations that the window
    stacks into the model's input, and a window to draw in when ``visualize``."""
    check_agent_fits_env(core, env)
    obs_shape = tuple(env.observation_space.shape or ())
    if (window_length, *obs_shape) != core.state_shape:
        raise ValueError(
            f"the env's observations have shape {obs_shape}, so the model's input must be "
            f"{(window_length, *obs_shape)} (window_length first); it is {core.state_shape}"
        )
    if visualize and getattr(env, "render_mode", None) != "human":
        raise ValueError(
            f"visualize=True needs an env made with render_mode='human' (gymnasium picks the render mode "
            f"in gym.make, e.g. gym.make('CartPole-v1', render_mode='human')); this env's is "
            f"{getattr(env, 'render_mode', None)!r}"
        )


def _bind_policies(agent: DQNAgent, seed: int | None) -> None:
    """Give ``agent``'s two policies their agent and, with a ``seed``, a seed each where they have
    none: ``seed=...`` makes the whole run repeatable, exploration too, not only replay."""
    for policy in (agent.policy, agent.test_policy):
        if not isinstance(policy, Policy):
            raise ValueError(f"policies must be keras_dqn.rl Policy objects, got {type(policy).__name__}")
        policy.set_agent(agent)
    if seed is not None:
        policy_seed, test_seed = np.random.SeedSequence(seed).spawn(2)
        agent.policy.seed_if_unseeded(policy_seed)
        agent.test_policy.seed_if_unseeded(test_seed)


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

    The core agent is :attr:`core` (a :class:`keras_dqn.TargetDQNAgent` whose ``memory`` is
    this agent's :attr:`memory`), so ``keras_dqn.files.checkpoint.save_checkpoint(agent.core, ...)``
    saves the whole training state.

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
        self.nb_actions = check_positive_int("nb_actions", nb_actions)
        if not isinstance(memory, SequentialMemory):
            raise ValueError(f"memory must be a keras_dqn.rl.SequentialMemory, got {type(memory).__name__}")
        state_shape = _check_model(model, self.nb_actions, memory.window_length)
        self.batch_size = check_positive_int("batch_size", batch_size)
        self.train_interval = check_positive_int("train_interval", train_interval)
        self.nb_steps_warmup = check_non_negative_int("nb_steps_warmup", nb_steps_warmup)
        self.target_model_update = check_number("target_model_update", target_model_update)
        if not self.target_model_update > 0:
            raise ValueError(f"target_model_update must be > 0 (< 1: soft, >= 1: hard), got {target_model_update!r}")
        if isinstance(delta_clip, (float, np.floating)) and delta_clip == np.inf:
            self.delta_clip = float(delta_clip)
        else:
            self.delta_clip = check_positive_number("delta_clip (np.inf for no clipping)", delta_clip)
        if dueling_type != "avg":
            raise ValueError(f"only dueling_type='avg' (Q = V + A - mean(A)) is supported, got {dueling_type!r}")
        self.enable_double_dqn = bool(enable_double_dqn)
        self.enable_dueling_network = bool(enable_dueling_network)
        self.dueling_type = dueling_type
        self.gamma = check_fraction("gamma, the discount rate,", gamma)
        seeded = seed is not None
        if seed is None:
            seed = int(np.random.randint(2**31 - 1))  # follows np.random.seed, as keras-rl did
        if self.enable_dueling_network:
            model = _add_dueling_head(model, self.nb_actions, seed)
        if self.target_model_update < 1:
            target_update: float | int = self.target_model_update
        else:  # keras-rl counts env steps; we copy after gradient steps, one per train_interval env steps
            target_update = max(1, int(self.target_model_update // self.train_interval))
        self.core = TargetDQNAgent(
            state_shape,
            self.nb_actions,
            model=model,
            memory=memory.bind(state_shape, seed, self.nb_actions),
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
        _bind_policies(self, seed if seeded else None)
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
    def _play(
        self, env: gym.Env, state: np.ndarray, window: _ObservationWindow, policy: Policy, max_steps: int | None
    ) -> Iterator[_Step]:
        """The steps of the episode from ``state`` (the reset's), ``policy`` choosing; counts :attr:`step`.

        Each action is chosen when the next step is asked for, so a policy reading
        :attr:`step` (``LinearAnnealedPolicy``) sees the steps taken before it."""
        for episode_step in itertools.count(1):
            q = self.core.q_values(state[None])[0]
            action = policy.select_action(q)
            observation, reward, terminated, truncated, _ = env.step(action)
            self.step += 1
            next_state = window.push(observation)
            # a time limit (the env's or max_steps) ends the episode, but its target still bootstraps
            ended = terminated or truncated or (max_steps is not None and episode_step >= max_steps)
            yield _Step(state, q, action, float(reward), next_state, bool(terminated), bool(ended))
            if ended:
                return
            state = next_state

    def _learn(self) -> float | None:
        """One gradient step if one is due now (after warmup, every ``train_interval`` steps); its loss."""
        if (
            self.step > self.nb_steps_warmup
            and self.step % self.train_interval == 0
            and len(self.memory) >= self.batch_size
        ):
            return self.core.train_on_batch(self.memory.sample(self.batch_size))
        return None

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
        _reject_keras_rl_arguments("fit()", kwargs, _RUN_ARGUMENTS)
        if not self.compiled:
            raise RuntimeError("call compile() before fit(): e.g. dqn.compile(Adam(learning_rate=1e-3))")
        nb_steps = check_positive_int("nb_steps", nb_steps)
        log_interval = check_positive_int("log_interval", log_interval)
        if nb_max_episode_steps is not None:
            nb_max_episode_steps = check_positive_int("nb_max_episode_steps", nb_max_episode_steps)
        if verbose not in (0, 1, 2):
            raise ValueError(f"verbose must be 0, 1 or 2, got {verbose!r}")
        env = flat_observations(env)  # FrozenLake's, Taxi's, Blackjack's observations one-hot, as make_env's
        _check_env(self.core, self.window_length, env, visualize)
        history, cbs = _callbacks(self.model, callbacks)
        self.step = 0  # keras-rl counts each fit() from 0: annealing and warmup start again
        self.training = True
        start = time.perf_counter()
        if verbose:
            print(f"Training for {nb_steps} steps ...")
        _call(cbs, "on_train_begin", {})
        did_abort = False
        try:
            interval_log = _IntervalLog(log_interval, nb_steps) if verbose == 1 else None
            self._fit_loop(env, nb_steps, nb_max_episode_steps, cbs, interval_log, print_episodes=verbose == 2)
        except KeyboardInterrupt:  # Ctrl-C: keep what was learned, tell the callbacks, return the history
            did_abort = True
            if verbose:
                print("training aborted (KeyboardInterrupt)")
        finally:
            self.training = False
        _call(cbs, "on_train_end", {"did_abort": did_abort})
        if verbose:
            print(f"done, took {time.perf_counter() - start:.3f} seconds")
        return history

    def _fit_loop(self, env, nb_steps, nb_max_episode_steps, cbs, interval_log, print_episodes) -> None:
        """:meth:`fit`'s episodes, until ``nb_steps`` env steps (the last episode may stay unfinished)."""
        window = _ObservationWindow(self.window_length, self.core.state_shape[1:])
        episode = 0
        while self.step < nb_steps:
            state = window.reset(env.reset()[0])
            rewards, actions, losses, max_q = [], [], [], []
            episode_start = time.perf_counter()
            _call(cbs, "on_episode_begin", episode, {})
            for step in self._play(env, state, window, self.policy, nb_max_episode_steps):
                self.memory.append((step.state, step.action, step.reward, step.next_state, step.terminated))
                loss = self._learn()
                rewards.append(step.reward)
                actions.append(step.action)
                max_q.append(float(step.q.max()))
                losses += [] if loss is None else [loss]
                if interval_log is not None:
                    interval_log.update(self.step, step.reward, losses[-1] if losses else None)
                if step.ended:
                    logs = {"episode_reward": sum(rewards), "nb_episode_steps": len(rewards), "nb_steps": self.step}
                    if print_episodes:
                        _print_episode(episode, nb_steps, self.step, episode_start, rewards, actions, losses, max_q)
                    _call(cbs, "on_episode_end", episode, logs)
                    _call(cbs, "on_epoch_end", episode, logs)
                    episode += 1
                if interval_log is not None:
                    interval_log.record(self.step, sum(rewards) if step.ended else None, loss, max_q[-1])
                if self.step >= nb_steps:
                    break

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
        _reject_keras_rl_arguments("test()", kwargs, _RUN_ARGUMENTS)
        nb_episodes = check_positive_int("nb_episodes", nb_episodes)
        if nb_max_episode_steps is not None:
            nb_max_episode_steps = check_positive_int("nb_max_episode_steps", nb_max_episode_steps)
        env = flat_observations(env)
        _check_env(self.core, self.window_length, env, visualize)
        history, cbs = _callbacks(self.model, callbacks)
        window = _ObservationWindow(self.window_length, self.core.state_shape[1:])
        was_training, self.training = self.training, False
        self.step = 0  # as in keras-rl, test() counts its own steps
        if verbose:
            print(f"Testing for {nb_episodes} episodes ...")
        _call(cbs, "on_train_begin", {})
        for episode in range(nb_episodes):
            state = window.reset(env.reset()[0])
            _call(cbs, "on_episode_begin", episode, {})
            total, steps = 0.0, 0
            for step in self._play(env, state, window, self.test_policy, nb_max_episode_steps):
                total += step.reward
                steps += 1
            logs = {"episode_reward": total, "nb_steps": steps}
            if verbose:
                print(f"Episode {episode + 1}: reward: {total:.3f}, steps: {steps}")
            _call(cbs, "on_episode_end", episode, logs)
            _call(cbs, "on_epoch_end", episode, logs)
        _call(cbs, "on_train_end", {})
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

    def export(self, path: str | os.PathLike) -> Path:
        """Export the greedy Q-network to ONNX (``NAME.onnx``), TFLite (``NAME.tflite``) or a
        SavedModel folder, to run without keras_dqn: :meth:`keras_dqn.DQNAgent.export`."""
        return self.core.export(path)

    def load_weights(self, filepath: str | os.PathLike) -> None:
        """Load weights saved by :meth:`save_weights` into the online and the target model."""
        load_h5(self.model, filepath)
        self.core.update_target_model()
        self.core.refresh_policy()

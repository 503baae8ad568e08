"""The library's training loop.

:func:`train` reads like the blog's loop — act, step, store, learn, log — but acts for every
sub-env of a vector env with one batched NumPy forward pass and runs all the gradient steps
that are due in one compiled call.  Its parts, top to bottom:

* :func:`_setup` checks every argument and builds what the loop needs (a :class:`_Run`);
* the ``while`` loop in :func:`train`, one phase per comment;
* :func:`_log_row`: evaluate, keep the best and last weights, checkpoint, tell the callbacks.
"""

from __future__ import annotations

import json
import math
import signal
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import keras
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv

from keras_dqn._internals.gym import can_set_autoreset_flags, set_autoreset_flags
from keras_dqn.checks import check_folder, check_optional_int
from keras_dqn.envs.make import env_options, flat_observations, make_env
from keras_dqn.exploration import check_linear_settings, linear_over_fraction
from keras_dqn.files.checkpoint import CHECKPOINT_NAME, load_checkpoint, save_checkpoint
from keras_dqn.files.env_state import env_state, restore_env_state
from keras_dqn.files.runs import lock_run_folders
from keras_dqn.training.callbacks import CSVLogger, TensorBoardScalars
from keras_dqn.training.evaluation import check_agent_fits_env, evaluate
from keras_dqn.training.settings import check_train_setting

RECENT_EPISODES = 20  # log rows show the mean return of this many latest training episodes
EVAL_SEED = 10_000  # evaluation episodes start from reset seeds EVAL_SEED + step: never training's
CONFIRM_SEED = 500_000_000  # a confirmation's from CONFIRM_SEED + step: never an evaluation's


class _OneEnv:
    """One gymnasium env seen as a vector env of one (NEXT_STEP autoreset), without
    ``SyncVectorEnv``'s per-step bookkeeping, which costs more than a CartPole step itself."""

    num_envs = 1

    def __init__(self, env: gym.Env):
        self.env = env
        self.spec = env.spec
        self.single_observation_space = env.observation_space
        self.single_action_space = env.action_space
        self._ended = False

    def reset(self, seed: int | None = None) -> tuple[np.ndarray, dict]:
        obs, info = self.env.reset(seed=seed)
        self._ended = False
        return np.array(obs)[None], info

    def step(self, actions: np.ndarray) -> tuple:
        if self._ended:  # as a vector env: the step after an episode's end only resets
            obs, info = self.reset()
            return obs, np.zeros(1), np.zeros(1, dtype=bool), np.zeros(1, dtype=bool), info
        obs, reward, terminated, truncated, info = self.env.step(int(actions[0]))
        self._ended = terminated or truncated
        return np.array(obs)[None], np.array([float(reward)]), np.array([terminated]), np.array([truncated]), info


@dataclass
class _Progress:
    """Where the run is: the counters a checkpoint saves."""

    steps: int = 0  # env steps taken (transitions stored), over all sub-envs
    row: int = 0  # log rows written (Keras' "epoch")
    best: float = -math.inf  # best greedy evaluation so far
    pending: int = 0  # env steps since the last training call, toward the next `train_every`
    wall_s: float = 0.0  # wall-clock seconds of training (resumed runs included), up to the last log row


@dataclass
class _RowStats:
    """What the next log row summarises; cleared after each row."""

    returns: deque = field(default_factory=lambda: deque(maxlen=RECENT_EPISODES))  # kept across rows
    losses: list = field(default_factory=list)
    max_q_sum: float = 0.0
    max_q_count: int = 0
    last_eval: float = float("nan")  # shown on the progress bar
    since_time: float = field(default_factory=time.perf_counter)
    since_steps: int = 0
    wall_mark: float = field(default_factory=time.perf_counter)  # when state.wall_s was last brought up to date


@dataclass
class _Run:
    """The checked settings of one :func:`train` call, and what it writes to."""

    envs: Any
    total_steps: int
    batch_size: int
    train_every: int
    gradient_steps: int
    learning_starts: int
    eval_env: Any
    eval_kwargs: dict[str, Any]
    eval_every: int
    eval_episodes: int
    eval_stall_steps: int | None
    target_score: float | None
    confirm_episodes: int
    callbacks: keras.callbacks.CallbackList
    history: keras.callbacks.History
    checkpoint_dir: Path | None
    save_memory: bool
    frames_per_step: int | None
    bar: keras.utils.Progbar | None
    print_rows: bool


def train(
    agent: Any,
    env: gym.Env | VectorEnv,
    total_steps: int,
    *,
    batch_size: int = 32,
    train_every: int = 1,
    gradient_steps: int = 1,
    learning_starts: int = 1000,
    eval_env: str | gym.Env | VectorEnv | None = None,
    eval_every: int = 10_000,
    eval_episodes: int = 10,
    eval_stall_steps: int | None = None,
    target_score: float | None = None,
    confirm_episodes: int = 0,
    callbacks: list[keras.callbacks.Callback] | None = None,
    log_dir: str | Path | None = None,
    checkpoint_dir: str | Path | None = None,
    progress: bool = True,
    resume: bool = False,
    save_memory: bool = False,
    seed: int | None = None,
    frames_per_step: int | None = None,
    exploration_fraction: float | None = None,
    exploration_final_eps: float | None = None,
) -> keras.callbacks.History:
    """Train ``agent`` for ``total_steps`` environment steps.

    Every ``train_every`` env steps (counted over all sub-envs) the agent takes
    ``gradient_steps`` gradient steps, all due steps in one compiled call.  Epsilon follows
    the agent's schedule (``agent.exploration``): by default it decays once per gradient
    step, as with ``replay``; with ``exploration_fraction`` it falls linearly over that share
    of ``total_steps``, as in SB3 and rl-zoo.  Transitions are stored with
    ``done = terminated``: time-limit truncations still bootstrap.

    Every ``eval_every`` steps (and at the end) the loop logs one row — the Keras "epoch":
    ``step``, ``episode_return`` (mean of the last 20 training episodes), ``eval_mean``
    (greedy, over ``eval_episodes`` on ``eval_env``), ``loss``, ``epsilon``, ``mean_max_q``,
    ``steps_per_s`` (since the last row, evaluation and checkpoint left out), ``eval_s`` (the
    seconds this row's evaluation took, a confirmation's included), ``confirm_mean`` (with
    ``confirm_episodes``) and ``wall_s`` (wall-clock seconds since the run began, to the end of
    this row's evaluation: earlier evaluations, checkpoints and the sessions it resumed
    included) — to the returned History,
    to ``callbacks`` (any Keras callbacks' ``on_epoch_end``), and to ``log_dir``: ``progress.csv``
    (:class:`keras_dqn.training.callbacks.CSVLogger`) and TensorBoard scalars at the env step
    (:class:`keras_dqn.training.callbacks.TensorBoardScalars`).

    Args:
        agent: a DQNAgent (or subclass).
        env: a gymnasium env, or a vector env (autoreset mode NEXT_STEP) with any n_envs.
        total_steps: env steps to take, over all sub-envs.
        batch_size: minibatch size of each gradient step.
        train_every: env steps between training calls.
        gradient_steps: gradient steps per training call.
        learning_starts: env steps before the first gradient step.
        eval_env: env id or env to evaluate on; ``None``: the training env's id.
        eval_every: env steps between log rows / evaluations.
        eval_episodes: greedy episodes per evaluation (0: no evaluation).
        eval_stall_steps: end an evaluation episode after this many steps in a row without a
            reward, scoring what it has (``None``: play it out): Pong without sticky actions
            falls into endless rallies that otherwise run to ALE's 27,000-step cap
            (:func:`keras_dqn.evaluate`'s ``stall_steps``).
        target_score: stop early once an evaluation's mean reaches it.
        confirm_episodes: with ``target_score``: once an evaluation reaches it, play this many
            greedy episodes more from other reset seeds (``500,000,000 + step``) and stop only if
            their mean reaches it too, so a few lucky episodes do not end the run (logged as
            ``confirm_mean``, NaN in rows that did not confirm; 0: stop on the evaluation alone).
        callbacks: Keras callbacks; they receive ``on_train_begin``, ``on_epoch_end(epoch,
            logs)`` and ``on_train_end``.
        log_dir: folder for ``progress.csv`` and TensorBoard event files.
        checkpoint_dir: folder for ``best.h5`` (best evaluation so far), ``last.h5`` and
            ``checkpoint.npz`` (optimizer, epsilon, counters, RNG state: see
            :mod:`keras_dqn.files.checkpoint`), all written at every log row.
        progress: a live progress bar when stdout is a terminal; otherwise a log line per row.
        resume: continue from ``checkpoint_dir``'s checkpoint (starts fresh, saying so, if
            there is none). ``total_steps`` still counts from the very first step.
        save_memory: also store the replay memory in the checkpoint (large, but resuming
            then continues with the same experience).
        seed: seeds the environments' first reset.
        frames_per_step: emulator frames per env step (4 for Atari with frame skip 4): adds
            ``frames_per_s`` to the logs and shows frames/s on the progress bar.
        exploration_fraction: for this call, epsilon falls linearly from the agent's epsilon
            to ``exploration_final_eps`` over this share of ``total_steps``, in (0, 1]
            (``None``: the agent's own schedule).  A resumed run follows the checkpoint's
            schedule; ``agent.exploration`` is the agent's own again when ``train`` returns.
        exploration_final_eps: epsilon at the end of that share and after (``None``: the
            agent's ``epsilon_min``); only with ``exploration_fraction``.

    Returns:
        A ``keras.callbacks.History`` whose ``history`` maps each logged name to a list.
    """
    schedule = _linear_exploration(agent, total_steps, exploration_fraction, exploration_final_eps)
    run = _setup(agent, env, total_steps, batch_size, train_every, gradient_steps, learning_starts, eval_env,
                 eval_every, eval_episodes, eval_stall_steps, target_score, confirm_episodes, callbacks, log_dir,
                 checkpoint_dir, progress, resume, save_memory, seed, frames_per_step)  # fmt: skip
    with lock_run_folders(run.checkpoint_dir, log_dir), _StopOnInterrupt() as interrupt:
        own_schedule = agent.exploration
        if schedule is not None:  # for this call only (a resumed run's checkpoint restores the one it saved)
            agent.exploration = schedule
        try:
            return _loop(run, agent, resume, seed, interrupt)
        finally:
            agent.exploration = own_schedule


def _loop(run: _Run, agent, resume: bool, seed: int | None, interrupt: _StopOnInterrupt) -> keras.callbacks.History:
    """train()'s loop: act, step, store, learn, log."""
    memory, rng = agent.memory, agent.rng
    state, stats, episodes = _start(run, agent, resume, seed)
    envs = run.envs
    start_steps = state.steps
    next_row = (state.steps // run.eval_every + 1) * run.eval_every
    start = time.perf_counter()
    run.callbacks.on_train_begin()
    stop = False
    while state.steps < run.total_steps and not stop and not interrupt.requested:
        # 1. Act: one batched forward pass for every sub-env (noisy networks: with fresh noise),
        #    then epsilon-greedy per sub-env.
        obs = episodes.obs
        q = agent.q_values(obs, greedy=False)
        actions = np.argmax(q, axis=1)
        explore = rng.random(envs.num_envs) < agent.epsilon
        if explore.any():  # (drawing no integers costs as much as drawing a few)
            actions[explore] = rng.integers(agent.action_size, size=int(explore.sum()))
        stats.max_q_sum += float(q.max(axis=1).sum())
        stats.max_q_count += envs.num_envs

        # 2. Step every sub-env.
        next_obs, rewards, terminated, truncated, _ = envs.step(actions)

        # 3. Store (s, a, r, s', terminated): a time-limit cut still bootstraps (truncated only
        #    ends n-step sums there).  A step that only reset a finished sub-env is no transition.
        real = ~episodes.after_done
        if real.all():
            real, new_steps = True, envs.num_envs
            memory.extend(obs, actions, rewards, next_obs, terminated, truncated=truncated)
        else:  # env_indices: which sub-env each came from (n-step sums and frame stacks follow each)
            new_steps = int(real.sum())
            memory.extend(obs[real], actions[real], rewards[real], next_obs[real], terminated[real],
                          env_indices=np.flatnonzero(real), truncated=truncated[real])  # fmt: skip
        ended = episodes.advance(next_obs, rewards, terminated | truncated, real, stats.returns)
        state.steps += new_steps

        # 4. Learn: every train_every env steps, gradient_steps updates in one compiled call
        #    (after a resume without the saved memory, wait for it to refill as at the start).
        #    Then epsilon moves along the agent's schedule (per gradient step, or per env step).
        n_updates = 0
        if state.steps >= run.learning_starts and len(memory) >= _warm_size(run, memory):
            state.pending += new_steps
            n_updates = (state.pending // run.train_every) * run.gradient_steps
            state.pending %= run.train_every
            if n_updates:
                if hasattr(memory, "anneal_beta"):  # prioritized replay: importance correction -> 1 by the end
                    memory.anneal_beta(state.steps / run.total_steps)
                losses = agent.train_on_batches(memory.sample_batches(n_updates, run.batch_size))
                stats.losses.extend(losses.tolist())
        agent.decay_epsilon(n_updates, env_steps=state.steps)

        # 5. Log: a progress-bar update per finished episode; every eval_every steps, a log row.
        if run.bar is not None and (ended.any() or state.steps >= run.total_steps):
            elapsed = max(time.perf_counter() - start, 1e-9)
            _update_bar(run, agent, state, stats, rate=(state.steps - start_steps) / elapsed)
        if state.steps >= next_row or state.steps >= run.total_steps:
            next_row += run.eval_every
            stop = _log_row(run, agent, state, stats, episodes)
    interrupted = interrupt.requested and state.steps < run.total_steps and not stop
    if interrupted:  # Ctrl-C: keep what was learnt, say where it stopped
        if run.checkpoint_dir:
            _save_run(run, agent, state, stats, episodes)
        print(f"\ninterrupted at step {state.steps}" + (f"; saved {run.checkpoint_dir}" if run.checkpoint_dir else ""))
    run.history.interrupted = interrupted
    run.history.stopped_at_step = state.steps
    run.callbacks.on_train_end()
    return run.history


class _Episodes:
    """The episodes in progress, one per sub-env: the latest observations, whether each sub-env's
    next step only resets it (NEXT_STEP autoreset), and the returns so far."""

    def __init__(self, obs: np.ndarray, after_done: np.ndarray | None = None, returns: np.ndarray | None = None):
        self.obs = obs
        self.after_done = np.zeros(len(obs), dtype=bool) if after_done is None else after_done.astype(bool)
        self.returns = np.zeros(len(obs)) if returns is None else returns.astype(np.float64)

    def advance(self, next_obs, rewards, done, real, finished: deque) -> np.ndarray:
        """Move on one step; append the return of each episode that ended to ``finished``.

        ``real``: which sub-envs took a step of an episode (``True``: all; the others only reset)."""
        self.returns += rewards if real is True else np.where(real, rewards, 0.0)
        ended = done & real
        if ended.any():
            for i in np.flatnonzero(ended):
                finished.append(float(self.returns[i]))
                self.returns[i] = 0.0
        self.after_done, self.obs = done, next_obs
        return ended


class _StopOnInterrupt:
    """Turn the first Ctrl-C into a request to stop after the current step (a second one stops at once).

    Only the main thread can catch signals; elsewhere Ctrl-C behaves as usual."""

    def __init__(self):
        self.requested = False
        self._previous = None

    def __enter__(self) -> _StopOnInterrupt:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def _linear_exploration(agent, total_steps: int, fraction: float | None, final_eps: float | None):
    """train()'s ``exploration_fraction``: the linear schedule over that share of the run, or
    ``None`` (the agent's own schedule); checked before anything is built."""
    check_linear_settings(fraction, final_eps, noisy=agent.noisy, agent=f"this {type(agent).__name__}")
    if fraction is None:
        return None
    end = agent.epsilon_min if final_eps is None else final_eps
    return linear_over_fraction(agent.epsilon, end, fraction, total_steps)


def _start(run: _Run, agent, resume: bool, seed: int | None) -> tuple[_Progress, _RowStats, _Episodes]:
    """The loop's state: fresh episodes, or everything a checkpoint saved (an exact continuation
    when the envs' states could be saved as data; otherwise the episodes in progress start again)."""
    state, stats = _Progress(), _RowStats()
    checkpoint = run.checkpoint_dir / CHECKPOINT_NAME if run.checkpoint_dir else None
    if not resume or not checkpoint.is_file():
        if resume:
            print(f"no checkpoint in {run.checkpoint_dir}: starting from scratch")
        return state, stats, _Episodes(run.envs.reset(seed=seed)[0])
    asked = agent.exploration
    saved = load_checkpoint(agent, run.checkpoint_dir)
    if agent.exploration != asked:
        print(f"resuming with the checkpoint's exploration schedule, {agent.exploration}, not {asked}")
    loop = saved.pop("loop_arrays", {})
    state = _Progress(steps=saved["steps"], row=saved["epoch"], best=saved["best"], pending=saved.get("pending", 0),
                      wall_s=saved.get("wall_s", 0.0))
    stats.returns.extend(saved.get("recent_returns", []))
    stats.since_steps = state.steps
    print(f"resuming from {checkpoint} at step {state.steps}")
    fresh_obs = run.envs.reset(seed=None if seed is None else seed + state.steps)[0]
    why_not = _restore_envs(run, loop)
    if why_not is None:
        print("continuing the episodes in progress with the env states saved in the checkpoint")
        return state, stats, _Episodes(loop["obs"], loop["after_done"], loop["episode_returns"])
    print(f"the episodes in progress can't be continued ({why_not}): new episodes start")
    return state, stats, _Episodes(fresh_obs)


def _save_run(run: _Run, agent, state: _Progress, stats: _RowStats, episodes: _Episodes) -> None:
    """last.h5 and the checkpoint: the agent, the counters, and the episodes in progress."""
    agent.save(run.checkpoint_dir / "last.h5")
    progress = {"steps": state.steps, "epoch": state.row, "best": state.best, "pending": state.pending,
                "recent_returns": list(stats.returns),  # wall_s: with this row's evaluation
                "wall_s": state.wall_s + time.perf_counter() - stats.wall_mark}  # fmt: skip
    loop = {"obs": episodes.obs, "after_done": episodes.after_done, "episode_returns": episodes.returns}
    states = [env_state(env) for env in _sub_envs(run.envs)]
    if states and None not in states:
        loop["env_states"] = np.array(json.dumps(states))
    save_checkpoint(agent, run.checkpoint_dir, progress, include_memory=run.save_memory, loop_arrays=loop)


def _sub_envs(envs) -> list:
    """The envs whose states make up the episodes in progress: one env as a whole (its autoreset
    flag included), a SyncVectorEnv's sub-envs; none for other vector envs."""
    if isinstance(envs, _OneEnv):
        return [envs]
    return list(envs.envs) if can_set_autoreset_flags(envs) else []


def _restore_envs(run: _Run, loop: dict[str, np.ndarray]) -> str | None:
    """Set the run's (reset) envs to the states saved in the checkpoint: ``None`` when done, else why not.

    The states are data (:mod:`keras_dqn.files.env_state`): a file can't make this run code."""
    if "envs" in loop:
        return "the checkpoint holds its envs as a pickle, which keras_dqn never opens: unpickling can run code"
    if "env_states" not in loop:
        return "the checkpoint holds no env states: these envs keep state that is not plain data"
    envs, targets = run.envs, _sub_envs(run.envs)
    try:
        states = json.loads(str(loop["env_states"]))
    except ValueError:
        return "the checkpoint's env states are not valid JSON"
    if not isinstance(states, list) or len(states) != len(targets):
        return f"the checkpoint holds the states of {len(states) if isinstance(states, list) else 'no'} envs, " \
               f"this run has {len(targets)}"  # fmt: skip
    expected = (len(targets), *run.envs.single_observation_space.shape)
    arrays = {name: loop.get(name) for name in ("obs", "after_done", "episode_returns")}
    shapes = {name: None if a is None else a.shape for name, a in arrays.items()}
    if shapes != {"obs": expected, "after_done": expected[:1], "episode_returns": expected[:1]} or any(
        a.dtype.kind not in "biuf" for a in arrays.values()
    ):
        return f"the checkpoint's episodes in progress have shapes {shapes}, this run's observations {expected}"
    try:
        for env, saved in zip(targets, states, strict=True):
            restore_env_state(env, saved)
    except ValueError as error:
        return str(error)
    if not isinstance(envs, _OneEnv):
        set_autoreset_flags(envs, loop["after_done"])
    return None


def _json_options(options: dict[str, Any]) -> dict[str, Any]:
    """The env's options as the weights file can hold them (JSON); one that JSON can't hold is left out, saying so."""
    kept = {}
    for key, value in options.items():
        try:
            json.dumps(value)
            kept[key] = value
        except TypeError:
            print(f"the env option {key}={value!r} is not JSON: the weights file will not record it")
    return kept


def _check_fits(agent, env, what: str) -> None:
    """``env`` must have the agent's number of actions and its state shape (flat Box, or frames)."""
    check_agent_fits_env(agent, env)
    space = env.single_observation_space if isinstance(env, VectorEnv) else env.observation_space
    if tuple(space.shape or ()) != tuple(agent.state_shape):
        raise ValueError(f"{what}'s observations have shape {space.shape}, the agent expects {agent.state_shape}")


def _warm_size(run: _Run, memory) -> int:
    """Transitions the memory must hold before learning: a batch, and the warm-up (capped by the capacity)."""
    return max(run.batch_size, min(run.learning_starts, memory.maxlen))


def _log_row(run: _Run, agent, state: _Progress, stats: _RowStats, episodes: _Episodes) -> bool:
    """Write one log row: evaluate, save best/last weights and the checkpoint, tell the callbacks.

    Returns whether the target score was reached (train() then stops)."""
    now = time.perf_counter()
    logs: dict[str, Any] = {
        "step": state.steps,
        "episode_return": float(np.mean(stats.returns)) if stats.returns else float("nan"),
        "loss": float(np.mean(stats.losses)) if stats.losses else float("nan"),
        "epsilon": agent.epsilon,
        "mean_max_q": stats.max_q_sum / max(stats.max_q_count, 1),
        "steps_per_s": (state.steps - stats.since_steps) / max(now - stats.since_time, 1e-9),
    }
    if run.frames_per_step:
        logs["frames_per_s"] = logs["steps_per_s"] * run.frames_per_step
    reached = False
    if run.eval_episodes:
        # Evaluation episodes use reset seeds 10,000 + step: never the seeds training started from.
        returns = evaluate(agent, run.eval_env, run.eval_episodes, seed=EVAL_SEED + state.steps,
                           stall_steps=run.eval_stall_steps, env_kwargs=run.eval_kwargs)  # fmt: skip
        logs["eval_mean"] = float(np.mean(returns))
        reached = run.target_score is not None and logs["eval_mean"] >= run.target_score
        if run.confirm_episodes:  # a reached target counts once other episodes agree
            logs["confirm_mean"] = float("nan")
            if reached:
                confirmed = evaluate(agent, run.eval_env, run.confirm_episodes, seed=CONFIRM_SEED + state.steps,
                                     stall_steps=run.eval_stall_steps, env_kwargs=run.eval_kwargs)  # fmt: skip
                logs["confirm_mean"] = float(np.mean(confirmed))
                reached = logs["confirm_mean"] >= run.target_score
        logs["eval_s"] = time.perf_counter() - now  # long games show here, not in steps_per_s
        if run.checkpoint_dir and logs["eval_mean"] > state.best:
            agent.save(run.checkpoint_dir / "best.h5")
        state.best = max(state.best, logs["eval_mean"])
        stats.last_eval = logs["eval_mean"]
    # The row's wall time runs to the end of its evaluation: "seconds to a score" is when the score was known.
    # (Earlier rows' evaluations and checkpoint writes are in it too; this row's checkpoint goes to the next.)
    now = time.perf_counter()
    state.wall_s += now - stats.wall_mark
    stats.wall_mark = now
    logs["wall_s"] = state.wall_s
    run.callbacks.on_epoch_end(state.row, logs)
    if run.print_rows:
        print(" - ".join(f"{k}: {v:.4g}" if isinstance(v, float) else f"{k}: {v}" for k, v in logs.items()))
    state.row += 1
    stats.losses.clear()
    stats.max_q_sum, stats.max_q_count = 0.0, 0
    if run.checkpoint_dir:  # after the row is counted: a resumed run writes the next row
        _save_run(run, agent, state, stats, episodes)
    stats.since_time, stats.since_steps = time.perf_counter(), state.steps
    return reached


def _update_bar(run: _Run, agent, state: _Progress, stats: _RowStats, rate: float) -> None:
    values = [
        ("return", stats.returns[-1] if stats.returns else 0.0),
        ("eval", stats.last_eval),
        ("epsilon", agent.epsilon),
        ("loss", stats.losses[-1] if stats.losses else float("nan")),
        ("steps/s", rate),
    ]
    if run.frames_per_step:
        values.append(("frames/s", rate * run.frames_per_step))
    run.bar.update(min(state.steps, run.total_steps), values=values)


def _setup(agent, env, total_steps, batch_size, train_every, gradient_steps, learning_starts, eval_env, eval_every,
           eval_episodes, eval_stall_steps, target_score, confirm_episodes, callbacks, log_dir, checkpoint_dir,
           progress, resume, save_memory, seed, frames_per_step) -> _Run:  # fmt: skip
    """Check train()'s arguments and build the run: the envs, the callbacks, the progress bar."""
    for name, value in (("total_steps", total_steps), ("train_every", train_every), ("gradient_steps", gradient_steps),
                        ("batch_size", batch_size), ("eval_every", eval_every), ("frames_per_step", frames_per_step),
                        ("learning_starts", learning_starts), ("eval_episodes", eval_episodes),
                        ("target_score", target_score), ("confirm_episodes", confirm_episodes),
                        ("eval_stall_steps", eval_stall_steps)):  # fmt: skip
        check_train_setting(name, value)
    if confirm_episodes and (target_score is None or not eval_episodes):
        raise ValueError(
            f"confirm_episodes={confirm_episodes} confirms an evaluation that reached target_score: it needs "
            f"target_score and eval_episodes > 0 (got target_score={target_score}, eval_episodes={eval_episodes})"
        )
    check_optional_int("seed", seed)
    if isinstance(env, str):  # an id: the env it names, as keras_dqn.make_env makes it for training
        env = make_env(env, training=True)
    if not isinstance(env, (gym.Env, VectorEnv)):
        raise ValueError(f"env must be a gymnasium Env, VectorEnv or env id, got {env!r}")
    env = flat_observations(env)  # FrozenLake's, Taxi's, Blackjack's observations one-hot, as make_env's
    if isinstance(env, VectorEnv):
        mode = env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
        if mode != AutoresetMode.NEXT_STEP:
            raise ValueError(f"train() needs a vector env with autoreset_mode NEXT_STEP (the default), got {mode}")
        envs = env
    else:
        envs = _OneEnv(env)
    _check_fits(agent, env, "the training env")
    if batch_size > agent.memory.maxlen:
        raise ValueError(
            f"batch_size {batch_size} is larger than the agent's replay memory ({agent.memory.maxlen} transitions): "
            "it could never sample a minibatch"
        )
    spec, options = envs.spec, env_options(envs)
    if spec is not None:  # saved with the weights, so `keras-dqn play` needs only the file
        if agent.env_id is None:
            agent.env_id = spec.id
        if not agent.env_kwargs:
            agent.env_kwargs = _json_options(options)
    eval_kwargs: dict[str, Any] = {}  # the options of an eval env made from the training env's id
    if eval_env is None and eval_episodes:
        if spec is None:
            raise ValueError("pass eval_env: the training env has no registered id to evaluate on")
        # make_env rebuilds FlattenObservation itself; other wrappers (Atari preprocessing) the id alone does not
        wrappers = [w.name for w in spec.additional_wrappers if w.name != "FlattenObservation"]
        if wrappers:
            raise ValueError(
                f"pass eval_env: the training env is {spec.id} wrapped in {', '.join(wrappers)}, which its id alone "
                "does not rebuild (for Atari: eval_env=make_atari_vector_env(game, n, training=False))"
            )
        eval_env, eval_kwargs = spec.id, options
    if eval_episodes and not isinstance(eval_env, str):
        _check_fits(agent, eval_env, "eval_env")
    checkpoint_dir = check_folder("checkpoint_dir", checkpoint_dir)
    log_dir = check_folder("log_dir", log_dir)
    if resume and checkpoint_dir is None:
        raise ValueError("resume=True needs the checkpoint_dir to resume from")
    history = keras.callbacks.History()
    all_callbacks = [history, *(callbacks or [])]
    if log_dir:
        Path(log_dir).mkdir(parents=True, exist_ok=True)
        all_callbacks.append(CSVLogger(str(Path(log_dir) / "progress.csv"), append=resume))
        all_callbacks.append(TensorBoardScalars(log_dir))
    show_bar = progress and sys.stdout.isatty()
    bar_metrics = ["return", "eval", "epsilon", "loss", "steps/s", "frames/s"]
    return _Run(
        envs=envs, total_steps=total_steps, batch_size=batch_size, train_every=train_every,
        gradient_steps=gradient_steps, learning_starts=learning_starts, eval_env=eval_env, eval_kwargs=eval_kwargs,
        eval_every=eval_every, eval_episodes=eval_episodes, eval_stall_steps=eval_stall_steps,
        target_score=target_score, confirm_episodes=confirm_episodes,
        callbacks=keras.callbacks.CallbackList(all_callbacks, model=agent.model), history=history,
        checkpoint_dir=checkpoint_dir, save_memory=save_memory, frames_per_step=frames_per_step,
        bar=keras.utils.Progbar(total_steps, stateful_metrics=bar_metrics) if show_bar else None,
        print_rows=progress and not show_bar,
    )  # fmt: skip

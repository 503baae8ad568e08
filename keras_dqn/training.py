"""Training and evaluating agents.

Judge an agent by greedy play (epsilon = 0) over many episodes, never by the score of a
training episode: training episodes explore, and one episode says little.

:func:`train` is the library's training loop.  Unlike the blog's loop (one network call per
env step), it acts for all sub-envs of a vector env with one batched NumPy forward pass and
runs all the gradient steps that are due in one compiled call.
"""

from __future__ import annotations

import math
import sys
import time
from collections import deque
from pathlib import Path

import gymnasium as gym
import keras
import numpy as np
from gymnasium.vector import AutoresetMode, SyncVectorEnv, VectorEnv

from keras_dqn.callbacks import CSVLogger, TensorBoardScalars
from keras_dqn.checkpoint import CHECKPOINT_NAME, load_checkpoint, save_checkpoint
from keras_dqn.evaluation import check_actions as _check_actions
from keras_dqn.evaluation import evaluate


def _as_vector_env(env: gym.Env | VectorEnv) -> VectorEnv:
    if isinstance(env, VectorEnv):
        mode = env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
        if mode != AutoresetMode.NEXT_STEP:
            raise ValueError(f"train() needs a vector env with autoreset_mode NEXT_STEP (the default), got {mode}")
        return env
    return SyncVectorEnv([lambda: env])


def train(
    agent,
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
    target_score: float | None = None,
    callbacks: list[keras.callbacks.Callback] | None = None,
    log_dir: str | Path | None = None,
    checkpoint_dir: str | Path | None = None,
    progress: bool = True,
    resume: bool = False,
    save_memory: bool = False,
    seed: int | None = None,
    frames_per_step: int | None = None,
) -> keras.callbacks.History:
    """Train ``agent`` for ``total_steps`` environment steps.

    Every ``train_every`` env steps (counted over all sub-envs) the agent takes
    ``gradient_steps`` gradient steps, all due steps in one compiled call; epsilon decays
    once per gradient step, as with ``replay``.  Transitions are stored with
    ``done = terminated``: time-limit truncations still bootstrap.

    Every ``eval_every`` steps (and at the end) the loop logs one row — the Keras "epoch":
    ``step``, ``episode_return`` (mean of the last 20 training episodes), ``eval_mean``
    (greedy, over ``eval_episodes`` on ``eval_env``), ``loss``, ``epsilon``, ``mean_max_q``
    and ``steps_per_s`` — to the returned History, to ``callbacks`` (any Keras callbacks'
    ``on_epoch_end``), and to ``log_dir``: ``progress.csv`` (:class:`keras_dqn.callbacks.CSVLogger`) and
    TensorBoard scalars at the env step (:class:`keras_dqn.callbacks.TensorBoardScalars`).

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
        target_score: stop early once an evaluation's mean reaches it.
        callbacks: Keras callbacks; they receive ``on_train_begin``, ``on_epoch_end(epoch,
            logs)`` and ``on_train_end``.
        log_dir: folder for ``progress.csv`` and TensorBoard event files.
        checkpoint_dir: folder for ``best.h5`` (best evaluation so far), ``last.h5`` and
            ``checkpoint.npz`` (optimizer, epsilon, counters, RNG state: see
            :mod:`keras_dqn.checkpoint`), all written at every log row.
        progress: a live progress bar when stdout is a terminal; otherwise a log line per row.
        resume: continue from ``checkpoint_dir``'s checkpoint (starts fresh, saying so, if
            there is none). ``total_steps`` still counts from the very first step.
        save_memory: also store the replay memory in the checkpoint (large, but resuming
            then continues with the same experience).
        seed: seeds the environments' first reset.
        frames_per_step: emulator frames per env step (4 for Atari with frame skip 4): adds
            ``frames_per_s`` to the logs and shows frames/s on the progress bar.

    Returns:
        A ``keras.callbacks.History`` whose ``history`` maps each logged name to a list.
    """
    for name, value in (("total_steps", total_steps), ("train_every", train_every),
                        ("gradient_steps", gradient_steps), ("batch_size", batch_size),
                        ("eval_every", eval_every), ("frames_per_step", frames_per_step or 1)):  # fmt: skip
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    envs = _as_vector_env(env)
    _check_actions(agent, envs)
    if tuple(envs.single_observation_space.shape) != tuple(agent.state_shape):
        raise ValueError(
            f"the env's observations have shape {envs.single_observation_space.shape}, "
            f"the agent expects {tuple(agent.state_shape)}"
        )
    spec = envs.spec if isinstance(env, VectorEnv) else env.spec
    if agent.env_id is None and spec is not None:
        agent.env_id = spec.id  # saved with the weights, so `keras-dqn play` needs only the file
    if eval_env is None and eval_episodes:
        if spec is None:
            raise ValueError("pass eval_env: the training env has no registered id to evaluate on")
        if spec.additional_wrappers:  # gym.make(spec.id) would not rebuild them (e.g. Atari preprocessing)
            wrappers = ", ".join(w.name for w in spec.additional_wrappers)
            raise ValueError(
                f"pass eval_env: the training env is {spec.id} wrapped in {wrappers}, which its id alone does not "
                "rebuild (for Atari: eval_env=make_atari_vector_env(game, n, training=False))"
            )
        eval_env = spec.id
    checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir else None
    if resume and checkpoint_dir is None:
        raise ValueError("resume=True needs the checkpoint_dir to resume from")
    history = keras.callbacks.History()
    all_callbacks = [history, *(callbacks or [])]
    if log_dir:
        Path(log_dir).mkdir(parents=True, exist_ok=True)
        all_callbacks.append(CSVLogger(str(Path(log_dir) / "progress.csv"), append=resume))
        all_callbacks.append(TensorBoardScalars(log_dir))
    callback_list = keras.callbacks.CallbackList(all_callbacks, model=agent.model)
    show_bar = progress and sys.stdout.isatty()
    bar = (
        keras.utils.Progbar(total_steps, stateful_metrics=["return", "eval", "epsilon", "loss", "steps/s", "frames/s"])
        if show_bar
        else None
    )

    n_envs = envs.num_envs
    rng = agent.rng
    obs, _ = envs.reset(seed=seed)
    after_done = np.zeros(n_envs, dtype=bool)  # NEXT_STEP autoreset: the next step only resets
    running_return = np.zeros(n_envs)
    recent_returns: deque[float] = deque(maxlen=20)
    recent_losses: list[float] = []
    max_q_sum, max_q_count = 0.0, 0
    steps, pending, epoch, best = 0, 0, 0, -math.inf
    last_eval = float("nan")  # shown on the progress bar
    start_steps = 0  # where this call started (after a resume: the checkpoint's step)
    if resume and (checkpoint_dir / CHECKPOINT_NAME).is_file():
        saved = load_checkpoint(agent, checkpoint_dir)
        steps, epoch, best = saved["steps"], saved["epoch"], saved["best"]
        print(f"resuming from {checkpoint_dir / CHECKPOINT_NAME} at step {steps}")
        obs, _ = envs.reset(seed=None if seed is None else seed + steps)
        start_steps = steps
    elif resume:
        print(f"no checkpoint in {checkpoint_dir}: starting from scratch")
    next_row = (steps // eval_every + 1) * eval_every
    start = last_time = time.perf_counter()
    last_steps = start_steps
    callback_list.on_train_begin()
    stop = False
    while steps < total_steps and not stop:
        # Act for every sub-env at once: one batched forward pass, per-env exploration.
        q = agent.q_values(obs)
        actions = np.argmax(q, axis=1)
        explore = rng.random(n_envs) < agent.epsilon
        actions[explore] = rng.integers(agent.action_size, size=int(explore.sum()))
        max_q_sum += float(q.max(axis=1).sum())
        max_q_count += n_envs
        next_obs, rewards, terminated, truncated, _ = envs.step(actions)

        real = ~after_done  # steps that only reset a finished sub-env are not transitions
        if real.all():
            agent.memory.extend(obs, actions, rewards, next_obs, terminated)
        else:  # env_indices lets a frame buffer reuse each sub-env's frames
            agent.memory.extend(obs[real], actions[real], rewards[real], next_obs[real], terminated[real],
                                env_indices=np.flatnonzero(real))  # fmt: skip
        n_real = int(real.sum())
        running_return += np.where(real, rewards, 0.0)
        done = (terminated | truncated) & real
        for i in np.flatnonzero(done):
            recent_returns.append(float(running_return[i]))
            running_return[i] = 0.0
        after_done = terminated | truncated
        obs = next_obs
        steps += n_real

        # Learn: every train_every env steps, gradient_steps updates in one compiled call.
        # (after a resume without the saved memory, wait for it to refill as at the start)
        warm = len(agent.memory) >= max(batch_size, min(learning_starts, agent.memory.maxlen))
        if steps >= learning_starts and warm:
            pending += n_real
            n_updates = (pending // train_every) * gradient_steps
            pending %= train_every
            if n_updates:
                losses = agent.train_on_batches(agent.memory.sample_batches(n_updates, batch_size))
                recent_losses.extend(losses.tolist())
                if agent.epsilon > agent.epsilon_min:  # as replay(): never raise epsilon to the floor
                    agent.epsilon = max(agent.epsilon_min, agent.epsilon * agent.epsilon_decay**n_updates)

        if bar is not None and (done.any() or steps >= total_steps):
            now = time.perf_counter()
            rate = (steps - start_steps) / max(now - start, 1e-9)
            bar.update(min(steps, total_steps), values=[
                ("return", recent_returns[-1] if recent_returns else 0.0), ("eval", last_eval),
                ("epsilon", agent.epsilon),
                ("loss", recent_losses[-1] if recent_losses else float("nan")),
                ("steps/s", rate), *([("frames/s", rate * frames_per_step)] if frames_per_step else []),
            ])  # fmt: skip

        if steps >= next_row or steps >= total_steps:
            next_row += eval_every
            now = time.perf_counter()
            logs = {
                "step": steps,
                "episode_return": float(np.mean(recent_returns)) if recent_returns else float("nan"),
                "loss": float(np.mean(recent_losses)) if recent_losses else float("nan"),
                "epsilon": agent.epsilon,
                "mean_max_q": max_q_sum / max(max_q_count, 1),
                "steps_per_s": (steps - last_steps) / max(now - last_time, 1e-9),
            }
            if frames_per_step:
                logs["frames_per_s"] = logs["steps_per_s"] * frames_per_step
            if eval_episodes:
                logs["eval_mean"] = float(np.mean(evaluate(agent, eval_env, eval_episodes, seed=10_000 + steps)))
                if checkpoint_dir and logs["eval_mean"] > best:
                    agent.save(checkpoint_dir / "best.h5")
                best = max(best, logs["eval_mean"])
                last_eval = logs["eval_mean"]
                stop = target_score is not None and logs["eval_mean"] >= target_score
            if checkpoint_dir:
                agent.save(checkpoint_dir / "last.h5")
                progress_state = {"steps": steps, "epoch": epoch + 1, "best": best}
                save_checkpoint(agent, checkpoint_dir, progress_state, include_memory=save_memory)
            callback_list.on_epoch_end(epoch, logs)
            if bar is None and progress:
                print(" - ".join(f"{k}: {v:.4g}" if isinstance(v, float) else f"{k}: {v}" for k, v in logs.items()))
            epoch += 1
            recent_losses.clear()
            max_q_sum, max_q_count = 0.0, 0
            last_time, last_steps = time.perf_counter(), steps
    callback_list.on_train_end()
    return history

"""Judging an agent: greedy play, one episode or many.

Judge an agent by greedy play (epsilon = 0) over many episodes, never by the score of a
training episode: training episodes explore, and one episode says little.  Every caller that
plays greedily — :func:`evaluate`, the ``keras-dqn`` command, the examples, the recordings in
:mod:`keras_dqn.experiments.plots` — plays through :func:`play_episode` or :func:`evaluate`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AsyncVectorEnv, SyncVectorEnv, VectorEnv

from keras_dqn.checks import check_optional_int, check_positive_int
from keras_dqn.envs.make import check_discrete, flat_observations, is_atari, make_env, make_vector_env

DEFAULT_MAX_STEPS = 100_000  # cap on an episode's length for envs without a time limit


def check_agent_fits_env(agent, env: gym.Env | VectorEnv) -> None:
    """The env must have Discrete actions, as many as the agent has Q-values."""
    n_actions = check_discrete(env)
    if getattr(agent, "action_size", n_actions) != n_actions:
        raise ValueError(f"the env has {n_actions} actions, the agent {agent.action_size}")


def _options(env_kwargs: Any) -> dict[str, Any]:
    """The env options given with an env id, checked: an object of keyword arguments."""
    if env_kwargs is None:
        return {}
    if not isinstance(env_kwargs, dict) or not all(isinstance(key, str) for key in env_kwargs):
        raise ValueError(f"env_kwargs must be a dict of the env's keyword arguments, got {env_kwargs!r}")
    return env_kwargs


def _no_options(env_kwargs: Any) -> None:
    if env_kwargs:
        raise ValueError("env_kwargs applies only to an env id; a given env is played as it was made")


def _episode_cap(env: gym.Env | VectorEnv, max_steps: int | None) -> int:
    """The step cap of one episode: ``max_steps``, else the env's time limit, else the default."""
    if max_steps is not None:
        return check_positive_int("max_steps", max_steps)
    limit = getattr(getattr(env, "spec", None), "max_episode_steps", None)
    return int(limit) + 1 if limit else DEFAULT_MAX_STEPS  # +1: the env's own limit ends it first


def play_episode(
    agent: Any,
    env: str | gym.Env,
    seed: int | None = None,
    render: bool = False,
    *,
    max_steps: int | None = None,
    stall_steps: int | None = None,
    on_step: Callable[[np.ndarray, np.ndarray], None] | None = None,
    env_kwargs: dict[str, Any] | None = None,
) -> float:
    """Play one greedy episode (the highest Q-value every step) and return its return.

    Args:
        agent: anything with ``q_values(states) -> (batch, n_actions)``, e.g. a DQNAgent.
        env: a gymnasium env, or an env id (made with :func:`keras_dqn.envs.make.make_env`: ALE ids
            get the agent's preprocessing; closed again at the end).
        seed: the episode's reset seed (``None``: unseeded).
        render: with an env id, make it with ``render_mode="human"`` and show the episode in a
            window (needs a display; pygame for the classic-control envs).
        max_steps: stop after this many steps (default: the env's time limit, else 100,000).
        stall_steps: as :func:`evaluate`'s.
        on_step: called as ``on_step(observation, q_values)`` before each action (plots use it).
        env_kwargs: with an env id, the env's options (``{"is_slippery": False}``; a loaded
            agent's are ``agent.env_kwargs``).  A given env's observations are flattened as
            :func:`keras_dqn.envs.make.make_env` does (FrozenLake's one-hot), so a raw env plays too.

    Returns:
        The sum of the episode's rewards.
    """
    own = isinstance(env, str)
    if own:
        env = make_env(env, render_mode="human" if render else None, **_options(env_kwargs))
    else:
        _no_options(env_kwargs)
        env = flat_observations(env)
    try:
        check_agent_fits_env(agent, env)
        cap, stall = _episode_cap(env, max_steps), _stall_cap(stall_steps)
        obs, _ = env.reset(seed=check_optional_int("seed", seed))
        total, quiet = 0.0, 0
        for _ in range(cap):
            q = agent.q_values(obs)[0]
            if on_step is not None:
                on_step(obs, q)
            obs, reward, terminated, truncated, _ = env.step(int(np.argmax(q)))
            total += float(reward)
            quiet = 0 if reward != 0 else quiet + 1
            if terminated or truncated or quiet >= stall:
                break
        return total
    finally:
        if own:
            env.close()


def _stall_cap(stall_steps: int | None) -> float:
    """Steps without a reward after which an episode ends (``None``: never)."""
    return math.inf if stall_steps is None else check_positive_int("stall_steps", stall_steps)


def _evaluate_vector(agent, envs: VectorEnv, episodes: int, seed: int | None, cap: int,
                     stall: float = math.inf) -> list[float]:  # fmt: skip
    """Greedy returns from a vector env: episode ``i`` from reset seed ``seed + i``, each played
    to its end.  An episode ends at its ``cap``-th step, or after ``stall`` steps in a row
    without a reward.

    Every episode that starts counts, whatever its length: counting episodes as they finish
    would over-count short ones.  On gymnasium's own vector envs a sub-env that finishes starts
    the next episode at once, reset on its own (``reset_mask``), so no sub-env waits for a long
    game elsewhere; a vector env that cannot reset one sub-env plays in rounds, one episode per
    sub-env, the first ``episodes`` counted.
    """
    n = envs.num_envs
    alone = _resets_one_sub_env(envs)
    episode = np.full(n, -1)  # the episode each sub-env plays (-1: none that counts)
    totals, steps, quiet = np.zeros(n), np.zeros(n, dtype=int), np.zeros(n)
    returns = np.zeros(episodes)
    started, obs = 0, None
    while True:
        # Start episodes: on sub-envs that are free (all of them, for a new round).
        free = episode < 0
        if started < episodes and (free.all() or (alone and free.any())):
            starts = np.flatnonzero(free) if alone else np.arange(n)
            indices = started + np.arange(len(starts))
            seeds = [None] * n
            for sub_env, index in zip(starts, indices, strict=True):
                seeds[sub_env] = None if seed is None else int(seed + index)
            options = {"reset_mask": free.copy()} if alone and not free.all() else None
            obs, _ = envs.reset(seed=seeds, options=options)
            episode[starts] = np.where(indices < episodes, indices, -1)
            started = min(episodes, started + len(starts))
            totals[starts], steps[starts], quiet[starts] = 0.0, 0, 0
        elif not (episode >= 0).any():
            return returns.tolist()
        # Play one greedy step on every sub-env (Q-values only for those playing an episode that counts).
        playing = episode >= 0
        actions = np.zeros(n, dtype=np.int64)
        actions[playing] = np.argmax(agent.q_values(obs[playing]), axis=1)
        obs, rewards, terminated, truncated, _ = envs.step(actions)
        totals += rewards
        steps += 1
        quiet = np.where(rewards != 0, 0, quiet + 1)
        # Keep the returns of the episodes that ended.
        ended = (episode >= 0) & (terminated | truncated | (steps >= cap) | (quiet >= stall))
        returns[episode[ended]] = totals[ended]
        episode[ended] = -1
        if alone and ended.any() and started >= episodes:  # no episode left for them: reset, unseeded,
            idle = ended.copy()  # so that an env that must be reset (autoreset DISABLED) can step on
            obs, _ = envs.reset(options={"reset_mask": idle})


def _resets_one_sub_env(envs: VectorEnv) -> bool:
    """Whether ``envs`` resets chosen sub-envs alone (``options={"reset_mask": ...}``): gymnasium's
    ``SyncVectorEnv`` and ``AsyncVectorEnv``, wrapped or not."""
    return isinstance(envs.unwrapped, (SyncVectorEnv, AsyncVectorEnv))


def evaluate(
    agent: Any,
    env: str | gym.Env | VectorEnv,
    episodes: int = 100,
    *,
    seed: int | None = 0,
    n_envs: int | None = None,
    max_steps: int | None = None,
    stall_steps: int | None = None,
    env_kwargs: dict[str, Any] | None = None,
) -> list[float]:
    """Play ``episodes`` greedy episodes and return their (unshaped) returns.

    Args:
        agent: anything with ``q_values(states) -> (batch, n_actions)``, e.g. a DQNAgent.
        env: an environment id (played on ``n_envs`` environments at once, with Q-values
            computed for all of them in one batch; ALE ids as full games with the agent's
            preprocessing), a gymnasium vector env, or a single env.
        episodes: how many episodes to play.
        seed: episode ``i`` starts from ``reset(seed=seed + i)``; ``None`` for unseeded.
        n_envs: environments stepped together when ``env`` is an id (default 100, 8 for Atari).
        max_steps: cut an episode after this many steps (default: the env's time limit, else
            100,000), so an env that never ends cannot hang the evaluation.
        stall_steps: also end an episode after this many steps in a row without a reward,
            its return so far counting (``None``: never).  A deterministic game can loop for
            good: greedy Pong without sticky actions falls into rallies nobody wins, which run
            to ALE's 27,000-step cap and add minutes to an evaluation while scoring nothing.
        env_kwargs: with an env id, the env's options (``{"is_slippery": False}``; a loaded
            agent's are ``agent.env_kwargs``).  A given env's observations are flattened as
            :func:`keras_dqn.envs.make.make_env` does, so a raw FrozenLake or Blackjack env plays too.

    Returns:
        One return per episode, in episode order.

    Raises:
        ValueError: the environment's action space is not Discrete, the id is unknown, or
            ``episodes``, ``n_envs``, ``max_steps``, ``stall_steps`` or ``seed`` is not a valid integer.
    """
    episodes = check_positive_int("episodes", episodes)
    stall = _stall_cap(stall_steps)
    seed = check_optional_int("seed", seed)
    if isinstance(env, str):
        n_envs = check_positive_int("n_envs", n_envs) if n_envs is not None else (8 if is_atari(env) else 100)
        envs = make_vector_env(env, min(n_envs, episodes), **_options(env_kwargs))
        try:
            check_agent_fits_env(agent, envs)
            return _evaluate_vector(agent, envs, episodes, seed, _episode_cap(envs, max_steps), stall)
        finally:
            envs.close()
    if n_envs is not None:
        raise ValueError("n_envs applies only to an env id; a given env is played as it is")
    _no_options(env_kwargs)
    env = flat_observations(env)
    check_agent_fits_env(agent, env)
    cap = _episode_cap(env, max_steps)
    if isinstance(env, VectorEnv):
        return _evaluate_vector(agent, env, episodes, seed, cap, stall)
    return [
        play_episode(agent, env, None if seed is None else seed + i, max_steps=cap, stall_steps=stall_steps)
        for i in range(episodes)
    ]

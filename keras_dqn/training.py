"""Evaluating agents.

Judge an agent by greedy play (epsilon = 0) over many episodes, never by the score of a
training episode: training episodes explore, and one episode says little.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium.vector import VectorEnv

from keras_dqn.envs import check_discrete


def _evaluate_vector(agent, envs: VectorEnv, episodes: int, seed: int | None) -> list[float]:
    """Greedy returns from a vector env: one episode per sub-env per round.

    Counting only each sub-env's first episode of a round keeps the sample unbiased (taking
    episodes as they finish would over-count short ones).
    """
    returns: list[float] = []
    round_index = 0
    while len(returns) < episodes:
        round_seed = None if seed is None else seed + round_index * envs.num_envs
        obs, _ = envs.reset(seed=round_seed)
        totals = np.zeros(envs.num_envs)
        finished = np.zeros(envs.num_envs, dtype=bool)
        while not finished.all():
            actions = np.argmax(agent.q_values(obs), axis=1)
            obs, rewards, terminated, truncated, _ = envs.step(actions)
            totals += np.where(finished, 0.0, rewards)
            finished |= terminated | truncated
        returns.extend(totals.tolist())
        round_index += 1
    return returns[:episodes]


def _evaluate_single(agent, env: gym.Env, episodes: int, seed: int | None) -> list[float]:
    returns = []
    for i in range(episodes):
        obs, _ = env.reset(seed=None if seed is None else seed + i)
        total, done = 0.0, False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(agent.act(obs, greedy=True))
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
    return returns


def evaluate(
    agent,
    env: str | gym.Env | VectorEnv,
    episodes: int = 100,
    *,
    seed: int | None = 0,
    n_envs: int = 100,
) -> list[float]:
    """Play ``episodes`` greedy episodes and return their (unshaped) returns.

    Args:
        agent: anything with ``q_values(states) -> (batch, n_actions)``, e.g. a DQNAgent.
        env: an environment id (played on ``n_envs`` environments at once, with Q-values
            computed for all of them in one batch), a gymnasium vector env, or a single env.
        episodes: how many episodes to play.
        seed: episode ``i`` starts from ``reset(seed=seed + i)``; ``None`` for unseeded.
        n_envs: environments stepped together when ``env`` is an id.

    Returns:
        One return per episode, in episode order.

    Raises:
        ValueError: the environment's action space is not Discrete, the id is unknown, or
            episodes < 1.
    """
    if isinstance(episodes, bool) or not isinstance(episodes, (int, np.integer)) or episodes < 1:
        raise ValueError(f"episodes must be a positive integer, got {episodes!r}")
    if isinstance(env, str):
        try:
            envs = gym.make_vec(env, num_envs=min(int(n_envs), int(episodes)), vectorization_mode="sync")
        except gym.error.Error as exc:
            raise ValueError(f"unknown or unavailable gymnasium environment {env!r}: {exc}") from exc
        try:
            check_discrete(envs)
            return _evaluate_vector(agent, envs, episodes, seed)
        finally:
            envs.close()
    check_discrete(env)
    if isinstance(env, VectorEnv):
        return _evaluate_vector(agent, env, episodes, seed)
    return _evaluate_single(agent, env, episodes, seed)

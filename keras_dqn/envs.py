"""Gymnasium helpers: making environments and checking they suit a DQN agent."""

from __future__ import annotations

import gymnasium as gym
from gymnasium.vector import VectorEnv


def make_env(env_id: str, **kwargs) -> gym.Env:
    """``gym.make(env_id)`` with an error that names the id when it is unknown."""
    try:
        return gym.make(env_id, **kwargs)
    except gym.error.Error as exc:
        raise ValueError(f"unknown or unavailable gymnasium environment {env_id!r}: {exc}") from exc


def check_discrete(env: gym.Env | VectorEnv) -> int:
    """Return the number of actions of ``env``, which must have a ``Discrete`` action space.

    Raises:
        ValueError: the action space is anything else (DQN picks an argmax over actions).
    """
    space = env.single_action_space if isinstance(env, VectorEnv) else env.action_space
    if not isinstance(space, gym.spaces.Discrete):
        raise ValueError(f"DQN needs a Discrete action space (one Q-value per action); this environment has {space}")
    return int(space.n)


"""Env ids: which are Atari games, and ``gym.make`` with errors that name the id (or the extra
a missing package comes with)."""

from __future__ import annotations

import gymnasium as gym

ATARI_HINT = "Atari games need the atari extra: pip install 'keras_dqn[atari]' (ale-py with its ROMs, and OpenCV)"
BOX2D_HINT = "Box2D envs (LunarLander) need the box2d extra: pip install 'keras_dqn[box2d]' (a wheel, no swig)"


def is_atari(env_id: str) -> bool:
    """Whether ``env_id`` names an ALE game (``ALE/Pong-v5``): those get our Atari preprocessing."""
    return isinstance(env_id, str) and env_id.startswith("ALE/")


def gym_make(env_id: str, **kwargs) -> gym.Env:
    """``gym.make(env_id)`` with an error that names the id when it is unknown, and our extra's
    name when it needs a missing package (Box2D)."""
    if not isinstance(env_id, str):
        raise ValueError(f"an env id must be a string such as 'CartPole-v1', got {env_id!r}")
    try:
        return gym.make(env_id, **kwargs)
    except TypeError as exc:  # an option the env's constructor does not take
        options = ", ".join(k for k in kwargs if k != "render_mode") or "none"
        raise ValueError(f"{env_id} does not take the options given ({options}): {exc}") from None
    except gym.error.DependencyNotInstalled as exc:
        if "box2d" in str(exc).lower():  # gymnasium's own advice (swig, gymnasium[box2d]) needs a compiler
            raise ImportError(BOX2D_HINT) from None
        raise ImportError(f"{env_id!r} needs a package that is not installed: {exc}") from None
    except gym.error.Error as exc:
        raise ValueError(f"unknown or unavailable gymnasium environment {env_id!r}: {exc}") from exc

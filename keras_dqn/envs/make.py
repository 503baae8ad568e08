"""Gymnasium helpers: making environments (CartPole, Atari) and checking they suit a DQN agent.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import gymnasium.wrappers.vector
from gymnasium.vector import VectorEnv

from keras_dqn.envs.atari import make_atari_env, make_atari_vector_env
from keras_dqn.envs.ids import gym_make, is_atari


def make_env(env_id: str, *, training: bool = False, render_mode: str | None = None, **kwargs: Any) -> gym.Env:
    """The env an agent plays ``env_id`` on: one home for turning an id into an env.

    Ordinary ids are ``gym.make(env_id, render_mode=..., **kwargs)`` (``kwargs``: the env's
    own options, e.g. ``is_slippery=False`` for FrozenLake), their observations made a flat
    vector by :func:`flat_observations` when they are not one (FrozenLake, Taxi, Blackjack).
    ALE ids (``ALE/Pong-v5``) get :func:`make_atari_env`'s preprocessing, the frames our conv
    agents see, and ``kwargs`` are its settings: with ``training=False`` (the default) full
    games and the unclipped score, with ``training=True`` clipped rewards and an episode per
    life.  ``training`` changes nothing for other envs.

    Raises:
        ValueError: an unknown id (the message names it), an option the env does not take, or
            observations no agent can take (text, graphs).
        ImportError: an ALE id without the ``atari`` extra (the message says how to get it).
    """
    if is_atari(env_id):
        return make_atari_env(env_id, training=training, render_mode=render_mode, **kwargs)
    return flat_observations(gym_make(env_id, render_mode=render_mode, **kwargs))


def make_vector_env(env_id: str, n_envs: int, *, training: bool = False, **kwargs: Any) -> VectorEnv:
    """``n_envs`` copies of :func:`make_env` stepped together (a ``SyncVectorEnv``).

    Args:
        env_id: a gymnasium id (ALE ids get :func:`keras_dqn.envs.atari.make_atari_vector_env`).
        n_envs: environments stepped together, their actions chosen in one batched call.
        training: Atari only: clipped rewards and an episode per life (as :func:`make_env`).
        **kwargs: the env's options, as :func:`make_env` takes them.
    """
    if is_atari(env_id):
        return make_atari_vector_env(env_id, n_envs, training=training, **kwargs)
    probe = make_env(env_id, **kwargs)  # an unknown id or option fails here, with its name
    flat = isinstance(probe, gym.wrappers.FlattenObservation)
    probe.close()
    wrappers = [gym.wrappers.FlattenObservation] if flat else None
    return gym.make_vec(env_id, num_envs=n_envs, vectorization_mode="sync", wrappers=wrappers, **kwargs)


# Keyword arguments of gym.make / gym.make_vec that say how to run envs, not which env: not an env's options.
_NOT_OPTIONS = frozenset({"render_mode", "num_envs", "vectorization_mode", "vector_kwargs", "wrappers"})


def env_options(env: gym.Env | VectorEnv) -> dict[str, Any]:
    """The options ``env`` was made with beyond its registered ones: the keyword arguments that
    make :func:`make_env` (``keras-dqn ... --env-kwargs``) build the same env again, e.g.
    ``{"is_slippery": False}``, and ``max_episode_steps`` if it differs from the registered limit.

    For ALE games, in :func:`make_atari_env`'s terms: ``{"sticky_actions": 0.25}`` when the
    emulator repeats actions (the evaluation protocol a score depends on), else empty.
    Empty for envs without a spec.
    """
    spec = getattr(env, "spec", None)
    if spec is not None and is_atari(spec.id):
        sticky = spec.kwargs.get("repeat_action_probability", 0.0)
        return {"sticky_actions": float(sticky)} if sticky else {}
    if spec is None or spec.id not in gym.registry:
        return {}
    registered = gym.registry[spec.id]
    options = {key: value for key, value in spec.kwargs.items()
               if key not in _NOT_OPTIONS and key != "max_episode_steps"
               and (key not in registered.kwargs or registered.kwargs[key] != value)}  # fmt: skip
    limit = spec.kwargs.get("max_episode_steps", spec.max_episode_steps)  # a vector env's spec: in its kwargs
    if limit is not None and limit != registered.max_episode_steps:
        options["max_episode_steps"] = limit
    return options


# Observation spaces that gymnasium's FlattenObservation makes into one vector: a Discrete one-hot,
# the parts of the others (each one-hot or flattened) concatenated.
_FLATTENED_SPACES = (gym.spaces.Discrete, gym.spaces.MultiDiscrete, gym.spaces.MultiBinary, gym.spaces.Tuple,
                     gym.spaces.Dict)  # fmt: skip
_announced: set[str] = set()


def needs_flattening(space: gym.spaces.Space, what: str = "this env") -> bool:
    """Whether our agents need observations of ``space`` flattened (one-hot) first.

    ``False`` for a ``Box`` (vectors for the MLP agents, frames for the conv agents); ``True`` for
    ``Discrete``, ``MultiDiscrete``, ``MultiBinary``, ``Tuple`` and ``Dict`` spaces.

    Raises:
        ValueError: a space that can't be made into an array (``Text``, ``Graph``, ``Sequence``),
            naming what to do.
    """
    if isinstance(space, gym.spaces.Box):
        return False
    try:
        flattenable = isinstance(space, _FLATTENED_SPACES) and gym.spaces.flatdim(space) > 0
    except (ValueError, NotImplementedError, TypeError):
        flattenable = False
    if not flattenable:
        raise ValueError(
            f"{what} has observations in {space}, which keras_dqn can't make into a vector (it one-hot encodes "
            "Discrete spaces and concatenates Tuple, Dict, MultiDiscrete and MultiBinary ones); wrap the env in a "
            "gymnasium.ObservationWrapper whose observation_space is a Box"
        )
    return True


def flat_observations(env: gym.Env | VectorEnv) -> gym.Env | VectorEnv:
    """``env`` with observations our agents take: itself when they are a ``Box``, else wrapped in
    gymnasium's ``FlattenObservation`` (its vector version for a vector env), which one-hot
    encodes ``Discrete`` observations and concatenates the parts of ``Tuple`` and ``Dict`` ones.

    Says so once per env id.  An env already wrapped stays as it is.

    Raises:
        ValueError: observations that can't be flattened (see :func:`needs_flattening`).
    """
    vector = isinstance(env, VectorEnv)
    space = getattr(env, "single_observation_space" if vector else "observation_space", None)
    if not isinstance(space, gym.spaces.Space):
        return env  # not an env: the caller's own checks say what was expected
    name = getattr(getattr(env, "spec", None), "id", None) or type(getattr(env, "unwrapped", env)).__name__
    if not needs_flattening(space, name):
        return env
    if name not in _announced:
        _announced.add(name)
        encoding = "one-hot encoded" if isinstance(space, gym.spaces.Discrete) else "flattened"
        print(f"{name}: observations in {space} are {encoding} into vectors of "
              f"{gym.spaces.flatdim(space)} (gymnasium's FlattenObservation)")  # fmt: skip
    if vector:
        return gym.wrappers.vector.FlattenObservation(env)
    return gym.wrappers.FlattenObservation(env)


def check_discrete(env: gym.Env | VectorEnv) -> int:
    """Return the number of actions of ``env``, which must have a ``Discrete`` action space.

    Raises:
        ValueError: the action space is anything else (DQN picks an argmax over actions).
    """
    space = env.single_action_space if isinstance(env, VectorEnv) else env.action_space
    if not isinstance(space, gym.spaces.Discrete):
        raise ValueError(f"DQN needs a Discrete action space (one Q-value per action); this environment has {space}")
    return int(space.n)

"""Gymnasium helpers: making environments (CartPole, Atari) and checking they suit a DQN agent."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import gymnasium.wrappers.vector
from gymnasium.vector import VectorEnv

ATARI_HINT = "Atari games need the atari extra: pip install 'keras_dqn[atari]' (ale-py with its ROMs, and OpenCV)"
BOX2D_HINT = "Box2D envs (LunarLander) need the box2d extra: pip install 'keras_dqn[box2d]' (a wheel, no swig)"


def is_atari(env_id: str) -> bool:
    """Whether ``env_id`` names an ALE game (``ALE/Pong-v5``): those get our Atari preprocessing."""
    return isinstance(env_id, str) and env_id.startswith("ALE/")


def _gym_make(env_id: str, **kwargs) -> gym.Env:
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


def make_env(env_id: str, *, training: bool = False, render_mode: str | None = None, **kwargs) -> gym.Env:
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
    return flat_observations(_gym_make(env_id, render_mode=render_mode, **kwargs))


def make_vector_env(env_id: str, n_envs: int, *, training: bool = False, **kwargs) -> VectorEnv:
    """``n_envs`` copies of :func:`make_env` stepped together (a ``SyncVectorEnv``)."""
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



class EpisodicLife(gym.Wrapper):
    """End the episode when a life is lost, but go on with the same game at the next reset.

    DeepMind's "terminal on life loss": the agent learns that losing a life is bad, yet still
    sees the later stages of the game.  (gymnasium's own ``terminal_on_life_loss`` starts a new
    game at every reset, so the agent would only ever play its first life.)  Only the reset
    after the game is really over resets the emulator; after a lost life, ``reset`` takes one
    no-op step instead.
    """

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self.lives = 0
        self.game_over = True

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.game_over = terminated or truncated
        lives = self.env.unwrapped.ale.lives()
        if 0 < lives < self.lives:
            terminated = True  # a life lost: the end of this episode, not of the game
        self.lives = lives
        return obs, reward, terminated, truncated, info

    def reset(self, **kwargs):
        if self.game_over:
            obs, info = self.env.reset(**kwargs)
        else:  # the same game goes on: one no-op to get the next observation
            obs, _, terminated, truncated, info = self.env.step(0)
            if terminated or truncated:
                obs, info = self.env.reset(**kwargs)
        self.game_over = False
        self.lives = self.env.unwrapped.ale.lives()
        return obs, info


class FireOnReset(gym.Wrapper):
    """Press FIRE at the start of each episode and after each lost life, for games that wait
    for it (Breakout...).

    Without it, a greedy agent that never learnt to press FIRE (it never had to) can face a
    frozen screen until the game's time limit.
    """

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self.fire = env.unwrapped.get_action_meanings().index("FIRE")
        self.lives = 0

    def reset(self, **kwargs):
        self.env.reset(**kwargs)
        obs, _, terminated, truncated, info = self.env.step(self.fire)
        if terminated or truncated:  # the press ended the episode (it never does in practice)
            obs, info = self.env.reset(**kwargs)
        self.lives = self.env.unwrapped.ale.lives()
        return obs, info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        lives = self.env.unwrapped.ale.lives()
        if lives < self.lives and not (terminated or truncated):  # a life lost, the game goes on
            obs, more, terminated, truncated, info = self.env.step(self.fire)
            reward += more
        self.lives = lives
        return obs, reward, terminated, truncated, info


def _needs_fire(env: gym.Env) -> bool:
    """Baselines' rule: the game has FIRE as action 1 and at least 3 actions."""
    meanings = env.unwrapped.get_action_meanings()
    return len(meanings) >= 3 and meanings[1] == "FIRE"


def register_atari_envs() -> None:
    """Register the ALE games with gymnasium (``ALE/Pong-v5``...): the one import of ale-py.

    Raises:
        ImportError: the ``atari`` extra is not installed (the message says how).
    """
    try:
        import ale_py
    except ImportError:
        raise ImportError(ATARI_HINT) from None
    gym.register_envs(ale_py)


def make_atari_env(
    game: str = "Pong",
    *,
    training: bool = True,
    frame_stack: int = 4,
    frame_skip: int = 4,
    screen_size: int = 84,
    noop_max: int = 30,
    sticky_actions: float = 0.0,
    fire_on_reset: bool | None = None,
    max_episode_steps: int | None = None,
    render_mode: str | None = None,
) -> gym.Env:
    """An Atari game set up as in the Nature DQN paper, with gymnasium's own wrappers.

    ``ALE/{game}-v5`` is made with ``frameskip=1`` so frames are skipped once, by
    ``AtariPreprocessing``: up to ``noop_max`` random no-ops after reset, each action repeated
    ``frame_skip`` times with the last two frames max-pooled (Atari sprites flicker), and
    frames turned into ``screen_size``² grayscale ``uint8`` images.  Then FIRE on reset where
    the game waits for it, and ``FrameStackObservation`` stacks the last ``frame_stack``
    frames: observations have shape ``(4, 84, 84)``, dtype ``uint8``.

    Only when ``training``: rewards are clipped to [-1, 1] (one learning rate fits every game)
    and losing a life ends the episode, the next reset going on with the same game
    (:class:`EpisodicLife`).  With ``training=False`` you get the real game: full games and
    the unclipped score — use that for evaluation.

    Args:
        game: the ALE game name, e.g. ``"Pong"``, ``"Breakout"`` (``ALE/{game}-v5``), or a
            full id such as ``"ALE/Pong-v5"``.
        training: clip rewards and end episodes on life loss.
        frame_stack, frame_skip, screen_size, noop_max: the preprocessing settings above.
        sticky_actions: probability that the emulator repeats the previous action instead
            of the new one.  0 (the default) is the Nature-DQN setting, deterministic
            apart from the no-op starts; 0.25 is ALE v5's own default (Machado et al., 2018),
            a harder, more stochastic benchmark.
        fire_on_reset: press FIRE after reset; ``None`` decides per game.
        max_episode_steps: cut episodes (truncate) after this many agent steps (v5 already
            stops a game after 108,000 frames, i.e. 27,000 agent steps).
        render_mode: ``"rgb_array"`` to record, ``"human"`` to watch.

    Raises:
        ImportError: the ``atari`` extra is not installed (the message says how).
        ValueError: an unknown game.
    """
    register_atari_envs()
    try:
        import cv2  # noqa: F401  (AtariPreprocessing resizes with OpenCV)
    except ImportError:
        raise ImportError(ATARI_HINT) from None
    if not 0.0 <= sticky_actions <= 1.0:
        raise ValueError(f"sticky_actions must be a probability in [0, 1], got {sticky_actions!r}")
    env_id = game if "/" in game else f"ALE/{game}-v5"
    env = _gym_make(env_id, frameskip=1, repeat_action_probability=sticky_actions, render_mode=render_mode)
    env = gym.wrappers.AtariPreprocessing(
        env,
        noop_max=noop_max,
        frame_skip=frame_skip,
        screen_size=screen_size,
        terminal_on_life_loss=False,  # EpisodicLife below does it without restarting the game
        grayscale_obs=True,
        scale_obs=False,
    )
    if max_episode_steps is not None:  # here, it counts agent steps (below, it would count frames)
        env = gym.wrappers.TimeLimit(env, max_episode_steps)
    if training:
        env = EpisodicLife(env)
    if fire_on_reset if fire_on_reset is not None else _needs_fire(env):
        env = FireOnReset(env)
    if training:
        env = gym.wrappers.ClipReward(env, -1.0, 1.0)
    return gym.wrappers.FrameStackObservation(env, frame_stack)


def make_atari_vector_env(game: str = "Pong", n_envs: int = 4, *, training: bool = True, **kwargs) -> VectorEnv:
    """``n_envs`` copies of :func:`make_atari_env` stepped together (``SyncVectorEnv``).

    Act on all of them with one batched network call: with a CNN that is much cheaper than
    ``n_envs`` calls of one state each."""
    probe = make_atari_env(game, training=training, **kwargs)  # fails early, with the hint, in this process
    envs = gym.vector.SyncVectorEnv([lambda: make_atari_env(game, training=training, **kwargs)] * n_envs)
    envs.spec = probe.spec  # the game's id (saved with the agent's weights) and its wrappers
    probe.close()
    return envs

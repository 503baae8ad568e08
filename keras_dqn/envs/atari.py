"""Atari games as in the Nature DQN paper, made with gymnasium's own wrappers, plus the two
wrappers gymnasium lacks (:class:`EpisodicLife`, :class:`FireOnReset`).
"""

from __future__ import annotations

import gymnasium as gym
import gymnasium.wrappers.vector
from gymnasium.vector import VectorEnv

from keras_dqn.envs.ids import ATARI_HINT, gym_make


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
        frame_stack: the preprocessing setting of that name above.
        frame_skip: the preprocessing setting of that name above.
        screen_size: the preprocessing setting of that name above.
        noop_max: the preprocessing setting of that name above.
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
    env = gym_make(env_id, frameskip=1, repeat_action_probability=sticky_actions, render_mode=render_mode)
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

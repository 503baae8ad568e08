"""Environments: making them (:mod:`~keras_dqn.envs.make`, :mod:`~keras_dqn.envs.atari`) and
solving the small ones exactly (:mod:`~keras_dqn.envs.tabular`, for comparison)."""

from keras_dqn.envs.atari import ATARI_HINT, make_atari_env, make_atari_vector_env, register_atari_envs
from keras_dqn.envs.make import check_discrete, env_options, flat_observations, is_atari, make_env, make_vector_env

__all__ = ["ATARI_HINT", "check_discrete", "env_options", "flat_observations", "is_atari", "make_atari_env",
           "make_atari_vector_env", "make_env", "make_vector_env", "register_atari_envs"]  # fmt: skip

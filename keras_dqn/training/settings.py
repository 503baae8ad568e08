"""Each :func:`keras_dqn.train` setting's check and help text, its names and types read from
``train``'s own signature: one home for what a train setting may be."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from keras_dqn.checks import (
    check_fraction,
    check_names,
    check_non_negative_int,
    check_number,
    check_positive_int,
    check_values,
    optional,
    type_hints,
)
from keras_dqn.training.loop import train

# train() arguments a recipe does not set: what to train, and where and how to log it.
_TRAIN_CALL_ONLY = frozenset({"agent", "env", "total_steps", "eval_env", "callbacks", "log_dir", "checkpoint_dir",
                              "progress", "resume", "seed"})  # fmt: skip


def train_parameters() -> set[str]:
    """The names a recipe's ``train_kwargs`` may hold: :func:`keras_dqn.train`'s settings plus
    ``n_envs`` (envs stepped together) and ``total_steps``."""
    return set(inspect.signature(train).parameters) - _TRAIN_CALL_ONLY | {"n_envs", "total_steps"}



TRAIN_SETTING_CHECKS: dict[str, Callable[[str, Any], Any]] = {
    **dict.fromkeys(("n_envs", "total_steps", "batch_size", "train_every", "gradient_steps", "eval_every"),
                    check_positive_int),
    **dict.fromkeys(("learning_starts", "eval_episodes"), check_non_negative_int),
    "frames_per_step": optional(check_positive_int),
    "target_score": optional(check_number),
    "exploration_fraction": optional(lambda name, value: check_fraction(name, value, low_open=True)),
    "exploration_final_eps": optional(check_fraction),
}  # fmt: skip



def train_hints() -> dict[str, Any]:
    """The type annotation of each :func:`keras_dqn.train` setting (and ``n_envs``)."""
    return {**type_hints(train), "n_envs": int}



def check_train_settings(settings: Mapping[str, Any]) -> None:
    """Check :func:`keras_dqn.train` settings (with ``n_envs`` and ``total_steps``) by name, type and value.

    Raises:
        ValueError: one line, as :func:`check_agent_settings` (``train.n_envs must be a
            positive integer, got 0``).
    """
    check_names("train", settings, train_parameters())
    check_values("train", settings, train_hints(), TRAIN_SETTING_CHECKS)




TRAIN_SETTING_HELP: dict[str, str] = {
    "n_envs": "environments stepped together, their actions chosen in one batched call",
    "total_steps": "env steps to train for, over all environments",
    "batch_size": "minibatch of each gradient step",
    "train_every": "env steps (over all environments) between training calls",
    "gradient_steps": "gradient steps per training call",
    "learning_starts": "env steps of play that fill the memory before the first gradient step",
    "eval_every": "env steps between greedy evaluations (and checkpoints)",
    "eval_episodes": "greedy episodes per evaluation",
    "target_score": "stop once an evaluation's mean return reaches it",
    "save_memory": "also store the replay memory in checkpoints (large; a resumed run keeps its experience)",
    "exploration_fraction": "epsilon falls linearly from its start to exploration_final_eps over this share of "
    "the run (none: the agent's per-gradient-step decay)",
    "exploration_final_eps": "epsilon at the end of exploration_fraction and after (none: the agent's epsilon_min)",
    "frames_per_step": "emulator frames per env step (Atari's frame skip): the logs then show frames/s",
}
"""One line of help for every :func:`keras_dqn.train` setting (and ``n_envs``), by name (``--help``'s text)."""

"""Each :func:`keras_dqn.train` setting's value check and help text: one home for what a train
setting may be (its name, type and default are ``train``'s own arguments)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from keras_dqn.checks import (
    check_fraction,
    check_non_negative_int,
    check_number,
    check_positive_int,
    optional,
)

TRAIN_SETTING_CHECKS: dict[str, Callable[[str, Any], Any]] = {
    **dict.fromkeys(("n_envs", "total_steps", "batch_size", "train_every", "gradient_steps", "eval_every"),
                    check_positive_int),
    **dict.fromkeys(("learning_starts", "eval_episodes"), check_non_negative_int),
    "frames_per_step": optional(check_positive_int),
    "target_score": optional(check_number),
    "exploration_fraction": optional(lambda name, value: check_fraction(name, value, low_open=True)),
    "exploration_final_eps": optional(check_fraction),
}  # fmt: skip



def check_train_setting(name: str, value: Any) -> Any:
    """``value`` checked as the :func:`keras_dqn.train` setting ``name`` (:data:`TRAIN_SETTING_CHECKS`):
    the one check ``train`` makes and recipes and ``--config`` files make before anything runs.

    Raises:
        ValueError: one line naming the setting and what it must be.
    """
    check = TRAIN_SETTING_CHECKS[name]
    check(name, value)
    return value


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

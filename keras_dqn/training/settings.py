"""Each :func:`keras_dqn.train` setting's value check: one home for what a train setting may be
(its name, type and default are ``train``'s own arguments, its description ``train``'s docstring)."""

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
    **dict.fromkeys(("learning_starts", "eval_episodes", "confirm_episodes"), check_non_negative_int),
    "frames_per_step": optional(check_positive_int),
    "eval_stall_steps": optional(check_positive_int),
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

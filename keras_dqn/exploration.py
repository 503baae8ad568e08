"""Exploration schedules: how epsilon falls as training goes on.

An epsilon-greedy agent takes a random action with probability ``epsilon``.  Early on it
knows nothing, so it should explore a lot; later it should mostly use what it learnt.  A
schedule says how ``epsilon`` gets from one to the other.  Two are common, and both live here:

* :class:`MultiplicativeDecay` — the blog's ``epsilon *= epsilon_decay`` after every gradient
  step, down to a floor.  Simple, but its speed depends on how often you train: with one
  update per env step and ``decay=0.995``, epsilon is at 0.01 after ~900 steps, whatever
  the budget.  It is every agent's default.
* :class:`LinearDecay` — the Nature-DQN / Stable-Baselines3 / rl-zoo schedule: epsilon falls
  in a straight line from ``start`` to ``end`` over the first ``steps`` env steps, then stays
  at ``end``.  ``train(..., exploration_fraction=0.1, exploration_final_eps=0.05)`` builds one
  spanning that fraction of the run.

A schedule is a small callable the agent holds (``agent.exploration``, Dopamine's
"exploration as an injectable function"): ``new_epsilon = schedule(epsilon, env_steps,
gradient_steps)``.  :meth:`keras_dqn.DQNAgent.decay_epsilon` is the one place that calls it;
``agent.replay()`` and :func:`keras_dqn.train` both go through it, and checkpoints save it
(:func:`schedule_config` / :func:`schedule_from_config`).  Write your own by following
:class:`Schedule`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Protocol

from keras_dqn.checks import check_fraction, check_positive_int


def linear_value(start: float, end: float, steps: int, step: int) -> float:
    """The straight line from ``start`` (step 0) to ``end`` (step ``steps``), then ``end``.

    :param start: the value at step 0.
    :param end: the value from step ``steps`` on.
    :param steps: steps the change lasts (positive).
    :param step: where we are.
    """
    left = max(0.0, 1.0 - step / steps)  # 1 at the start, 0 from `steps` on
    return end + (start - end) * left


class Schedule(Protocol):
    """What an exploration schedule is: a function from where training is to epsilon."""

    def __call__(self, epsilon: float, env_steps: int | None, gradient_steps: int) -> float:
        """The new epsilon.

        :param epsilon: the current epsilon.
        :param env_steps: env steps taken so far in all (``None`` when the caller does not count
            them, e.g. the blog loop's ``replay()``).
        :param gradient_steps: gradient steps taken since the last call (0: none).
        """


@dataclasses.dataclass(frozen=True)
class MultiplicativeDecay:
    """The blog's schedule: ``epsilon *= decay`` per gradient step, never below ``floor``.

    :param decay: the factor per gradient step, in (0, 1].
    :param floor: epsilon never decays below this (an epsilon already below it is left alone).
    """

    decay: float
    floor: float

    def __post_init__(self) -> None:
        check_fraction("epsilon_decay", self.decay, low_open=True)
        check_fraction("epsilon_min", self.floor)

    def __call__(self, epsilon: float, env_steps: int | None, gradient_steps: int) -> float:
        if epsilon <= self.floor or not gradient_steps:
            return epsilon
        return max(self.floor, epsilon * self.decay**gradient_steps)


@dataclasses.dataclass(frozen=True)
class LinearDecay:
    """Nature DQN's and SB3's schedule: from ``start`` to ``end`` in a straight line over the first
    ``steps`` env steps, then ``end``.

    It depends only on the env step, so a resumed run continues exactly where it was.  Without
    an env-step count (``env_steps=None``) it leaves epsilon as it is.

    :param start: epsilon at env step 0, in [0, 1].
    :param end: epsilon from env step ``steps`` on, in [0, 1] (SB3's ``exploration_final_eps``).
    :param steps: env steps the fall lasts (a positive integer).
    """

    start: float
    end: float
    steps: int

    def __post_init__(self) -> None:
        check_fraction("start", self.start)
        check_fraction("end (exploration_final_eps)", self.end)
        check_positive_int("steps", self.steps)

    def __call__(self, epsilon: float, env_steps: int | None, gradient_steps: int) -> float:
        if env_steps is None:
            return epsilon
        return linear_value(self.start, self.end, self.steps, env_steps)


def linear_over_fraction(start: float, end: float, fraction: float, total_steps: int) -> LinearDecay:
    """SB3's ``exploration_fraction``: a :class:`LinearDecay` over that fraction of ``total_steps``.

    :param start: epsilon at the first step.
    :param end: epsilon at the end of the fraction and after (``exploration_final_eps``).
    :param fraction: the share of the run epsilon falls over, in (0, 1].
    :param total_steps: env steps of the whole run.
    :raises ValueError: a fraction outside (0, 1] or an epsilon outside [0, 1].
    """
    check_fraction("exploration_fraction", fraction, low_open=True)
    return LinearDecay(start, end, max(1, round(fraction * check_positive_int("total_steps", total_steps))))


def check_linear_settings(fraction: float | None, final_eps: float | None, *, noisy: bool, agent: str = "this agent",
                          prefix: str = "") -> None:  # fmt: skip
    """``train()``'s two exploration settings: together, and only for an agent that explores with epsilon.

    The one home of this rule: ``train()`` and recipes (``prefix="train."``) both call it.

    :param fraction: ``exploration_fraction`` (``None``: the agent's own schedule).
    :param final_eps: ``exploration_final_eps`` (only with ``fraction``).
    :param noisy: whether the agent explores with noisy layers (epsilon is then 0).
    :param agent: how to name the agent in the error.
    :param prefix: how the settings are named where they were given (``"train."`` in a recipe).
    :raises ValueError: ``final_eps`` without ``fraction``, or ``fraction`` for a noisy agent.
    """
    if fraction is None and final_eps is not None:
        raise ValueError(f"{prefix}exploration_final_eps needs {prefix}exploration_fraction, the share of the run "
                         f"epsilon falls over (got exploration_final_eps={final_eps!r}); for the agent's own "
                         "schedule leave both unset")  # fmt: skip
    if fraction is not None and noisy:
        raise ValueError(f"{prefix}exploration_fraction: {agent} is noisy (it explores with its noise, epsilon is 0); "
                         "leave exploration_fraction and exploration_final_eps unset")  # fmt: skip


_KINDS: dict[str, type] = {"multiplicative": MultiplicativeDecay, "linear": LinearDecay}


def schedule_config(schedule: Any) -> dict[str, Any] | None:
    """A JSON-able description of a built-in schedule (``None`` for a schedule of your own)."""
    for kind, cls in _KINDS.items():
        if type(schedule) is cls:
            return {"kind": kind, **dataclasses.asdict(schedule)}
    return None


def schedule_from_config(config: dict[str, Any]) -> MultiplicativeDecay | LinearDecay:
    """The schedule :func:`schedule_config` described.

    :raises ValueError: an unknown kind or bad values.
    """
    settings = dict(config)
    kind = settings.pop("kind", None)
    if kind not in _KINDS:
        raise ValueError(f"exploration schedule kind must be one of {sorted(_KINDS)}, got {kind!r}")
    try:
        return _KINDS[kind](**settings)
    except TypeError as error:
        raise ValueError(f"exploration schedule {kind}: {error}") from None

"""keras-rl's Q policies: how an action is chosen from one state's Q-values.

:class:`GreedyQPolicy` (``DQNAgent.test``'s default), :class:`EpsGreedyQPolicy` (``fit``'s),
:class:`BoltzmannQPolicy`, and :class:`LinearAnnealedPolicy`, which anneals an attribute of
another policy (``eps``, ``tau``) over the agent's steps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from keras_dqn.checks import check_fraction, check_number, check_positive_int, check_positive_number
from keras_dqn.exploration import linear_value


class StepCounter(Protocol):
    """What a policy reads of the agent it serves (:class:`keras_dqn.rl.DQNAgent` is one):
    the env steps taken and whether it is training (``fit``) or testing."""

    step: int
    training: bool


class _CheckedSetting:
    """A policy setting checked on every assignment (``eps``, ``tau``): ``check(name, value)``, a
    :mod:`keras_dqn.checks` function, converts it or raises ``ValueError`` naming the setting.

    ``LinearAnnealedPolicy`` assigns the annealed value on every step, so a bad schedule is
    caught at the step that produces the bad value.
    """

    def __init__(self, check: Callable[[str, Any], float]):
        self.check = check

    def __set_name__(self, owner: type, name: str) -> None:
        self.name, self.attribute = name, f"_{name}"

    def __get__(self, policy: Any, owner: type | None = None) -> Any:
        return self if policy is None else getattr(policy, self.attribute)

    def __set__(self, policy: Any, value: Any) -> None:
        setattr(policy, self.attribute, self.check(self.name, value))


class Policy:
    """Chooses an action from one state's Q-values (keras-rl's ``select_action(q_values)``).

    Args:
        seed: seeds this policy's random choices; ``None`` draws from NumPy's global
            generator (``np.random.seed`` then controls it, as in keras-rl).
    """

    def __init__(self, seed: int | None = None):
        self.rng = np.random.default_rng(seed) if seed is not None else None
        self.agent: StepCounter | None = None

    def set_agent(self, agent: StepCounter) -> None:
        """Attach the agent whose steps and mode the policy may read (the agent calls this)."""
        self.agent = agent

    def seed_if_unseeded(self, seed: np.random.SeedSequence) -> None:
        """Give a policy built without a ``seed`` its own generator (``DQNAgent(seed=...)`` does)."""
        if self.rng is None:
            self.rng = np.random.default_rng(seed)

    def _random(self) -> float:
        return float((self.rng or np.random).random())

    def _choice(self, n: int, p: np.ndarray | None = None) -> int:
        return int((self.rng or np.random).choice(n, p=p))

    @staticmethod
    def _check_q(q_values: Any) -> np.ndarray:
        q = np.asarray(q_values, dtype=np.float64)
        if q.ndim != 1 or len(q) < 1:
            raise ValueError(f"select_action expects the Q-values of one state, shape (nb_actions,); got {q.shape}")
        return q

    def select_action(self, q_values: np.ndarray) -> int:
        """The action to take, given ``q_values`` of shape ``(nb_actions,)``."""
        raise NotImplementedError


class GreedyQPolicy(Policy):
    """Always the action with the highest Q-value (keras-rl's default ``test_policy``)."""

    def select_action(self, q_values: np.ndarray) -> int:
        return int(np.argmax(self._check_q(q_values)))


class EpsGreedyQPolicy(Policy):
    """A uniformly random action with probability ``eps``, else the argmax of Q.

    Args:
        eps: exploration probability in [0, 1] (keras-rl's default 0.1).
        seed: see :class:`Policy`.
    """

    eps = _CheckedSetting(check_fraction)

    def __init__(self, eps: float = 0.1, seed: int | None = None):
        super().__init__(seed)
        self.eps = eps

    def select_action(self, q_values: np.ndarray) -> int:
        q = self._check_q(q_values)
        if self._random() < self.eps:
            return self._choice(len(q))
        return int(np.argmax(q))


class BoltzmannQPolicy(Policy):
    """Sample an action with probability ``softmax(Q / tau)``.

    Args:
        tau: temperature > 0: large is nearly uniform, small nearly greedy.
        clip: ``(low, high)``; ``low`` bounds the exponent ``Q / tau - max(Q / tau)`` from
            below, so no probability underflows to exactly 0.  The exponent is never above 0,
            so ``high`` changes nothing; it is kept for keras-rl's signature.
        seed: see :class:`Policy`.
    """

    tau = _CheckedSetting(check_positive_number)

    def __init__(self, tau: float = 1.0, clip: tuple[float, float] = (-500.0, 500.0), seed: int | None = None):
        super().__init__(seed)
        self.tau = tau
        low, high = (float(c) for c in clip)
        if not low < 0:
            raise ValueError(f"clip[0], the lowest exponent, must be negative; got clip={clip!r}")
        self.clip = (low, high)

    def probabilities(self, q_values: np.ndarray) -> np.ndarray:
        """The probability of each action for these Q-values."""
        z = self._check_q(q_values) / self.tau
        # Subtract the max first: softmax is unchanged by a shift, and exp(z) then cannot
        # overflow.  (keras-rl clipped Q / tau before the shift, which flattens large Q-values:
        # Q = [100, 90] with tau = 0.1 became [500, 500] and a coin flip.)
        z -= z.max()
        e = np.exp(np.clip(z, self.clip[0], 0.0))
        return e / e.sum()

    def select_action(self, q_values: np.ndarray) -> int:
        p = self.probabilities(q_values)
        return self._choice(len(p), p=p)


class LinearAnnealedPolicy(Policy):
    """Anneal one attribute of ``inner_policy`` linearly over the agent's training steps.

    ``value = max(value_min, value_max - (value_max - value_min) * step / nb_steps)`` while
    training, ``value_test`` while testing.  ``step`` counts the env steps of the current
    :meth:`DQNAgent.fit` call (each call starts again from ``value_max``, as in keras-rl).  The usual use::

        LinearAnnealedPolicy(EpsGreedyQPolicy(), attr="eps", value_max=1.0, value_min=0.1,
                             value_test=0.05, nb_steps=10_000)

    Args:
        inner_policy: the policy whose attribute is annealed.
        attr: the attribute's name (``"eps"``, ``"tau"``).
        value_max: the start value.
        value_min: the end value.
        value_test: the value used by :meth:`DQNAgent.test`.
        nb_steps: env steps over which to anneal (>= 1).

    Raises:
        ValueError: ``value_max < value_min``, ``nb_steps < 1``, or ``inner_policy`` lacks ``attr``.
    """

    def __init__(
        self,
        inner_policy: Policy,
        attr: str,
        value_max: float,
        value_min: float,
        value_test: float,
        nb_steps: int,
    ):
        if not isinstance(inner_policy, Policy):
            raise ValueError(f"inner_policy must be a keras_dqn.rl Policy, got {type(inner_policy).__name__}")
        if not hasattr(inner_policy, attr):
            raise ValueError(f"{type(inner_policy).__name__} has no attribute {attr!r} to anneal")
        super().__init__()
        self.inner_policy = inner_policy
        self.attr = attr
        self.value_max = check_number("value_max", value_max)
        self.value_min = check_number("value_min", value_min)
        self.value_test = check_number("value_test", value_test)
        if not self.value_max >= self.value_min:
            raise ValueError(
                f"LinearAnnealedPolicy anneals down from value_max to value_min, so value_max >= value_min "
                f"is expected; got value_max={value_max!r}, value_min={value_min!r}"
            )
        self.nb_steps = check_positive_int("nb_steps", nb_steps)

    def set_agent(self, agent: StepCounter) -> None:
        super().set_agent(agent)
        self.inner_policy.set_agent(agent)

    def seed_if_unseeded(self, seed: np.random.SeedSequence) -> None:
        self.inner_policy.seed_if_unseeded(seed)  # the inner policy is the one that draws

    def value_at(self, step: int, training: bool = True) -> float:
        """The annealed value at env step ``step`` (``value_test`` when not training)."""
        if not training:
            return self.value_test
        return linear_value(self.value_max, self.value_min, self.nb_steps, step)

    def get_current_value(self) -> float:
        """The value now: from the agent's step and mode (``value_max`` before any agent)."""
        if self.agent is None:
            return self.value_max
        return self.value_at(self.agent.step, self.agent.training)

    def select_action(self, q_values: np.ndarray) -> int:
        setattr(self.inner_policy, self.attr, self.get_current_value())
        return self.inner_policy.select_action(q_values)

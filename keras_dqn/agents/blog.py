"""The agents of the blog's own repository (keon/deep-q-learning), by the names its scripts use.

``dqn.py`` and ``dqn_batch.py`` build :class:`~keras_dqn.DQNAgent` with its defaults, which are
theirs.  ``ddqn.py`` builds an agent of the same name with a target network: here it is
:class:`DDQNAgent`, so that script runs with one import changed::

    from keras_dqn.agents.blog import DDQNAgent as DQNAgent

(``examples/keon/`` holds the three scripts so changed.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from keras_dqn.agents.target import TargetDQNAgent

NEVER = 2**31 - 1
"""A ``target_update`` no run reaches: the target network changes only when the script copies it."""


class DDQNAgent(TargetDQNAgent):
    """``ddqn.py``'s agent: the blog's network and settings plus a target network, copied when the
    script calls :meth:`update_target_model` (at each episode's end), and the Huber loss.

    Its targets take the target network's max (``ddqn.py``'s Double-DQN line is commented out),
    so ``double`` is off.  Every other setting is ``ddqn.py``'s: 24-24 ReLU layers, gamma 0.95,
    Adam 0.001, a memory of 2,000, epsilon decaying by 0.99 per ``replay`` to 0.01, no gradient
    clipping.

    Args:
        state_size: as :class:`~keras_dqn.DQNAgent`.
        action_size: as :class:`~keras_dqn.DQNAgent`.
        target_update: as :class:`~keras_dqn.TargetDQNAgent`; by default never: the script copies.
        **kwargs: any other :class:`~keras_dqn.TargetDQNAgent` argument.
    """

    def __init__(
        self,
        state_size: int,
        action_size: int,
        *,
        target_update: int | float = NEVER,
        double: bool = False,
        gamma: float = 0.95,
        memory_size: int = 2000,
        hidden: Sequence[int] = (24, 24),
        loss: str = "huber",
        clipnorm: float | None = None,
        epsilon_decay: float = 0.99,
        **kwargs: Any,
    ):
        super().__init__(
            state_size, action_size, target_update=target_update, double=double, gamma=gamma,
            memory_size=memory_size, hidden=hidden, loss=loss, clipnorm=clipnorm, epsilon_decay=epsilon_decay,
            **kwargs,
        )  # fmt: skip

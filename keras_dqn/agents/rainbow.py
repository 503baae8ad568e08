"""The Rainbow agents: every switch on, for vector states (:class:`RainbowAgent`) and frames
(:class:`ConvRainbowAgent`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from keras_dqn.agents.conv import ConvDQNAgent
from keras_dqn.agents.target import TargetDQNAgent


class _RainbowSwitches:
    """What both Rainbow agents share: the paper's switches, all on, and its priority exponent,
    0.5 (:class:`DQNAgent`'s default is 0.6, the PER paper's).  Each agent class adds
    only its own defaults (the atoms' range, the optimizer, the target copy, ...)."""

    def __init__(
        self,
        state: Any,  # state_size or state_shape
        action_size: int,
        /,
        *,
        n_step: int = 3,
        prioritized: bool = True,
        priority_alpha: float = 0.5,
        noisy: bool = True,
        distributional: bool = True,
        n_atoms: int = 51,
        v_min: float = -10.0,
        dueling: bool = True,
        double: bool = True,
        **kwargs: Any,
    ):
        super().__init__(
            state, action_size, n_step=n_step, prioritized=prioritized, priority_alpha=priority_alpha, noisy=noisy,
            distributional=distributional, n_atoms=n_atoms, v_min=v_min, dueling=dueling, double=double, **kwargs,
        )  # fmt: skip


class RainbowAgent(_RainbowSwitches, TargetDQNAgent):
    """Rainbow (Hessel et al., 2018) for vector states: all six DQN improvements at once.

    Double DQN and a dueling head (which :class:`TargetDQNAgent` has), plus 3-step returns,
    prioritized replay, noisy layers instead of epsilon-greedy and a distributional (C51) head.
    Each is one switch of :class:`DQNAgent`/:class:`TargetDQNAgent`; this class only turns them
    on.  The defaults are the switches' values from the paper (n 3, 51 atoms, priority exponent
    0.5, importance exponent 0.4 annealed to 1) with the CartPole recipe we validated for the
    rest (``keras_dqn.get_recipe("cartpole-rainbow")``): returns of CartPole lie in [-10, 100]
    at gamma 0.99 (with the blog's -10 on a fall), so the atoms span that instead of Atari's
    [-10, 10].

    Args:
        state_size: as :class:`DQNAgent`.
        action_size: as :class:`DQNAgent`.
        v_max: the top atom (CartPole's returns reach 100).
        sigma0: the noisy layers' initial noise scale (the paper's 0.5).
        memory_size: twice :class:`TargetDQNAgent`'s: Rainbow stops failing sooner, and a
            memory that forgets its failures too soon lets a solved agent slip back (the
            README's CartPole seed studies compare 10,000 and 20,000).
        learning_rate: as :class:`TargetDQNAgent`.
        target_update: as :class:`TargetDQNAgent`.
        **kwargs: the switches, all on by default (see :class:`DQNAgent`): ``n_step=3``,
            ``prioritized=True`` (with ``priority_alpha=0.5``), ``noisy=True``,
            ``distributional=True``, ``n_atoms=51``, ``v_min=-10.0``, ``dueling=True``,
            ``double=True``; and any other :class:`TargetDQNAgent` argument.
    """

    def __init__(
        self,
        state_size: int,
        action_size: int,
        *,
        v_max: float = 100.0,
        sigma0: float = 0.5,
        memory_size: int = 20_000,
        learning_rate: float = 0.001,
        target_update: int | float = 500,
        **kwargs: Any,
    ):
        super().__init__(state_size, action_size, v_max=v_max, sigma0=sigma0, memory_size=memory_size,
                         learning_rate=learning_rate, target_update=target_update, **kwargs)  # fmt: skip


class ConvRainbowAgent(_RainbowSwitches, ConvDQNAgent):
    """Rainbow for Atari frames: :class:`ConvDQNAgent` with all six switches on.

    The paper's switches (Hessel et al., 2018): 3-step returns, prioritized replay (exponent
    0.5, importance exponent 0.4 annealed to 1), noisy layers (sigma0 0.5) instead of epsilon,
    a dueling distributional head with 51 atoms on [-10, 10] (rewards are clipped to [-1, 1] by
    :func:`keras_dqn.make_atari_env` when training) and Double DQN.  The optimizer and target
    copy are our Pong DQN's (Adam 1e-4, a copy every 1,000 gradient steps) rather than the
    paper's (6.25e-5, 2,000), which were set for 200M frames, not a CPU's few million: the
    recipe ``keras_dqn.get_recipe("pong-rainbow")``.

    Args:
        state_shape: as :class:`ConvDQNAgent`.
        action_size: as :class:`ConvDQNAgent`.
        v_max: the top atom (the paper's Atari value).
        learning_rate: as :class:`ConvDQNAgent`.
        target_update: as :class:`ConvDQNAgent`.
        **kwargs: the switches, all on as in :class:`RainbowAgent`; and any other
            :class:`ConvDQNAgent` argument (memory_size, precision, seed...).  On a CPU,
            ``noisy_hidden=False`` keeps the noise in the head alone and trains 1.25× faster
            (the recipe ``pong-rainbow-noisy-head``, which met the 90-minute Pong target).
    """

    def __init__(
        self,
        state_shape: Sequence[int],
        action_size: int,
        *,
        v_max: float = 10.0,
        learning_rate: float = 1e-4,
        target_update: int | float = 1000,
        **kwargs: Any,
    ):
        super().__init__(state_shape, action_size, v_max=v_max, learning_rate=learning_rate,
                         target_update=target_update, **kwargs)  # fmt: skip

"""The Q-table a tabular env's model implies: what a DQN on one-hot states approximates.

FrozenLake, Taxi and CliffWalking publish their dynamics (``env.unwrapped.P[state][action]``, a
list of ``(probability, next_state, reward, terminated)``).  Value iteration over them gives the
exact optimal Q-values, the table tabular Q-learning converges to.  A DQN fed one-hot states
learns one weight row per state in its first layer, so it can represent that table exactly; the
table is the yardstick for its Q-values and its greedy policy (``examples/frozenlake.py``,
``benchmarks/toy_text.py``).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np


def optimal_q_table(env: str | gym.Env, *, gamma: float = 1.0, horizon: int | None = None) -> np.ndarray:
    """The optimal Q-values of a tabular env, by value iteration over its model ``P``.

    Args:
        env: an env id or env whose unwrapped env has ``P`` (FrozenLake, Taxi, CliffWalking).
        gamma: the discount (1: the expected return itself, what evaluation measures).
        horizon: steps of value iteration: the steps left in an episode (default: the env's
            time limit, else 1,000).

    Returns:
        An array ``(n_states, n_actions)``: the expected (discounted) return of each action in
        each state, acting optimally afterwards with ``horizon - 1`` steps left.

    Raises:
        ValueError: the env publishes no model ``P``.
    """
    env = gym.make(env) if isinstance(env, str) else env
    model = getattr(env.unwrapped, "P", None)
    if not isinstance(model, dict):
        raise ValueError(f"{env.spec.id if env.spec else env} publishes no model P: value iteration needs one")
    horizon = horizon or (env.spec.max_episode_steps if env.spec else None) or 1000
    n_states, n_actions = len(model), len(model[0])
    # The model as arrays: for each (state, action), its outcomes' probabilities, next states, rewards, ends.
    width = max(len(model[s][a]) for s in range(n_states) for a in range(n_actions))
    prob = np.zeros((n_states, n_actions, width))
    nxt = np.zeros((n_states, n_actions, width), dtype=np.int64)
    reward = np.zeros((n_states, n_actions, width))
    goes_on = np.zeros((n_states, n_actions, width))
    for s in range(n_states):
        for a in range(n_actions):
            for k, (p, s2, r, terminated) in enumerate(model[s][a]):
                prob[s, a, k], nxt[s, a, k], reward[s, a, k], goes_on[s, a, k] = p, s2, r, not terminated
    values = np.zeros(n_states)
    q = np.zeros((n_states, n_actions))
    for _ in range(horizon):
        q = (prob * (reward + gamma * goes_on * values[nxt])).sum(axis=2)
        values = q.max(axis=1)
    return q


def expected_return(env: str | gym.Env, q_table: np.ndarray) -> float:
    """The expected return from a reset when acting optimally: ``max_a Q(s0, a)`` over the reset distribution."""
    env = gym.make(env) if isinstance(env, str) else env
    return float(env.unwrapped.initial_state_distrib @ q_table.max(axis=1))

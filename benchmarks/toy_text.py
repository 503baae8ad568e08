"""The shipped toy-text agents against the best any policy can do, on the same episodes.

For each of FrozenLake-v1 (slippery), Taxi-v4, CliffWalking-v1 and Blackjack-v1 this computes
the optimal policy exactly from the env's own model (value iteration over ``env.unwrapped.P``
with the time limit's horizon; for Blackjack, dynamic programming over the infinite deck),
its expected return from a reset, and then plays the shipped weights and that optimal policy
greedily on the same reset seeds (1,000,000,000 + i: no training run used them).

    python benchmarks/toy_text.py                   # all four, the shipped weights
    python benchmarks/toy_text.py --envs taxi --weights runs/Taxi-v4-taxi_1/last.h5

Prints a table and, last, one JSON line.
"""

from __future__ import annotations

import argparse
import functools
import time

import gymnasium as gym
import numpy as np
from results_file import add_save_flag, report

import keras_dqn
from keras_dqn.envs.tabular import expected_return, optimal_q_table

HELD_OUT_SEED = 1_000_000_000
ENVS = {  # name: (env id, shipped file, episodes, gymnasium's or the bar)
    "frozenlake": ("FrozenLake-v1", "frozenlake-dqn", 1000, 0.70),
    "taxi": ("Taxi-v4", "taxi-dqn", 1000, 8.0),
    "cliffwalking": ("CliffWalking-v1", "cliffwalking-dqn", 100, -13.0),
    "blackjack": ("Blackjack-v1", "blackjack-dqn", 100_000, -0.06),
}


class TablePolicy:
    """A policy given as a Q-table over the flattened (one-hot) observations keras_dqn's agents see."""

    def __init__(self, q_of_observation, action_size: int):
        self.q_of_observation, self.action_size = q_of_observation, action_size

    def q_values(self, states: np.ndarray) -> np.ndarray:
        return np.stack([self.q_of_observation(s) for s in np.atleast_2d(states)])


def tabular_optimum(env_id: str) -> tuple[TablePolicy, float]:
    """The optimal policy of a tabular env (value iteration over its model ``P`` for its time
    limit's horizon) and its expected return from a reset."""
    q = optimal_q_table(env_id)
    return TablePolicy(lambda one_hot: q[int(np.argmax(one_hot))], q.shape[1]), expected_return(env_id, q)


CARDS = [(value, (4 if value == 10 else 1) / 13) for value in range(1, 11)]  # an infinite deck


def _score(raw: int, ace: bool) -> int:
    return raw + 10 if ace and raw + 10 <= 21 else raw


@functools.cache
def _dealer(raw: int, ace: bool) -> dict[int, float]:
    """The dealer's final score (0: bust) from a hand; the dealer draws below 17 (stands on soft 17)."""
    if raw > 21:
        return {0: 1.0}
    if _score(raw, ace) >= 17:
        return {_score(raw, ace): 1.0}
    out: dict[int, float] = {}
    for card, p in CARDS:
        for score, q in _dealer(raw + card, ace or card == 1).items():
            out[score] = out.get(score, 0.0) + p * q
    return out


@functools.cache
def _dealer_given_showing(showing: int) -> tuple[dict[int, float], float]:
    """The dealer's final score distribution and the chance of a natural, given the face-up card."""
    final: dict[int, float] = {}
    natural = 0.0
    for hidden, p in CARDS:
        ace = showing == 1 or hidden == 1
        natural += p * (_score(showing + hidden, ace) == 21)
        for score, q in _dealer(showing + hidden, ace).items():
            final[score] = final.get(score, 0.0) + p * q
    return final, natural


def _stick(player: int, showing: int) -> float:
    final, _ = _dealer_given_showing(showing)
    return sum(p * np.sign(player - score) for score, p in final.items())


@functools.cache
def _blackjack_q(raw: int, ace: bool, showing: int) -> tuple[float, float]:
    """(stick, hit) values of a player hand against the dealer's face-up card, playing on optimally."""
    hit = 0.0
    for card, p in CARDS:
        if raw + card > 21:
            hit -= p
        else:
            hit += p * max(_blackjack_q(raw + card, ace or card == 1, showing))
    return _stick(_score(raw, ace), showing), hit


def blackjack_optimum() -> tuple[TablePolicy, float]:
    """The optimal Blackjack-v1 policy (its default rules: sab=True, natural=False) and its expected return."""

    def q_of_observation(one_hot: np.ndarray) -> np.ndarray:
        player, showing, usable = int(np.argmax(one_hot[:32])), int(np.argmax(one_hot[32:43])), bool(one_hot[44])
        raw = player - 10 if usable else player  # a usable ace counts 11: its raw sum counts it 1
        return np.array(_blackjack_q(raw, usable, showing))

    expected = 0.0
    for first, p1 in CARDS:
        for second, p2 in CARDS:
            raw, ace = first + second, first == 1 or second == 1
            for showing, p3 in CARDS:
                if _score(raw, ace) == 21:  # a natural: +1 unless the dealer has one too (sab rules)
                    value = 1.0 - _dealer_given_showing(showing)[1]
                else:
                    value = max(_blackjack_q(raw, ace, showing))
                expected += p1 * p2 * p3 * value
    return TablePolicy(q_of_observation, 2), expected


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--envs", default=",".join(ENVS), help=f"comma-separated, of {', '.join(ENVS)}")
    parser.add_argument("--weights", help="a weights file to score instead of the shipped one (one env only)")
    parser.add_argument("--seed", type=int, default=HELD_OUT_SEED, help="episode i starts from reset(seed=SEED + i)")
    add_save_flag(parser, "toy_text")
    args = parser.parse_args()
    names = args.envs.split(",")
    rows = []
    for name in names:
        env_id, shipped, episodes, bar = ENVS[name]
        path = args.weights or keras_dqn.weights_path(shipped)
        agent = keras_dqn.load_agent(path)
        optimum, expected = blackjack_optimum() if name == "blackjack" else tabular_optimum(env_id)
        start = time.perf_counter()
        ours = keras_dqn.evaluate(agent, env_id, episodes, seed=args.seed, n_envs=min(episodes, 1000),
                                  env_kwargs=agent.env_kwargs)  # fmt: skip
        seconds = time.perf_counter() - start
        best = keras_dqn.evaluate(optimum, env_id, episodes, seed=args.seed, n_envs=min(episodes, 1000))
        states = _observations(env_id)
        exact = optimum.q_values(states)
        chosen = exact[np.arange(len(states)), np.argmax(agent.q_values(states), axis=1)]
        same = float(np.mean(chosen >= exact.max(axis=1) - 1e-9))  # an optimal action (ties: any of them)
        rows.append({"env": env_id, "weights": str(args.weights or f"weights/{shipped}.h5"), "episodes": episodes,
                     "seeds_from": args.seed,
                     "agent_mean": float(np.mean(ours)), "agent_sem": float(np.std(ours) / np.sqrt(episodes)),
                     "optimal_policy_mean": float(np.mean(best)), "optimal_expected": expected, "bar": bar,
                     "optimal_action_share": same, "eval_s": seconds})  # fmt: skip
        r = rows[-1]
        print(f"{env_id:16s} agent {r['agent_mean']:+.4f} ± {r['agent_sem']:.4f}  optimal policy, same episodes "
              f"{r['optimal_policy_mean']:+.4f}  optimal expected {expected:+.4f}  bar {bar:+g}  "
              f"an optimal action in {same:.0%} of states  ({episodes:,} episodes)")  # fmt: skip
    report({"rows": rows}, args)


def _observations(env_id: str) -> np.ndarray:
    """Every observation the agents see (one-hot), for comparing greedy actions state by state.

    Blackjack: the player sums 4-21 against each face-up card, with and without a usable ace."""
    space = gym.make(env_id).observation_space
    if isinstance(space, gym.spaces.Discrete):
        return np.eye(int(space.n), dtype=np.float32)
    states = [(player, showing, usable) for player in range(4, 22) for showing in range(1, 11) for usable in (0, 1)
              if not usable or player >= 12]  # fmt: skip
    return np.stack([gym.spaces.flatten(space, s) for s in states]).astype(np.float32)


if __name__ == "__main__":
    main()

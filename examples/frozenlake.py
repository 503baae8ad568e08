"""FrozenLake with a DQN: one-hot states, and the network's Q-values next to the exact Q-table.

    python examples/frozenlake.py                                     # train with the frozenlake recipe
    python examples/frozenlake.py --weights weights/frozenlake-dqn.h5 # the shipped agent, no training
    python examples/frozenlake.py --env-kwargs '{"is_slippery": false}' --steps 20000

FrozenLake's observation is one number, the cell the agent stands on (0-15).  Fed to a network
as it is, cell 5 would look "between" cells 4 and 6, which means nothing on a map; so keras_dqn
one-hot encodes it (gymnasium's ``FlattenObservation``): cell 5 becomes a vector of 16 with a 1
at index 5.  A network's first layer then holds one weight row per cell, and the DQN can learn
any Q-table: this is tabular Q-learning written as a neural network, the first exercise of
many DQN courses.

Because FrozenLake publishes its dynamics, the exact optimal Q-table is known too (value
iteration, :func:`keras_dqn.envs.tabular.optimal_q_table`).  The script prints both tables, says in
how many cells the greedy actions agree, scores the agent on held-out episodes, and draws both
as heat maps of the greedy value with the greedy action's arrow in each cell.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

import keras_dqn
from keras_dqn.envs.tabular import expected_return, optimal_q_table

ENV_ID = "FrozenLake-v1"
HELD_OUT_SEED = 1_000_000_000  # evaluation resets no training decision used


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    recipe = keras_dqn.get_recipe("frozenlake")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", help="load these weights instead of training")
    parser.add_argument("--steps", type=int, default=recipe.train_kwargs["total_steps"], help="env steps to train")
    parser.add_argument("--seed", type=int, default=0, help="seeds the agent and the training envs")
    parser.add_argument("--env-kwargs", default="{}", help='FrozenLake\'s options, e.g. \'{"is_slippery": false}\'')
    parser.add_argument("--episodes", type=int, default=1000, help="held-out evaluation episodes")
    parser.add_argument("--plot", default="frozenlake-policy.png", help="the heat maps' PNG ('' for none)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    env_kwargs = json.loads(args.env_kwargs)
    if args.weights:
        agent = keras_dqn.load_agent(args.weights)
        env_kwargs = env_kwargs or agent.env_kwargs
    else:
        # 1. Train with the recipe: TargetDQNAgent on one-hot cells, linear epsilon, 8 lakes at once.
        recipe = keras_dqn.get_recipe("frozenlake")
        agent = recipe.make_agent(16, 4, seed=args.seed)
        n_envs, _, settings = recipe.train_args()
        envs = keras_dqn.make_vector_env(ENV_ID, n_envs, training=True, **env_kwargs)
        keras_dqn.train(agent, envs, args.steps, seed=args.seed, progress=False, **settings)

    # 2. The network's Q-table: its Q-values for each one-hot cell.  The exact one: value iteration,
    #    with the agent's discount over the episode's 100 steps, so the two tables are alike in scale.
    network_q = agent.q_values(np.eye(16, dtype=np.float32))
    env = keras_dqn.make_env(ENV_ID, **env_kwargs)
    exact_q = optimal_q_table(env, gamma=agent.gamma)
    grid = [bytes(row).decode() for row in env.unwrapped.desc]
    cells = [s for s in range(16) if grid[s // 4][s % 4] not in "HG"]  # holes and the goal end the episode
    chosen = exact_q[cells, network_q[cells].argmax(axis=1)]
    optimal = int(np.sum(chosen >= exact_q[cells].max(axis=1) - 1e-9))  # ties: any of the best actions
    np.set_printoptions(precision=3, suppress=True)
    print("network's Q(s, a), rows = cells 0-15, columns = left, down, right, up:\n", network_q)
    print(f"value iteration's Q(s, a) (gamma {agent.gamma}):\n", exact_q)
    print(f"the network's greedy action is an optimal one in {optimal} of the {len(cells)} cells that are not "
          "holes or the goal")  # fmt: skip

    # 3. Judge the greedy policy on episodes no training decision used, against the best expectation.
    returns = keras_dqn.evaluate(agent, ENV_ID, args.episodes, seed=HELD_OUT_SEED, env_kwargs=env_kwargs)
    best = expected_return(env, optimal_q_table(env))  # undiscounted: the success rate itself
    print(f"success rate over {args.episodes} held-out episodes: {np.mean(returns):.3f} "
          f"(the optimal policy's expectation: {best:.3f}; gymnasium's solved line: 0.70)")  # fmt: skip

    # 4. Draw both tables on the map.
    if args.plot:
        from keras_dqn.experiments.plots import plot_grid_policy

        title = f"{ENV_ID} {json.dumps(env_kwargs) if env_kwargs else '(slippery)'}"
        tables = {"DQN: max Q, greedy action": network_q, "value iteration": exact_q}
        print(f"wrote {plot_grid_policy(tables, grid, args.plot, title=title)}")
    return {"success_rate": float(np.mean(returns)), "optimal_expected": best, "optimal_cells": optimal}


if __name__ == "__main__":
    main()

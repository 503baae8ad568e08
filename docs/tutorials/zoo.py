# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # The zoo: classic control, LunarLander and the toy-text envs
#
# Every env below trains with no code: `keras-dqn train ENV_ID` picks its recipe (see
# [recipes and `--config`](../../how-to/recipes-config/)), and each has a shipped agent.
# The seed studies use [`keras-dqn seeds`](../many-runs/) and report
# [honest statistics](../../concepts/statistics/).
#
# This page is a script the documentation build runs (`docs/tutorials/zoo.py`): the scores and
# the training run below are computed as the site is built.
#
# ## Classic control and LunarLander
#
# Every classic-control env with discrete actions and LunarLander has a recipe, the env's default
# for `keras-dqn train`, and a shipped agent. Each was checked on 10 seeds. The recipes start from
# rl-baselines3-zoo's tuned DQN settings (its `hyperparams/dqn.yml`: 256-256 MLP, batch 128, a
# linear epsilon schedule). They run on `TargetDQNAgent` with Double DQN, with one gradient step
# per env step over 4 envs (MountainCar: 8 per 16, as rl-zoo). Where two seeds showed a reason,
# they differ from rl-zoo, as the table says. SB3 counts its target copy in env steps and we
# count gradient steps; the recipes convert (`keras_dqn/config/recipes.py`).
#
# ```bash
# pip install -e ".[box2d,viz]"     # LunarLander's physics (the box2d wheel: no compiler, no swig) and GIFs
# keras-dqn train LunarLander-v3    # prints "recipe: lunarlander"; 100,000 steps; runs/LunarLander-v3-lunarlander_1
# keras-dqn evaluate runs/LunarLander-v3-lunarlander_1/last.h5 --episodes 100 --seed 1000000000
# keras-dqn seeds LunarLander-v3 --seeds 10 --target 200   # the study below (".[ray]")
# ```
#
# ### The shipped agents
#
# Each was trained by `keras-dqn train ENV --seed S --out runs/zoo-ENV` with the
# env's recipe and nothing else, within rl-zoo's step budget. Each file is that run's final weights,
# `last.h5`. Scores are greedy means over 100 episodes on reset seeds 1,000,000,000 + i, and over
# 1,000 more on 3,000,000,000 + i. Training resets and its periodic evaluations (10,000 + step)
# never use these seeds. Wall times are from the 2-core CPU while other jobs shared it.
#
# | env | shipped agent | recipe: what differs from rl-zoo's DQN | env steps | wall time | score (100 episodes) | score (1,000 more) | rl-zoo DQN (budget) | CleanRL DQN (500k steps) |
# |---|---|---|---|---|---|---|---|---|
# | CartPole-v1 | `cartpole-target-dqn.h5` | `cartpole-target`: ours ([how it was made](../../weights/#cartpole)) | 34,030 | 45 s | 500.0 | — | 500.0 (50k) | 488.7 |
# | Acrobot-v1 | `acrobot-dqn.h5` | `acrobot`: Double DQN | 100,000 | 3 min 09 s | **−74.4** | −74.4 | −76.6 ± 11.8 (100k) | −91.5 |
# | MountainCar-v0 | `mountaincar-dqn.h5` | `mountaincar`: Double DQN, 5-step returns, γ 0.99 (rl-zoo 0.98), ε falls over 10% of the run (rl-zoo 20%) | 120,000 | 1 min 50 s | −98.9 (validation, see below) | **−97.8** | −100.8 ± 9.9 (120k) | −195.0 |
# | LunarLander-v3 | `lunarlander-dqn.h5` | `lunarlander`: Double DQN, 3-step returns, lr 5e-4 (rl-zoo 6.3e-4), target copy every 500 steps (rl-zoo 250) | 100,000 | 3 min 37 s | **226.5** | 238.6 | 154.4 ± 79.2 (100k) | — |
#
# The shipped files, scored again as this page was built, on the same 100 held-out episodes (all
# at once, on a gymnasium vector env). A score can differ from the table's in the last digit on
# another CPU: where two actions' Q-values nearly tie, float rounding can pick the other one.

# %%
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import keras_dqn

HELD_OUT_SEED = 1_000_000_000  # episode i starts from reset(seed=HELD_OUT_SEED + i); no training run used these
for env_id, name in [("Acrobot-v1", "acrobot-dqn"), ("MountainCar-v0", "mountaincar-dqn"),
                     ("LunarLander-v3", "lunarlander-dqn")]:  # fmt: skip
    agent = keras_dqn.load_agent(keras_dqn.weights_path(name))
    start = time.perf_counter()
    returns = keras_dqn.evaluate(agent, env_id, episodes=100, seed=HELD_OUT_SEED)
    print(f"{env_id:15s} {name}.h5 ({type(agent).__name__}): greedy mean {np.mean(returns):7.1f} "
          f"over 100 episodes, min {np.min(returns):7.1f}, max {np.max(returns):7.1f} ({time.perf_counter() - start:.1f} s)")

# %% [markdown]
# How each file was chosen, since choosing can flatter:
#
# - **Acrobot** and **LunarLander** are seed 0. For Acrobot we also scored its `best.h5` (the best
#   periodic evaluation): −77.7 on the same 100 episodes, below rl-zoo's figure. Its final weights
#   (−74.4) are what we ship, and the 1,000 fresh episodes confirm them.
# - **MountainCar** is seed 1. Seed 0's final weights scored −103.7 on the 100 episodes, which is
#   not at rl-zoo's −100.8. Seed 1 scored −98.9 on the same episodes, so those 100 served to pick
#   the seed. The honest figure is therefore the 1,000 fresh episodes, which nothing was picked on:
#   **−97.8**.
#
# Commands: `keras-dqn train Acrobot-v1 --seed 0 --out runs/zoo-Acrobot-v1`, then `cp
# runs/zoo-Acrobot-v1/last.h5 weights/acrobot-dqn.h5` and `keras-dqn evaluate weights/acrobot-dqn.h5
# --episodes 100 --seed 1000000000` (`--episodes 1000 --seed 3000000000` for the other column). The
# same goes for `MountainCar-v0 --seed 1` and `LunarLander-v3 --seed 0`. GIFs: `keras-dqn play FILE
# --seed 1000000000 --episodes 1 --record docs/NAME.gif` (how to: [record a GIF](../../how-to/record-gif/)). The tests load each file and play 8 more
# held-out episodes.
#
# ### Ten seeds per recipe
#
# Each recipe on ten seeds (`keras-dqn seeds ENV --seeds 10 --target T`, with T rl-zoo's figure
# for Acrobot and MountainCar and the solved line of 200 for LunarLander). Each seed's score is its
# **final** weights' greedy mean over 100 episodes on reset seeds 1,000,000,000 + i. "Reached"
# means an evaluation during training reached the target at least once. Steps and seconds are
# medians to the first evaluation at the target. Two seeds ran at a time, one core each, while
# the other studies ran too, so the seconds are several times what one seed takes alone.
#
# | env (recipe) | IQM of final scores [95% CI] | median, min, max | final ≥ target | reached target | median env steps to target | median wall s | rl-zoo DQN (one agent) | CleanRL DQN |
# |---|---|---|---|---|---|---|---|---|
# | Acrobot-v1 (`acrobot`), target −76.6 | **−73.4** [−77.5, −71.0] | −74.0, −91.9, −67.3 | **9/10** | 10/10 | 52,500 | 294 | −76.6 ± 11.8 | −91.5 |
# | MountainCar-v0 (`mountaincar`), target −100.8 | **−102.5** [−118.3, −100.1] | −101.3, −168.3, −98.8 | 5/10 (8/10 ≥ −110, gymnasium's solved line) | 10/10 | 60,000 | 180 | −100.8 ± 9.9 | −195.0 |
# | LunarLander-v3 (`lunarlander`), target 200 | **185.4** [129.5, 230.8] | 186.1, 26.4, 257.5 | 4/10 | 10/10 | 47,500 | 119 | 154.4 ± 79.2 | — |
#
# What the table says:
#
# - **Acrobot** is settled. All ten seeds end within a few points of each other, and nine are at
#   or above rl-zoo's single agent.
# - **MountainCar** reaches the flag on every seed (rl-zoo's own settings reached it on 1 of 2 in
#   our tries). The final policies sit at −98.8 to −108.5, except two that got worse late
#   (−119.4 and −168.3). The IQM is 1.7 below rl-zoo's single agent; its interval includes that
#   figure.
# - **LunarLander** is the lesson on final weights. Every seed had an evaluation of 215–256, but
#   the final weights of six seeds are worse, one of them down to 26. The IQM is above rl-zoo's
#   154.4; solved-at-the-end is 4 in 10. `train` keeps each run's best evaluation in `best.h5`
#   for this reason. A learning-rate decay or a larger batch late in the run are the next things
#   to try; we have not tried them.
#
# The seed curves are below. Files: `runs/seeds-ENV_ID/` (`seeds.csv`, `summary.json`,
# `curve.png`).
#
# ![acrobot over 10 seeds](../../seeds-acrobot.png)
# ![mountaincar over 10 seeds](../../seeds-mountaincar.png)
# ![lunarlander over 10 seeds](../../seeds-lunarlander.png)
#
# ## The toy-text envs: FrozenLake, Taxi, CliffWalking, Blackjack
#
# Gymnasium's toy-text envs are the first exercise of many DQN courses, and all six train with
# no code: `FrozenLake-v1`, `FrozenLake8x8-v1`, `Taxi-v4`, `CliffWalking-v1`,
# `CliffWalkingSlippery-v1` and `Blackjack-v1`. Each has a recipe, the env's default for
# `keras-dqn train`.
#
# ```bash
# keras-dqn train FrozenLake-v1                                   # prints "recipe: frozenlake"
# keras-dqn train FrozenLake-v1 --env-kwargs '{"is_slippery": false}'   # the env's own options
# keras-dqn evaluate weights/frozenlake-dqn.h5 --episodes 1000 --seed 1000000000
# python examples/frozenlake.py --weights weights/frozenlake-dqn.h5      # Q-table vs the network, as heat maps
# python benchmarks/toy_text.py                                   # the four shipped agents vs the optimal policy
# ```
#
# ### Why one-hot
#
# FrozenLake's observation is one number, the cell the agent stands on (0-15),
# and Taxi's a number from 0 to 499. Fed to a network as it is, cell 5 would look "between"
# cells 4 and 6, which means nothing on a map. So wherever keras_dqn makes or is given an env
# whose observations are not a `Box` (`train`, `evaluate`, `play_episode`, the CLI,
# `keras_dqn.rl`), it wraps it in gymnasium's own `FlattenObservation` and says so once:
# `Discrete` observations become one-hot vectors (cell 5: a 1 at index 5 of 16), and `Tuple`,
# `Dict`, `MultiDiscrete` and `MultiBinary` ones are concatenated (Blackjack's `(player sum,
# dealer card, usable ace)` becomes 32 + 11 + 2 = 45 numbers). A network's first layer then holds
# one weight row per cell: a DQN on one-hot states can learn any Q-table, which is tabular
# Q-learning written as a network. Observations no wrapper can make a vector of (text, graphs)
# get one error that says to write an `ObservationWrapper`.
#
# The env's options (`--env-kwargs`, or `make_env(id, is_slippery=False)` in Python) are kept in
# the run's printed settings and in the weights file (`agent.env_kwargs`), so `keras-dqn play`
# and `evaluate` rebuild the same env from the file alone. A file trained on one-hot states also
# plays the raw env: `keras_dqn.evaluate(agent, gym.make("FrozenLake-v1"), 100)` flattens it too.
#
# ### FrozenLake from scratch
#
# The `frozenlake` recipe, trained here until a greedy evaluation reaches gymnasium's solved line
# of 0.70:

# %%
recipe = keras_dqn.get_recipe("frozenlake")
n_envs, total_steps, settings = recipe.train_args()
envs = keras_dqn.make_vector_env("FrozenLake-v1", n_envs, training=True)
agent = recipe.make_agent(16, 4, seed=0)  # 16 one-hot cells, 4 moves
start = time.perf_counter()
logs = keras_dqn.train(agent, envs, total_steps, target_score=0.7, seed=0, progress=False, **settings).history
print(f"greedy success rate {logs['eval_mean'][-1]:.3f} at {logs['step'][-1]:,.0f} env steps "
      f"({time.perf_counter() - start:.0f} s); recipe budget {total_steps:,}")

# %% [markdown]
# ### The Q-table next to the network's
#
# FrozenLake publishes its dynamics, so its exact optimal
# Q-table is known (`keras_dqn.envs.tabular.optimal_q_table`, value iteration). `examples/frozenlake.py`
# prints both and draws them on the map. Each cell is coloured by its greedy value and shows the
# greedy action; holes and the goal are grey. The shipped agent's greedy action is an optimal one
# in all 11 cells where there is a choice. Its values are close to the table's (gamma 0.99,
# 100-step episodes):

# %%
from keras_dqn.envs.tabular import expected_return, optimal_q_table
from keras_dqn.experiments.plots import plot_grid_policy

shipped = keras_dqn.load_agent(keras_dqn.weights_path("frozenlake-dqn"))
env = keras_dqn.make_env("FrozenLake-v1")
network_q = shipped.q_values(np.eye(16, dtype=np.float32))  # Q(s, .) for each one-hot cell
exact_q = optimal_q_table(env, gamma=shipped.gamma)
grid = [bytes(row).decode() for row in env.unwrapped.desc]
cells = [s for s in range(16) if grid[s // 4][s % 4] not in "HG"]
optimal = np.sum(exact_q[cells, network_q[cells].argmax(axis=1)] >= exact_q[cells].max(axis=1) - 1e-9)
print(f"the network's greedy action is an optimal one in {optimal} of the {len(cells)} cells that are not holes "
      "or the goal")
png = plot_grid_policy({"DQN: max Q, greedy action": network_q, "value iteration": exact_q}, grid,
                       Path(tempfile.mkdtemp()) / "frozenlake.png")  # fmt: skip
plt.figure(figsize=(8, 4))
plt.imshow(plt.imread(png))
plt.axis("off")
plt.show()

# %% [markdown]
# ### The shipped toy-text agents
#
# Each file is `keras-dqn train ENV --seed 0 --out runs/toy-ENV` with the env's recipe and
# nothing else, its final weights (`last.h5`). Here each plays held-out episodes, next to the
# exact expected return of the optimal policy (value iteration over the env's model, or for
# Blackjack dynamic programming; fewer episodes than
# [Benchmarks](../../benchmarks/#the-toy-text-envs), which plays 1,000 to 100,000 of them):

# %%
for env_id, name, episodes in [("FrozenLake-v1", "frozenlake-dqn", 1000), ("Taxi-v4", "taxi-dqn", 1000),
                               ("CliffWalking-v1", "cliffwalking-dqn", 100)]:  # fmt: skip
    shipped = keras_dqn.load_agent(keras_dqn.weights_path(name))
    returns = keras_dqn.evaluate(shipped, env_id, episodes=episodes, seed=HELD_OUT_SEED, env_kwargs=shipped.env_kwargs)
    best = expected_return(env_id, optimal_q_table(env_id))
    print(f"{env_id:16s} greedy mean {np.mean(returns):+.3f} over {episodes:,} episodes; "
          f"the optimal policy expects {best:+.3f}")

# %% [markdown]
# - **FrozenLake** (slippery, gymnasium's defaults) is solved at the optimum: the agent's 0.755
#   success rate over 1,000 episodes is the optimal policy's on the same episodes (the two
#   policies agree in every cell).
# - **Taxi**'s solved line, a mean return of 8, is above the best any policy can expect: value
#   iteration over Taxi's model gives 7.93 from a reset. The agent scores what the optimal
#   policy scores on the same 1,000 episodes, 7.883, so we report that instead of a bar no agent
#   can clear.
# - **CliffWalking** has no time limit, so its recipe cuts episodes at 200 steps
#   (`env_kwargs={"max_episode_steps": 200}`, recorded in the file): an untrained greedy policy
#   that walks into a wall would otherwise never end. The agent walks the 13-step edge path.
# - **Blackjack** (the default rules, `sab=True`) is within 0.005 of the optimum over 100,000
#   hands: −0.0489 ± 0.0030, against −0.0445 for the optimal policy on the same hands (exact
#   expectation −0.0431, by dynamic programming over the infinite deck). Its greedy action is the
#   optimal one in 96% of the 280 states where the player decides.
#
# ### Ten seeds per toy-text recipe
#
# Each recipe on ten seeds (`keras-dqn seeds ENV --seeds 10 --target T --final-episodes N`; each
# seed's score is its final weights' greedy mean over N episodes on reset seeds 1,000,000,000 + i).
# Two seeds ran at a time, one core each, while other jobs shared the machine.
#
# | env (recipe), target | episodes | IQM of final scores [95% CI] | median, min, max | final ≥ target | reached target | median env steps to target | median wall s |
# |---|---|---|---|---|---|---|---|
# | FrozenLake-v1 (`frozenlake`), target 0.70 | 1,000 | **0.757** [0.7378, 0.76] | 0.755, 0.664, 0.761 | **9/10** | 10/10 | 20,001 | 16 |
# | Taxi-v4 (`taxi`), target 7.8 | 1,000 | **7.883** [7.879, 7.883] | 7.883, 7.871, 7.883 | **10/10** | 10/10 | 40,006 | 113 |
# | CliffWalking-v1 (`cliffwalking`), target −13 | 100 | **−13** [−13, −13] | −13, −13, −13 | **10/10** | 10/10 | 20,004 | 4 |
# | Blackjack-v1 (`blackjack`), target −0.06 | 100,000 | **−0.05116** [−0.05393, −0.04936] | −0.0506, −0.05694, −0.04591 | **10/10** | 10/10 | 30,001 | 27 |
#
# What the table says: every seed of every recipe reached its target during training, and the
# final weights of 39 of 40 are at it (one FrozenLake seed ended at 0.664 after an evaluation at
# the target). Taxi's seeds all end at the optimal policy's score on these episodes, 7.871 to
# 7.883; Blackjack's at −0.057 to −0.046, against −0.0445 for the optimal policy on the same
# hands. Files: `runs/seeds-ENV_ID/` (`seeds.csv`, `summary.json`, `curve.png`). In Blackjack's
# curve the seeds rise and fall together: each evaluation plays 5,000 hands dealt from reset seeds
# 10,000 + step, the same hands for every seed, and 5,000 hands of Blackjack vary by ±0.013.
#
# ![frozenlake over 10 seeds](../../seeds-frozenlake.png)
# ![blackjack over 10 seeds](../../seeds-blackjack.png)

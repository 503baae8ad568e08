# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # The keras-rl walkthrough: `keras_dqn.rl`
#
# "A Hands-On Introduction to Deep Q-Learning using OpenAI Gym in Python" explains DQN (replay,
# a target network updated every C steps) and trains CartPole with keras-rl: build a Keras model,
# hand it to keras-rl's `DQNAgent` with a `SequentialMemory` and an `EpsGreedyQPolicy`, then
# `compile`, `fit` and `test`.
#
# keras-rl no longer imports on Keras 3 (`cannot import name 'model_from_config'`).
# `keras_dqn.rl` has its API — `DQNAgent(model=...)`, `SequentialMemory`, `EpsGreedyQPolicy`,
# `BoltzmannQPolicy`, `GreedyQPolicy`, `LinearAnnealedPolicy`, `compile`, `fit`, `test`,
# `save_weights`, `load_weights` — built on [`TargetDQNAgent`](../target-network/): your model
# becomes the online network, a `clone_model` copy the target network, and replay, Double DQN,
# the Huber loss and the target update are that agent's compiled training step.
#
# ## The article's code, line for line
#
# `examples/keras_rl/walkthrough.py` is the article's code with only its imports and the
# gym → gymnasium calls changed (a test compares the two line by line and runs it):
#
# ```diff
# -import gym
# +import gymnasium as gym
# -from keras.optimizers import Adam
# -from rl.agents.dqn import DQNAgent
# -from rl.policy import EpsGreedyQPolicy
# -from rl.memory import SequentialMemory
# +from keras_dqn.rl import Adam             # Keras 3's Adam with Keras 2's lr=, so Adam(lr=1e-3) runs
# +from keras_dqn.rl import DQNAgent
# +from keras_dqn.rl import EpsGreedyQPolicy
# +from keras_dqn.rl import SequentialMemory
# -env = gym.make(ENV_NAME)
# +env = gym.make(ENV_NAME, render_mode="human")   # visualize=True: gymnasium picks the window in make
# -env.seed(123)
# +env.reset(seed=123)                              # gymnasium seeds through reset
# -nb_actions = env.action_space.n
# +nb_actions = int(env.action_space.n)             # gymnasium's is a NumPy integer, which Keras 3's Dense refuses
# ```
#
# ```bash
# python examples/keras_rl/walkthrough.py    # CartPole-v0, 5,000 steps in a window, then 5 test episodes
# ```
#
# ## Run here
#
# The build of this page runs the article's code as `examples/keras_rl/walkthrough.py` has it,
# with `visualize=False` and no `render_mode` (the build has no window) and `verbose=0` with a
# summary printed instead of the article's line per episode (`verbose=2`); what follows is what it printed.

# %%
import numpy as np
import gymnasium as gym
from keras.models import Sequential
from keras.layers import Dense, Activation, Flatten
from keras_dqn.rl import Adam
from keras_dqn.rl import DQNAgent
from keras_dqn.rl import EpsGreedyQPolicy
from keras_dqn.rl import SequentialMemory

ENV_NAME = 'CartPole-v0'
# Get the environment and extract the number of actions available in the Cartpole problem
env = gym.make(ENV_NAME)
np.random.seed(123)
env.reset(seed=123)
nb_actions = int(env.action_space.n)

model = Sequential()
model.add(Flatten(input_shape=(1,) + env.observation_space.shape))
model.add(Dense(16))
model.add(Activation('relu'))
model.add(Dense(nb_actions))
model.add(Activation('linear'))
print(model.summary())

# %%
policy = EpsGreedyQPolicy()
memory = SequentialMemory(limit=50000, window_length=1)
dqn = DQNAgent(model=model, nb_actions=nb_actions, memory=memory, nb_steps_warmup=10,
target_model_update=1e-2, policy=policy)
dqn.compile(Adam(lr=1e-3), metrics=['mae'])
history = dqn.fit(env, nb_steps=5000, visualize=False, verbose=0)
rewards = history.history["episode_reward"]
print(f"{len(rewards)} training episodes; the last 20 averaged {np.mean(rewards[-20:]):.1f}")

# %%
test = dqn.test(env, nb_episodes=5, visualize=False)

# %% [markdown]
# ## The article's script
#
# It changes only its imports and what gymnasium and Keras 3 force (`CartPole-v1`,
# `env.reset(seed=123)`, `Adam(learning_rate=...)`, `int(env.action_space.n)`):
#
# ```python
# import gymnasium as gym
# from keras.layers import Activation, Dense, Flatten
# from keras.models import Sequential
# from keras.optimizers import Adam
#
# from keras_dqn.rl import DQNAgent, EpsGreedyQPolicy, SequentialMemory
#
# env = gym.make("CartPole-v1")
# env.reset(seed=123)
# model = Sequential([Flatten(input_shape=(1,) + env.observation_space.shape), Dense(16), Activation("relu"),
#                     Dense(2), Activation("linear")])
# dqn = DQNAgent(model=model, nb_actions=2, memory=SequentialMemory(limit=50000, window_length=1),
#                nb_steps_warmup=10, target_model_update=1e-2, policy=EpsGreedyQPolicy())
# dqn.compile(Adam(learning_rate=1e-3), metrics=["mae"])
# dqn.fit(env, nb_steps=5000, visualize=False, verbose=2)          # History: episode_reward, nb_episode_steps, nb_steps
# dqn.test(env, nb_episodes=5, visualize=False)                    # History: episode_reward, nb_steps
# ```
#
# ```bash
# python examples/keras_rl_cartpole.py                 # the article: train 5,000 steps, test 5 episodes
# python examples/keras_rl_cartpole.py --visualize     # in a window (gymnasium: render_mode="human")
# python examples/keras_rl_cartpole.py --nb-steps 500 --nb-episodes 2   # a quick look
# ```
#
# What the example changes from the article, and why:
#
# - imports: `rl.*` → `keras_dqn.rl` (keras-rl does not import on Keras 3), `gym` → `gymnasium`;
# - `CartPole-v0` → `CartPole-v1` (v0 is deprecated in gymnasium; v1 runs 500 steps, not 200);
# - `env.seed(123)` → `env.reset(seed=123)` (gymnasium seeds through reset);
# - `Adam(lr=1e-3)` → `Adam(learning_rate=1e-3)` (Keras 3 dropped `lr`);
# - `int(env.action_space.n)`: Keras 3's `Dense` refuses gymnasium's NumPy `int64`;
# - `visualize=True` needs the window chosen when the env is made (`render_mode="human"`), so it
#   is a flag here, off by default;
# - `keras.utils.set_random_seed(123)` next to `np.random.seed(123)`: Keras 3 initialises weights
#   from its own seed, not NumPy's, and the run should be repeatable.
#
# ## Differences from keras-rl, on purpose
#
# - `fit` stores `done = terminated`: a time-limit cut, gymnasium's or `nb_max_episode_steps`,
#   still bootstraps (keras-rl stored it as terminal; see [what `done` means](../../concepts/done/)).
# - Learning waits for `batch_size` stored transitions.
# - `compile`'s `metrics` are checked but not computed (the compiled step returns its loss; `fit`
#   prints loss and mean Q).
# - `enable_dueling_network` supports `dueling_type="avg"`.
# - Policies take a `seed`; `DQNAgent(seed=...)` seeds those without one (with no seed anywhere
#   they follow `np.random.seed`).
# - `BoltzmannQPolicy` subtracts the max before clipping.
# - keras-rl's `processor`, `action_repetition`, `nb_max_start_steps` and the like raise a "not
#   supported" `TypeError`.
#
# The full list is in `keras_dqn.rl`'s docstring ([API reference](../../reference/api/#keras_dqn.rl)).
# With `window_length > 1` each state stacks that many observations, zeros before an episode's first.

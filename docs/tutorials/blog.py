# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # Keon Kim's blog: `DQNAgent`
#
# Keon Kim's ["Deep Q-Learning with Keras and Gym"](https://keon.github.io/deep-q-learning/)
# teaches deep Q-learning on CartPole in under 100 lines: an agent with a small Keras network, a
# replay memory, epsilon-greedy exploration, and a `replay(batch_size)` method that fits the
# network towards `reward + gamma * max Q(next state)`. Its training script plays 1,000
# episodes of up to 500 steps, gives a reward of −10 on the step that ends an episode, and calls
# `replay(32)` once the memory holds more than 32 samples.
#
# On Keras 3 that script no longer runs as written (gym 0.x calls are gone), and the blog's
# `replay` — two `model.predict` calls and one `model.fit` per sample — runs at about 0.2
# environment steps per second (see [Benchmarks](../../benchmarks/)). `keras_dqn.DQNAgent` keeps
# the blog's names, arguments and defaults and runs the same loop at about 2,500 steps per second
# on a laptop CPU.
#
# This page is a script, `docs/tutorials/blog.py`, which the documentation build runs: every
# output below is what it printed. Run it yourself with `python docs/tutorials/blog.py`, or open
# it as a notebook (`jupytext --to notebook docs/tutorials/blog.py`).
#
# ## The blog's `replay`, and ours
#
# The blog trains one sample at a time:
#
# ```python
# def replay(self, batch_size):
#     minibatch = random.sample(self.memory, batch_size)
#     for state, action, reward, next_state, done in minibatch:
#         target = reward
#         if not done:
#             target = reward + self.gamma * np.amax(self.model.predict(next_state)[0])
#         target_f = self.model.predict(state)
#         target_f[0][action] = target
#         self.model.fit(state, target_f, epochs=1, verbose=0)
#     if self.epsilon > self.epsilon_min:
#         self.epsilon *= self.epsilon_decay
# ```
#
# What changed, and why:
#
# | the blog | keras_dqn | why |
# |---|---|---|
# | 32 × (2 `predict` + 1 `fit`) per `replay(32)` | one compiled TensorFlow step (XLA) on the whole minibatch | a Keras call costs far more than the arithmetic of a 24-24 network; the loss is the mean squared error on Q(s, a) alone, as the blog's `target_f` trick gives |
# | `model.predict` in `act` | a NumPy forward pass of a weight snapshot each training step hands back | even a compiled Keras call costs ~0.2 ms, the NumPy pass ~10 µs; call `agent.refresh_policy()` if you change `agent.model`'s weights yourself |
# | `random.sample` on a `deque(maxlen=2000)` | a preallocated NumPy ring, sampled with replacement | no Python loop over the minibatch |
# | epsilon decays per `replay`, stops just under `epsilon_min` | decays per `replay`, floored at exactly `epsilon_min` | |
# | `gym`: `reset()` gives the state, `step()` four values | gymnasium: `reset()` gives `(state, info)`, `step()` five values | `done` is `terminated`: see [what done means](../../concepts/done/) |
# | nothing seeded | `seed=` seeds the weights, exploration and replay sampling | the same call gives the same run to the last bit |
#
# ## The agent
#
# The blog's defaults: γ 0.95, epsilon from 1.0 decaying by 0.995 per `replay` to 0.01, Adam
# 0.001, a memory of 2,000, two hidden layers of 24 ReLU units.

# %%
import gymnasium as gym
import numpy as np

import keras_dqn

env = gym.make("CartPole-v1")
state_size = env.observation_space.shape[0]
action_size = env.action_space.n
agent = keras_dqn.DQNAgent(state_size, action_size, seed=0)
agent.model.summary()

# %% [markdown]
# ## The blog's loop
#
# Act, step, remember, `replay(32)`; the step that ends an episode by failure gets −10, as in
# the blog. The blog plays 1,000 episodes; 150 are enough here to see CartPole's scores climb
# (the build runs this page on every change, so it keeps the budget small).

# %%
EPISODES = 100
batch_size = 32
scores = []
for episode in range(EPISODES):
    state, _ = env.reset(seed=episode)
    score, done = 0, False
    while not done:  # CartPole-v1 truncates at 500 steps
        action = agent.act(state)
        next_state, reward, terminated, truncated, _ = env.step(action)
        reward = reward if not terminated else -10
        agent.remember(state, action, reward, next_state, terminated)  # done = terminated, not truncated
        state, score, done = next_state, score + 1, terminated or truncated
        if len(agent.memory) > batch_size:
            agent.replay(batch_size)
    scores.append(score)
    if episode % 20 == 19:
        print(f"episodes {episode - 18:3d}-{episode + 1:3d}: mean score {np.mean(scores[-20:]):6.1f}, "
              f"epsilon {agent.epsilon:.2f}")

# %%
import matplotlib.pyplot as plt

plt.figure(figsize=(7, 3))
plt.plot(scores, label="score (steps balanced)")
plt.plot(np.convolve(scores, np.ones(10) / 10, mode="valid"), label="mean of 10")
plt.xlabel("episode")
plt.ylabel("score")
plt.legend()
plt.show()

# %% [markdown]
# ## Watch a trained agent
#
# `weights/cartpole-dqn.h5` was trained by this agent with the blog's settings until a greedy
# evaluation over 100 episodes averaged at least 475 ([how it was made](../../weights/)).
# `keras_dqn.load_agent` builds the agent a weights file describes; `evaluate` plays greedily
# (epsilon 0) on reset seeds of its own.

# %%
trained = keras_dqn.load_agent(keras_dqn.weights_path("cartpole-dqn"))
returns = keras_dqn.evaluate(trained, "CartPole-v1", episodes=10, seed=1_000_000)
print("greedy returns:", returns)

# %% [markdown]
# `load` also reads the original tutorial's Keras-2 file (`save/cartpole-dqn.h5` of
# keon/deep-q-learning) unchanged: `keras_dqn.DQNAgent(4, 2).load("cartpole-dqn.h5")`.
#
# ## The API
#
# ```python
# from keras_dqn import DQNAgent
#
# agent = DQNAgent(
#     state_size,  # env.observation_space.shape[0]
#     action_size,  # env.action_space.n
#     gamma=0.95,
#     epsilon=1.0,
#     epsilon_min=0.01,
#     epsilon_decay=0.995,
#     learning_rate=0.001,
#     memory_size=2000,
#     hidden=(24, 24),
#     seed=None,
# )
# agent.model  # keras.Sequential built in agent._build_model(): Dense 24 relu, Dense 24 relu, Dense action_size
# agent.td_update  # the whole TD update, one method: targets, Q(s, a), loss, gradient, target sync
# agent.remember(state, action, reward, next_state, done)  # done = terminated (see below)
# agent.act(state)  # epsilon-greedy int; state shaped (state_size,) or (1, state_size)
# agent.act(state, greedy=True)
# agent.replay(32)  # one gradient step on a random minibatch of 32, then epsilon decay; returns the loss
# agent.q_values(states)  # (batch, action_size) NumPy array
# agent.save("any-name.h5")  # weights-only HDF5, written atomically
# agent.load("any-name.h5")  # ours or a Keras-2 weights file; shapes checked before anything changes
# len(agent.memory), agent.memory.maxlen
# ```
#
# ## What `done` means
#
# Pass `done=terminated` to `remember`, never `terminated or truncated`. A terminated episode
# (the pole fell) has no future, so its target is the reward alone. A truncated episode (the
# 500-step time limit) stopped for a reason the state does not show; its next state still has
# value, and the target must bootstrap from it. The [concept page](../../concepts/done/) says more.
#
# ## Seeds
#
# `seed` makes a run repeatable: it seeds the initial weights, exploration (epsilon's draws or
# the noisy layers' noise) and replay sampling, and `train` seeds the envs' resets, so the same
# call with the same seed gives the same run to the last bit (`tests/agents/test_rainbow.py`
# checks it for MLP and conv Rainbow agents). Two things make another run: `train()`'s
# `total_steps` (prioritized replay's β and a linear epsilon schedule follow it) and
# `resume=True` (the envs restart from reset seed `seed + steps done`, not from where the
# interrupted games were).
#
# ## The blog's own scripts, as written
#
# The blog's repository, [keon/deep-q-learning](https://github.com/keon/deep-q-learning), holds
# three scripts: `dqn.py` (the blog's), `dqn_batch.py` (one `model.fit` on the whole minibatch)
# and `ddqn.py` (a target network copied at each episode's end, Huber loss). Each defines its own
# `DQNAgent` class and then runs a loop. `examples/keon/` holds the three loops with only their
# imports and the gym → gymnasium calls changed; a test compares them with the originals line by
# line and runs each:
#
# ```diff
# -import gym
# +import gymnasium as gym
# -class DQNAgent: ...                       # the script's own agent, ~60 lines
# +from keras_dqn import DQNAgent            # ddqn.py: from keras_dqn.agents.blog import DDQNAgent as DQNAgent
# -        state = env.reset()
# +        state, _ = env.reset()             # gymnasium returns (observation, info)
# -            next_state, reward, done, _ = env.step(action)
# +            next_state, reward, done, _, _ = env.step(action)   # done = terminated; the loop's
# +                                                                 # range(500) ends the episode at the time limit
# ```
#
# ```bash
# python examples/keon/dqn.py          # 1,000 episodes, as the original
# python examples/keon/dqn_batch.py    # logs the loss every 10 steps, as the original
# python examples/keon/ddqn.py         # 5,000 episodes with the shaped reward of ddqn.py
# ```
#
# The scripts call `agent.memorize(...)`, the name the repository uses since it renamed
# `remember`: `DQNAgent.memorize` is `remember`. `ddqn.py`'s agent is
# `keras_dqn.agents.blog.DDQNAgent`: a `TargetDQNAgent` whose defaults are that script's settings
# (24-24 ReLU, gamma 0.95, epsilon decay 0.99 per replay, memory 2,000, no automatic target copy:
# the script calls `update_target_model()`). Both agents load the repository's saved Keras-2 files,
# `save/cartpole-dqn.h5` and `save/cartpole-ddqn.h5`.
#
# `examples/cartpole.py` is the blog's loop with every hyperparameter a flag (`--help` lists
# them), a greedy evaluation over 100 fresh episodes as its stopping rule (475 is gymnasium's
# "solved" line), and a final evaluation on episodes never used to decide anything.
#
# ## How well it learns
#
# With the blog's hyperparameters (γ 0.95, 24-24, memory 2,000, no target network) `DQNAgent`
# solves CartPole on 10 of 10 seeds (median 29,499 env steps), but only 2 of 10 are still
# solved 20,000 training steps later: DQN on CartPole is famous for collapsing after it solves
# the task ([Benchmarks: Solving CartPole](../../benchmarks/#solving-cartpole-and-staying-solved)).
# The fix is the next tutorial: [a target network](../target-network/).

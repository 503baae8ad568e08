# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # Atari and Pong: `ConvDQNAgent`
#
# Every tutorial ends with "the same idea works on Atari, it just takes longer". Here it is, on
# a CPU:
#
# ```bash
# pip install -e ".[atari]"        # ale-py (it ships the ROMs: no AutoROM, no download) and OpenCV
# python examples/atari.py         # train Pong: checkpoints, logs and weights in runs/atari-pong
# python examples/atari.py --resume                                  # continue a stopped run
# python examples/atari.py --weights runs/atari-pong/best.h5 --episodes 10       # evaluate 10 full games
# python examples/atari.py --weights runs/atari-pong/best.h5 --record pong.gif   # or .mp4
# keras-dqn plot runs/atari-pong/logs                                # the learning curve
# ```
#
# The same recipe from the command line is `keras-dqn train ALE/Pong-v5` (the `pong` recipe:
# `ConvDQNAgent`, 2M agent steps). From Python:
#
# ```python
# import keras_dqn
#
# env = keras_dqn.make_atari_env("Pong")  # ALE/Pong-v5, Nature-DQN preprocessing, (4, 84, 84) uint8
# agent = keras_dqn.ConvDQNAgent(env.observation_space.shape, env.action_space.n, seed=0)
# envs = keras_dqn.make_atari_vector_env("Pong", 4)  # 4 games, one batched CNN call to act in all
# eval_envs = keras_dqn.make_atari_vector_env("Pong", 4, training=False)  # full games, real score
# keras_dqn.train(agent, envs, 2_000_000, train_every=4, learning_starts=20_000,
#                 eval_env=eval_envs, eval_every=50_000, eval_episodes=4, checkpoint_dir="runs/pong",
#                 save_memory=True, frames_per_step=4)
# ```
#
# ## What the agent sees
#
# `make_atari_env(game, training=True, sticky_actions=0.0, ...)` makes `ALE/{game}-v5` with
# `frameskip=1` and lets gymnasium's `AtariPreprocessing` skip frames once (4, max-pooling the
# last two), with up to 30 no-ops at reset, 84×84 grayscale frames, FIRE on reset for games
# that wait for it, and `FrameStackObservation(4)`. Only with `training=True`: rewards clipped
# to [−1, 1] and a lost life ends the episode. Evaluate on `training=False` envs: full games and
# the unclipped score.
#
# `sticky_actions` is 0 as in the Nature paper; ALE v5's own default is 0.25 (Machado et al.,
# 2018), a harder benchmark — pass `sticky_actions=0.25` for it. From the command line the
# protocol is an env option: `keras-dqn train ALE/Pong-v5 --env-kwargs '{"sticky_actions": 0.25}'`
# trains and evaluates under it and records it in the weights file, so `keras-dqn evaluate FILE`
# scores that file under the protocol it was trained with (`--env-kwargs '{"sticky_actions": 0}'`
# for the other); the evaluation line names it.
#
# Here is one observation, made by the documentation build: the four frames the agent sees at
# once, oldest first.

# %%
import matplotlib.pyplot as plt

import keras_dqn

env = keras_dqn.make_atari_env("Pong", training=False)
state, _ = env.reset(seed=1_000_000_000)
for _ in range(60):  # play on a little, so the ball is in the frames
    state, *_ = env.step(0)
print(env.observation_space.shape, state.dtype, f"{state.nbytes:,} bytes")
fig, axes = plt.subplots(1, 4, figsize=(9, 2.6))
for i, ax in enumerate(axes):
    ax.imshow(state[i], cmap="gray")
    ax.set_title(f"frame t-{3 - i}" if i < 3 else "frame t")
    ax.axis("off")
plt.show()

# %% [markdown]
# And the shipped agent (`weights/pong-conv-dqn.h5`) playing one full game greedily, on a reset
# seed no training run used:

# %%
agent = keras_dqn.load_agent(keras_dqn.weights_path("pong-conv-dqn"))
score = keras_dqn.evaluate(agent, "ALE/Pong-v5", episodes=1, seed=1_000_000_000)[0]
print(f"{type(agent).__name__}: one game of Pong, score {score:+.0f} (21 points to the winner)")

# %% [markdown]
# ## The agent
#
# `ConvDQNAgent(state_shape, action_size, ...)` is a [`TargetDQNAgent`](../target-network/) with
# the Nature CNN (`keras_dqn.build_nature_cnn`: 32 8×8/4, 64 4×4/2, 64 3×3/1, 512, |A|, as a
# `Sequential`). It takes `uint8` frames and scales them inside the model; frames stacked first
# `(4, 84, 84)` or last `(84, 84, 4)` both work. Defaults (the `pong` recipe that made the
# shipped weights): Double DQN, Huber, Adam 1e-4 with gradient clipnorm 10, γ 0.99, target copy
# every 1,000 gradient steps, memory 100,000, epsilon 1 → 0.01 decaying 0.99991 per gradient
# step. Its training step runs without XLA: TensorFlow's own CPU convolutions are much faster
# than XLA's here.
#
# Its memory is a `keras_dqn.FrameReplayBuffer`: each 84×84 frame is stored once and the stacks
# are rebuilt when sampling, never across an episode start — 7,070 bytes per transition instead
# of 56,460 for whole `uint8` stacks, so 1M transitions take 7.1 GB
# ([replay memories](../../concepts/replay/)). `frame_memory=False` gives a plain buffer, for
# image observations that are not frame stacks.
#
# `ConvDQNAgent(..., precision="mixed_bfloat16")` computes the CNN in bfloat16 (variables stay
# float32) on CPUs with AVX-512 BF16 or AMX and on Ampere-or-newer GPUs; elsewhere it warns and
# uses float32. It is off by default: on this project's machine it has measured 1.2× faster on one
# CPU model and slower on another ([Benchmarks](../../benchmarks/#dqn-and-rainbow-float32-and-bfloat16-on-pong)),
# and no Pong run has yet shown that it learns as well. `precision="auto"` times a training step
# of the network both ways when the agent is built and keeps the faster (`agent.precision_timings`).
#
# ## The shipped Pong agent
#
# `weights/pong-conv-dqn.h5` (6.8 MB) is a `ConvDQNAgent` trained by `python examples/atari.py`
# with the defaults above, on a 2-core CPU, in 950,000 agent steps (3 h 37 min). It wins every
# game: **+20.7** on average over 10 full greedy games (`python benchmarks/evaluate_pong.py`:
# +20 +21 +20 +21 +21 +21 +21 +20 +21 +21; the Nature paper reports 18.9, random play about
# −20.7). Here it is playing one of them, which it wins 21-1 (made by `keras_dqn.record`, via
# `--record`; the game ends before the screen shows the last point):
#
# ![The shipped agent (green, right) beating Pong's built-in opponent 21-1](../../pong.gif)
#
# ```bash
# python examples/atari.py --weights weights/pong-conv-dqn.h5 --episodes 10   # evaluate 10 full games
# keras-dqn play weights/pong-conv-dqn.h5 --record pong.gif   # the file knows its game; needs ".[viz]"
# ```
#
# How it was made, and how it learned, is in
# [How the shipped weights were made](../../weights/#pong-weightspong-conv-dqnh5). Training ran at
# 396 to 550 emulator frames per second on 2 CPU cores in our measurements, a little faster than
# Stable-Baselines3's DQN on the same schedule in the same run ([Benchmarks](../../benchmarks/)). The next step is
# [Rainbow](../rainbow/), which reaches the same score in under half the agent steps.
#
# ## Breakout: keras.io's example
#
# keras.io's "Deep Q-Learning for Atari Breakout" writes the whole DQN loop out with Keras:
# epsilon-greedy actions, replay buffers as Python lists, a target network copied every 10,000
# steps, and a "running reward" (the mean score of the last 100 games) that counts as solved at
# 40. `examples/keras_io_breakout.py` keeps that loop's shape and hands each part to keras_dqn:
# `ConvDQNAgent` with keras.io's settings, the recipe `breakout-keras-io` (Adam 2.5e-4 clipped to
# norm 1, Huber, gamma 0.99, a memory of 100,000, no Double DQN, epsilon 1 → 0.1 over the first
# 1,000,000 agent steps after 50,000 random ones).
#
# ```bash
# python examples/keras_io_breakout.py --max-steps 20000      # keras.io's loop, a short look
# keras-dqn train ALE/Breakout-v5 --seed 0                     # the same recipe, 4 games at once, checkpoints, --resume
# ```
#
# What changed, and why: keras.io counts "frames" where it means agent steps (each is 4 emulator
# frames), so its 10-million budget is 2.5M agent steps here; its lists of stacked frames take
# ~5.6 GB for 100,000 transitions, where the frame memory keeps each frame once (~0.7 GB); and the
# game gets FIRE after each lost life, which Breakout waits for. Its env, BreakoutNoFrameskip-v4,
# repeats no actions at random: `make_atari_env`'s default protocol too (no sticky actions).
# No Breakout weights are shipped yet: the 10M-frame run takes about a day on this 2-core CPU.

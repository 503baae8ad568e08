# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # The TensorFlow workshop, and the human who helps
#
# "Introduction to OpenAI gym part 2: building a deep q-network" is a TensorFlow 1 workshop
# (placeholders, a session, `tf.train.RMSPropOptimizer`). It trains a small network on
# CartPole, sends the loss to TensorBoard, plots what the network predicts, and ends with
# "team up with your robot": the agent asks a human for help when it thinks it is in trouble.
#
# ## The workshop's network
#
# `examples/tf_workshop.py` writes the network as a Keras model inside a `keras_dqn.DQNAgent`
# subclass; everything else is the workshop's recipe:
#
# - the network 4-16-32-8-2, ReLU hidden layers, weights ~ N(0, 0.35), zero biases;
# - RMSProp with learning rate 1e-4 on the squared TD error, gamma 0.9;
# - "I prefer that my agent gets 0 reward if it dies": the terminating step's reward is 0;
# - epsilon-greedy exploration, as the workshop's exercise asks (it left the agent random);
# - the loss to TensorBoard; after training, the predicted Q of each action over one greedy
#   episode (a PNG) and that episode as a GIF.
#
# ```bash
# python examples/tf_workshop.py                       # 50,000 steps; writes runs/tf_workshop/{q_values.png,episode.gif,tensorboard/}
# python examples/tf_workshop.py --episodes 20 --out /tmp/workshop   # a quick look
# tensorboard --logdir runs/tf_workshop/tensorboard    # the loss curve
# ```
#
# The workshop did not print its memory size, batch size or how long it trained; ours are the
# flags `--help` marks "ours". Training runs `--steps` environment steps (the workshop's
# `FRAMES_TO_PLAY`), or stops earlier after `--episodes` episodes; the agent is then judged by
# greedy play on 100 fresh episodes, not by its training scores.
#
# ## What the network predicts
#
# The workshop plots the Q-value the network predicts for each action over one episode. Here,
# run by the documentation build, for the shipped blog agent (`weights/cartpole-dqn.h5`): one
# greedy episode, the predicted return of "left" and "right" at every step.

# %%
import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np

import keras_dqn

agent = keras_dqn.load_agent(keras_dqn.weights_path("cartpole-dqn"))
env = gym.make("CartPole-v1")
state, _ = env.reset(seed=1_000_000)
q_values, done = [], False
while not done:
    q = agent.q_values(state)[0]
    q_values.append(q)
    state, reward, terminated, truncated, _ = env.step(int(np.argmax(q)))
    done = terminated or truncated
q_values = np.array(q_values)
print(f"{len(q_values)} steps; Q at the start {q_values[0].round(2)}, lowest best Q {q_values.max(axis=1).min():.2f}")
plt.figure(figsize=(7, 3))
plt.plot(q_values[:, 0], label="Q(s, left)")
plt.plot(q_values[:, 1], label="Q(s, right)")
plt.xlabel("step")
plt.ylabel("predicted return")
plt.legend()
plt.show()

# %% [markdown]
# The plot of predicted Q per action works on any agent:
# `keras_dqn.experiments.plots.plot_q_values(agent, "CartPole-v1", "q.png")` (needs the `viz`
# extra).
# ## Team up with your robot
#
# The workshop's last part: a trained agent plays; when the best Q-value falls to the start
# state's best Q-value minus `--margin` or lower, it asks you for the action (0 = left,
# 1 = right) on stdin. Q(s, a) is the return the agent expects from here, so the start state's
# best Q-value is what a healthy episode looks like. Invalid answers are asked again; at end of
# input the agent plays on alone. It reports how often it asked and the final score.
#
# ```bash
# python examples/human_in_the_loop.py                 # the shipped agent (weights/cartpole-dqn.h5), margin 20
# python examples/human_in_the_loop.py --margin 5      # asks more often
# yes 1 | python examples/human_in_the_loop.py         # piped input works
# python examples/human_in_the_loop.py --render        # watch in a window while you answer
# ```
#
# Here the "human" is a list of answers, so the build can run it: the agent asks whenever its
# best Q-value falls 20 below the start state's, and this helper answers "right" five times
# without looking. Compare its score with the agent's alone on the same episode above: a helper
# is only as good as their answers.

# %%
import importlib.util
import io
from pathlib import Path

examples = Path(keras_dqn.__file__).resolve().parents[1] / "examples"  # a checkout's examples/
spec = importlib.util.spec_from_file_location("human_in_the_loop", examples / "human_in_the_loop.py")
human_in_the_loop = importlib.util.module_from_spec(spec)
spec.loader.exec_module(human_in_the_loop)

answers = io.StringIO("1\n" * 5)  # five answers, then end of input: the agent plays on alone
result = human_in_the_loop.team_up(agent, gym.make("CartPole-v1"), 20.0, human_in_the_loop.ask_human(answers),
                                   seed=1_000_000)
print(f"threshold {result['threshold']:.2f}: asked {result['asked']} times, played "
      f"{result['answered']} human actions, score {result['score']:.0f}")

# %% [markdown]
# About `--margin`: the workshop used 0.2 on its network's Q scale. The shipped agent (gamma
# 0.95) starts near Q = 30 and cruises around 10–20 even when all is well, so 0.2 would ask at
# almost every step; the default 20 asks only in its lowest moments.

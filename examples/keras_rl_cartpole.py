"""The keras-rl CartPole walkthrough ("A Hands-On Introduction to Deep Q-Learning using OpenAI Gym
in Python"), run on keras_dqn.rl.

    python examples/keras_rl_cartpole.py                    # the article: train 5,000 steps, test 5 episodes
    python examples/keras_rl_cartpole.py --visualize        # the same in a window (needs a display and pygame)
    python examples/keras_rl_cartpole.py --nb-steps 500 --nb-episodes 2   # a quick look

The code below is the article's, changed only where gymnasium and Keras 3 force it:

* imports: ``rl.*`` -> ``keras_dqn.rl`` (keras-rl does not import on Keras 3), ``gym`` -> ``gymnasium``;
* ``CartPole-v0`` -> ``CartPole-v1`` (v0 is deprecated in gymnasium; v1 runs 500 steps, not 200);
* ``env.seed(123)`` -> ``env.reset(seed=123)`` (gymnasium seeds through reset);
* ``Adam(lr=1e-3)`` -> ``Adam(learning_rate=1e-3)`` (Keras 3 dropped ``lr``);
* ``int(env.action_space.n)``: Keras 3's ``Dense`` refuses gymnasium's NumPy ``int64``;
* ``visualize=True`` needs the window chosen when the env is made (``render_mode="human"``),
  so it is a flag here, off by default;
* ``keras.utils.set_random_seed(123)`` next to ``np.random.seed(123)``: Keras 3 initialises
  weights from its own seed, not NumPy's, and the run should be repeatable.
"""

import argparse

import gymnasium as gym
import keras
import numpy as np
from keras.layers import Activation, Dense, Flatten
from keras.models import Sequential
from keras.optimizers import Adam

from keras_dqn.rl import DQNAgent, EpsGreedyQPolicy, SequentialMemory

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--nb-steps", type=int, default=5000, help="training steps (the article's 5,000)")
parser.add_argument("--nb-episodes", type=int, default=5, help="test episodes (the article's 5)")
parser.add_argument("--visualize", action="store_true", help="show the episodes in a window")
parser.add_argument("--verbose", type=int, default=2, choices=[0, 1, 2], help="fit's verbosity (the article's 2)")
args = parser.parse_args()

ENV_NAME = "CartPole-v1"
# Get the environment and extract the number of actions available in the Cartpole problem
env = gym.make(ENV_NAME, render_mode="human" if args.visualize else None)
np.random.seed(123)
keras.utils.set_random_seed(123)
env.reset(seed=123)
nb_actions = int(env.action_space.n)  # Keras 3's Dense wants a Python int, not NumPy's int64

# Next, we will build a very simple single hidden layer neural network model:
# (its input is (window_length,) + observation shape: one observation per state here)
model = Sequential()
model.add(Flatten(input_shape=(1,) + env.observation_space.shape))
model.add(Dense(16))
model.add(Activation("relu"))
model.add(Dense(nb_actions))
model.add(Activation("linear"))
print(model.summary())

# Now, configure and compile our agent. We will set our policy as Epsilon Greedy and our memory as
# Sequential Memory because we want to store the result of actions we performed and the rewards we get
# for each action.
policy = EpsGreedyQPolicy()
memory = SequentialMemory(limit=50000, window_length=1)
dqn = DQNAgent(
    model=model, nb_actions=nb_actions, memory=memory, nb_steps_warmup=10, target_model_update=1e-2, policy=policy
)
dqn.compile(Adam(learning_rate=1e-3), metrics=["mae"])

# Okay, now it's time to learn something! We visualize the training here for show, but this slows down
# training quite a lot.
dqn.fit(env, nb_steps=args.nb_steps, visualize=args.visualize, verbose=args.verbose)

# Test our reinforcement learning model (greedy: keras-rl's test policy is GreedyQPolicy):
history = dqn.test(env, nb_episodes=args.nb_episodes, visualize=args.visualize)
rewards = history.history["episode_reward"]
print(f"test episode rewards: {rewards}, mean {np.mean(rewards):.1f}")

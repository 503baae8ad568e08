# The keras-rl CartPole walkthrough ("A Hands-On Introduction to Deep Q-Learning using OpenAI Gym
# in Python") on keras_dqn. Only the imports and the gym -> gymnasium calls changed: rl.* and
# keras.optimizers' Adam come from keras_dqn.rl (its Adam takes Keras 2's lr=); gymnasium picks the
# render mode in make (visualize=True needs "human"), seeds through reset, and gives the action
# count as a NumPy integer, which Keras 3's Dense refuses. Every other line is the article's.
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
env = gym.make(ENV_NAME, render_mode="human")
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

policy = EpsGreedyQPolicy()
memory = SequentialMemory(limit=50000, window_length=1)
dqn = DQNAgent(model=model, nb_actions=nb_actions, memory=memory, nb_steps_warmup=10,
target_model_update=1e-2, policy=policy)
dqn.compile(Adam(lr=1e-3), metrics=['mae'])
# Okay, now it's time to learn something! We visualize the training here for show, but this slows down training quite a lot. 
dqn.fit(env, nb_steps=5000, visualize=True, verbose=2)

dqn.test(env, nb_episodes=5, visualize=True)

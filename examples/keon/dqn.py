# -*- coding: utf-8 -*-
# keon/deep-q-learning's dqn.py (MIT License, Keon Kim), run on keras_dqn: its DQNAgent class is
# replaced by the import below, gym by gymnasium (reset returns (state, info); step returns
# terminated and truncated, and `done` is terminated: the loop's range(500) ends the episode at
# CartPole-v1's time limit). Every other line is the original's.
import gymnasium as gym
import numpy as np

from keras_dqn import DQNAgent

EPISODES = 1000

if __name__ == "__main__":
    env = gym.make('CartPole-v1')
    state_size = env.observation_space.shape[0]
    action_size = env.action_space.n
    agent = DQNAgent(state_size, action_size)
    # agent.load("./save/cartpole-dqn.h5")
    done = False
    batch_size = 32

    for e in range(EPISODES):
        state, _ = env.reset()
        state = np.reshape(state, [1, state_size])
        for time in range(500):
            # env.render()
            action = agent.act(state)
            next_state, reward, done, _, _ = env.step(action)
            reward = reward if not done else -10
            next_state = np.reshape(next_state, [1, state_size])
            agent.memorize(state, action, reward, next_state, done)
            state = next_state
            if done:
                print("episode: {}/{}, score: {}, e: {:.2}"
                      .format(e, EPISODES, time, agent.epsilon))
                break
            if len(agent.memory) > batch_size:
                agent.replay(batch_size)
        # if e % 10 == 0:
        #     agent.save("./save/cartpole-dqn.h5")
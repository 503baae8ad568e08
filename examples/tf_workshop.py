"""The TensorFlow workshop's deep Q-network ("Introduction to OpenAI gym part 2"), on keras_dqn.

    python examples/tf_workshop.py                          # train, evaluate, plot Q, record a GIF
    python examples/tf_workshop.py --episodes 20 --out /tmp/workshop   # a quick look (20 episodes)
    tensorboard --logdir runs/tf_workshop/tensorboard       # the loss curve

The workshop wrote its network in TensorFlow 1 (placeholders, a session, ``tf.train.
RMSPropOptimizer``).  Here it is a Keras model inside a :class:`keras_dqn.DQNAgent` subclass;
everything else is the workshop's recipe:

* the network 4-16-32-8-2, ReLU hidden layers, weights ~ N(0, 0.35), zero biases;
* RMSProp with learning rate 1e-4 on the squared TD error, gamma 0.9;
* "I prefer that my agent gets 0 reward if it dies": the terminating step's reward is 0;
* epsilon-greedy exploration, as the workshop's exercise asks (it left the agent random);
* the loss to TensorBoard; after training, the predicted Q of each action over one greedy
  episode (a PNG) and that episode as a GIF.

The workshop did not print its memory size, batch size or how long it trained; ours are
below.  Training runs ``--steps`` environment steps (the workshop's ``FRAMES_TO_PLAY``), or
stops earlier after ``--episodes`` episodes; the agent is then judged by greedy play on 100
fresh episodes, not by its training scores.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import gymnasium as gym
import keras
import numpy as np

import keras_dqn
from keras_dqn.callbacks import TensorBoardScalars
from keras_dqn.viz import plot_q_values, record

# --- Hyperparameters -----------------------------------------------------------------
ENV_ID = "CartPole-v1"
HIDDEN = (16, 32, 8)  # the workshop's 4-16-32-8-2 network
INIT_STDDEV = 0.35  # tf.random_normal(stddev=0.35) for every weight matrix
LEARNING_RATE = 1e-4  # tf.train.RMSPropOptimizer(0.0001)
GAMMA = 0.9
DEATH_REWARD = 0.0  # reward of the step on which the pole falls
MAX_LEN_REPLAY_MEMORY = 30_000  # (ours: not in the workshop's text)
MIN_FRAMES_FOR_LEARNING = 1_000  # learn once memory holds this many transitions (ours)
BATCH_SIZE = 32  # (ours)
EPSILON, EPSILON_MIN, EPSILON_DECAY = 1.0, 0.05, 0.9999  # epsilon-greedy, decayed per gradient step
FRAMES_TO_PLAY = 50_000  # default training budget in env steps (ours)
EVAL_EPISODES = 100
EVAL_SEED = 1_000_000  # greedy evaluation episodes use reset seeds from here on
PLOT_SEED = 2_000_000  # the episode plotted and recorded


class WorkshopAgent(keras_dqn.DQNAgent):
    """DQNAgent with the workshop's network: N(0, 0.35) weights, zero biases, RMSProp."""

    def _build_model(self) -> keras.Model:
        seeds = np.random.SeedSequence(self.seed).generate_state(len(self.hidden) + 1)
        model = keras.Sequential(name="workshop_q_network")
        model.add(keras.Input(shape=(self.state_size,)))
        for i, units in enumerate((*self.hidden, self.action_size)):
            init = keras.initializers.RandomNormal(stddev=INIT_STDDEV, seed=int(seeds[i]))
            activation = "relu" if i < len(self.hidden) else "linear"
            model.add(keras.layers.Dense(units, activation=activation, kernel_initializer=init))
        model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=self.learning_rate), loss="mse")
        return model

    def get_config(self) -> dict:
        # Only the initialiser and the optimizer differ from a DQNAgent with these hidden layers, and
        # neither matters once trained: the saved file plays back as a DQNAgent (keras_dqn.load_agent).
        return {**super().get_config(), "agent": "DQNAgent"}


def train(max_steps: int, out: Path, seed: int = 0, max_episodes: int | None = None, verbose: bool = True):
    """The workshop's training loop with epsilon-greedy actions; loss and returns to TensorBoard.

    Runs ``max_steps`` env steps, or ``max_episodes`` episodes if that comes first."""
    env = gym.make(ENV_ID)
    agent = WorkshopAgent(
        4, 2, hidden=HIDDEN, gamma=GAMMA, learning_rate=LEARNING_RATE, memory_size=MAX_LEN_REPLAY_MEMORY,
        epsilon=EPSILON, epsilon_min=EPSILON_MIN, epsilon_decay=EPSILON_DECAY, seed=seed,
    )  # fmt: skip
    agent.env_id = ENV_ID
    tensorboard = TensorBoardScalars(out / "tensorboard")
    tensorboard.on_train_begin()
    steps, episode, start = 0, 0, time.perf_counter()
    observation, _ = env.reset(seed=seed)
    while steps < max_steps and (max_episodes is None or episode < max_episodes):
        score, losses, done = 0.0, [], False
        while not done:
            action = agent.act(observation)  # random with probability epsilon, else argmax Q
            new_observation, reward, terminated, truncated, _ = env.step(action)
            if terminated:  # the workshop: no reward for the step that drops the pole
                reward = DEATH_REWARD
            score += 1  # the game's score: steps survived
            agent.remember(observation, action, reward, new_observation, terminated)  # truncated still bootstraps
            observation = new_observation
            steps += 1
            if len(agent.memory) > MIN_FRAMES_FOR_LEARNING:
                losses.append(agent.replay(BATCH_SIZE))
            done = terminated or truncated or steps >= max_steps
        observation, _ = env.reset()
        logs = {"step": steps, "episode_return": score, "epsilon": agent.epsilon}
        if losses:
            logs["loss"] = float(np.mean(losses))
        tensorboard.on_epoch_end(episode, logs)  # TensorBoard x-axis: env steps
        episode += 1
        if verbose and (episode % 50 == 1 or steps >= max_steps or episode == max_episodes):
            loss = f"{logs['loss']:.4f}" if losses else "-"
            print(f"episode {episode}: score {score:.0f}, loss {loss}, epsilon {agent.epsilon:.3f}, "
                  f"steps {steps}/{max_steps}, {time.perf_counter() - start:.0f}s")  # fmt: skip
    tensorboard.on_train_end()
    env.close()
    return agent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=FRAMES_TO_PLAY, help="training budget in env steps")
    parser.add_argument("--episodes", type=int, help="stop after this many training episodes (default: no limit)")
    parser.add_argument("--out", default="runs/tf_workshop", help="folder for weights, plot, GIF, TensorBoard")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-episodes", type=int, default=EVAL_EPISODES, help="greedy episodes to judge the agent")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    agent = train(args.steps, out, seed=args.seed, max_episodes=args.episodes)
    agent.save(out / "workshop.h5")
    returns = keras_dqn.evaluate(agent, ENV_ID, args.eval_episodes, seed=EVAL_SEED + args.seed)
    print(f"greedy evaluation over {args.eval_episodes} episodes: mean {np.mean(returns):.1f}, "
          f"min {np.min(returns):.0f}, max {np.max(returns):.0f}")  # fmt: skip

    # The workshop's last two cells: what the network predicted at each step of one episode,
    # and the episode itself.  Both play the same greedy episode (same reset seed).
    png = plot_q_values(agent, ENV_ID, out / "q_values.png", seed=PLOT_SEED)
    episode_return = record(agent, ENV_ID, out / "episode.gif", seed=PLOT_SEED)
    print(f"predicted Q per action over one greedy episode (return {episode_return:.0f}): {png}")
    print(f"that episode as a GIF: {out / 'episode.gif'}")
    print(f"loss in TensorBoard: tensorboard --logdir {out / 'tensorboard'}")
    print(f"weights: {out / 'workshop.h5'}")


if __name__ == "__main__":
    main()

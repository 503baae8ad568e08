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
the flags marked "ours" (``--help`` lists every setting with its value).  Training runs
``--steps`` environment steps (the workshop's ``FRAMES_TO_PLAY``), or stops earlier after
``--episodes`` episodes; the agent is then judged by greedy play on 100 fresh episodes, not
by its training scores.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import gymnasium as gym
import keras
import numpy as np

import keras_dqn
from keras_dqn.experiments.plots import plot_q_values, record
from keras_dqn.training.callbacks import TensorBoardScalars

ENV_ID = "CartPole-v1"
EVAL_SEED = 1_000_000  # greedy evaluation episodes use reset seeds from here on
PLOT_SEED = 2_000_000  # the episode plotted and recorded


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """--help keeps the docstring's layout and shows each flag's default."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The example's flags: the workshop's hyperparameters, and ours where it gave none."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    parser.add_argument("--steps", type=int, default=50_000,
                        help="training budget in env steps (the workshop's FRAMES_TO_PLAY; ours)")  # fmt: skip
    parser.add_argument("--episodes", type=int, help="stop after this many training episodes (default: no limit)")
    parser.add_argument("--out", default="runs/tf_workshop", help="folder for weights, plot, GIF, TensorBoard")
    parser.add_argument("--seed", type=int, default=0, help="seeds the agent and the first reset")
    parser.add_argument("--eval-episodes", type=int, default=100, help="greedy episodes to judge the agent")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    group = parser.add_argument_group("hyperparameters")
    group.add_argument("--hidden", type=lambda s: tuple(int(u) for u in s.split(",")), default=(16, 32, 8),
                       help="hidden layer sizes: the workshop's 4-16-32-8-2 network")  # fmt: skip
    group.add_argument("--init-stddev", type=float, default=0.35,
                       help="weights ~ N(0, this): tf.random_normal(stddev=0.35)")  # fmt: skip
    group.add_argument("--learning-rate", type=float, default=1e-4, help="tf.train.RMSPropOptimizer(0.0001)")
    group.add_argument("--gamma", type=float, default=0.9, help="discount rate")
    group.add_argument("--death-reward", type=float, default=0.0,
                       help="reward of the step on which the pole falls")  # fmt: skip
    group.add_argument("--memory-size", type=int, default=30_000, help="MAX_LEN_REPLAY_MEMORY (ours)")
    group.add_argument("--learning-starts", type=int, default=1_000,
                       help="learn once memory holds more transitions: MIN_FRAMES_FOR_LEARNING (ours)")  # fmt: skip
    group.add_argument("--batch-size", type=int, default=32, help="minibatch per gradient step (ours)")
    group.add_argument("--epsilon", type=float, default=1.0, help="initial exploration rate (the exercise; ours)")
    group.add_argument("--epsilon-min", type=float, default=0.05, help="exploration floor (ours)")
    group.add_argument("--epsilon-decay", type=float, default=0.9999, help="per gradient step (ours)")
    return parser.parse_args(argv)


class WorkshopAgent(keras_dqn.DQNAgent):
    """DQNAgent with the workshop's network: N(0, init_stddev) weights, zero biases, RMSProp.

    Args:
        state_size, action_size: as :class:`keras_dqn.DQNAgent`.
        init_stddev: standard deviation of the normal initial weights.
        **kwargs: any other :class:`keras_dqn.DQNAgent` argument.
    """

    def __init__(self, state_size: int, action_size: int, *, init_stddev: float, **kwargs):
        self.init_stddev = init_stddev  # before super().__init__, which builds the model
        super().__init__(state_size, action_size, **kwargs)

    def _build_model(self) -> keras.Model:
        seeds = np.random.SeedSequence(self.seed).generate_state(len(self.hidden) + 1)
        model = keras.Sequential(name="workshop_q_network")
        model.add(keras.Input(shape=(self.state_size,)))
        for i, units in enumerate((*self.hidden, self.action_size)):
            init = keras.initializers.RandomNormal(stddev=self.init_stddev, seed=int(seeds[i]))
            activation = "relu" if i < len(self.hidden) else "linear"
            model.add(keras.layers.Dense(units, activation=activation, kernel_initializer=init))
        model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=self.learning_rate), loss="mse")
        return model

    def get_config(self) -> dict:
        # Only the initialiser and the optimizer differ from a DQNAgent with these hidden layers, and
        # neither matters once trained: the saved file plays back as a DQNAgent (keras_dqn.load_agent).
        config = {**super().get_config(), "agent": "DQNAgent"}
        del config["init_stddev"]  # not a DQNAgent setting: load_agent would refuse it
        return config


def make_agent(args: argparse.Namespace) -> WorkshopAgent:
    """The workshop's agent for CartPole, with the flags' hyperparameters."""
    agent = WorkshopAgent(
        4, 2, hidden=args.hidden, init_stddev=args.init_stddev, gamma=args.gamma, learning_rate=args.learning_rate,
        memory_size=args.memory_size, epsilon=args.epsilon, epsilon_min=args.epsilon_min,
        epsilon_decay=args.epsilon_decay, seed=args.seed,
    )  # fmt: skip
    agent.env_id = ENV_ID
    return agent


def train_workshop_loop(args: argparse.Namespace) -> WorkshopAgent:
    """The workshop's training loop with epsilon-greedy actions; loss and returns to TensorBoard.

    Runs ``--steps`` env steps, or ``--episodes`` episodes if that comes first."""
    out = Path(args.out)
    env = gym.make(ENV_ID)
    agent = make_agent(args)
    tensorboard = TensorBoardScalars(out / "tensorboard")
    tensorboard.on_train_begin()
    steps, episode, start = 0, 0, time.perf_counter()
    observation, _ = env.reset(seed=args.seed)
    while steps < args.steps and (args.episodes is None or episode < args.episodes):
        score, losses, done = 0.0, [], False
        while not done:
            action = agent.act(observation)  # random with probability epsilon, else argmax Q
            new_observation, reward, terminated, truncated, _ = env.step(action)
            if terminated:  # the workshop: no reward for the step that drops the pole
                reward = args.death_reward
            score += 1  # the game's score: steps survived
            agent.remember(observation, action, reward, new_observation, terminated)  # truncated still bootstraps
            observation = new_observation
            steps += 1
            if len(agent.memory) > args.learning_starts:
                losses.append(agent.replay(args.batch_size))
            done = terminated or truncated or steps >= args.steps
        observation, _ = env.reset()
        logs = {"step": steps, "episode_return": score, "epsilon": agent.epsilon}
        if losses:
            logs["loss"] = float(np.mean(losses))
        tensorboard.on_epoch_end(episode, logs)  # TensorBoard x-axis: env steps
        episode += 1
        if not args.quiet and (episode % 50 == 1 or steps >= args.steps or episode == args.episodes):
            loss = f"{logs['loss']:.4f}" if losses else "-"
            print(f"episode {episode}: score {score:.0f}, loss {loss}, epsilon {agent.epsilon:.3f}, "
                  f"steps {steps}/{args.steps}, {time.perf_counter() - start:.0f}s")  # fmt: skip
    tensorboard.on_train_end()
    env.close()
    return agent


def main() -> None:
    args = parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    agent = train_workshop_loop(args)
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

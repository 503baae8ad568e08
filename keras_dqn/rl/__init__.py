"""keras-rl's DQN API on Keras 3 and gymnasium: ``DQNAgent(model=...).compile().fit().test()``.

The keras-rl CartPole walkthrough builds its own Keras model and hands it to keras-rl::

    model = Sequential()
    model.add(Flatten(input_shape=(1,) + env.observation_space.shape))
    ...
    dqn = DQNAgent(model=model, nb_actions=nb_actions, memory=SequentialMemory(limit=50000, window_length=1),
                   nb_steps_warmup=10, target_model_update=1e-2, policy=EpsGreedyQPolicy())
    dqn.compile(Adam(learning_rate=1e-3), metrics=["mae"])
    dqn.fit(env, nb_steps=5000, visualize=False, verbose=2)
    dqn.test(env, nb_episodes=5, visualize=False)

keras-rl itself no longer imports on Keras 3.  This package gives the same names and
arguments, and runs them on :class:`keras_dqn.TargetDQNAgent`'s machinery: the user's model
becomes the agent's online network, a ``keras.models.clone_model`` copy its target network,
and replay, Double DQN, the Huber loss and the target sync are the agent's one compiled
training step.  Only the driving loop (``fit`` / ``test``), the policies and the
observation window are new here:

* :mod:`keras_dqn.rl.agent`: ``DQNAgent`` (its model checks, ``compile``, ``fit`` / ``test``,
  ``save_weights`` / ``load_weights``);
* :mod:`keras_dqn.rl.memory`: ``SequentialMemory``, which wraps a :class:`keras_dqn.replay.uniform.ReplayBuffer`;
* :mod:`keras_dqn.rl.policies`: ``GreedyQPolicy``, ``EpsGreedyQPolicy``, ``BoltzmannQPolicy``,
  ``LinearAnnealedPolicy``;
* :mod:`keras_dqn.rl.optimizers`: ``Adam``, which also takes Keras 2's ``lr``.

Differences from keras-rl, all deliberate:

* ``fit`` stores ``done = terminated``.  An episode cut by a time limit (gymnasium's
  ``truncated``, or ``nb_max_episode_steps``) still bootstraps; keras-rl stored it as terminal.
* A gradient step needs ``batch_size`` stored transitions (keras-rl warned and sampled with
  replacement from fewer).
* A hard target update (``target_model_update >= 1``) copies after every
  ``C = max(1, target_model_update // train_interval)`` gradient steps (rounded down, so
  never later than keras-rl), counted over the agent's life.  keras-rl copied whenever its
  env-step counter, reset by each ``fit``, hit a multiple of ``target_model_update``; with
  ``train_interval`` dividing ``target_model_update`` both copy every ``target_model_update``
  env steps once learning runs.
* ``compile``'s ``metrics`` are checked but not computed: the compiled training step returns
  only its loss.  ``fit`` prints the loss and the mean Q of the acted states.
* Policies take a ``seed``.  ``DQNAgent(seed=...)`` seeds the policies built without one;
  with no seed anywhere they draw from ``np.random``, so the tutorial's
  ``np.random.seed(123)`` still makes exploration repeatable.
* ``BoltzmannQPolicy`` subtracts ``max(Q / tau)`` before clipping the exponent, so large
  Q-values keep their differences (keras-rl clipped ``Q / tau`` to +-500 first, which could
  make two different Q-values equally likely).
* Callbacks get ``on_train_begin``, ``on_episode_begin``, ``on_episode_end`` and
  ``on_epoch_end`` (both, where defined; keras-rl called ``on_epoch_end`` only on objects
  lacking ``on_episode_end``) and ``on_train_end``, with ``{"did_abort": ...}`` from ``fit``.
  There are no per-step or per-action calls (``on_step_end``, ``on_action_begin``...), and no
  ``_set_env``.
* keras-rl's ``processor``, ``memory_interval``, ``custom_model_objects`` (``DQNAgent``) and
  ``action_repetition``, ``nb_max_start_steps``, ``start_step_policy`` (``fit``/``test``) are
  not supported: passing one raises a ``TypeError`` saying so.  ``SequentialMemory`` takes
  ``limit`` and ``window_length`` only.

As in keras-rl, ``agent.step`` counts the env steps of the current ``fit`` (or ``test``)
call from 0, so ``LinearAnnealedPolicy`` and ``nb_steps_warmup`` start again with every
``fit``; ``delta_clip=np.inf`` is the loss ``0.5 * error**2``; and Ctrl-C during ``fit``
ends training, calls ``on_train_end(logs={"did_abort": True})`` and returns the history.
"""

from keras_dqn.rl.agent import DQNAgent, half_squared_error
from keras_dqn.rl.memory import SequentialMemory
from keras_dqn.rl.optimizers import Adam
from keras_dqn.rl.policies import BoltzmannQPolicy, EpsGreedyQPolicy, GreedyQPolicy, LinearAnnealedPolicy, Policy

__all__ = [
    "Adam",
    "BoltzmannQPolicy",
    "DQNAgent",
    "EpsGreedyQPolicy",
    "GreedyQPolicy",
    "LinearAnnealedPolicy",
    "Policy",
    "SequentialMemory",
    "half_squared_error",
]

"""Named recipes: one home for each validated set of hyperparameters.

A recipe is an agent class with its constructor settings and the :func:`keras_dqn.train`
settings that go with them.  The ``keras-dqn`` command, the examples and the README read
their defaults from here, so each value is written once::

    recipe = keras_dqn.get_recipe("cartpole-target")
    agent = recipe.make_agent(4, 2, seed=0)
    n_envs, total_steps, settings = recipe.train_args()
    envs = keras_dqn.make_vector_env(recipe.env_id, n_envs, training=True)
    keras_dqn.train(agent, envs, total_steps, target_score=475, **settings)

The recipes:

``cartpole-dqn``
    The blog's ``DQNAgent`` on CartPole-v1: gamma 0.95, a 24-24 network, a memory of 2,000,
    ``replay(32)`` after every env step and a reward of -10 on the step that drops the pole
    (``death_reward``: the blog loop's shaping; :func:`keras_dqn.train` does not shape rewards).
    Its ``train()`` settings replay the same way: one env, one gradient step of 32 per step.
``cartpole-target``
    The validated ``TargetDQNAgent``: Double DQN, Huber loss, a hard target copy every 500
    gradient steps, gamma 0.99, 64-64, memory 10,000, clipnorm 10 (its seed study: README,
    "Solving CartPole").  Its ``train()``
    settings keep that loop's schedule of one gradient step of batch 32 per env step, with the
    steps batched: 8 CartPoles stepped together, 8 gradient steps every 8 env steps, learning
    from the first full minibatch (32 transitions), a greedy evaluation over 100 episodes
    (gymnasium's "solved" test) every 5,000 env steps, 100,000 env steps in all (the blog
    loop's budget).
``pong``
    ``ConvDQNAgent`` on ALE/Pong-v5 as in the Nature paper and ``examples/atari.py`` (the
    shipped ``weights/pong-conv-dqn.h5``): Adam 1e-4, gamma 0.99, memory 100,000, target copy
    every 1,000 gradient steps, epsilon 1 -> 0.01 decaying 0.99991 per gradient step, clipnorm
    10; batch 32, one gradient step per 4 agent steps after 20,000 random ones, 4 games at
    once, 2M agent steps, 4 full greedy games every 50,000 steps.
``cartpole-rainbow``
    ``RainbowAgent``: cartpole-target's network, target copy and schedule with the four
    Rainbow parts it lacks switched on (3-step returns, prioritized replay with exponent 0.5,
    noisy layers instead of epsilon, a dueling C51 head with 51 atoms on [-10, 100]) and a
    memory of 20,000, which keeps a solved agent's failures in memory long enough that it
    does not slip back (the README's seed studies).
``pong-rainbow``
    ``ConvRainbowAgent``: the paper's switches on the pong recipe's optimizer (Adam 1e-4),
    target copy (every 1,000 gradient steps), memory and schedule.
``pong-rainbow-eps``
    ``pong-rainbow`` with epsilon-greedy (the pong recipe's schedule) instead of noisy layers,
    and a 4-game evaluation every 10,000 agent steps: the fastest to a score on a CPU, where the
    noisy layers' second weight matrix costs a third of the wall time (README, "Rainbow on Pong").
``pong-rainbow-noisy-head``
    ``pong-rainbow`` with all six parts on, its noise in the dueling C51 head alone
    (``noisy_hidden=False``: the 512-unit layer a plain Dense, the costly part of noisy layers
    on a CPU), and a 4-game evaluation every 10,000 agent steps: the recipe of
    weights/pong-rainbow-noisy-head.h5 (README, "Rainbow on Pong"; how the file was made: CHANGELOG.md).
"""

from __future__ import annotations

from keras_dqn.config.recipe import Recipe

_CARTPOLE_TRAIN = dict(total_steps=100_000, batch_size=32, learning_starts=32, eval_every=5000, eval_episodes=100)

_CARTPOLE_DQN = Recipe(
    name="cartpole-dqn",
    env_id="CartPole-v1",
    agent="DQNAgent",
    # DQNAgent's defaults are the blog's: gamma 0.95, epsilon 1 -> 0.01 (x0.995 per replay), Adam 1e-3,
    # a memory of 2,000, a 24-24 network, the squared TD error, no clipping.
    agent_kwargs={},
    train_kwargs=dict(_CARTPOLE_TRAIN, n_envs=1, train_every=1, gradient_steps=1),  # replay(32) after every step
    description="Keon Kim's blog: DQNAgent on CartPole, replay(32) after every step, reward -10 on a fall",
    death_reward=-10.0,
    search_space={  # keras-dqn tune's default: the blog's optimizer, exploration and batch
        "agent": {"learning_rate": {"loguniform": [1e-4, 3e-3]}, "epsilon_decay": {"choice": [0.99, 0.995, 0.999]}},
        "train": {"batch_size": {"choice": [32, 64]}},
    },
)

# The blog's recipe with another agent: the same env, reward shaping, budget and evaluation.
_CARTPOLE_TARGET = _CARTPOLE_DQN.replace(
    name="cartpole-target",
    agent="TargetDQNAgent",
    # The blog's settings (its epsilon schedule, Adam's learning rate, no dueling head) with these
    # changed; the set as a whole is what was validated (README, "Solving CartPole"):
    # TargetDQNAgent's defaults are this recipe, validated as a whole (README, "Solving CartPole"): the
    # blog's epsilon schedule and Adam with gamma 0.99 (the frozen target keeps long horizons stable), a
    # memory of 10,000 (failures stay in it after the agent stops failing), 64-64, a hard target copy
    # every 500 gradient steps (slower than 100, but it stays solved), Double DQN, Huber, clipnorm 10.
    agent_kwargs={},
    # 8 envs, 8 gradient steps every 8 env steps: the blog loop's one update per env step, batched
    train_kwargs=dict(_CARTPOLE_TRAIN, n_envs=8, train_every=8, gradient_steps=8),
    description="TargetDQNAgent on CartPole: Double DQN, Huber, target copy every 500 steps; solves and stays solved",
    search_space={  # keras-dqn tune's default: around the validated values
        "agent": {
            "learning_rate": {"loguniform": [1e-4, 3e-3]},
            "target_update": {"choice": [100, 250, 500, 1000]},
            "hidden": {"choice": [[64, 64], [128, 128]]},
        },
        "train": {"batch_size": {"choice": [32, 64, 128]}},
    },
)

_PONG = Recipe(
    name="pong",
    env_id="ALE/Pong-v5",
    agent="ConvDQNAgent",
    # ConvDQNAgent's defaults are this recipe: gamma 0.99, Adam 1e-4, a frame memory of 100,000
    # transitions (~0.7 GB; the paper's 1M), a hard target copy every 1,000 gradient steps, Double DQN,
    # Huber, clipnorm 10, epsilon 1 -> 0.01 by x0.99991 a gradient step (~225k agent steps), float32
    # (mixed_bfloat16 computes the CNN in bfloat16 on CPUs with AVX-512 BF16).
    agent_kwargs={},
    train_kwargs=dict(
        n_envs=4,  # games played at once, one batched action choice for all
        total_steps=2_000_000,  # agent steps; Pong is usually solved within 1-2M
        batch_size=32,
        train_every=4,  # agent steps (over all games) per gradient step
        learning_starts=20_000,  # fill the memory with random play first
        eval_every=50_000,
        eval_episodes=4,  # full, unclipped greedy games
        # a game with no point for 1,000 agent steps (~67 s of play) is an endless rally: greedy Pong
        # without sticky actions falls into them, and each would run to ALE's 27,000-step cap (~4.5 min)
        eval_stall_steps=1000,
        frames_per_step=4,  # emulator frames per agent step (frame skip)
    ),
    description="ConvDQNAgent on Pong, the Nature-DQN recipe on a CPU (the shipped pong-conv-dqn.h5, +20.7)",
    search_space={  # small: a Pong trial takes hours on a CPU
        "agent": {"learning_rate": {"loguniform": [5e-5, 3e-4]}, "target_update": {"choice": [1000, 2500]}},
    },
)

# keras.io's "Deep Q-Learning for Atari Breakout" (examples/keras_io_breakout.py), its settings on
# ConvDQNAgent: gamma 0.99, Adam 2.5e-4 clipped to norm 1, Huber, a memory of 100,000, the target
# copied every 10,000 agent steps (2,500 gradient steps at one per 4 agent steps), the Nature target
# (no Double DQN), epsilon 1 -> 0.1 linearly over the first 1,000,000 agent steps, 50,000 agent steps
# of random play first; its budget, 10M frames, is 2.5M agent steps. Its env,
# BreakoutNoFrameskip-v4, has no sticky actions: neither has make_atari_env's by default.
_BREAKOUT = Recipe(
    name="breakout-keras-io",
    env_id="ALE/Breakout-v5",
    agent="ConvDQNAgent",
    agent_kwargs=dict(learning_rate=2.5e-4, clipnorm=1.0, target_update=2500, double=False),
    train_kwargs=dict(
        n_envs=4,  # keras.io plays one game; four at once choose their actions in one call
        total_steps=2_500_000,  # agent steps: keras.io's 10M frames
        batch_size=32,
        train_every=4,  # keras.io's update_after_actions
        learning_starts=50_000,  # keras.io's epsilon_random_frames
        eval_every=100_000,
        eval_episodes=4,  # full games, all five lives, unclipped score
        frames_per_step=4,
        exploration_fraction=0.4,  # 1M of the 2.5M agent steps: keras.io's epsilon_greedy_frames
        exploration_final_eps=0.1,  # keras.io's epsilon_min
    ),
    description="keras.io's Breakout example: its hyperparameters on ConvDQNAgent, 10M frames",
)

# Rainbow on CartPole: the validated TargetDQNAgent recipe's network, target copy and schedule, with
# the four Rainbow parts it lacks switched on and twice its memory (RainbowAgent's defaults are these).
_CARTPOLE_RAINBOW = _CARTPOLE_TARGET.replace(
    name="cartpole-rainbow",
    agent="RainbowAgent",
    # RainbowAgent's defaults are this recipe: cartpole-target's network, target copy and optimizer
    # (Keras' Adam epsilon: the paper's 1.5e-4 did no better here) with twice its memory (Rainbow solves
    # in half the steps, and a memory that forgets its last failures too soon lets it slip back), a
    # dueling head, 3-step returns, prioritized replay (alpha 0.5), noisy layers everywhere (sigma0 0.5,
    # epsilon 0) and C51 on [-10, 100], CartPole's returns at gamma 0.99.
    agent_kwargs={},
    description="RainbowAgent on CartPole: the cartpole-target recipe with 3-step, prioritized, noisy, C51",
    search_space={  # keras-dqn tune's default: cartpole-target's, and the n of the n-step returns
        "agent": {
            "learning_rate": {"loguniform": [1e-4, 3e-3]},
            "target_update": {"choice": [100, 250, 500, 1000]},
            "n_step": {"choice": [1, 3, 5]},
        },
        "train": {"batch_size": {"choice": [32, 64, 128]}},
    },
)

# Rainbow on Pong: the paper's Atari settings, with the pong recipe's memory, schedule and budget.
_PONG_RAINBOW = _PONG.replace(
    name="pong-rainbow",
    agent="ConvRainbowAgent",
    # ConvRainbowAgent's defaults are this recipe: the Rainbow paper's switches (3-step, prioritized with
    # alpha 0.5, noisy, dueling C51 on [-10, 10] as rewards are clipped, Double DQN) on the pong recipe's
    # optimizer and target copy (the paper's 6.25e-5 and 2,000 are for 200M frames, not a CPU's few million).
    agent_kwargs={},
    description="ConvRainbowAgent on Pong: the Rainbow paper's switches on the pong recipe's optimizer and schedule",
    search_space={"agent": {"learning_rate": {"loguniform": [5e-5, 3e-4]}, "n_step": {"choice": [3, 5]}}},
)

# Rainbow minus noisy nets, for a CPU: the noisy layer's second 3136x512 weight matrix doubles the big
# layer's work in every pass and Adam's, a third of the wall time, and on Pong the noise bought no
# agent steps (README's ablation).  Epsilon-greedy explores instead, on the pong recipe's schedule.
_PONG_RAINBOW_EPS = _PONG_RAINBOW.replace(
    name="pong-rainbow-eps",
    agent_kwargs=dict(noisy=False),  # epsilon-greedy: ConvRainbowAgent's schedule, 1 -> 0.01 by x0.99991 a step
    # 4 full games every 10,000 agent steps: with their checkpoint ~13 s per ~78 s of training (the time run's)
    train_kwargs=dict(_PONG_RAINBOW.train_kwargs, eval_every=10_000),
    description="ConvRainbowAgent on Pong with epsilon-greedy instead of noisy layers: +20.75 in 68 minutes on a "
    "2-core CPU",
)

# Rainbow with every part on, for a CPU: the noise only in the dueling C51 head (the value and
# advantage streams, 512 -> 51 and 512 -> 51 x actions), the 512-unit layer a plain Dense.  The noisy
# 3136x512 layer is what makes noisy nets costly on a CPU; in the head the noise still explores
# (epsilon stays 0), and a training step takes 26.5 ms instead of 32.9 (benchmarks/atari_throughput.py).
_PONG_RAINBOW_NOISY_HEAD = _PONG_RAINBOW.replace(
    name="pong-rainbow-noisy-head",
    agent_kwargs=dict(_PONG_RAINBOW.agent_kwargs, noisy_hidden=False),
    train_kwargs=dict(_PONG_RAINBOW.train_kwargs, eval_every=10_000),  # as pong-rainbow-eps
    description="ConvRainbowAgent on Pong, every part on, the noise in the head alone: +20.0 in 56 minutes on a "
    "2-core CPU",
)

# The classic-control zoo: rl-baselines3-zoo's tuned DQN settings (hyperparams/dqn.yml) on our
# TargetDQNAgent, with the linear epsilon schedule they were tuned with.  SB3 counts the target
# copy in env steps, we count gradient steps: the values below are converted.
_ACROBOT = Recipe(
    name="acrobot",
    env_id="Acrobot-v1",
    agent="TargetDQNAgent",
    agent_kwargs=dict(  # rl-zoo's; the rest (gamma 0.99, Double DQN, Huber, clipnorm 10) TargetDQNAgent's own
        learning_rate=6.3e-4,  # Adam
        memory_size=50_000,
        hidden=(256, 256),
        target_update=250,  # gradient steps (one per env step: rl-zoo's 250 env steps)
        epsilon_min=0.1,
    ),
    train_kwargs=dict(
        n_envs=4,  # 4 envs, 4 gradient steps every 4 env steps: one update per env step, as rl-zoo
        total_steps=100_000,  # rl-zoo's budget
        batch_size=128,
        train_every=4,
        gradient_steps=4,
        learning_starts=1000,
        eval_every=5000,
        eval_episodes=20,
        exploration_fraction=0.12,  # epsilon 1 -> 0.1 over the first 12,000 env steps
        exploration_final_eps=0.1,
    ),
    description="TargetDQNAgent on Acrobot: rl-zoo's DQN settings (256-256, batch 128, linear epsilon) with Double DQN",
    search_space={
        "agent": {"learning_rate": {"loguniform": [2e-4, 2e-3]}, "target_update": {"choice": [100, 250, 500]}},
        "train": {"exploration_fraction": {"choice": [0.05, 0.12, 0.2]}},
    },
)

_MOUNTAINCAR = _ACROBOT.replace(
    name="mountaincar",
    env_id="MountainCar-v0",
    agent_kwargs=dict(  # gamma 0.99 (rl-zoo: 0.98; the goal is ~100 steps away), memory 10,000: the defaults
        learning_rate=4e-3,
        hidden=(256, 256),
        target_update=300,  # gradient steps (rl-zoo: 600 env steps at 8 updates per 16 steps)
        epsilon_min=0.07,
        n_step=5,  # not in rl-zoo: 5-step returns carry the rare goal reward back faster
    ),
    train_kwargs=dict(
        _ACROBOT.train_kwargs,
        total_steps=120_000,  # rl-zoo's budget
        n_envs=4,
        train_every=16,  # 8 gradient steps every 16 env steps, as rl-zoo
        gradient_steps=8,
        exploration_fraction=0.1,  # rl-zoo: 0.2
        exploration_final_eps=0.07,
    ),
    description="TargetDQNAgent on MountainCar: rl-zoo's DQN settings (lr 4e-3, 8 updates per 16 steps), Double DQN, "
    "5-step returns",
)

_LUNARLANDER = _ACROBOT.replace(
    name="lunarlander",
    env_id="LunarLander-v3",
    agent_kwargs=dict(
        {k: v for k, v in _ACROBOT.agent_kwargs.items() if k != "target_update"},
        # Not rl-zoo's: its lr 6.3e-4, target copy every 250 steps and 1-step returns let a seed's final
        # weights fall apart after solving; a smaller step, TargetDQNAgent's slower copy (500) and 3-step
        # returns kept them (README, the zoo).
        learning_rate=5e-4,
        n_step=3,  # 3-step returns
    ),
    description="TargetDQNAgent on LunarLander: rl-zoo's DQN settings with Double DQN, 3-step returns, "
    "lr 5e-4 and a target copy every 500 steps",
)

# The toy-text envs: one-hot states (keras_dqn.envs.make.flat_observations), so one hidden layer can hold
# any Q-table.  One gradient step per env step over 8 envs, epsilon falling linearly over 30% of the run.
_FROZENLAKE = Recipe(
    name="frozenlake",
    env_id="FrozenLake-v1",
    agent="TargetDQNAgent",
    agent_kwargs=dict(  # with TargetDQNAgent's gamma 0.99: the safe way round the holes is long
        memory_size=50_000,
        hidden=(64,),
        epsilon_min=0.05,
    ),
    train_kwargs=dict(
        n_envs=8,
        total_steps=100_000,
        batch_size=64,
        train_every=8,
        gradient_steps=8,
        learning_starts=1000,
        eval_every=10_000,
        eval_episodes=200,
        exploration_fraction=0.3,
        exploration_final_eps=0.05,
    ),
    description="TargetDQNAgent on slippery FrozenLake: one-hot cells, one 64-unit layer, Double DQN, linear epsilon",
)

_FROZENLAKE_8X8 = _FROZENLAKE.replace(
    name="frozenlake8x8",
    env_id="FrozenLake8x8-v1",
    train_kwargs=dict(_FROZENLAKE.train_kwargs, total_steps=300_000, eval_every=20_000),
    description="frozenlake's settings on the 8x8 map, three times the steps",
)

_TAXI = _FROZENLAKE.replace(
    name="taxi",
    env_id="Taxi-v4",
    agent_kwargs=dict(_FROZENLAKE.agent_kwargs, memory_size=100_000, hidden=(128,)),
    description="TargetDQNAgent on Taxi: one-hot states (500), one 128-unit layer, Double DQN, linear epsilon",
)

_CLIFFWALKING = _FROZENLAKE.replace(
    name="cliffwalking",
    env_id="CliffWalking-v1",
    train_kwargs=dict(_FROZENLAKE.train_kwargs, total_steps=50_000, eval_episodes=10),
    # CliffWalking has no time limit: an untrained greedy policy can walk into a wall for ever
    env_kwargs={"max_episode_steps": 200},
    description="TargetDQNAgent on CliffWalking: frozenlake's settings, episodes cut at 200 steps",
)

_CLIFFWALKING_SLIPPERY = _CLIFFWALKING.replace(
    name="cliffwalking-slippery",
    env_id="CliffWalkingSlippery-v1",
    train_kwargs=dict(_CLIFFWALKING.train_kwargs, total_steps=100_000, eval_episodes=100),
    description="cliffwalking's settings on the slippery cliff, twice the steps",
)

_BLACKJACK = _FROZENLAKE.replace(
    name="blackjack",
    env_id="Blackjack-v1",
    agent_kwargs=dict(
        _FROZENLAKE.agent_kwargs,
        gamma=1.0,  # a hand lasts a few steps; its return is the bet's outcome
        learning_rate=3e-4,  # the rewards are noisy: +-1 by the dealer's draw
        memory_size=200_000,
        target_update=1000,
    ),
    train_kwargs=dict(_FROZENLAKE.train_kwargs, total_steps=200_000, batch_size=128, eval_every=20_000,
                      eval_episodes=5000),  # fmt: skip
    description="TargetDQNAgent on Blackjack: one-hot (sum, dealer card, usable ace), gamma 1, lr 3e-4, batch 128",
)

RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in (_CARTPOLE_DQN, _CARTPOLE_TARGET, _CARTPOLE_RAINBOW, _PONG, _PONG_RAINBOW, _PONG_RAINBOW_EPS,
              _PONG_RAINBOW_NOISY_HEAD, _BREAKOUT, _ACROBOT, _MOUNTAINCAR, _LUNARLANDER, _FROZENLAKE,
              _FROZENLAKE_8X8, _TAXI, _CLIFFWALKING, _CLIFFWALKING_SLIPPERY, _BLACKJACK)
}  # fmt: skip
"""Every named recipe, by name."""

_DEFAULT_FOR_ENV = {
    "CartPole-v1": "cartpole-target",
    "Acrobot-v1": "acrobot",
    "MountainCar-v0": "mountaincar",
    "LunarLander-v3": "lunarlander",
    "ALE/Pong-v5": "pong",
    "ALE/Breakout-v5": "breakout-keras-io",
    **{recipe.env_id: recipe.name for recipe in (_FROZENLAKE, _FROZENLAKE_8X8, _TAXI, _CLIFFWALKING,
                                                 _CLIFFWALKING_SLIPPERY, _BLACKJACK)},
}  # fmt: skip


def get_recipe(name: str) -> Recipe:
    """The recipe called ``name``.

    Args:
        name: one of :data:`RECIPES`' keys, e.g. ``"cartpole-target"``.

    Raises:
        ValueError: an unknown name (the message lists the known ones).
    """
    try:
        return RECIPES[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown recipe {name!r}; known recipes: {', '.join(RECIPES)}") from None


def recipe_for_env(env_id: str) -> Recipe | None:
    """The default recipe of a gymnasium id (``CartPole-v1``: cartpole-target, ``ALE/Pong-v5``:
    pong), or ``None`` when it has none.

    Args:
        env_id: a gymnasium id.
    """
    name = _DEFAULT_FOR_ENV.get(env_id)
    return None if name is None else RECIPES[name]


GENERIC_RECIPE = "cartpole-target"
"""The recipe whose settings train an env that has no recipe of its own (with that env's shapes)."""


def pick_recipe(env_id: str, name: str | None = None) -> tuple[Recipe, str]:
    """The recipe to train ``env_id`` with: ``name``'s, else the env's own, else :data:`GENERIC_RECIPE`'s.

    Args:
        env_id: a gymnasium id.
        name: a recipe asked for by name (``None``: pick by the env).

    Returns:
        The recipe and one line saying which it is and why, for the caller to print.

    Raises:
        ValueError: an unknown ``name``.
    """
    if name:
        recipe = get_recipe(name)
    elif (recipe := recipe_for_env(env_id)) is None:
        recipe = get_recipe(GENERIC_RECIPE)
        return recipe, f"recipe: {env_id} has no recipe of its own; using {recipe.name}'s settings with its shapes"
    return recipe, f"recipe: {recipe.name}"

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

import argparse
import dataclasses
import typing
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np

from keras_dqn import agents
from keras_dqn.envs import is_atari
from keras_dqn.exploration import check_linear_settings
from keras_dqn.settings import (
    LOSSES,
    SETTING_HELP,
    agent_hints,
    agent_parameters,
    check_agent_settings,
    check_env_kwargs,
    check_names,
    check_train_settings,
    is_union,
    train_hints,
)

AGENT_CLASSES: dict[str, type[agents.DQNAgent]] = {
    cls.__name__: cls for cls in agents.AGENT_CLASSES.values()
}


# ---------------------------------------------------------------- search spaces (keras_dqn.tune)
SPACE_KINDS = ("uniform", "loguniform", "randint", "choice", "grid")
"""The distributions a search space may name (Ray Tune's ``tune.uniform``, ``loguniform``,
``randint`` (high excluded), ``choice`` and ``grid_search``)."""
_SPACE_SECTIONS = ("agent", "train")
# train settings a sweep sets itself: the budget is the same for every trial.
_SPACE_SET_BY_THE_SWEEP = {"total_steps": "the budget is the sweep's steps (--steps), the same for every trial"}
_SPACE_FORMAT = ('{"agent": {"learning_rate": {"loguniform": [1e-4, 3e-3]}, "target_update": {"choice": [100, 500]}}, '
                 '"train": {"batch_size": {"choice": [32, 64]}}}')  # fmt: skip


def _check_bounds(kind: str, full: str, bounds: Any) -> tuple[Any, Any]:
    """The ``[low, high]`` of a uniform, loguniform or randint distribution, checked."""
    integers = kind == "randint"
    number = (int, np.integer) if integers else (int, float, np.integer, np.floating)
    if (not isinstance(bounds, (list, tuple)) or len(bounds) != 2
            or not all(isinstance(b, number) and not isinstance(b, bool) for b in bounds)):  # fmt: skip
        what = "integers" if integers else "numbers"
        raise ValueError(f"search space {full}: {kind} takes [low, high], two {what}, got {bounds!r}")
    low, high = bounds
    if not low < high:
        raise ValueError(f"search space {full}: {kind} needs low < high, got [{low}, {high}]")
    if kind == "loguniform" and low <= 0:
        raise ValueError(f"search space {full}: loguniform needs low > 0, got [{low}, {high}]")
    if integers:
        return int(low), int(high) - 1  # tune.randint excludes high
    return float(low), float(high)


def search_space_values(full: str, spec: Any) -> tuple[str | None, list[Any]]:
    """The kind of one setting's entry in a search space and the values to check it by.

    Args:
        full: the setting's name with its section, e.g. ``"agent.learning_rate"`` (for messages).
        spec: a plain value (fixed for every trial) or ``{KIND: ARGS}``: ``{"uniform": [low,
            high]}``, ``{"loguniform": [low, high]}``, ``{"randint": [low, high]}`` (high
            excluded), ``{"choice": [values]}`` or ``{"grid": [values]}``.

    Returns:
        ``(kind, values)``: ``kind`` is ``None`` for a fixed value; ``values`` are the value,
        the bounds (a randint's highest value) or the options.

    Raises:
        ValueError: an unknown kind, or arguments of the wrong form.
    """
    if not isinstance(spec, Mapping):
        return None, [spec]
    if len(spec) != 1 or next(iter(spec)) not in SPACE_KINDS:
        raise ValueError(f"search space {full}: a distribution is one of {', '.join(SPACE_KINDS)} with its "
                         'arguments, e.g. {"choice": [32, 64]}; ' f"got {dict(spec)!r}")  # fmt: skip
    kind, args = next(iter(spec.items()))
    if kind in ("choice", "grid"):
        if not isinstance(args, (list, tuple)) or not args:
            raise ValueError(f"search space {full}: {kind} takes a non-empty list of values, got {args!r}")
        return kind, list(args)
    return kind, list(_check_bounds(kind, full, args))


def check_search_space(agent_class: type[agents.DQNAgent], space: Any) -> None:
    """Check a search space for :mod:`keras_dqn.tune` by name, type and value, building nothing.

    Args:
        agent_class: the agent the trials build.
        space: ``{"agent": {NAME: SPEC}, "train": {NAME: SPEC}}``, each ``SPEC`` a plain value
            (fixed) or a distribution (:func:`search_space_values`), e.g.
            ``{"agent": {"learning_rate": {"loguniform": [1e-4, 3e-3]}}}``.

    Raises:
        ValueError: one line: not a mapping of sections, an unknown section or setting (as
            :func:`check_agent_settings`), an unknown distribution, or a value (a fixed one,
            a bound, an option) the setting cannot take.  An empty space is valid here.
    """
    if not isinstance(space, Mapping):
        raise ValueError(f"a search space is an object of sections {list(_SPACE_SECTIONS)}, e.g. {_SPACE_FORMAT}; "
                         f"got {space!r}")  # fmt: skip
    for section, settings in space.items():
        if section not in _SPACE_SECTIONS:
            raise ValueError(f"search space sections are {list(_SPACE_SECTIONS)}, got {section!r}")
        if not isinstance(settings, Mapping):
            raise ValueError(f"search space section {section!r} must be an object of settings, got {settings!r}")
        for name, spec in settings.items():
            full = f"{section}.{name}"
            if section == "train" and name in _SPACE_SET_BY_THE_SWEEP:
                raise ValueError(f"search space {full} is set by the sweep: {_SPACE_SET_BY_THE_SWEEP[name]}")
            kind, values = search_space_values(full, spec)
            for value in values:
                try:
                    if section == "agent":
                        check_agent_settings(agent_class, {name: value})
                    else:
                        check_train_settings({name: value})
                except ValueError as error:
                    raise ValueError(f"search space {full}" + (f" ({kind})" if kind else "") + f": {error}") from None


@dataclasses.dataclass(frozen=True)
class Recipe:
    """An agent class, its settings and its :func:`keras_dqn.train` settings, under one name.

    Args:
        name: the recipe's name, e.g. ``"cartpole-target"``.
        env_id: the gymnasium id it was made for.
        agent: the agent's class name in :mod:`keras_dqn.agents` (``"DQNAgent"``,
            ``"TargetDQNAgent"`` or ``"ConvDQNAgent"``).
        agent_kwargs: the agent's constructor keyword arguments (read-only once built).
        train_kwargs: :func:`keras_dqn.train` keyword arguments, plus ``n_envs`` (envs
            stepped together) and ``total_steps`` (read-only once built).
        description: one line on what it is and where it comes from.
        death_reward: the reward the blog loop gives the step that ends an episode by
            termination (``None``: the env's own reward); :func:`keras_dqn.train` ignores it.
        search_space: the settings ``keras-dqn tune`` sweeps by default (read-only once built):
            ``{"agent": {NAME: SPEC}, "train": {NAME: SPEC}}`` as :func:`check_search_space`
            takes; empty: none.
        env_kwargs: the options its env is made with (:func:`keras_dqn.make_env` keyword
            arguments, e.g. ``{"max_episode_steps": 200}``); they apply to ``env_id`` only.

    Raises:
        ValueError: an unknown agent class, or a setting its constructor or ``train`` lacks,
            or of the wrong type or out of range (:func:`check_agent_settings`,
            :func:`check_train_settings`).
    """

    name: str
    env_id: str
    agent: str
    agent_kwargs: Mapping[str, Any]
    train_kwargs: Mapping[str, Any]
    description: str = ""
    death_reward: float | None = None
    search_space: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    env_kwargs: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.agent not in AGENT_CLASSES:
            raise ValueError(f"agent must be one of {sorted(AGENT_CLASSES)}, got {self.agent!r}")
        check_agent_settings(self.agent_class, self.agent_kwargs)
        check_train_settings(self.train_kwargs)
        missing = {"n_envs", "total_steps"} - set(self.train_kwargs)
        if missing:
            raise ValueError(f"train_kwargs needs {', '.join(sorted(missing))}")
        self._check_exploration(self.train_kwargs)
        object.__setattr__(self, "agent_kwargs", MappingProxyType(dict(self.agent_kwargs)))
        object.__setattr__(self, "train_kwargs", MappingProxyType(dict(self.train_kwargs)))
        object.__setattr__(self, "env_kwargs", MappingProxyType(check_env_kwargs("env_kwargs", self.env_kwargs)))
        check_search_space(self.agent_class, self.search_space)
        space = {section: MappingProxyType(dict(settings)) for section, settings in self.search_space.items()}
        object.__setattr__(self, "search_space", MappingProxyType(space))

    @property
    def noisy(self) -> bool:
        """Whether the agent explores with noisy layers (then epsilon is 0 and no epsilon schedule applies)."""
        return bool(self.agent_kwargs.get("noisy", agent_parameters(self.agent_class)["noisy"].default))

    def check_atoms_for(self, env_id: str, *, made_for: str | None = None, given: Sequence[str] = ()) -> None:
        """A distributional (C51) agent's atoms must span the returns of the env it trains on.

        ``v_min``/``v_max`` are set for the env a recipe was made for (CartPole's returns lie in
        [-10, 100], clipped Atari rewards' in [-10, 10]); on another env they would silently
        clip every value the agent learns.  So training on another env needs both given.

        Args:
            env_id: the env to train on.
            made_for: the env the agent settings were made for (default: this recipe's).
            given: the agent settings the user set (``v_min`` and ``v_max`` both: no check).

        Raises:
            ValueError: a C51 agent on another env (Atari games share clipped rewards) without
                ``v_min`` and ``v_max`` given, naming what to pass.
        """
        made_for = made_for or self.env_id
        defaults = agent_parameters(self.agent_class)
        distributional, lo, hi = (self.agent_kwargs.get(k, defaults[k].default)
                                  for k in ("distributional", "v_min", "v_max"))  # fmt: skip
        same_kind = env_id == made_for or (is_atari(env_id) and is_atari(made_for))
        if not distributional or same_kind or {"v_min", "v_max"} <= set(given):
            return
        raise ValueError(
            f"{self.agent}'s C51 atoms span [{lo:g}, {hi:g}], the returns of {made_for}; {env_id}'s returns may lie "
            f"elsewhere and would be clipped to that range. Give its range: a config with "
            f'{{"agent": {{"v_min": ..., "v_max": ...}}}} (the lowest and highest discounted return), '
            f'or {{"agent": {{"distributional": false}}}}'
        )

    def _check_exploration(self, train_settings: Mapping[str, Any]) -> None:
        """train()'s two exploration settings must make sense together and with the agent."""
        check_linear_settings(train_settings.get("exploration_fraction"), train_settings.get("exploration_final_eps"),
                              noisy=self.noisy, agent=f"the recipe's {self.agent}", prefix="train.")  # fmt: skip

    def with_agent_of(self, other: Recipe) -> Recipe:
        """This recipe's train settings with ``other``'s agent and agent settings (``keras-dqn train
        ENV --agent NAME``); a noisy agent drops the epsilon schedule (its noise explores)."""
        train_kwargs = dict(self.train_kwargs)
        if other.noisy:
            train_kwargs = {k: v for k, v in train_kwargs.items() if not k.startswith("exploration_")}
        return self.replace(agent=other.agent, agent_kwargs=other.agent_kwargs, train_kwargs=train_kwargs)

    def env_kwargs_for(self, env_id: str) -> dict[str, Any]:
        """The env options to make ``env_id`` with: this recipe's for its own env, none for another."""
        return dict(self.env_kwargs) if env_id == self.env_id else {}

    @property
    def agent_class(self) -> type[agents.DQNAgent]:
        """The agent class this recipe builds."""
        return AGENT_CLASSES[self.agent]

    def replace(self, **changes: Any) -> Recipe:
        """A copy with some fields changed (checked like a new recipe).

        Args:
            **changes: new field values, e.g. ``agent_kwargs={**recipe.agent_kwargs, "gamma": 0.9}``.
                A new ``agent`` without a new ``search_space`` drops the search space: it names
                the settings of the old agent.
        """
        if changes.get("agent", self.agent) != self.agent and "search_space" not in changes:
            changes["search_space"] = {}
        return dataclasses.replace(self, **changes)

    def make_agent(
        self, state_shape_or_size: int | Sequence[int], n_actions: int, *, seed: int | None = None, **overrides: Any
    ) -> agents.DQNAgent:
        """Build this recipe's agent for an env.

        Args:
            state_shape_or_size: ``env.observation_space.shape`` (or its length, for the
                MLP agents).
            n_actions: ``env.action_space.n``.
            seed: seeds the weights, exploration and replay sampling.
            **overrides: agent settings that replace the recipe's.

        Raises:
            ValueError: an override the agent's constructor does not take, or a shape the
                agent cannot use.
        """
        check_names(f"{self.agent}", overrides, set(agent_parameters(self.agent_class)))
        state = state_shape_or_size
        if not issubclass(self.agent_class, agents.ConvDQNAgent) and not isinstance(state, int):
            shape = tuple(state)
            if len(shape) != 1:
                raise ValueError(f"{self.agent} takes flat observation vectors; got observations of shape {shape}")
            state = shape[0]
        return self.agent_class(state, n_actions, seed=seed, **{**self.agent_kwargs, **overrides})

    def train_args(self, **overrides: Any) -> tuple[int, int, dict[str, Any]]:
        """The train settings split for a call: ``train(agent, envs, total_steps, **settings)``.

        Args:
            **overrides: train settings that replace the recipe's (``n_envs`` and
                ``total_steps`` included).

        Returns:
            ``(n_envs, total_steps, settings)``: the envs to step together, the env steps to
            take and the other :func:`keras_dqn.train` keyword arguments.

        Raises:
            ValueError: an override ``train`` does not take, or of the wrong type or range.
        """
        check_train_settings(overrides)
        settings = {**self.train_kwargs, **overrides}
        self._check_exploration(settings)
        return settings.pop("n_envs"), settings.pop("total_steps"), settings


# Both CartPole recipes: the blog loop's budget and batch, learning from the first full minibatch,
# and a greedy evaluation over 100 episodes (gymnasium's "solved" test) every 5,000 env steps.
_CARTPOLE_TRAIN = dict(total_steps=100_000, batch_size=32, learning_starts=32, eval_every=5000, eval_episodes=100)

_CARTPOLE_DQN = Recipe(
    name="cartpole-dqn",
    env_id="CartPole-v1",
    agent="DQNAgent",
    agent_kwargs=dict(
        gamma=0.95,  # discount rate
        epsilon=1.0,  # start fully random
        epsilon_min=0.01,
        epsilon_decay=0.995,  # per replay() / gradient step
        learning_rate=0.001,  # Adam
        memory_size=2000,  # replay capacity
        hidden=(24, 24),
        loss="mse",  # the squared TD error
        dueling=False,
        clipnorm=None,  # no gradient clipping
    ),
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
    agent_kwargs=dict(
        _CARTPOLE_DQN.agent_kwargs,
        gamma=0.99,  # a longer horizon: the frozen target keeps bootstrapping stable
        memory_size=10_000,  # keeps failures in memory after the agent stops failing
        hidden=(64, 64),  # a wider network than the blog's 24-24 for the longer-horizon Q-values
        target_update=500,  # hard copy every 500 gradient steps: slower than 100, but it stays solved
        double=True,  # Double DQN: the online network picks the next action, the target network values it
        loss="huber",  # the Nature-DQN loss: a large TD error's gradient is bounded, not squared
        clipnorm=10.0,  # the Nature-DQN guard (as in pong): no single gradient step is huge
    ),
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
    agent_kwargs=dict(
        gamma=0.99,  # Atari rewards come late: a long horizon
        learning_rate=1e-4,  # Adam
        memory_size=100_000,  # transitions (frame memory: ~0.7 GB); the paper used 1M
        target_update=1000,  # hard copy of the target network every 1,000 gradient steps
        double=True,
        loss="huber",
        epsilon=1.0,
        epsilon_min=0.01,
        epsilon_decay=0.99991,  # per gradient step: 0.01 after ~51k gradient steps (~225k agent steps)
        clipnorm=10.0,
        precision="float32",  # or mixed_bfloat16 (the CNN in bfloat16) on CPUs with AVX-512 BF16
    ),
    train_kwargs=dict(
        n_envs=4,  # games played at once, one batched action choice for all
        total_steps=2_000_000,  # agent steps; Pong is usually solved within 1-2M
        batch_size=32,
        train_every=4,  # agent steps (over all games) per gradient step
        learning_starts=20_000,  # fill the memory with random play first
        eval_every=50_000,
        eval_episodes=4,  # full, unclipped greedy games
        frames_per_step=4,  # emulator frames per agent step (frame skip)
    ),
    description="ConvDQNAgent on Pong, the Nature-DQN recipe on a CPU (the shipped pong-conv-dqn.h5, +20.7)",
    search_space={  # small: a Pong trial takes hours on a CPU
        "agent": {"learning_rate": {"loguniform": [5e-5, 3e-4]}, "target_update": {"choice": [1000, 2500]}},
    },
)

# Rainbow on CartPole: the validated TargetDQNAgent recipe's network, target copy and schedule, with
# the four Rainbow parts it lacks switched on and twice its memory (RainbowAgent's defaults are these).
_CARTPOLE_RAINBOW = _CARTPOLE_TARGET.replace(
    name="cartpole-rainbow",
    agent="RainbowAgent",
    agent_kwargs=dict(
        {k: v for k, v in _CARTPOLE_TARGET.agent_kwargs.items() if not k.startswith("epsilon")},
        # Twice cartpole-target's memory: Rainbow solves in half the steps, and a memory that forgets
        # its last failures too soon lets it slip back (README, "Solving CartPole", compares the two).
        memory_size=20_000,
        dueling=True,  # Rainbow's dueling head (on each atom's logits)
        n_step=3,  # 3-step returns: rewards reach back 3 steps per update
        prioritized=True,  # replay surprising transitions more often (importance exponent 0.4 -> 1) ...
        priority_alpha=0.5,  # ... in proportion to |TD error| ** 0.5 (Rainbow's)
        noisy=True,  # learned noise explores: epsilon is 0
        sigma0=0.5,  # its initial scale, the paper's
        noisy_hidden=True,  # noise in every layer, the paper's (False: the head alone)
        adam_epsilon=1e-7,  # Keras' Adam epsilon (the Rainbow paper's 1.5e-4 did no better on CartPole)
        distributional=True,  # C51: 51 atoms of the return distribution ...
        n_atoms=51,
        v_min=-10.0,  # ... on [-10, 100]: CartPole's returns at gamma 0.99 (reward 1 a step, -10 on a fall)
        v_max=100.0,
    ),
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
    agent_kwargs=dict(
        gamma=0.99,
        learning_rate=1e-4,  # Adam, as pong (the paper's 6.25e-5 is for 200M frames, not a CPU's few million)
        memory_size=100_000,  # frame memory, as pong
        target_update=1000,  # gradient steps, as pong (the paper: 2,000, i.e. 32,000 frames)
        double=True,
        dueling=True,
        loss="huber",  # (unused: C51's loss is a cross-entropy)
        clipnorm=10.0,
        n_step=3,
        prioritized=True,
        priority_alpha=0.5,
        noisy=True,
        distributional=True,
        n_atoms=51,
        v_min=-10.0,  # rewards clipped to [-1, 1] while training
        v_max=10.0,
        precision="float32",  # or mixed_bfloat16 on CPUs with AVX-512 BF16 (not yet shown to learn as well)
    ),
    description="ConvRainbowAgent on Pong: the Rainbow paper's switches on the pong recipe's optimizer and schedule",
    search_space={"agent": {"learning_rate": {"loguniform": [5e-5, 3e-4]}, "n_step": {"choice": [3, 5]}}},
)

# Rainbow minus noisy nets, for a CPU: the noisy layer's second 3136x512 weight matrix doubles the big
# layer's work in every pass and Adam's, a third of the wall time, and on Pong the noise bought no
# agent steps (README's ablation).  Epsilon-greedy explores instead, on the pong recipe's schedule.
_PONG_RAINBOW_EPS = _PONG_RAINBOW.replace(
    name="pong-rainbow-eps",
    agent_kwargs=dict(
        _PONG_RAINBOW.agent_kwargs,
        noisy=False,
        **{k: v for k, v in _PONG.agent_kwargs.items() if k.startswith("epsilon")},  # 1 -> 0.01, 0.99991 a step
    ),
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
    agent_kwargs=dict(
        gamma=0.99,
        learning_rate=6.3e-4,  # Adam
        memory_size=50_000,
        hidden=(256, 256),
        target_update=250,  # gradient steps (one per env step: rl-zoo's 250 env steps)
        double=True,
        dueling=False,
        loss="huber",
        clipnorm=10.0,
        epsilon=1.0,
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
    agent_kwargs=dict(
        _ACROBOT.agent_kwargs,
        gamma=0.99,  # rl-zoo: 0.98; the goal is ~100 steps away
        learning_rate=4e-3,
        memory_size=10_000,
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
        _ACROBOT.agent_kwargs,
        # Not rl-zoo's: its lr 6.3e-4, target 250 and 1-step returns let a seed's final weights fall
        # apart after solving; a smaller step, a slower target and 3-step returns kept them (README, the zoo).
        learning_rate=5e-4,
        target_update=500,  # gradient steps
        n_step=3,  # 3-step returns
    ),
    description="TargetDQNAgent on LunarLander: rl-zoo's DQN settings with Double DQN, 3-step returns, "
    "lr 5e-4 and a target copy every 500 steps",
)

# The toy-text envs: one-hot states (keras_dqn.envs.flat_observations), so one hidden layer can hold
# any Q-table.  One gradient step per env step over 8 envs, epsilon falling linearly over 30% of the run.
_FROZENLAKE = Recipe(
    name="frozenlake",
    env_id="FrozenLake-v1",
    agent="TargetDQNAgent",
    agent_kwargs=dict(
        gamma=0.99,  # the safe way round the holes is long: the goal must stay worth it
        learning_rate=1e-3,
        memory_size=50_000,
        hidden=(64,),
        target_update=500,  # gradient steps
        double=True,
        loss="huber",
        clipnorm=10.0,
        epsilon=1.0,
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
              _PONG_RAINBOW_NOISY_HEAD, _ACROBOT, _MOUNTAINCAR, _LUNARLANDER, _FROZENLAKE, _FROZENLAKE_8X8, _TAXI,
              _CLIFFWALKING, _CLIFFWALKING_SLIPPERY, _BLACKJACK)
}  # fmt: skip
"""Every named recipe, by name."""

_DEFAULT_FOR_ENV = {
    "CartPole-v1": "cartpole-target",
    "Acrobot-v1": "acrobot",
    "MountainCar-v0": "mountaincar",
    "LunarLander-v3": "lunarlander",
    "ALE/Pong-v5": "pong",
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


# ---------------------------------------------------------------- command-line flags for a recipe's settings
_FLAG_CHOICES = {"loss": sorted(LOSSES), "precision": ["float32", "mixed_bfloat16"]}


def _named(name: str, parse: Callable[[str], Any]) -> Callable[[str], Any]:
    parse.__name__ = name  # argparse's "invalid NAME value: 'x'"
    return parse


def _int_or_float(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)


def _flag_type(hint: Any) -> Callable[[str], Any]:
    """How a flag's text becomes a value of the annotated type ``hint``."""
    if is_union(hint):
        members = set(typing.get_args(hint)) - {type(None)}
        if members == {int, float}:  # target_update: 500 is an int, 0.005 a float
            parse = _named("int-or-float", _int_or_float)
        else:
            parse = _flag_type(members.pop()) if len(members) == 1 else str
        if type(None) not in typing.get_args(hint):
            return parse
        return _named(f"{parse.__name__}-or-none", lambda text: None if text.lower() == "none" else parse(text))
    origin = typing.get_origin(hint)
    if isinstance(origin, type) and issubclass(origin, Sequence):  # hidden: "64,64"
        item = _flag_type((typing.get_args(hint) or (str,))[0])
        return _named(f"comma-separated-{item.__name__}s", lambda text: tuple(item(part) for part in text.split(",")))
    return hint if hint in (int, float, str) else str


def add_recipe_flags(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    recipe: Recipe,
    *,
    only: Sequence[str] | None = None,
    help: Mapping[str, str] | None = None,
) -> None:
    """Add a flag ``--NAME`` for each of ``recipe``'s settings, defaulting to the recipe's value.

    One home for the flags of every example and command that trains a recipe: the help of each
    comes from :data:`SETTING_HELP`, the value's type from the agent's or :func:`keras_dqn.train`'s
    annotation: ``--double``/``--no-double`` for a bool, ``--hidden 64,64``, ``--clipnorm none``,
    ``--target-update 500`` (an int: hard copies) or ``0.005`` (a float: soft updates), ``--loss``
    one of the losses.  :func:`recipe_settings` reads the values back.

    Args:
        parser: an ``ArgumentParser`` or one of its argument groups.
        recipe: the recipe whose ``agent_kwargs`` and ``train_kwargs`` become flags.
        only: the settings to add, in this order (default: all of them, the agent's first).
        help: help text that replaces :data:`SETTING_HELP`'s for some settings, e.g. an
            example's own explanation.

    Raises:
        ValueError: a name in ``only`` or ``help`` that is not one of the recipe's settings.
    """
    settings = {**recipe.agent_kwargs, **recipe.train_kwargs}
    names = list(settings) if only is None else list(only)
    check_names(f"recipe {recipe.name}'s", {**dict.fromkeys(names), **(help or {})}, set(settings))
    hints = {**train_hints(), **agent_hints(recipe.agent_class)}
    for name in names:
        default = settings[name]
        flag = "--" + name.replace("_", "-")
        text = (help or {}).get(name, SETTING_HELP.get(name))
        hint = hints.get(name, type(default))
        if hint is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default, help=text)
        else:
            parser.add_argument(flag, type=_flag_type(hint), choices=_FLAG_CHOICES.get(name), default=default,
                                help=text)  # fmt: skip


def recipe_settings(args: argparse.Namespace, recipe: Recipe) -> tuple[dict[str, Any], dict[str, Any]]:
    """The values of the flags :func:`add_recipe_flags` added for ``recipe``, to pass on.

    Args:
        args: the parsed flags.
        recipe: the recipe whose flags were added.

    Returns:
        ``(agent_kwargs, train_kwargs)``: each of the recipe's settings that has a flag in
        ``args``, with the flag's value (settings added with ``only=`` left out are not there:
        ``recipe.make_agent(..., **agent_kwargs)`` and ``recipe.train_args(**train_kwargs)``
        take the recipe's own for them).
    """

    def given(settings: Mapping[str, Any]) -> dict[str, Any]:
        return {name: getattr(args, name) for name in settings if hasattr(args, name)}

    return given(recipe.agent_kwargs), given(recipe.train_kwargs)

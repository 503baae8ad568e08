""":class:`Recipe`: an agent class, its settings and its :func:`keras_dqn.train` settings, under
one name, checked when made.  The named recipes are :mod:`keras_dqn.config.recipes`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from keras_dqn import agents
from keras_dqn.agents.settings import AGENT_OBJECTS, agent_parameters, check_agent_settings
from keras_dqn.checks import check_names
from keras_dqn.config.settings import check_env_kwargs, check_train_settings
from keras_dqn.config.spaces import check_search_space
from keras_dqn.envs.make import is_atari
from keras_dqn.exploration import check_linear_settings

AGENT_CLASSES: dict[str, type[agents.DQNAgent]] = {
    cls.__name__: cls for cls in agents.AGENT_CLASSES.values()
}


@dataclasses.dataclass(frozen=True)
class Recipe:
    """An agent class, its settings and its :func:`keras_dqn.train` settings, under one name.

    Args:
        name: the recipe's name, e.g. ``"cartpole-target"``.
        env_id: the gymnasium id it was made for.
        agent: the agent's class name in :mod:`keras_dqn.agents` (``"DQNAgent"``,
            ``"TargetDQNAgent"`` or ``"ConvDQNAgent"``).
        agent_kwargs: the agent's constructor keyword arguments where they differ from the
            class's defaults, which are the settings validated for it (read-only once built;
            every setting, defaults included: :attr:`agent_settings`).
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
    def agent_settings(self) -> dict[str, Any]:
        """Every setting the agent is built with: its class's defaults with :attr:`agent_kwargs` over them."""
        defaults = {name: param.default for name, param in agent_parameters(self.agent_class).items()
                    if name not in AGENT_OBJECTS}  # fmt: skip
        return {**defaults, **self.agent_kwargs}

    @property
    def noisy(self) -> bool:
        """Whether the agent explores with noisy layers (then epsilon is 0 and no epsilon schedule applies)."""
        return bool(self.agent_settings["noisy"])

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
        settings = self.agent_settings
        distributional, lo, hi = settings["distributional"], settings["v_min"], settings["v_max"]
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

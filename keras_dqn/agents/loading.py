"""Building the agent a weights file describes: :func:`load_agent`, and the agent classes by name.
"""

from __future__ import annotations

import os
from typing import Any

from keras_dqn.agents.blog import DDQNAgent
from keras_dqn.agents.conv import ConvDQNAgent, check_frames_shape
from keras_dqn.agents.dqn import DQNAgent
from keras_dqn.agents.rainbow import ConvRainbowAgent, RainbowAgent
from keras_dqn.agents.settings import WEIGHTS_FILE_METADATA, check_agent_settings
from keras_dqn.agents.target import TargetDQNAgent
from keras_dqn.checks import check_positive_int
from keras_dqn.files.weights import CONFIG_ATTR, read_h5

AGENT_CLASSES = {
    cls.__name__: cls for cls in (DQNAgent, TargetDQNAgent, ConvDQNAgent, RainbowAgent, ConvRainbowAgent, DDQNAgent)
}


def load_agent(path: str | os.PathLike) -> DQNAgent:
    """Build the agent a weights file describes, and load the weights into it.

    Our files carry the agent's config (class, env id, architecture) as an HDF5 attribute.
    Files without it — the blog's Keras-2 file — must hold a plain Dense MLP; its shape is
    read off the weights and a DQNAgent is built.  ``agent.env_id`` is ``None`` then.

    Raises:
        FileNotFoundError, ValueError: as :meth:`DQNAgent.load`; ValueError (one, naming the
            file and what was expected) also for a config that is not JSON, not an object,
            names an unknown agent class, lacks the state size or action count, or holds a
            setting of the wrong type, and for a file without config whose architecture
            cannot be read.
    """
    layers, config = read_h5(path)  # a config attribute that is not JSON: ValueError naming the file
    if config is None:
        kernels = [arrays[0] for _, arrays in layers]
        if not kernels or any(k.ndim != 2 for k in kernels):
            raise ValueError(f"{str(path)!r} carries no keras_dqn config and is not a plain Dense network")
        agent = DQNAgent(kernels[0].shape[0], kernels[-1].shape[1], hidden=[k.shape[1] for k in kernels[:-1]])
        return agent.load(path)
    cls, state, action_size, kwargs, env_id, env_kwargs = _read_agent_config(path, config)
    agent = cls(state, action_size, **kwargs)
    agent.env_id, agent.env_kwargs = env_id, env_kwargs
    return agent.load(path)


def _read_agent_config(
    path: str | os.PathLike, config: Any
) -> tuple[type[DQNAgent], Any, int, dict, str | None, dict[str, Any]]:
    """``(class, state size or shape, action count, settings, env id, env options)`` from a file's config,
    all checked."""
    expected = (
        f"expected its {CONFIG_ATTR} attribute to be a JSON object with 'agent' (one of {sorted(AGENT_CLASSES)}), "
        "'state_size' ('state_shape' for ConvDQNAgent), 'action_size' and the agent's settings, as DQNAgent.save "
        "writes it"
    )

    def broken(detail: str) -> ValueError:
        return ValueError(f"{str(path)!r} has a broken keras_dqn config: {detail}; {expected}")

    if not isinstance(config, dict):
        raise broken(f"it is {type(config).__name__} {config!r}")
    if config.get("agent") not in AGENT_CLASSES:
        raise ValueError(f"{str(path)!r} was saved by an unknown agent {config.get('agent')!r}; {expected}")
    cls = AGENT_CLASSES[config["agent"]]
    state_key = cls.state_argument
    missing = [key for key in (state_key, "action_size") if key not in config]
    if missing:
        raise broken(f"no {' or '.join(repr(key) for key in missing)}")
    # Everything else is the agent's settings (DQNAgent.get_config), checked by name, type and value.
    kwargs = {name: value for name, value in config.items() if name not in {*WEIGHTS_FILE_METADATA, state_key}}
    env_id, env_kwargs = config.get("env_id"), config.get("env_kwargs", {})
    try:
        if env_id is not None and not isinstance(env_id, str):
            raise ValueError(f"env_id must be a string or null, got {env_id!r}")
        if not isinstance(env_kwargs, dict):
            raise ValueError(f"env_kwargs must be an object of the env's options, got {env_kwargs!r}")
        check_agent_settings(cls, kwargs)
        state = config[state_key]
        if state_key == "state_shape":
            state = check_frames_shape(state)
        else:
            check_positive_int(state_key, state)
        check_positive_int("action_size", config["action_size"])
    except ValueError as error:
        raise broken(str(error)) from None
    return cls, state, config["action_size"], kwargs, env_id, env_kwargs

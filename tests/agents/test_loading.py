"""keras_dqn.load_agent on files whose keras_dqn config is broken: one ValueError naming the file."""

import json
import shutil
from pathlib import Path

import h5py
import pytest

import keras_dqn

SHIPPED = Path(__file__).resolve().parents[2] / "weights" / "cartpole-dqn.h5"


def with_config(tmp_path: Path, config: str) -> Path:
    path = tmp_path / "broken.h5"
    shutil.copy(SHIPPED, path)
    with h5py.File(path, "a") as f:
        f.attrs["keras_dqn_config"] = config
    return path


GOOD = {"agent": "DQNAgent", "env_id": "CartPole-v1", "state_size": 4, "action_size": 2, "hidden": [24, 24]}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("{not json", "is damaged"),
        ("[1, 2]", "has a broken keras_dqn config: it is list [1, 2]"),
        (json.dumps({**GOOD, "agent": "PPO"}), "unknown agent 'PPO'"),
        (json.dumps({k: v for k, v in GOOD.items() if k != "state_size"}), "no 'state_size'"),
        (json.dumps({k: v for k, v in GOOD.items() if k != "action_size"}), "no 'action_size'"),
        (json.dumps({**GOOD, "state_size": "four"}), "state_size must be a positive integer, got 'four'"),
        (json.dumps({**GOOD, "hidden": 5}), "agent.hidden must be a list of integers, got 5"),
        (json.dumps({**GOOD, "gamma": "high"}), "agent.gamma must be a number"),
        (json.dumps({**GOOD, "env_id": 3}), "env_id must be a string or null, got 3"),
        (json.dumps({**GOOD, "agent": "ConvDQNAgent"}), "no 'state_shape'"),
        (json.dumps({**GOOD, "hiden": [24]}), "unknown DQNAgent settings: hiden (known: "),
        (
            json.dumps({**GOOD, "agent": "ConvDQNAgent", "state_shape": [4, 84, 84]}),
            "unknown ConvDQNAgent settings: hidden, state_size",
        ),
    ],
)
def test_a_broken_config_is_one_value_error_naming_the_file(tmp_path, config, message):
    path = with_config(tmp_path, config)
    with pytest.raises(ValueError) as error:
        keras_dqn.load_agent(path)
    text = str(error.value)
    assert str(path) in text and message in text and "\n" not in text


def test_a_sound_config_still_loads(tmp_path):
    agent = keras_dqn.load_agent(with_config(tmp_path, json.dumps(GOOD)))
    assert agent.env_id == "CartPole-v1" and agent.hidden == (24, 24)


# One agent of each class, every Rainbow switch on where it has one.
EVERY_CLASS = [
    (keras_dqn.DQNAgent, 4, {"hidden": (8,), "noisy": True, "prioritized": True, "distributional": True}),
    (keras_dqn.TargetDQNAgent, 4, {"hidden": (8,), "target_update": 0.01, "n_step": 3}),
    (keras_dqn.RainbowAgent, 4, {"hidden": (8,), "sigma0": 0.3, "v_max": 50.0}),
    (keras_dqn.ConvDQNAgent, (4, 36, 36), {"memory_size": 100, "dueling": True}),
    (keras_dqn.ConvRainbowAgent, (4, 36, 36), {"memory_size": 100, "noisy_hidden": False}),
]


@pytest.mark.parametrize(("cls", "state", "settings"), EVERY_CLASS, ids=lambda x: getattr(x, "__name__", ""))
def test_a_weights_file_records_every_setting_but_exploration_and_memory_and_loads_them_back(
    tmp_path, cls, state, settings
):
    from keras_dqn.agents.settings import SWITCHED_SETTINGS, weights_file_settings

    agent = cls(state, 3, seed=0, **settings)
    config = agent.get_config()
    switched_off = {name for name, switch in SWITCHED_SETTINGS.items() if not getattr(agent, switch)}
    assert set(config) == {"agent", "env_id", "env_kwargs", cls.state_argument, "action_size"} | (
        set(weights_file_settings(cls)) - switched_off
    )
    assert not {"epsilon", "epsilon_min", "epsilon_decay", "memory_size"} & set(config)
    assert ("hidden" in config) == (cls.state_argument == "state_size")  # the CNN takes no hidden sizes
    agent.save(tmp_path / "agent.h5")
    loaded = keras_dqn.load_agent(tmp_path / "agent.h5")
    assert type(loaded) is cls and loaded.get_config() == json.loads(json.dumps(config))


def test_settings_that_change_nothing_are_left_out():
    from keras_dqn.agents.settings import settings_in_use

    plain = {"gamma": 0.9, "noisy": False, "sigma0": 0.5, "prioritized": True, "priority_alpha": 0.6, "epsilon": 1.0}
    assert settings_in_use(plain) == {"gamma": 0.9, "noisy": False, "prioritized": True, "priority_alpha": 0.6,
                                      "epsilon": 1.0}  # fmt: skip
    noisy = {"noisy": True, "sigma0": 0.5, "epsilon": 1.0, "epsilon_decay": 0.99, "distributional": False, "v_max": 1}
    assert settings_in_use(noisy) == {"noisy": True, "sigma0": 0.5, "distributional": False}

"""The shipped classic-control and LunarLander agents: each loads from its file alone and wins
on held-out episodes (reset seeds 4,000,000,000 + i: no training run or evaluation used them)."""

import importlib.util

import pytest

import keras_dqn

HELD_OUT = 4_000_000_000

# name, env, what every episode must beat (the env's time-limit return: the task was done),
# and the mean the episodes must reach (gymnasium's solved score)
ZOO = [
    ("acrobot-dqn", "Acrobot-v1", -500.0, -100.0),
    ("mountaincar-dqn", "MountainCar-v0", -200.0, -110.0),
    ("lunarlander-dqn", "LunarLander-v3", 0.0, 200.0),
]


@pytest.mark.parametrize(("name", "env_id", "every_episode_above", "mean_at_least"), ZOO)
def test_shipped_zoo_agent_loads_from_its_file_and_wins(name, env_id, every_episode_above, mean_at_least):
    if env_id.startswith("LunarLander") and importlib.util.find_spec("Box2D") is None:
        pytest.skip('LunarLander needs the box2d extra: pip install -e ".[box2d]"')
    agent = keras_dqn.load_agent(keras_dqn.weights_path(name))  # the file knows its class, network and env
    assert agent.env_id == env_id
    assert isinstance(agent, keras_dqn.TargetDQNAgent) and agent.hidden == (256, 256)
    returns = keras_dqn.evaluate(agent, env_id, episodes=8, seed=HELD_OUT)  # one vector evaluation
    assert min(returns) > every_episode_above, returns
    assert sum(returns) / len(returns) >= mean_at_least, returns


def test_every_zoo_env_has_its_recipe_and_shipped_agent():
    for name, env_id, *_ in ZOO:
        recipe = keras_dqn.config.recipes.recipe_for_env(env_id)
        assert recipe is not None and recipe.agent == "TargetDQNAgent"
        assert recipe.train_kwargs["exploration_fraction"] is not None  # the linear schedule they were tuned with
        assert keras_dqn.weights_path(name).is_file()


def test_a_box2d_env_without_box2d_says_which_extra_to_install(monkeypatch):
    import gymnasium as gym

    def missing(*args, **kwargs):
        raise gym.error.DependencyNotInstalled('Box2D is not installed, you can install it by run `pip install swig`')

    monkeypatch.setattr(gym, "make", missing)
    with pytest.raises(ImportError, match=r"pip install 'keras_dqn\[box2d\]'"):
        keras_dqn.make_env("LunarLander-v3")

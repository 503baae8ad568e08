"""keras_dqn.config.recipes: the named recipes, their checks, and the agents' defaults that follow them."""

import inspect

import pytest

import keras_dqn
from keras_dqn.agents.settings import agent_parameters
from keras_dqn.config.recipe import Recipe
from keras_dqn.config.recipes import RECIPES, get_recipe, pick_recipe, recipe_for_env
from keras_dqn.config.settings import train_parameters


@pytest.mark.parametrize(
    ("cls", "name"),
    [(keras_dqn.DQNAgent, "cartpole-dqn"), (keras_dqn.TargetDQNAgent, "cartpole-target"),
     (keras_dqn.ConvDQNAgent, "pong"), (keras_dqn.RainbowAgent, "cartpole-rainbow"),
     (keras_dqn.ConvRainbowAgent, "pong-rainbow")],
)  # fmt: skip
def test_each_agent_class_is_its_validated_recipe(cls, name):
    """A class's defaults are the settings validated for it: its recipe sets nothing of its own."""
    recipe = get_recipe(name)
    assert recipe.agent_class is cls and dict(recipe.agent_kwargs) == {}
    defaults = {key: param.default for key, param in agent_parameters(cls).items() if key not in ("model", "memory",
                                                                                                 "exploration")}
    assert recipe.agent_settings == defaults


@pytest.mark.parametrize("name", list(RECIPES))
def test_recipes_hold_only_what_differs_from_their_class(name):
    recipe = get_recipe(name)
    defaults = {key: param.default for key, param in agent_parameters(recipe.agent_class).items()}
    same = {key: value for key, value in recipe.agent_kwargs.items() if defaults[key] == value}
    assert same == {}, f"{name} repeats {recipe.agent}'s defaults"
    built = recipe.make_agent(4, 2, seed=0) if "Conv" not in recipe.agent else None
    for key, value in recipe.agent_kwargs.items():  # and the agent it builds has them
        if built is not None and hasattr(built, key) and key != "hidden":
            assert getattr(built, key) == value, key


def test_agent_parameters_follow_the_kwargs_chain_to_the_nearest_default():
    conv = agent_parameters(keras_dqn.ConvDQNAgent)
    assert conv["learning_rate"].default == inspect.signature(keras_dqn.ConvDQNAgent.__init__).parameters[
        "learning_rate"].default  # fmt: skip
    assert conv["loss"].default == inspect.signature(keras_dqn.TargetDQNAgent.__init__).parameters["loss"].default
    assert "dueling" in conv and "frame_memory" in conv  # from DQNAgent and from ConvDQNAgent itself
    assert {"state_size", "action_size", "seed", "kwargs"}.isdisjoint(agent_parameters(keras_dqn.TargetDQNAgent))
    assert "target_update" not in agent_parameters(keras_dqn.DQNAgent)


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_every_recipe_key_is_a_real_argument(name):
    recipe = RECIPES[name]
    assert recipe.name == name
    init_params = set()
    for cls in recipe.agent_class.__mro__[:-1]:
        init_params |= set(inspect.signature(cls.__init__).parameters)
    assert set(recipe.agent_kwargs) <= init_params
    train_params = set(inspect.signature(keras_dqn.train).parameters)
    assert set(recipe.train_kwargs) <= train_params | {"n_envs"}
    assert {"n_envs", "total_steps", "batch_size"} <= set(recipe.train_kwargs)


def test_cartpole_target_trains_one_gradient_step_per_env_step():
    n_envs, total_steps, settings = get_recipe("cartpole-target").train_args()
    assert settings["gradient_steps"] * n_envs == settings["train_every"] * n_envs == n_envs * n_envs
    assert settings["batch_size"] == 32 and total_steps == 100_000
    assert get_recipe("cartpole-dqn").train_args()[2]["train_every"] == 1


def test_the_validated_values():
    target = get_recipe("cartpole-target").agent_settings
    validated = dict(gamma=0.99, epsilon=1.0, epsilon_min=0.01, epsilon_decay=0.995, learning_rate=0.001,
                     memory_size=10_000, hidden=(64, 64), target_update=500, double=True, loss="huber", dueling=False,
                     clipnorm=10.0)  # fmt: skip
    assert {key: target[key] for key in validated} == validated
    pong = get_recipe("pong")
    assert pong.agent_settings["clipnorm"] == 10.0 and pong.agent_settings["epsilon_decay"] == 0.99991
    assert pong.train_args() == (4, 2_000_000, dict(batch_size=32, train_every=4, learning_starts=20_000,
                                                    eval_every=50_000, eval_episodes=4, eval_stall_steps=1000,
                                                    frames_per_step=4))  # fmt: skip
    assert get_recipe("cartpole-dqn").death_reward == -10.0 and pong.death_reward is None
    rainbow, eps = get_recipe("pong-rainbow"), get_recipe("pong-rainbow-eps")  # the timed +20.75 in 68 minutes
    changed = {k: v for k, v in eps.agent_settings.items() if rainbow.agent_settings[k] != v}
    assert changed == dict(noisy=False)
    assert {k: eps.agent_settings[k] for k in ("epsilon", "epsilon_min", "epsilon_decay")} == {
        k: pong.agent_settings[k] for k in ("epsilon", "epsilon_min", "epsilon_decay")}  # pong's schedule
    assert dict(eps.train_kwargs) == {**rainbow.train_kwargs, "eval_every": 10_000} and not eps.noisy
    head = get_recipe("pong-rainbow-noisy-head")  # every part on, the noise in the head alone
    assert {k: v for k, v in head.agent_settings.items() if rainbow.agent_settings[k] != v} == dict(noisy_hidden=False)
    assert dict(head.train_kwargs) == dict(eps.train_kwargs) and head.noisy


def test_unknown_recipe_is_one_clear_error():
    known = ("cartpole-dqn, cartpole-target, cartpole-rainbow, pong, pong-rainbow, pong-rainbow-eps, "
             "pong-rainbow-noisy-head, breakout-keras-io, acrobot, mountaincar, lunarlander, frozenlake, "
             "frozenlake8x8, taxi, cliffwalking, cliffwalking-slippery, blackjack")
    with pytest.raises(ValueError, match=rf"^unknown recipe 'cartpole'; known recipes: {known}$"):
        get_recipe("cartpole")


def test_pick_recipe_by_name_else_the_envs_else_the_generic_one():
    rainbow = get_recipe("cartpole-rainbow")
    assert pick_recipe("CartPole-v1", "cartpole-rainbow") == (rainbow, "recipe: cartpole-rainbow")
    assert pick_recipe("Acrobot-v1") == (get_recipe("acrobot"), "recipe: acrobot")
    recipe, which = pick_recipe("Pendulum-v1")
    assert recipe is get_recipe("cartpole-target")
    assert which == "recipe: Pendulum-v1 has no recipe of its own; using cartpole-target's settings with its shapes"
    with pytest.raises(ValueError, match="^unknown recipe 'ppo'; known recipes: cartpole-dqn"):
        pick_recipe("CartPole-v1", "ppo")


def test_recipe_for_env():
    assert recipe_for_env("CartPole-v1") is get_recipe("cartpole-target")
    assert recipe_for_env("ALE/Pong-v5") is get_recipe("pong")
    assert recipe_for_env("Acrobot-v1") is get_recipe("acrobot")
    assert recipe_for_env("MountainCar-v0") is get_recipe("mountaincar")
    assert recipe_for_env("LunarLander-v3") is get_recipe("lunarlander")
    assert recipe_for_env("CartPole-v0") is None
    for recipe in RECIPES.values():  # every recipe is its env's default, or a variant of one that is
        assert recipe_for_env(recipe.env_id) is not None


def test_recipes_are_read_only_and_checked():
    recipe = get_recipe("cartpole-target")
    with pytest.raises(TypeError):
        recipe.agent_kwargs["gamma"] = 0.5  # type: ignore[index]
    with pytest.raises(ValueError, match="unknown TargetDQNAgent settings: gama"):
        recipe.replace(agent_kwargs={**recipe.agent_kwargs, "gama": 0.9})
    with pytest.raises(ValueError, match="unknown train settings: n_env "):
        recipe.replace(train_kwargs={"n_env": 2, "total_steps": 10})
    with pytest.raises(ValueError, match="train_kwargs needs n_envs"):
        recipe.replace(train_kwargs={"total_steps": 10})
    with pytest.raises(ValueError, match="agent must be one of"):
        Recipe("x", "CartPole-v1", "PPOAgent", {}, {"n_envs": 1, "total_steps": 1})
    assert "n_envs" in train_parameters() and "env" not in train_parameters()


def test_make_agent_uses_the_recipe_and_the_overrides():
    recipe = get_recipe("cartpole-target")
    agent = recipe.make_agent((4,), 2, seed=0, gamma=0.9)
    assert type(agent) is keras_dqn.TargetDQNAgent
    assert agent.gamma == 0.9 and agent.hidden == (64, 64) and agent.target_update == 500 and agent.clipnorm == 10.0
    assert agent.memory.maxlen == 10_000 and agent.seed == 0
    assert recipe.make_agent(4, 2).state_shape == (4,)
    with pytest.raises(ValueError, match="unknown TargetDQNAgent settings: hiden"):
        recipe.make_agent(4, 2, hiden=(8,))
    with pytest.raises(ValueError, match=r"takes flat observation vectors; got observations of shape \(4, 84, 84\)"):
        recipe.make_agent((4, 84, 84), 6)


def test_make_agent_and_train_args_drive_train(tmp_path):
    recipe = get_recipe("cartpole-target")
    n_envs, _, settings = recipe.train_args(n_envs=2, eval_every=100, eval_episodes=2)
    envs = keras_dqn.make_vector_env(recipe.env_id, n_envs)
    agent = recipe.make_agent(envs.single_observation_space.shape, 2, seed=1)
    history = keras_dqn.train(agent, envs, 200, progress=False, seed=1, **settings)
    envs.close()
    assert history.history["step"][-1] == 200 and agent.train_steps > 0
    with pytest.raises(ValueError, match="unknown train settings: batch"):
        recipe.train_args(batch=3)


# ---------------------------------------------------------------------------------- checks before building
@pytest.mark.parametrize(
    ("agent", "train", "message"),
    [
        ({"gamma": "high"}, {}, "agent.gamma must be a number, got 'high'"),
        ({"gamma": 2}, {}, "agent.gamma must be in [0, 1], got 2"),
        ({"hidden": [64, "x"]}, {}, "agent.hidden must be a list of integers, got [64, 'x']"),
        ({"hidden": [64, 0]}, {}, "agent.hidden entries must be a positive integer, got 0"),
        ({"dueling": "no"}, {}, "agent.dueling must be true or false, got 'no'"),
        ({"clipnorm": "off"}, {}, "agent.clipnorm must be a number or None, got 'off'"),
        ({"target_update": 0}, {}, "agent.target_update must be an int C >= 1"),
        ({"loss": "l1"}, {}, "agent.loss must be one of ['huber', 'mse'], got 'l1'"),
        ({"memory": None}, {}, "agent settings cannot hold memory"),
        ({}, {"n_envs": 0}, "train.n_envs must be a positive integer, got 0"),
        ({}, {"batch_size": 1.5}, "train.batch_size must be an integer, got 1.5"),
        ({}, {"learning_starts": -1}, "train.learning_starts must be a non-negative integer, got -1"),
        ({}, {"save_memory": "yes"}, "train.save_memory must be true or false, got 'yes'"),
        ({}, {"target_score": "high"}, "train.target_score must be a number or None, got 'high'"),
    ],
)
def test_recipes_are_checked_by_type_and_value_before_anything_is_built(agent, train, message):
    recipe = get_recipe("cartpole-target")
    with pytest.raises(ValueError) as error:
        recipe.replace(agent_kwargs={**recipe.agent_kwargs, **agent}, train_kwargs={**recipe.train_kwargs, **train})
    assert message in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("name", "bad"),
    [("gamma", 1.5), ("epsilon", -0.1), ("epsilon_min", 2), ("epsilon_decay", 0), ("learning_rate", 0),
     ("memory_size", 0), ("hidden", (0,)), ("loss", "l1"), ("clipnorm", -1.0), ("target_update", 1.5)],
)  # fmt: skip
def test_the_setting_checks_agree_with_the_constructor(name, bad):
    from keras_dqn.agents.settings import AGENT_SETTING_CHECKS

    with pytest.raises(ValueError):
        AGENT_SETTING_CHECKS[name](name, bad)
    with pytest.raises(ValueError, match=name.split("_")[0]):
        keras_dqn.TargetDQNAgent(4, 2, **{name: bad})


def test_train_args_overrides_are_checked():
    with pytest.raises(ValueError, match="train.total_steps must be a positive integer, got 0"):
        get_recipe("cartpole-target").train_args(total_steps=0)


# ---------------------------------------------------------------------------------- command-line flags
def _parser(recipe, **kwargs):
    import argparse

    from keras_dqn.config.flags import add_recipe_flags

    parser = argparse.ArgumentParser()
    add_recipe_flags(parser, recipe, **kwargs)
    return parser


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_recipe_flags_default_to_the_recipe_and_read_back_as_its_settings(name):
    from keras_dqn.config.flags import recipe_settings

    recipe = RECIPES[name]
    agent, train = recipe_settings(_parser(recipe).parse_args([]), recipe)
    assert agent == recipe.agent_settings and train == dict(recipe.train_kwargs)
    assert recipe.replace(agent_kwargs=agent, train_kwargs=train).agent_settings == recipe.agent_settings


def test_a_recipe_flag_overrides_its_setting():
    from keras_dqn.config.flags import recipe_settings

    recipe = get_recipe("cartpole-dqn")
    args = _parser(recipe).parse_args(["--gamma", "0.9", "--hidden", "16,8", "--dueling", "--loss", "huber",
                                       "--clipnorm", "5", "--batch-size", "64", "--n-envs", "2"])  # fmt: skip
    agent, train = recipe_settings(args, recipe)
    assert agent == {**recipe.agent_settings, "gamma": 0.9, "hidden": (16, 8), "dueling": True, "loss": "huber",
                     "clipnorm": 5.0}  # fmt: skip
    assert train == {**recipe.train_kwargs, "batch_size": 64, "n_envs": 2}
    assert recipe.train_args(**train)[0] == 2
    target = get_recipe("cartpole-target")
    args = _parser(target).parse_args(["--no-double", "--target-update", "0.005", "--clipnorm", "none"])
    agent, _ = recipe_settings(args, target)
    assert agent["double"] is False and agent["target_update"] == 0.005 and agent["clipnorm"] is None
    assert recipe_settings(_parser(target).parse_args(["--target-update", "100"]), target)[0]["target_update"] == 100


def test_recipe_flags_only_some_and_their_own_help(capsys):
    from keras_dqn.config.flags import recipe_settings

    recipe = get_recipe("pong")
    parser = _parser(recipe, only=["gamma", "n_envs"], help={"gamma": "Atari rewards come late"})
    assert recipe_settings(parser.parse_args(["--n-envs", "8"]), recipe) == ({"gamma": 0.99}, {"n_envs": 8})
    parser.print_help()
    out = capsys.readouterr().out
    assert "Atari rewards come late" in out and "--learning-rate" not in out
    with pytest.raises(ValueError, match="unknown recipe pong's settings: model"):
        _parser(recipe, only=["model"])  # an object, not a setting
    with pytest.raises(ValueError, match="unknown recipe pong's settings: gama"):
        _parser(recipe, help={"gama": "typo"})


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--gamma", "high"], "invalid float value: 'high'"),
        (["--loss", "l1"], "invalid choice: 'l1'"),
        (["--hidden", "64,x"], "invalid comma-separated-ints value"),
        (["--target-update", "often"], "invalid int-or-float value"),
    ],
)
def test_a_bad_recipe_flag_is_a_usage_error(flags, message, capsys):
    with pytest.raises(SystemExit):
        _parser(get_recipe("cartpole-target")).parse_args(flags)
    assert message in capsys.readouterr().err


def test_every_setting_has_help_text_read_from_the_docstring_that_documents_it():
    from keras_dqn.agents.settings import AGENT_OBJECTS
    from keras_dqn.config.help import SETTING_HELP
    from keras_dqn.config.recipe import AGENT_CLASSES

    names = set(train_parameters())
    for cls in AGENT_CLASSES.values():
        names |= set(agent_parameters(cls)) - AGENT_OBJECTS
    assert names - set(SETTING_HELP) == set()  # an argument without an Args: line fails here
    assert SETTING_HELP["gamma"] == "discount rate of future rewards"  # DQNAgent's, not a subclass's
    assert SETTING_HELP["target_update"].startswith("an int C >= 1 copies the weights")  # markup removed
    assert SETTING_HELP["n_envs"].startswith("environments stepped together")  # make_vector_env's
    for recipe in RECIPES.values():
        for action in _parser(recipe)._actions[1:]:
            assert action.help and "\n" not in action.help and "``" not in action.help, action.dest
            assert ":class:" not in action.help and ":func:" not in action.help, action.dest


def test_recipe_exploration_settings_must_agree_with_each_other_and_the_agent():
    acrobot = get_recipe("acrobot")
    with pytest.raises(ValueError, match=r"train.exploration_final_eps needs train.exploration_fraction, .*=0.1"):
        acrobot.train_args(exploration_fraction=None)
    _, _, settings = acrobot.train_args(exploration_fraction=None, exploration_final_eps=None)
    assert settings["exploration_fraction"] is None  # train() then uses the agent's own decay
    with pytest.raises(ValueError, match="train.exploration_fraction: the recipe.s RainbowAgent is noisy"):
        acrobot.replace(agent="RainbowAgent", agent_kwargs={})
    assert acrobot.replace(agent="RainbowAgent", agent_kwargs={"noisy": False}).noisy is False


def test_an_env_recipe_with_a_noisy_agent_drops_the_epsilon_schedule():
    rainbow = get_recipe("acrobot").with_agent_of(get_recipe("cartpole-rainbow"))
    assert rainbow.agent == "RainbowAgent" and rainbow.env_id == "Acrobot-v1"
    assert not any(k.startswith("exploration_") for k in rainbow.train_kwargs)
    assert rainbow.train_kwargs["batch_size"] == 128  # the env's own train settings stay
    dqn = get_recipe("acrobot").with_agent_of(get_recipe("cartpole-dqn"))
    assert dqn.train_kwargs["exploration_fraction"] == 0.12  # epsilon-greedy agents keep it


def test_c51_atoms_must_be_made_for_the_env_they_train_on():
    rainbow = get_recipe("cartpole-rainbow")
    rainbow.check_atoms_for("CartPole-v1")  # its own env
    get_recipe("pong-rainbow").check_atoms_for("ALE/Breakout-v5")  # clipped rewards: every game's returns alike
    get_recipe("acrobot").check_atoms_for("CartPole-v1")  # no atoms, nothing to check
    rainbow.check_atoms_for("Acrobot-v1", given={"v_min": -100.0, "v_max": 0.0})  # the user gave the range
    with pytest.raises(ValueError, match=r"atoms span \[-10, 100\], the returns of CartPole-v1; LunarLander-v3's"):
        rainbow.check_atoms_for("LunarLander-v3")
    with pytest.raises(ValueError, match=r"the returns of CartPole-v1; Acrobot-v1's"):  # --agent rainbow on Acrobot
        get_recipe("acrobot").with_agent_of(rainbow).check_atoms_for("Acrobot-v1", made_for="CartPole-v1")
    with pytest.raises(ValueError, match="ALE/Pong-v5; CartPole-v1's"):
        get_recipe("pong-rainbow").check_atoms_for("CartPole-v1", given={"v_max": 100.0})

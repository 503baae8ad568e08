"""Rainbow's switches on the agents: each alone and all together, through the one TD update."""

from __future__ import annotations

import json
import warnings

import gymnasium as gym
import h5py
import keras
import numpy as np
import pytest
from keras.ops import convert_to_numpy as to_numpy
from support import bar_env  # the synthetic frame env (tests/ is on the path)

import keras_dqn
from keras_dqn import (
    ConvDQNAgent,
    ConvRainbowAgent,
    DQNAgent,
    PrioritizedFrameReplayBuffer,
    PrioritizedReplayBuffer,
    RainbowAgent,
    TargetDQNAgent,
)
from keras_dqn._internals.keras import all_layers
from keras_dqn.networks.noisy import noise_states
from keras_dqn.replay.base import Batch
from keras_dqn.replay.frames import FrameReplayBuffer
from keras_dqn.replay.uniform import ReplayBuffer

SWITCHES = {
    "n_step": dict(n_step=3),
    "prioritized": dict(prioritized=True),
    "noisy": dict(noisy=True),
    "distributional": dict(distributional=True, n_atoms=11, v_min=-5.0, v_max=5.0),
    "all": dict(n_step=3, prioritized=True, noisy=True, distributional=True, n_atoms=11, v_min=-5.0, v_max=5.0,
                dueling=True),  # fmt: skip
}


def _fill(agent, n=64, seed=0):
    rng = np.random.default_rng(seed)
    state = rng.normal(size=agent.state_shape).astype(np.float32)
    for i in range(n):
        next_state = rng.normal(size=agent.state_shape).astype(np.float32)
        done = i % 10 == 9
        agent.remember(state, int(rng.integers(agent.action_size)), float(rng.normal()), next_state, done)
        state = rng.normal(size=agent.state_shape).astype(np.float32) if done else next_state


@pytest.mark.parametrize("name", sorted(SWITCHES))
def test_each_switch_trains_and_round_trips_through_a_file(name, tmp_path):
    agent = TargetDQNAgent(4, 2, seed=0, memory_size=200, hidden=(16,), **SWITCHES[name])
    _fill(agent)
    losses = [agent.replay(16) for _ in range(5)]
    assert np.isfinite(losses).all()
    assert agent.train_steps == 5
    q = agent.q_values(np.zeros((3, 4), np.float32))
    assert q.shape == (3, 2) and q.dtype == np.float32
    path = tmp_path / f"{name}.h5"
    agent.save(path)
    loaded = keras_dqn.load_agent(path)
    assert type(loaded) is TargetDQNAgent
    for key in ("n_step", "prioritized", "noisy", "distributional", "n_atoms", "dueling"):
        assert getattr(loaded, key) == getattr(agent, key), key
    states = np.random.default_rng(1).normal(size=(5, 4)).astype(np.float32)
    np.testing.assert_allclose(loaded.q_values(states), agent.q_values(states), rtol=1e-5, atol=1e-6)


def test_every_switch_is_recorded_in_the_file_on_or_off(tmp_path):
    """A Rainbow agent with a switch off comes back with it off (the class's default is on)."""
    rainbow = RainbowAgent(4, 2, seed=0)
    rainbow.save(tmp_path / "rainbow.h5")
    with h5py.File(tmp_path / "rainbow.h5") as f:
        config = json.loads(f.attrs["keras_dqn_config"])
    assert config["agent"] == "RainbowAgent"
    assert (config["n_step"], config["prioritized"], config["noisy"], config["distributional"]) == (3, True, True, True)
    assert (config["n_atoms"], config["v_min"], config["v_max"]) == (51, -10.0, 100.0)
    assert type(keras_dqn.load_agent(tmp_path / "rainbow.h5")) is RainbowAgent
    for off in (dict(n_step=1), dict(prioritized=False), dict(noisy=False), dict(distributional=False)):
        agent = RainbowAgent(4, 2, seed=0, hidden=(8,), **off)
        agent.save(tmp_path / "off.h5")
        loaded = keras_dqn.load_agent(tmp_path / "off.h5")
        (key, value), = off.items()
        assert getattr(loaded, key) == value, key
        assert isinstance(loaded.memory, PrioritizedReplayBuffer) == loaded.prioritized
        states = np.ones((2, 4), np.float32)
        np.testing.assert_allclose(loaded.q_values(states), agent.q_values(states), rtol=1e-5, atol=1e-6)


def test_one_step_agents_sharing_a_memory_each_discount_with_their_own_gamma():
    memory = ReplayBuffer(100, (4,))
    agents = [DQNAgent(4, 2, seed=0, gamma=gamma, hidden=(8,), memory=memory) for gamma in (0.8, 0.5)]
    _fill(agents[0], 40)
    batch = memory.sample(16)
    for agent in agents:
        expected = batch.rewards + agent.gamma * (1 - batch.dones) * agent.q_values(batch.next_states).max(axis=1)
        before = agent.model.get_weights()
        # the loss of the step equals the hand-computed TD loss with this agent's gamma
        q = agent.q_values(batch.states)[np.arange(16), batch.actions]
        assert agent.train_on_batch(batch) == pytest.approx(float(np.mean((expected - q) ** 2)), rel=1e-4)
        agent.model.set_weights(before)


def test_a_prioritized_batch_for_an_agent_without_priorities_is_refused_before_training():
    agent = DQNAgent(4, 2, seed=0, hidden=(8,))
    other = PrioritizedReplayBuffer(100, (4,), seed=0)
    rng = np.random.default_rng(0)
    for _ in range(20):
        other.append((rng.normal(size=4), 0, 1.0, rng.normal(size=4), False))
    weights = agent.model.get_weights()
    with pytest.raises(ValueError, match="prioritized memory"):
        agent.train_on_batch(other.sample(8))
    assert agent.train_steps == 0
    for w, v in zip(weights, agent.model.get_weights(), strict=True):
        np.testing.assert_array_equal(w, v)


def test_switches_must_describe_a_model_of_your_own():
    plain = keras_dqn.build_mlp(4, 2, (8,))
    with pytest.raises(ValueError, match="noisy=True but the model has no NoisyDense"):
        TargetDQNAgent(4, 2, noisy=True, model=plain)
    noisy = keras_dqn.build_mlp(4, 2, (8,), noisy=True)
    with pytest.raises(ValueError, match="noisy=False but the model has NoisyDense"):
        TargetDQNAgent(4, 2, model=noisy)
    logits = keras.Sequential([keras.Input((4,)), keras.layers.Dense(10), keras.layers.Reshape((2, 5))])
    logits.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match="probabilities over the atoms"):
        TargetDQNAgent(4, 2, distributional=True, n_atoms=5, model=logits)


def test_c51_priorities_are_the_kl_divergence():
    """A prediction equal to its target has priority 0, however wide the target."""
    agent = TargetDQNAgent(4, 2, distributional=True, n_atoms=5, v_min=-2.0, v_max=2.0)
    target = keras.ops.convert_to_tensor([[0.2, 0.2, 0.2, 0.2, 0.2], [0.0, 0.5, 0.5, 0.0, 0.0]])
    predicted = keras.ops.convert_to_tensor([[0.2, 0.2, 0.2, 0.2, 0.2], [0.0, 0.25, 0.75, 0.0, 0.0]])
    priorities = to_numpy(agent.priorities(target, predicted, agent.sample_losses(target, predicted)))
    kl = 0.5 * np.log(0.5 / 0.25) + 0.5 * np.log(0.5 / 0.75)
    np.testing.assert_allclose(priorities, [0.0, kl], atol=1e-5)


def test_rainbow_agent_turns_everything_on():
    agent = RainbowAgent(4, 2, seed=0)
    assert (agent.n_step, agent.prioritized, agent.noisy, agent.distributional, agent.dueling, agent.double) == (
        3, True, True, True, True, True)  # fmt: skip
    assert isinstance(agent.memory, PrioritizedReplayBuffer)
    assert agent.memory.n_step == 3 and agent.memory.alpha == 0.5 and agent.memory.gamma == agent.gamma
    assert agent.epsilon == 0.0 and agent.epsilon_min == 0.0
    assert agent.model.output_shape == (None, 2, 51)
    assert keras_dqn.get_recipe("cartpole-rainbow").make_agent(4, 2, seed=0).n_atoms == 51


def test_noisy_agent_explores_with_noise_and_acts_greedily_with_the_mean():
    agent = TargetDQNAgent(4, 3, seed=0, noisy=True, hidden=(32,))
    assert agent.epsilon == 0.0
    states = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    greedy = agent.q_values(states)
    np.testing.assert_array_equal(agent.q_values(states), greedy)  # the mean weights: deterministic
    np.testing.assert_allclose(greedy, to_numpy(agent.model(states, training=False)), rtol=1e-5, atol=1e-6)
    noisy_draws = [agent.q_values(states, greedy=False) for _ in range(3)]
    assert not np.allclose(noisy_draws[0], noisy_draws[1])
    assert {agent.act(states[0], greedy=True) for _ in range(20)} == {int(np.argmax(greedy[0]))}


def test_sigma0_sets_every_noisy_layers_initial_noise_and_is_recorded(tmp_path):
    for sigma0 in (0.5, 0.1):
        agent = TargetDQNAgent(4, 3, seed=0, noisy=True, hidden=(16,), sigma0=sigma0)
        noisy = [layer for layer in all_layers(agent.model) if isinstance(layer, keras_dqn.NoisyDense)]
        assert len(noisy) == 2  # the hidden layer and the head
        for layer in noisy:  # sigma = sigma0 / sqrt(inputs), weights and biases alike
            inputs = layer.kernel_mu.shape[0]
            np.testing.assert_allclose(layer.kernel_sigma.numpy(), sigma0 / np.sqrt(inputs), rtol=1e-6)
            np.testing.assert_allclose(layer.bias_sigma.numpy(), sigma0 / np.sqrt(inputs), rtol=1e-6)
    agent.save(tmp_path / "noisy.h5")
    assert agent.get_config()["sigma0"] == 0.1 and keras_dqn.load_agent(tmp_path / "noisy.h5").sigma0 == 0.1
    assert "sigma0" not in TargetDQNAgent(4, 3, seed=0).get_config()  # no noisy layers: nothing to record


def test_priority_alpha_reaches_the_memory_and_is_recorded(tmp_path):
    agent = TargetDQNAgent(4, 3, seed=0, prioritized=True, priority_alpha=0.2, hidden=(8,))
    assert agent.memory.alpha == 0.2 and agent.get_config()["priority_alpha"] == 0.2
    assert TargetDQNAgent(4, 3, seed=0, prioritized=True).memory.alpha == 0.6  # the PER paper's
    conv = keras_dqn.ConvRainbowAgent((4, 84, 84), 6, seed=0, memory_size=100, priority_alpha=0.3)
    assert conv.memory.alpha == 0.3  # the frame memory too
    agent.save(tmp_path / "per.h5")
    assert keras_dqn.load_agent(tmp_path / "per.h5").memory.alpha == 0.2
    assert "priority_alpha" not in TargetDQNAgent(4, 3, seed=0).get_config()  # uniform replay: nothing to record
    with pytest.raises(AttributeError):  # the memory's priorities are already raised to it
        agent.priority_alpha = 0.5


def test_adam_epsilon_reaches_every_agents_optimizer():
    assert TargetDQNAgent(4, 2, seed=0, adam_epsilon=1.5e-4).model.optimizer.epsilon == 1.5e-4
    assert RainbowAgent(4, 2, seed=0, adam_epsilon=1e-3).model.optimizer.epsilon == 1e-3
    conv = keras_dqn.ConvDQNAgent((4, 84, 84), 6, seed=0, memory_size=100, adam_epsilon=1e-5)
    assert conv.model.optimizer.epsilon == 1e-5


def test_distributional_q_values_are_the_expected_returns():
    agent = TargetDQNAgent(4, 2, seed=0, distributional=True, n_atoms=5, v_min=-2.0, v_max=2.0)
    states = np.random.default_rng(0).normal(size=(7, 4)).astype(np.float32)
    probs = to_numpy(agent.model(states, training=False))
    assert probs.shape == (7, 2, 5)
    np.testing.assert_allclose(probs.sum(-1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(agent.q_values(states), probs @ np.linspace(-2, 2, 5), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("agent_class", [DQNAgent, TargetDQNAgent])
def test_noisy_targets_draw_noise_and_the_target_network_its_own(agent_class):
    """The NoisyNet paper's targets: each target is computed with a fresh draw of the noise, and
    the target network's noise is independent of the online network's (a clone repeats it)."""
    states = keras.ops.convert_to_tensor(np.random.default_rng(0).normal(size=(16, 4)), "float32")
    zeros, ones = keras.ops.zeros(16), keras.ops.ones(16)
    batch = Batch(states=states, actions=keras.ops.zeros(16, "int32"), rewards=zeros, next_states=states,
                  dones=zeros, discounts=ones, weights=ones)  # fmt: skip
    noisy = agent_class(4, 2, seed=0, noisy=True)
    first, second = to_numpy(noisy.compute_targets(batch)), to_numpy(noisy.compute_targets(batch))
    assert not np.allclose(first, second)
    plain = agent_class(4, 2, seed=0)
    np.testing.assert_array_equal(to_numpy(plain.compute_targets(batch)), to_numpy(plain.compute_targets(batch)))
    if agent_class is TargetDQNAgent:
        online, target = noise_states(noisy.model), noise_states(noisy.target_model)
        assert len(online) == len(target) == 3
        assert all(not np.array_equal(a, b) for a, b in zip(online, target, strict=True))
        again = TargetDQNAgent(4, 2, seed=0, noisy=True)  # seeded: the same streams again
        assert [s[0] for s in noise_states(again.target_model)] == [s[0] for s in target]
        noisy.update_target_model()  # a copy of the weights leaves each network its own noise
        assert noise_states(noisy.target_model)[0][0] != noise_states(noisy.model)[0][0]


def test_an_unseeded_target_network_draws_its_noise_seeds_as_keras_does():
    """Without ``seed``, ``keras.utils.set_random_seed`` fixes the target network's noise as it
    fixes the online network's; without either, each agent's target gets new streams."""
    def target_seeds():
        return [int(s[0]) for s in noise_states(TargetDQNAgent(4, 2, noisy=True, hidden=(8,)).target_model)]

    keras.utils.set_random_seed(5)
    first = target_seeds()
    keras.utils.set_random_seed(5)
    assert target_seeds() == first
    assert target_seeds() != first


def test_n_step_targets_use_the_batch_discounts():
    """The target multiplies the bootstrap by the batch's discount (gamma^k, 0 after a termination)."""
    agent = DQNAgent(3, 2, seed=0, gamma=0.9)
    tensor = keras.ops.convert_to_tensor
    next_states = tensor(np.random.default_rng(0).normal(size=(3, 3)), "float32")
    batch = Batch(
        states=next_states, actions=tensor([0, 1, 0]), rewards=tensor([1.0, 2.0, 3.0]),
        next_states=next_states, dones=tensor([0.0, 0.0, 1.0]), discounts=tensor([0.729, 0.81, 0.0]),
        weights=keras.ops.ones(3),
    )  # fmt: skip
    best = to_numpy(agent.model(next_states)).max(axis=1)
    expected = np.array([1.0, 2.0, 3.0]) + np.array([0.729, 0.81, 0.0]) * best
    np.testing.assert_allclose(to_numpy(agent.compute_targets(batch)), expected, rtol=1e-5)


def test_prioritized_replay_updates_the_sampled_priorities():
    agent = TargetDQNAgent(4, 2, seed=0, prioritized=True, memory_size=100, hidden=(8,))
    _fill(agent, 50)
    before = agent.memory.state_dict()["priorities"].copy()
    agent.replay(16)
    after = agent.memory.state_dict()["priorities"]
    assert not np.array_equal(before, after)


def test_importance_weights_scale_the_loss():
    """Weights 2 double the loss of the same batch (one compiled step, same starting weights)."""
    losses = []
    for weight in (1.0, 2.0):
        agent = DQNAgent(4, 2, seed=0, hidden=(8,))
        rng = np.random.default_rng(0)
        batch = Batch(
            rng.normal(size=(8, 4)).astype(np.float32), rng.integers(2, size=8).astype(np.int32),
            rng.normal(size=8).astype(np.float32), rng.normal(size=(8, 4)).astype(np.float32),
            np.zeros(8, np.float32), weights=np.full(8, weight, np.float32),
        )  # fmt: skip
        losses.append(agent.train_on_batch(batch))
    assert losses[1] == pytest.approx(2 * losses[0], rel=1e-5)


def test_train_runs_every_switch_on_a_vector_env():
    agent = keras_dqn.get_recipe("cartpole-rainbow").make_agent(4, 2, seed=0, memory_size=500)
    envs = keras_dqn.make_vector_env("CartPole-v1", 2, training=True)
    history = keras_dqn.train(agent, envs, 400, batch_size=16, train_every=2, gradient_steps=2,
                              learning_starts=50, eval_every=400, eval_episodes=2, seed=0)  # fmt: skip
    assert history.history["step"][-1] >= 400
    assert agent.train_steps > 100
    assert agent.memory.beta > 0.4  # annealed toward 1 as training went on


def test_conv_agents_take_every_switch():
    agent = ConvRainbowAgent((4, 36, 36), 3, seed=0, memory_size=200)
    assert isinstance(agent.memory, PrioritizedFrameReplayBuffer) and agent.memory.n_step == 3
    assert agent.model.output_shape == (None, 3, 51)
    rng = np.random.default_rng(0)
    state = rng.integers(0, 255, size=(4, 36, 36), dtype=np.uint8)
    for i in range(40):
        frame = rng.integers(0, 255, size=(1, 36, 36), dtype=np.uint8)
        next_state = np.concatenate([state[1:], frame])
        agent.remember(state, i % 3, 1.0, next_state, False)
        state = next_state
    assert np.isfinite(agent.replay(8))
    assert agent.q_values(state).shape == (1, 3)
    plain = ConvDQNAgent((4, 36, 36), 3, seed=0, memory_size=200)
    assert type(plain.memory) is FrameReplayBuffer


def test_precision_falls_back_or_is_refused():
    with pytest.raises(ValueError, match="precision"):
        ConvDQNAgent((4, 36, 36), 3, precision="float16")
    from keras_dqn.networks.precision import bf16_supported

    if bf16_supported():
        agent = ConvDQNAgent((4, 36, 36), 3, precision="mixed_bfloat16", memory_size=100)
        assert agent.precision == "mixed_bfloat16"
        assert agent.q_values(np.zeros((4, 36, 36), np.uint8)).dtype == np.float32
    else:
        with pytest.warns(UserWarning, match="float32"):
            agent = ConvDQNAgent((4, 36, 36), 3, precision="mixed_bfloat16", memory_size=100)
        assert agent.precision == "float32"


@pytest.mark.parametrize("cls", [ConvDQNAgent, ConvRainbowAgent])
def test_precision_auto_picks_one_and_leaves_the_network_as_seeded(cls):
    from keras_dqn.networks.precision import bf16_supported

    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # "auto" never warns (as "mixed_bfloat16" may): it picks
        agent = cls((4, 36, 36), 3, precision="auto", memory_size=100, seed=3)
    assert agent.precision in ("float32", "mixed_bfloat16")
    assert agent.get_config()["precision"] == agent.precision  # the file stores what it computes in
    if bf16_supported():
        assert set(agent.precision_timings) == {"float32", "mixed_bfloat16"}
        assert all(ms > 0 for ms in agent.precision_timings.values())
    else:
        assert agent.precision == "float32" and agent.precision_timings == {}
    plain = cls((4, 36, 36), 3, precision=agent.precision, memory_size=100, seed=3)
    assert plain.precision_timings == {}
    for ours, theirs in zip(agent.model.get_weights(), plain.model.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)  # timing copies took nothing from the seed
    state = np.zeros((4, 36, 36), np.uint8)
    np.testing.assert_allclose(agent.q_values(state), plain.q_values(state), rtol=1e-6)


def test_gamma_reaches_the_memory():
    agent = TargetDQNAgent(4, 2, n_step=3, gamma=0.9)
    assert agent.memory.gamma == 0.9
    agent.gamma = 0.5
    assert agent.memory.gamma == 0.5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(n_step=0), "n_step"),
        (dict(distributional=True, v_min=1.0, v_max=1.0), "v_min"),
        (dict(distributional=True, n_atoms=1), "n_atoms"),
        (dict(memory=ReplayBuffer(10, (4,), n_step=2)), "2-step"),
        (dict(n_step=3, memory=ReplayBuffer(10, (4,), n_step=3, gamma=0.5)), "gamma"),
        (dict(prioritized=True, memory=ReplayBuffer(10, (4,))), "prioritized"),
        (dict(memory=PrioritizedReplayBuffer(10, (4,))), "prioritized"),
        (dict(noisy=True, sigma0=0.0), "sigma0 must be positive, got 0"),
        (dict(sigma0=-1.0), "sigma0 must be positive"),
        (dict(prioritized=True, priority_alpha=-0.5), r"priority_alpha must be >= 0 \(0: uniform replay\), got -0.5"),
        (dict(priority_alpha="high"), "priority_alpha must be a number, got 'high'"),
        (dict(adam_epsilon=-1e-4), "adam_epsilon must be positive, got -0.0001"),
        (dict(prioritized=True, memory=PrioritizedReplayBuffer(10, (4,), alpha=0.7)),
         r"memory samples with priority exponent alpha 0.7, the agent's priority_alpha is 0.6: build the memory "
         r"with alpha=0.6, or pass priority_alpha=0.7"),
    ],
)
def test_bad_switches_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TargetDQNAgent(4, 2, **kwargs)


def test_noisy_hidden_false_round_trips_and_needs_noisy(tmp_path):
    """Noise in the head alone: recorded in the weight file, rebuilt by load_agent; meaningless without noise."""
    agent = ConvRainbowAgent((4, 36, 36), 3, seed=0, memory_size=100, noisy_hidden=False)
    assert type(agent.model.get_layer("dense")) is keras.layers.Dense and agent.epsilon == 0.0
    agent.save(tmp_path / "head.h5")
    loaded = keras_dqn.load_agent(tmp_path / "head.h5")
    assert loaded.noisy and not loaded.noisy_hidden and type(loaded.model.get_layer("dense")) is keras.layers.Dense
    frames = np.random.default_rng(0).integers(0, 256, (3, 4, 36, 36), dtype=np.uint8)
    np.testing.assert_allclose(loaded.q_values(frames), agent.q_values(frames), rtol=1e-5, atol=1e-6)
    assert keras_dqn.get_recipe("pong-rainbow-noisy-head").make_agent((4, 36, 36), 3, seed=0).noisy_hidden is False
    assert "noisy_hidden" not in TargetDQNAgent(4, 3, seed=0).get_config()  # no noisy layers: nothing to record
    mlp = TargetDQNAgent(4, 3, seed=0, noisy=True, noisy_hidden=False, hidden=(16,))
    _fill(mlp)
    assert np.isfinite([mlp.replay(16) for _ in range(3)]).all()
    states = np.ones((2, 4), np.float32)
    assert not np.allclose(mlp.q_values(states, greedy=False), mlp.q_values(states))  # the head's noise explores
    with pytest.raises(ValueError, match=r"noisy_hidden=False \(noise in the head alone\) needs noisy=True"):
        TargetDQNAgent(4, 3, noisy_hidden=False)


def _seeded_run(kind: str, seed: int) -> tuple[dict, list[np.ndarray], np.ndarray]:
    """A short train() run of an agent with all six Rainbow parts: its History, weights and priorities."""
    if kind == "mlp":
        agent = keras_dqn.get_recipe("cartpole-rainbow").make_agent(4, 2, seed=seed, memory_size=500)
        envs, eval_env = keras_dqn.make_vector_env("CartPole-v1", 2, training=True), None
        steps = 600
    else:  # a conv agent on the synthetic frame env of test_atari
        agent = ConvRainbowAgent((4, 36, 36), 2, seed=seed, memory_size=400)
        envs = gym.vector.SyncVectorEnv([bar_env] * 2)
        eval_env = gym.vector.SyncVectorEnv([bar_env] * 2)
        steps = 300
    history = keras_dqn.train(agent, envs, steps, batch_size=16, train_every=2, learning_starts=100, eval_env=eval_env,
                              eval_every=steps // 2, eval_episodes=3, progress=False, seed=seed)  # fmt: skip
    return history.history, agent.model.get_weights(), agent.memory.priorities.copy()


@pytest.mark.parametrize("kind", ["mlp", "conv"])
def test_a_seeded_run_repeats_exactly_and_another_seed_does_not(kind):
    """Seed everything: the same seed gives the same run to the last bit (actions, noise, replay
    sampling, priorities, weights), so two seeded runs that differ were given different
    settings (another total_steps, a resume), not a different draw."""
    history, weights, priorities = _seeded_run(kind, seed=3)
    again_history, again_weights, again_priorities = _seeded_run(kind, seed=3)
    for key in ("loss", "mean_max_q", "eval_mean", "episode_return", "step"):
        np.testing.assert_array_equal(again_history[key], history[key], err_msg=key)
    for a, b in zip(again_weights, weights, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(again_priorities, priorities)
    _, other_weights, _ = _seeded_run(kind, seed=4)
    assert any(not np.array_equal(a, b) for a, b in zip(other_weights, weights, strict=True))

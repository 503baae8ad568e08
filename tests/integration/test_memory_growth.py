"""Agents that are dropped give their memory back (issue 13, point 8).

Two things kept it: TensorFlow's gradient registry held every traced training step's graph
(``keras_dqn._internals.tf``), and Keras' process-wide layer numbering gave every agent new
variable names, each a new, never-freed entry in TensorFlow's eager kernel cache.
``benchmarks/memory_growth.py`` measures the RSS itself.
"""

from __future__ import annotations

import ctypes
import gc
import os
import weakref

import numpy as np
import pytest
from tensorflow.python.eager import context

from keras_dqn import ConvDQNAgent, DQNAgent, RainbowAgent, TargetDQNAgent
from keras_dqn.learning.compiled_step import SHARED_STEPS
from keras_dqn.replay.base import Batch


class NoJitDQNAgent(DQNAgent):
    jit_compile = False  # tracing is what the test is about; XLA would only make it slower


class NoJitTargetDQNAgent(TargetDQNAgent):
    jit_compile = False


def _train_and_drop(cls) -> weakref.ref:
    agent = cls(4, 2, hidden=(8,), seed=0)
    batch = Batch(
        np.zeros((8, 4), np.float32), np.zeros(8, np.int64), np.ones(8, np.float32),
        np.zeros((8, 4), np.float32), np.zeros(8, np.float32),
    )  # fmt: skip
    agent.train_on_batch(batch)
    return weakref.ref(agent)


@pytest.mark.parametrize("cls", [NoJitDQNAgent, NoJitTargetDQNAgent])
def test_a_dropped_trained_agent_and_its_compiled_step_are_freed(cls):
    _train_and_drop(cls)  # warm-up: TensorFlow registers some helpers of its own once
    gc.collect()
    functions = set(context.context().list_function_names())
    ref = _train_and_drop(cls)
    gc.collect()
    assert ref() is None
    # the traced step's functions (its tf.while_loop body and condition) left the runtime with it
    assert set(context.context().list_function_names()) - functions == set()


def test_builders_give_every_agent_the_same_variable_names():
    def names(agent):
        agent.model.optimizer.build(agent.model.trainable_variables)
        return [v.path for v in agent.model.weights + agent.model.optimizer.variables]

    first, second = DQNAgent(4, 2), DQNAgent(4, 2, dueling=True, hidden=(8,))
    assert names(DQNAgent(4, 2)) == names(first)
    assert names(DQNAgent(4, 2, dueling=True, hidden=(8,))) == names(second)
    assert names(first)[0] == "q_network/dense/kernel"  # the names a fresh process gave before
    conv = ConvDQNAgent((4, 36, 36), 3, memory_size=10)
    assert names(ConvDQNAgent((4, 36, 36), 3, memory_size=10)) == names(conv)


def _rss() -> int:
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)  # give freed heap pages back, so RSS shows what is held
    except (OSError, AttributeError):
        pass
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads RSS from /proc")
def test_building_agents_in_a_loop_does_not_grow_memory():
    def build_and_drop() -> None:
        agent = TargetDQNAgent(4, 2)  # what load_agent builds for the shipped cartpole-target-dqn
        agent.model.optimizer.build(agent.model.trainable_variables)

    for _ in range(3):  # warm-up
        build_and_drop()
    before = _rss()
    for _ in range(20):
        build_and_drop()
    growth = _rss() - before
    # measured: 14.7 MB before the fix (0.73 MB an agent), 1.8 MB after
    assert growth < 5 * 2**20, f"RSS grew {growth / 2**20:.1f} MB over 20 agents"


# XLA keeps every compilation for good (~4 MB each for an MLP's step), so agents alike in all
# but their weights share one traced step (keras_dqn.agents.SHARED_STEPS), each run on its own
# variables.


def _train(agent, updates: int = 5):
    rng = np.random.default_rng(1)
    for _ in range(64):
        agent.remember(rng.normal(size=4).astype(np.float32), int(rng.integers(2)), float(rng.normal()),
                       rng.normal(size=4).astype(np.float32), bool(rng.random() < 0.1))  # fmt: skip
    for _ in range(updates):
        agent.replay(16)
    agent.train_on_batches(agent.memory.sample_batches(3, 16))  # train()'s call: K updates at once
    return agent


def _step_function(agent, single: bool = True):
    return agent.train_step.traced(single)


@pytest.mark.parametrize(
    "make",
    [
        lambda seed: DQNAgent(4, 2, seed=seed),
        lambda seed: TargetDQNAgent(4, 2, seed=seed, target_update=3),
        lambda seed: TargetDQNAgent(4, 2, seed=seed, target_update=0.05, dueling=True),
        lambda seed: RainbowAgent(4, 2, seed=seed, hidden=(16,)),
    ],
    ids=["dqn", "target-hard", "target-soft-dueling", "rainbow"],
)
def test_agents_alike_share_one_traced_step_and_train_as_if_alone(make, monkeypatch):
    template = _train(make(5))  # traces the step the next agent reuses
    shared = _train(make(0))
    assert _step_function(shared) is _step_function(template)
    for single in (True, False):
        assert _step_function(shared, single) is _step_function(template, single)
    monkeypatch.setattr(SHARED_STEPS, "maxsize", 0)  # nothing kept: this agent traces its own
    SHARED_STEPS.clear()
    alone = _train(make(0))
    assert _step_function(alone) is not _step_function(template)
    for mine, its in zip(shared.model.get_weights(), alone.model.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, its)  # bit for bit: its own variables, nobody else's


def test_agents_that_differ_in_what_the_step_bakes_in_do_not_share():
    first = _train(TargetDQNAgent(4, 2, seed=0))
    others = [
        TargetDQNAgent(4, 2, seed=0, double=False),
        TargetDQNAgent(4, 2, seed=0, target_update=7),
        TargetDQNAgent(4, 2, seed=0, loss="mse"),
        TargetDQNAgent(4, 2, seed=0, hidden=(32, 32)),
        TargetDQNAgent(4, 2, seed=0, clipnorm=1.0),
        TargetDQNAgent(4, 2, seed=0, n_step=3),
    ]
    # learning rate and gamma are data: a sweep over them shares one step
    assert _step_function(_train(TargetDQNAgent(4, 2, seed=1, learning_rate=3e-4, gamma=0.9))) is \
        _step_function(first)  # fmt: skip
    for other in others:
        assert _step_function(_train(other)) is not _step_function(first), other.get_config()


def test_your_own_subclass_or_model_gets_a_step_of_its_own():
    class MyAgent(DQNAgent):
        pass

    first = _train(DQNAgent(4, 2, seed=0))
    assert _step_function(_train(MyAgent(4, 2, seed=0))) is not _step_function(first)
    model = DQNAgent(4, 2, seed=0).model  # the same architecture, but passed in: it could bake in anything
    assert _step_function(_train(DQNAgent(4, 2, model=model))) is not _step_function(first)


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads RSS from /proc")
def test_training_xla_agents_in_a_loop_does_not_grow_memory():
    for seed in range(2):  # warm-up
        _train(TargetDQNAgent(4, 2, seed=seed))
    before = _rss()
    for seed in range(10):
        _train(TargetDQNAgent(4, 2, seed=seed))
    growth = _rss() - before
    # measured: 8.3 MB an agent when each traced (and XLA compiled) its own step
    assert growth < 10 * 2**20, f"RSS grew {growth / 2**20:.1f} MB over 10 trained agents"


def test_shared_functions_run_on_each_callers_variables_and_stay_bounded():
    import tensorflow as tf

    from keras_dqn._internals.tf import SharedFunctions

    shared = SharedFunctions(maxsize=2)

    def tracer(variables):
        def add_one():
            for v in variables:
                v.assign_add(tf.ones_like(v))
            return variables[0] * 2.0

        return lambda: tf.function(add_one).get_concrete_function()

    first = [tf.Variable([1.0, 2.0]), tf.Variable(3.0)]
    second = [tf.Variable([10.0, 20.0]), tf.Variable(30.0)]
    f1, f2 = shared.get("key", first, tracer(first)), shared.get("key", second, tracer(second))
    assert f1.function is f2.function  # one trace
    np.testing.assert_array_equal(f2(), [22.0, 42.0])  # ran on the second's variables ...
    np.testing.assert_array_equal(second[0].numpy(), [11.0, 21.0])
    np.testing.assert_array_equal(first[0].numpy(), [1.0, 2.0])  # ... and left the first's alone
    # a key that hides a difference (other shapes) never shares: the caller gets its own trace
    third = [tf.Variable([1.0, 2.0, 3.0]), tf.Variable(3.0)]
    f3 = shared.get("key", third, tracer(third))
    assert getattr(f3, "function", f3) is not f1.function
    np.testing.assert_array_equal(f3(), [4.0, 6.0, 8.0])
    # a function that captures anything but the caller's variables is not shared
    constant = tf.constant(5.0)
    alone = shared.get("other", first, lambda: tf.function(lambda: first[1] + constant).get_concrete_function())
    assert not hasattr(alone, "function") and "other" not in shared
    for key in "abc":
        shared.get(key, first, tracer(first))
    assert len(shared) == 2  # least recently used out

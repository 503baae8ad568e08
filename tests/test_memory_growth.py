"""Agents that are dropped give their memory back (issue 13, point 8).

Two things kept it: TensorFlow's gradient registry held every traced training step's graph
(``keras_dqn._tf_leaks``), and Keras' process-wide layer numbering gave every agent new
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

from keras_dqn import ConvDQNAgent, DQNAgent, TargetDQNAgent
from keras_dqn.memory import Batch


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

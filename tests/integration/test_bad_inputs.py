"""Nothing silently wrong: every bad input raises, with an error that says what was expected.

The catalogue is one table, ``CASES``: each row calls the library with one bad input and names
the exception and a fragment of its message.  To add a case, append a :class:`Bad` row; its
``call`` gets a :class:`Subjects` whose attributes build (once per module) what the calls need.
Add an attribute there for a new kind of subject (a CLI runner, a file, an env...).

Below the catalogue: the inputs that must keep working (the blog's ``(1, state_size)`` states,
NumPy scalars, 0/1 dones, uint8 frames...).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import keras_dqn
from keras_dqn import ConvDQNAgent, DQNAgent, FrameReplayBuffer, ReplayBuffer, evaluate, load_agent

NAN, INF = float("nan"), float("inf")
S = np.zeros(4, np.float32)  # a CartPole state
S2 = np.ones(4, np.float32)


def frame_stacks(n: int = 1, shape=(4, 36, 36), seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` uint8 frame stacks and their next stacks (each the stack moved on by one frame)."""
    k = shape[0]
    frames = np.random.default_rng(seed).integers(0, 256, (n, k + 1, *shape[1:]), dtype=np.uint8)
    return frames[:, :k], frames[:, 1:]


class Subjects:
    """What the catalogue's calls act on, each built on first use and shared by the module.

    A bad input must change nothing, so sharing is safe; :meth:`stored` lets the catalogue
    check that nothing was stored."""

    @cached_property
    def agent(self) -> DQNAgent:
        return DQNAgent(4, 2, seed=0)

    @cached_property
    def conv_agent(self) -> ConvDQNAgent:
        return ConvDQNAgent((4, 36, 36), 3, memory_size=100, seed=0)

    @cached_property
    def buffer(self) -> ReplayBuffer:  # knows the number of actions, as an agent's does
        return ReplayBuffer(10, (4,), action_size=2)

    @cached_property
    def open_buffer(self) -> ReplayBuffer:  # made without action_size: any action >= 0
        return ReplayBuffer(10, (4,))

    @cached_property
    def uint8_buffer(self) -> ReplayBuffer:
        return ReplayBuffer(10, (2, 2), state_dtype=np.uint8, action_size=2)

    @cached_property
    def frames(self) -> FrameReplayBuffer:
        return FrameReplayBuffer(50, (4, 8, 8), action_size=6)

    @cached_property
    def small_agent(self) -> DQNAgent:
        return DQNAgent(4, 2, memory_size=100, seed=0)

    @cached_property
    def nan_agent(self) -> DQNAgent:
        agent = DQNAgent(4, 2, seed=0)
        weights = agent.model.get_weights()
        weights[-1][0] = np.nan
        agent.model.set_weights(weights)
        return agent

    def stored(self) -> dict[str, int]:
        """Transitions (and frame slots) held by every memory built so far."""
        counts = {}
        for name, value in vars(self).items():
            memory = getattr(value, "memory", value)
            if hasattr(memory, "maxlen"):
                counts[name] = (len(memory), getattr(memory, "slots_written", 0))
        return counts


@dataclass(frozen=True)
class Bad:
    """One bad input: ``call(subjects)`` must raise ``error`` with ``match`` (a regex) in its message."""

    id: str
    call: Callable[[Subjects], Any]
    error: type[Exception]
    match: str


def remember(s=S, a=0, r=1.0, s2=S2, d=False):
    return lambda x: x.agent.remember(s, a, r, s2, d)


def append(s=S, a=0, r=1.0, s2=S2, d=False, to="buffer"):
    return lambda x: getattr(x, to).append((s, a, r, s2, d))


def extend(n=2, to="buffer", **fields):
    """``extend`` on ``n`` good CartPole transitions, with ``fields`` replaced."""
    good = dict(
        states=np.zeros((n, 4), np.float32),
        actions=np.zeros(n, np.int64),
        rewards=np.ones(n),
        next_states=np.ones((n, 4), np.float32),
        dones=np.zeros(n, bool),
    )
    return lambda x: getattr(x, to).extend(**{**good, **fields})


def frame_extend(n=2, **fields):
    states, next_states = frame_stacks(n, (4, 8, 8))
    good = dict(states=states, actions=np.zeros(n, np.int64), rewards=np.ones(n), next_states=next_states)
    good["dones"] = np.zeros(n, bool)
    return lambda x: x.frames.extend(**{**good, **fields})


def train(x: Subjects, agent: DQNAgent, env: Any = "CartPole-v1", total_steps: Any = 100, **settings: Any):
    """``keras_dqn.train`` with one bad setting; it must fail before its first step."""
    return keras_dqn.train(agent, env, total_steps, **{"progress": False, "eval_episodes": 1, **settings})


def text_env() -> gym.Env:
    """CartPole seen through a text observation: nothing keras_dqn can make into a vector."""
    return gym.wrappers.TransformObservation(gym.make("CartPole-v1"), lambda obs: str(obs), gym.spaces.Text(64))


def short_obs_env() -> gym.Env:
    """CartPole (2 actions) seen through its first two numbers only."""
    return gym.wrappers.TransformObservation(
        gym.make("CartPole-v1"), lambda obs: obs[:2], gym.spaces.Box(-np.inf, np.inf, (2,), np.float32)
    )


def frames_with_nan_row() -> np.ndarray:
    states = np.zeros((3, 4), np.float32)
    states[1, 0] = NAN
    return states


FRAME, NEXT_FRAME = (a[0] for a in frame_stacks(1, (4, 8, 8)))  # for the FrameReplayBuffer
STACK, NEXT_STACK = (a[0] for a in frame_stacks())  # for the ConvDQNAgent
PIXELS = np.zeros((2, 2), np.uint8)

# fmt: off
CASES: list[Bad] = [
    # ---- DQNAgent.remember: what the blog's loop stores
    Bad("remember action too large", remember(a=5), ValueError,
        r"remember\(\) action must be an integer in \[0, 2\), got 5"),
    Bad("remember action negative", remember(a=-1), ValueError, r"action must be an integer in \[0, 2\), got -1"),
    Bad("remember action fractional", remember(a=1.7), ValueError, r"action must be an integer in \[0, 2\), got 1.7"),
    Bad("remember action nan", remember(a=NAN), ValueError, r"action must be an integer .* got nan"),
    Bad("remember action bool", remember(a=True), ValueError, r"action must be an integer .* got the bool True"),
    Bad("remember action string", remember(a="1"), ValueError, r"action must be an integer .* got '1'"),
    Bad("remember action array", remember(a=np.array([1])), ValueError, r"action must be an integer"),
    Bad("remember action too large numpy", remember(a=np.int64(2)), ValueError, r"\[0, 2\), got 2"),
    Bad("remember reward nan", remember(r=NAN), ValueError, r"remember\(\) reward must be finite, got nan"),
    Bad("remember reward inf", remember(r=-INF), ValueError, r"reward must be finite, got -inf"),
    Bad("remember reward None", remember(r=None), ValueError, r"reward must be a number, got None"),
    Bad("remember reward string", remember(r="1.0"), ValueError, r"reward must be a number, got '1.0'"),
    Bad("remember reward nan numpy", remember(r=np.float32("nan")), ValueError, r"reward must be finite"),
    Bad("remember done string", remember(d="False"), ValueError,
        r"remember\(\) done must be a bool \(or 0/1\), got 'False'"),
    Bad("remember done 2", remember(d=2), ValueError, r"done must be a bool \(or 0/1\), got 2"),
    Bad("remember done None", remember(d=None), ValueError, r"done must be a bool"),
    Bad("remember state reshaped", remember(s=np.zeros((2, 2))), ValueError,
        r"remember\(\) expected states of shape \(4,\), got \(2, 2\) for the state"),
    Bad("remember next_state too long", remember(s2=np.zeros(5)), ValueError,
        r"expected states of shape \(4,\), got \(5,\) for the next_state"),
    Bad("remember batch of two", remember(s=np.zeros((2, 4))), ValueError, r"got \(2, 4\) for the state"),
    Bad("remember state nan", remember(s=np.array([0, 0, NAN, 0])), ValueError,
        r"remember\(\) state must be finite numbers, got nan at index 2"),
    Bad("remember next_state inf", remember(s2=np.array([[INF, 0, 0, 0]])), ValueError,
        r"next_state must be finite numbers, got inf at index \(0, 0\)"),
    Bad("remember state overflows float32", remember(s=np.array([1e39, 0, 0, 0])), ValueError,
        r"state must be finite float32 numbers \(at most 3.403e\+38 in size\), got .*1e\+39"),
    Bad("remember state strings", remember(s=["a", "b", "c", "d"]), ValueError, r"state must be an array of numbers"),
    Bad("remember state None", remember(s=None), ValueError, r"state must be an array of numbers, got None"),
    Bad("remember state ragged", remember(s=[[0, 1], [2]]), ValueError, r"state must be an array of numbers"),
    Bad("conv remember action too large", lambda x: x.conv_agent.remember(STACK, 3, 0.0, NEXT_STACK, False),
        ValueError, r"remember\(\) action must be an integer in \[0, 3\), got 3"),
    Bad("conv remember float frames", lambda x: x.conv_agent.remember(STACK / 255, 0, 0.0, NEXT_STACK, False),
        ValueError, r"remember\(\) state expected uint8 frames.*float64"),
    # ---- ReplayBuffer / FrameReplayBuffer .append
    Bad("append action too large", append(a=2), ValueError, r"append\(\) action must be an integer in \[0, 2\), got 2"),
    Bad("append action negative, no action_size", append(a=-1, to="open_buffer"), ValueError,
        r"action must be a non-negative integer, got -1"),
    Bad("append action fractional", append(a=0.5, to="open_buffer"), ValueError, r"got 0.5"),
    Bad("append reward nan", append(r=NAN), ValueError, r"append\(\) reward must be finite, got nan"),
    Bad("append reward None", append(r=None), ValueError, r"reward must be a number, got None"),
    Bad("append done string", append(d="yes"), ValueError, r"append\(\) done must be a bool \(or 0/1\), got 'yes'"),
    Bad("append done 0.5", append(d=0.5), ValueError, r"done must be a bool \(or 0/1\), got 0.5"),
    Bad("append state reshaped", append(s=np.zeros((2, 2))), ValueError,
        r"append\(\) expected states of shape \(4,\), got \(2, 2\) for the state"),
    Bad("append state nan", append(s2=[0.0, NAN, 0.0, 0.0]), ValueError,
        r"append\(\) next_state must be finite numbers"),
    Bad("append four fields", lambda x: x.buffer.append((S, 0, 1.0, S2)), ValueError,
        r"append\(\) takes one transition, a tuple \(state, action, reward, next_state, done\)"),
    Bad("append float into uint8 buffer", append(np.full((2, 2), 0.5), s2=PIXELS, to="uint8_buffer"), ValueError,
        r"append\(\) state must be integers in \[0, 255\] \(uint8\), got float64"),
    Bad("append 300 into uint8 buffer", append(np.full((2, 2), 300), s2=PIXELS, to="uint8_buffer"), ValueError,
        r"integers in \[0, 255\]"),
    Bad("frames append action too large", append(FRAME, 6, 0.0, NEXT_FRAME, False, to="frames"), ValueError,
        r"append\(\) action must be an integer in \[0, 6\), got 6"),
    Bad("frames append reward None", append(FRAME, 0, None, NEXT_FRAME, False, to="frames"), ValueError,
        r"reward must be a number, got None"),
    Bad("frames append done string", append(FRAME, 0, 0.0, NEXT_FRAME, "True", to="frames"), ValueError,
        r"done must be a bool"),
    Bad("frames append float frames", append(FRAME / 255, 0, 0.0, NEXT_FRAME, False, to="frames"), ValueError,
        r"expected uint8 frame stacks of shape \(4, 8, 8\); the state is float64"),
    Bad("frames append reshaped", append(FRAME.reshape(4, 64), 0, 0.0, NEXT_FRAME, False, to="frames"), ValueError,
        r"shape \(4, 8, 8\).*\(4, 64\)"),
    Bad("buffer action_size 0", lambda x: ReplayBuffer(10, (4,), action_size=0), ValueError,
        r"ReplayBuffer action_size must be a positive integer, got 0"),
    # ---- .extend: whole arrays at once
    Bad("extend action too large", extend(actions=np.array([0, 2])), ValueError,
        r"extend\(\) actions must be integers in \[0, 2\), got 2"),
    Bad("extend action negative", extend(actions=[-1, 0], to="open_buffer"), ValueError,
        r"actions must be non-negative integers, got -1"),
    Bad("extend actions fractional", extend(actions=np.array([0.0, 1.5])), ValueError,
        r"integers in \[0, 2\), got 1.5"),
    Bad("extend actions bool", extend(actions=np.array([True, False])), ValueError, r"integers in \[0, 2\), got bool"),
    Bad("extend actions 2-d", extend(actions=np.zeros((2, 1), int)), ValueError,
        r"actions must be a 1-d array, got shape \(2, 1\)"),
    Bad("extend rewards nan", extend(rewards=np.array([1.0, NAN])), ValueError,
        r"extend\(\) rewards must be finite numbers, got nan at index 1"),
    Bad("extend rewards None", extend(rewards=[None, 1.0]), ValueError, r"rewards must be finite numbers, got object"),
    Bad("extend rewards too few", extend(rewards=np.ones(3)), ValueError,
        r"rewards must be a 1-d array of 2 \(one per transition\), got shape \(3,\)"),
    Bad("extend dones strings", extend(dones=np.array(["False", "True"])), ValueError,
        r"extend\(\) dones must be bools \(or 0/1\)"),
    Bad("extend dones 2", extend(dones=np.array([0, 2])), ValueError, r"dones must be bools \(or 0/1\)"),
    Bad("extend states reshaped", extend(states=np.zeros((2, 2, 2))), ValueError,
        r"extend\(\) expected states of shape \(2, 4\) .* got \(2, 2, 2\)"),
    Bad("extend next_states nan", extend(n=3, next_states=frames_with_nan_row()), ValueError,
        r"extend\(\) next_states must be finite numbers, got nan at index \(1, 0\)"),
    Bad("extend env_indices negative", extend(env_indices=[0, -1]), ValueError,
        r"env_indices must be 2 non-negative integers"),
    Bad("frames extend action too large", frame_extend(actions=np.array([0, 7])), ValueError,
        r"extend\(\) actions must be integers in \[0, 6\), got 7"),
    Bad("frames extend rewards inf", frame_extend(rewards=np.array([INF, 0.0])), ValueError,
        r"rewards must be finite numbers, got inf at index 0"),
    Bad("frames extend float frames", frame_extend(states=np.zeros((2, 4, 8, 8))), ValueError,
        r"extend\(\) expected 2 uint8 frame stacks of shape \(4, 8, 8\).*float64"),
    Bad("frames extend one row not moved on", frame_extend(next_states=np.stack([NEXT_FRAME, FRAME])), ValueError,
        r"extend\(\): FrameReplayBuffer stores stacks of frames"),
    Bad("frames extend env_indices too few", frame_extend(env_indices=[0]), ValueError,
        r"env_indices must be a 1-d array of 2"),
    # ---- act / q_values
    Bad("act nan state", lambda x: x.agent.act(np.array([0, NAN, 0, 0])), ValueError,
        r"act\(\) state must be finite numbers, got nan at index 1"),
    Bad("act inf state, greedy", lambda x: x.agent.act(np.full((1, 4), INF), greedy=True), ValueError,
        r"act\(\) state must be finite numbers, got inf"),
    Bad("act reshaped state", lambda x: x.agent.act(np.zeros((2, 2))), ValueError,
        r"act\(\) expected a state of shape \(4,\) or a batch of shape \(n, 4\), got an array of shape \(2, 2\)"),
    Bad("act string state", lambda x: x.agent.act("0 0 0 0"), ValueError, r"act\(\) state must be an array of numbers"),
    Bad("act batch", lambda x: x.agent.act(np.zeros((2, 4))), ValueError, r"act\(\) takes one state; got a batch of 2"),
    Bad("q_values nan in a batch", lambda x: x.agent.q_values(frames_with_nan_row()), ValueError,
        r"q_values\(\) state must be finite numbers, got nan at index \(1, 0\)"),
    Bad("q_values wrong shape", lambda x: x.agent.q_values(np.zeros((3, 5))), ValueError,
        r"q_values\(\) expected a state of shape \(4,\) .* got an array of shape \(3, 5\)"),
    Bad("conv act float frames", lambda x: x.conv_agent.act(STACK / 255), ValueError,
        r"act\(\) state expected uint8 frames \(0-255 pixels.*float64"),
    # ---- train(): everything checked before the first step
    Bad("train batch larger than memory", lambda x: train(x, x.small_agent, batch_size=200), ValueError,
        r"batch_size 200 is larger than the agent's replay memory \(100 transitions\)"),
    Bad("train negative eval_episodes", lambda x: train(x, x.agent, eval_episodes=-1), ValueError,
        r"eval_episodes must be a non-negative integer, got -1"),
    Bad("train fractional total_steps", lambda x: train(x, x.agent, total_steps=2.5), ValueError,
        r"total_steps must be a positive integer, got 2.5"),
    Bad("train zero frames_per_step", lambda x: train(x, x.agent, frames_per_step=0), ValueError,
        r"frames_per_step must be a positive integer, got 0"),
    Bad("train text target_score", lambda x: train(x, x.agent, target_score="high"), ValueError,
        r"target_score must be a number, got 'high'"),
    Bad("train unknown env id", lambda x: train(x, x.agent, env="NoSuchEnv-v0"), ValueError,
        r"unknown or unavailable gymnasium environment 'NoSuchEnv-v0'"),
    Bad("train not an env", lambda x: train(x, x.agent, env=42), ValueError,
        r"env must be a gymnasium Env, VectorEnv or env id, got 42"),
    Bad("train text observations", lambda x: train(x, x.agent, env=text_env()), ValueError,
        r"observations in Text\(.*can't make into a vector .*ObservationWrapper"),
    Bad("train eval_env with other actions", lambda x: train(x, x.agent, eval_env=gym.make("Acrobot-v1")), ValueError,
        r"the env has 3 actions, the agent 2"),
    Bad("train eval_env of another shape", lambda x: train(x, x.agent, eval_env=short_obs_env()),
        ValueError, r"eval_env's observations have shape \(2,\), the agent expects \(4,\)"),
    Bad("train resume without a folder", lambda x: train(x, x.agent, resume=True), ValueError,
        r"resume=True needs the checkpoint_dir"),
    Bad("train checkpoint_dir is a file", lambda x: train(x, x.agent, checkpoint_dir=__file__), ValueError,
        r"checkpoint_dir must be a folder; '.*test_bad_inputs.py' is a file"),
    Bad("train log_dir is a file", lambda x: train(x, x.agent, log_dir=__file__), ValueError,
        r"log_dir must be a folder; '.*test_bad_inputs.py' is a file"),
    Bad("train checkpoint_dir not a path", lambda x: train(x, x.agent, checkpoint_dir=3), ValueError,
        r"checkpoint_dir must be a folder path, got 3"),
    # ---- evaluate()
    Bad("evaluate zero episodes", lambda x: evaluate(x.agent, "CartPole-v1", 0), ValueError,
        r"episodes must be a positive integer, got 0"),
    Bad("evaluate zero n_envs", lambda x: evaluate(x.agent, "CartPole-v1", 5, n_envs=0), ValueError,
        r"n_envs must be a positive integer, got 0"),
    Bad("evaluate string seed", lambda x: evaluate(x.agent, "CartPole-v1", 5, seed="0"), ValueError,
        r"seed must be an integer or None, got '0'"),
    Bad("evaluate zero max_steps", lambda x: evaluate(x.agent, "CartPole-v1", 5, max_steps=0), ValueError,
        r"max_steps must be a positive integer, got 0"),
    Bad("evaluate other actions", lambda x: evaluate(x.agent, "Acrobot-v1", 2), ValueError,
        r"the env has 3 actions, the agent 2"),
    # ---- files
    Bad("load a missing file", lambda x: load_agent("/nonexistent/agent.h5"), FileNotFoundError,
        r"no weights file at '/nonexistent/agent.h5'"),
    Bad("save refuses nan weights", lambda x: x.nan_agent.save("/tmp/keras_dqn_nan_agent.h5"), ValueError,
        r"refusing to save '/tmp/keras_dqn_nan_agent.h5': .*not all finite"),
]
# fmt: on


@pytest.fixture(scope="module")
def subjects() -> Subjects:
    return Subjects()


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_raises_a_clear_error_and_changes_nothing(case: Bad, subjects: Subjects):
    before = subjects.stored()
    with pytest.raises(case.error, match=case.match):
        case.call(subjects)
    after = subjects.stored()
    assert {name: after[name] for name in before} == before  # nothing stored, not even half a batch


def test_the_catalogue_ids_are_unique():
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))


# ---------------------------------------------------------------- what keeps working
def test_remember_and_act_take_the_blogs_shapes_and_numpy_scalars():
    agent = DQNAgent(4, 2, seed=0)
    blog_state = np.reshape(np.arange(4.0), [1, 4])  # the blog's float64 (1, 4) states
    assert agent.act(blog_state) in (0, 1) and agent.act(blog_state[0], greedy=True) in (0, 1)
    agent.remember(blog_state, 1, 1.0, blog_state + 1, False)
    agent.remember(np.float32([0, 1, 2, 3]), np.int64(1), np.float32(0.5), [1, 2, 3, 4], np.bool_(True))
    agent.remember(S, np.int32(0), 2, S2, 1)  # int reward, int 0/1 done
    agent.remember(S, 1.0, np.float64(-1.0), S2, np.int64(0))  # a whole float action
    agent.remember(S, np.array(1), np.array(3.0), S2, np.array(False))  # 0-d arrays
    stored = [agent.memory[i] for i in range(len(agent.memory))]
    assert [(a, r, d) for _, a, r, _, d in stored] == [
        (1, 1.0, False), (1, 0.5, True), (0, 2.0, True), (1, -1.0, False), (1, 3.0, False)
    ]  # fmt: skip
    np.testing.assert_array_equal(stored[0][0], np.arange(4.0))
    assert all(s.shape == (4,) and s.dtype == np.float32 for s, *_ in stored)
    assert np.isfinite(agent.replay(4))


def test_q_values_take_one_state_or_a_batch():
    agent = DQNAgent(4, 2, seed=0)
    assert agent.q_values(S).shape == (1, 2) and agent.q_values(np.zeros((5, 4), np.float64)).shape == (5, 2)
    assert agent.q_values([[0, 0, 0, 0]]).shape == (1, 2)


def test_buffer_extend_takes_numpy_arrays_of_any_fitting_dtype():
    memory = ReplayBuffer(10, (4,), action_size=2)
    memory.extend(np.zeros((3, 4), np.float64), np.array([0, 1, 1], np.int32), np.array([1, 0, 2], np.int64),
                  np.ones((3, 4), np.float32), np.array([True, False, True]))  # fmt: skip
    memory.extend([[0, 0, 0, 0]], [1.0], [0.5], [[1, 1, 1, 1]], [1])  # lists, a whole float action, 0/1 dones
    memory.extend(np.zeros((0, 4)), np.zeros(0, int), np.zeros(0), np.zeros((0, 4)), np.zeros(0, bool))  # nothing
    assert len(memory) == 4
    assert [(memory[i][1], memory[i][2], memory[i][4]) for i in range(4)] == [
        (0, 1.0, True), (1, 0.0, False), (1, 2.0, True), (1, 0.5, True)
    ]  # fmt: skip
    memory.append(([[0, 0, 0, 0]], 0, 1, np.ones((1, 4)), np.bool_(False)))  # a batch of one is its state
    assert len(memory) == 5 and memory[-1][0].shape == (4,)


def test_uint8_buffer_takes_integer_frames():
    memory = ReplayBuffer(10, (2, 2), state_dtype=np.uint8)
    memory.append((np.full((2, 2), 255, np.int64), 3, 0.0, np.zeros((2, 2), bool), False))
    np.testing.assert_array_equal(memory[0][0], np.full((2, 2), 255))
    assert memory[0][0].dtype == np.uint8


def test_conv_agent_remembers_and_acts_on_uint8_frames():
    agent = ConvDQNAgent((4, 36, 36), 3, memory_size=100, seed=0)
    states, next_states = frame_stacks(3)
    for i in range(3):
        agent.remember(states[i], np.int64(i), 1.0, next_states[i], i == 2)
    agent.remember(states[:1], 0, 0.0, next_states[:1], np.bool_(False))  # (1, 4, 36, 36): one state
    assert len(agent.memory) == 4
    assert agent.act(states[0]) in (0, 1, 2) and agent.q_values(states).shape == (3, 3)


def test_frame_buffer_extend_with_env_indices():
    memory = FrameReplayBuffer(60, (4, 8, 8), action_size=6, seed=0)
    frames = np.random.default_rng(0).integers(0, 256, (3, 7, 8, 8), dtype=np.uint8)  # 3 sub-envs, 7 frames each
    for t in range(3):  # sub-envs 0 and 2 step together, then sub-env 1 on its own
        stacks, nexts = frames[:, t : t + 4], frames[:, t + 1 : t + 5]
        memory.extend(stacks[[0, 2]], np.array([t, 5]), np.array([1.0, -1.0]), nexts[[0, 2]], np.array([0, 1]),
                      env_indices=np.array([0, 2]))  # fmt: skip
        memory.extend(stacks[[1]], [t], [0.5], nexts[[1]], [False], env_indices=[1])
    assert len(memory) == 9
    stored = {(memory[i][0].tobytes(), memory[i][3].tobytes()): memory[i][1:3] + (memory[i][4],) for i in range(9)}
    for t in range(3):
        assert stored[(frames[0, t : t + 4].tobytes(), frames[0, t + 1 : t + 5].tobytes())] == (t, 1.0, False)
        assert stored[(frames[2, t : t + 4].tobytes(), frames[2, t + 1 : t + 5].tobytes())] == (5, -1.0, True)
    # sub-envs 0 and 1 continue their stacks (4 + 1 slots, then 1 a step); sub-env 2 ends
    # every episode, so each of its transitions starts a new stack (4 + 1 slots)
    assert memory.slots_written == 2 * (5 + 1 + 1) + 3 * 5

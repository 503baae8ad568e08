"""ReplayBuffer: the blog's deque semantics on a NumPy ring; the ReplayMemory interface both buffers follow."""

import numpy as np
import pytest

from keras_dqn import ReplayBuffer
from keras_dqn.replay.base import ReplayMemory
from keras_dqn.replay.frames import FrameReplayBuffer


def transition(i):
    return (np.full(3, i, np.float32), i % 2, float(i), np.full(3, i + 0.5, np.float32), i % 5 == 0)


def test_len_maxlen_and_ring_overwrite_like_a_deque():
    memory = ReplayBuffer(4, (3,), seed=0)
    assert memory.maxlen == 4 and len(memory) == 0
    for i in range(6):
        memory.append(transition(i))
    assert len(memory) == 4
    # oldest first, as iterating the blog's deque(maxlen=4) would give: 2, 3, 4, 5
    assert [memory[k][2] for k in range(4)] == [2.0, 3.0, 4.0, 5.0]
    assert memory[-1][4] is True and memory[0][4] is False
    np.testing.assert_array_equal(memory[0][3], np.full(3, 2.5))


def test_sample_shapes_dtypes_and_contents():
    memory = ReplayBuffer(100, (3,), seed=0)
    for i in range(40):
        memory.append(transition(i))
    batch = memory.sample(32)
    assert batch.states.shape == (32, 3) and batch.next_states.shape == (32, 3)
    assert batch.actions.shape == batch.rewards.shape == batch.dones.shape == (32,)
    assert batch.actions.dtype == np.int32 and batch.states.dtype == np.float32
    # every sampled row is one stored transition, fields kept together
    ids = batch.rewards.astype(int)
    assert set(ids) <= set(range(40))
    np.testing.assert_array_equal(batch.states[:, 0], ids)
    np.testing.assert_array_equal(batch.next_states[:, 0], ids + 0.5)
    np.testing.assert_array_equal(batch.actions, ids % 2)
    np.testing.assert_array_equal(batch.dones, (ids % 5 == 0).astype(np.float32))


def test_sampling_is_uniform_over_stored_transitions():
    memory = ReplayBuffer(8, (1,), seed=0)
    for i in range(11):  # wraps: holds 3..10
        memory.append((np.zeros(1), 0, float(i), np.zeros(1), False))
    drawn = np.concatenate([memory.sample(8).rewards for _ in range(10_000)]).astype(int)
    counts = np.bincount(drawn, minlength=11)
    assert counts[:3].sum() == 0
    np.testing.assert_allclose(counts[3:] / 80_000, 1 / 8, atol=0.01)


def test_nbytes_per_transition_is_measured():
    memory = ReplayBuffer(1000, (4,))
    # two float32 states of 4 (32 bytes) + int32 action + float32 reward + float32 done
    # + int32 link to the next transition (n-step returns)
    assert memory.nbytes_per_transition == 48


def test_bad_input():
    with pytest.raises(ValueError, match="maxlen"):
        ReplayBuffer(0, (3,))
    memory = ReplayBuffer(5, (3,))
    with pytest.raises(ValueError, match="holds only 0"):
        memory.sample(1)
    with pytest.raises(IndexError):
        memory[0]


def test_extend_equals_appending_one_by_one_across_wraparound():
    one, many = ReplayBuffer(7, (3,), seed=0), ReplayBuffer(7, (3,), seed=0)
    for start in (0, 4, 8):  # 4 + 4 + 4 transitions into 7 slots: wraps twice
        batch = [transition(i) for i in range(start, start + 4)]
        for t in batch:
            one.append(t)
        many.extend(*(np.array(field) for field in zip(*batch, strict=True)))
    assert len(one) == len(many) == 7
    for k in range(7):
        for a, b in zip(one[k], many[k], strict=True):
            np.testing.assert_array_equal(a, b)


def test_sample_batches_stacks_independent_minibatches():
    memory = ReplayBuffer(50, (3,), seed=0)
    for i in range(50):
        memory.append(transition(i))
    batches = memory.sample_batches(5, 8)
    assert batches.states.shape == (5, 8, 3) and batches.actions.shape == (5, 8)
    np.testing.assert_array_equal(batches.states[..., 0], batches.rewards)  # rows stay whole
    assert len({tuple(row) for row in batches.rewards}) == 5
    with pytest.raises(ValueError, match="holds only 50"):
        memory.sample_batches(2, 64)


# ---------------------------------------------------------------- the declared interface
def frame_transition(i):
    """A transition of one long episode of 2x2 frames (frame j is all j), stacks of 4."""
    state = np.stack([np.full((2, 2), max(j, 0), np.uint8) for j in range(i - 3, i + 1)])
    next_state = np.stack([np.full((2, 2), max(j, 0), np.uint8) for j in range(i - 2, i + 2)])
    return state, i % 3, float(i), next_state, False


def filled(memory, make, n):
    for i in range(n):
        memory.append(make(i))
    return memory


def sampleable(memory):
    """Every transition ``memory[k]`` gives, oldest first (a frame buffer skips a few it cannot rebuild)."""
    found = []
    while True:
        try:
            found.append(memory[len(found)])
        except IndexError:
            return found


def assert_same_transitions(a, b):
    assert len(a) == len(b)
    mine, theirs = sampleable(a), sampleable(b)
    assert len(mine) == len(theirs) > len(a) - 5
    for x, y in zip(mine, theirs, strict=True):
        for u, v in zip(x, y, strict=True):
            np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize("cls, shape", [(ReplayBuffer, (3,)), (FrameReplayBuffer, (4, 2, 2))])
def test_both_buffers_follow_the_replay_memory_interface(cls, shape):
    assert isinstance(cls(20, shape), ReplayMemory)
    assert not isinstance([], ReplayMemory)


@pytest.mark.parametrize("maxlen", [2.5, 0, -3, True, "10", None])
@pytest.mark.parametrize("cls, shape", [(ReplayBuffer, (3,)), (FrameReplayBuffer, (4, 2, 2))])
def test_maxlen_must_be_a_positive_integer(cls, shape, maxlen):
    with pytest.raises(ValueError, match=rf"{cls.__name__} maxlen must be a positive integer, got {maxlen!r}"):
        cls(maxlen, shape)


@pytest.mark.parametrize(
    "cls, shape, make", [(ReplayBuffer, (3,), transition), (FrameReplayBuffer, (4, 2, 2), frame_transition)]
)
def test_state_dict_restores_contents_counters_and_sampling(cls, shape, make):
    original = filled(cls(30, shape, seed=5), make, 45)  # wrapped: the counters matter
    state = original.state_dict()
    assert set(state) >= {"next", "size", "rng"}
    restored = cls(30, shape, seed=99)
    restored.load_state_dict(state)
    assert_same_transitions(restored, original)
    for a, b in zip(restored.sample_batches(3, 8), original.sample_batches(3, 8), strict=True):
        np.testing.assert_array_equal(a, b)  # the sampling generator came along
    for memory in (original, restored):  # and both go on alike
        filled(memory, lambda i: make(i + 100), 7)
    assert_same_transitions(restored, original)


def test_a_shared_generator_is_not_the_buffers_to_save():
    agent_rng = np.random.default_rng(0)
    memory = filled(ReplayBuffer(10, (3,), seed=agent_rng), transition, 4)
    state = memory.state_dict()
    assert "rng" not in state and state["next"] == state["size"] == 4
    other = ReplayBuffer(10, (3,), seed=1)
    before = other.rng.bit_generator.state
    other.load_state_dict(state)
    assert other.rng.bit_generator.state == before and len(other) == 4


def test_state_dict_of_an_old_size_or_dtype_is_refused_naming_the_field_and_changes_nothing():
    small = filled(ReplayBuffer(10, (3,)), transition, 5).state_dict()
    memory = filled(ReplayBuffer(20, (3,)), transition, 3)
    expected = (
        r"ReplayBuffer state: 'states' should be a float32 array of shape \(20, 3\), "
        r"found a float32 array of shape \(10, 3\)"
    )
    with pytest.raises(ValueError, match=expected):
        memory.load_state_dict(small)
    assert len(memory) == 3 and memory[2][2] == 2.0
    frames = FrameReplayBuffer(20, (4, 2, 2))
    state = frames.state_dict()
    with pytest.raises(ValueError, match=r"'frames' should be a uint8 array of shape \(20, 2, 2\), found a float32"):
        frames.load_state_dict({**state, "frames": state["frames"].astype(np.float32)})


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda s: s.pop("dones"), r"'dones' is missing; expected a float32 array of shape \(10,\)"),
        (lambda s: s.update(extra=1), r"unknown field\(s\) \['extra'\]"),
        (lambda s: s.update(next=10), r"'next' should be an integer in \[0, 9\], found 10"),
        (lambda s: s.update(size=2.0), r"'size' should be an integer in \[0, 10\], found 2.0"),
        (lambda s: s.pop("size"), r"'size' should be an integer in \[0, 10\], found None"),
        (lambda s: s.update(rng={"bit_generator": "MT19937"}), r"'rng' should be a PCG64 state"),
    ],
)
def test_bad_state_dict_fields(change, message):
    state = filled(ReplayBuffer(10, (3,), seed=0), transition, 4).state_dict()
    change(state)
    memory = ReplayBuffer(10, (3,))
    with pytest.raises(ValueError, match=message):
        memory.load_state_dict(state)
    assert len(memory) == 0

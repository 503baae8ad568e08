"""ReplayBuffer: the blog's deque semantics on a NumPy ring."""

import numpy as np
import pytest

from keras_dqn import ReplayBuffer


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
    assert memory.nbytes_per_transition == 44


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

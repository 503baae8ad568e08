"""Prioritized replay: the sum-tree, sampling by priority, importance weights, priority upkeep, state dicts."""

import json

import numpy as np
import pytest

from keras_dqn.replay.base import ReplayMemory
from keras_dqn.replay.prioritized import PrioritizedFrameReplayBuffer, PrioritizedReplayBuffer
from keras_dqn.replay.sum_tree import SumTree


# ---------------------------------------------------------------- the sum-tree
def reference_find(leaves, prefix_sums):
    """Leaf i holds [sum(leaves[:i]), sum(leaves[:i + 1])): a NumPy cumsum and searchsorted."""
    return np.searchsorted(np.cumsum(leaves), prefix_sums, side="right")


@pytest.mark.parametrize("capacity", [1, 2, 7, 64, 1000])
def test_sum_tree_total_and_search_match_cumsum_after_many_updates(capacity):
    rng = np.random.default_rng(capacity)
    tree, leaves = SumTree(capacity), np.zeros(capacity)
    for _ in range(300):
        indices = rng.integers(0, capacity, size=rng.integers(1, 40))  # duplicates in most updates
        values = rng.integers(0, 10, size=len(indices)).astype(float)  # whole numbers: sums are exact
        tree.update(indices, values)
        for i, v in zip(indices, values, strict=True):  # one at a time: the last value given wins
            leaves[i] = v
        np.testing.assert_array_equal(tree.values, leaves)
        assert tree.total == leaves.sum()
        if tree.total > 0:
            prefix_sums = rng.random(50) * tree.total
            boundaries = np.cumsum(leaves)[:-1]  # exactly on a boundary: the next non-empty leaf
            queries = np.concatenate([prefix_sums, boundaries[boundaries < tree.total], [0.0]])
            found = tree.find(queries)
            np.testing.assert_array_equal(found, reference_find(leaves, queries))
            assert (leaves[found] > 0).all()


def test_sum_tree_duplicate_indices_last_value_wins_and_parents_follow():
    tree = SumTree(5)
    tree.update([3, 1, 3, 3, 1], [7.0, 2.0, 1.0, 4.0, 0.5])
    np.testing.assert_array_equal(tree.values, [0, 0.5, 0, 4.0, 0])
    assert tree.total == 4.5
    tree.update(np.array([[0, 0], [4, 0]]), 2.0)  # any shape; a scalar value for all
    np.testing.assert_array_equal(tree.values, [2.0, 0.5, 0, 4.0, 2.0])
    assert tree.total == 8.5


def test_sum_tree_search_keeps_off_empty_leaves_at_the_edges():
    tree = SumTree(8)
    tree.update([1, 5], [1.0, 3.0])
    # at or past the total (rounding can get there): the last non-empty leaf, never an empty one
    np.testing.assert_array_equal(tree.find([0.0, 0.999, 1.0, 3.999, 4.0, 4.5]), [1, 1, 5, 5, 5, 5])


def test_sum_tree_shape_memory_and_rebuild():
    tree = SumTree(1000)
    assert len(tree) == 1000 and tree.size == 1024 and tree.nbytes == 2 * 1024 * 8
    found = tree.find(np.zeros((3, 4)))
    assert found.shape == (3, 4)
    with pytest.raises(ValueError, match="read-only"):
        tree.values[0] = 1.0
    tree.leaves[:] = np.arange(1000)
    tree.rebuild()
    assert tree.total == np.arange(1000).sum()
    np.testing.assert_array_equal(tree.find([0.5, 1.0, 499_499.0]), [1, 2, 999])


@pytest.mark.parametrize(
    "indices, values, message",
    [
        ([5], [1.0], r"SumTree indices must be in \[0, 5\), got 5"),
        ([-1], [1.0], r"SumTree indices must be in \[0, 5\), got -1"),
        ([0.5], [1.0], "SumTree indices must be integers"),
        ([0, 1], [1.0, -2.0], "SumTree values must be finite and non-negative, got -2.0"),
        ([0], [np.nan], "SumTree values must be finite and non-negative, got nan"),
        ([0], [np.inf], "SumTree values must be finite and non-negative, got inf"),
    ],
)
def test_sum_tree_bad_updates_are_refused_and_change_nothing(indices, values, message):
    tree = SumTree(5)
    tree.update([2], [3.0])
    with pytest.raises(ValueError, match=message):
        tree.update(indices, values)
    np.testing.assert_array_equal(tree.values, [0, 0, 3.0, 0, 0])
    assert tree.total == 3.0


@pytest.mark.parametrize("capacity", [0, -1, 2.5, True, None])
def test_sum_tree_capacity_must_be_a_positive_integer(capacity):
    with pytest.raises(ValueError, match=rf"SumTree capacity must be a positive integer, got {capacity!r}"):
        SumTree(capacity)


# ---------------------------------------------------------------- sampling by priority
def transition(i):
    """Transition i: its state, reward and next state all say i, so a sample shows which it is."""
    return (np.full(3, i, np.float32), i % 2, float(i), np.full(3, i + 0.5, np.float32), False)


def filled(memory, n, start=0):
    for i in range(start, start + n):
        memory.append(transition(i))
    return memory


TD_ERRORS = np.array([0.0, 0.5, 1.0, 2.0, 4.0, 0.25, 3.0, 8.0])  # the hand-set priority table


def probabilities(td_errors, alpha, epsilon=1e-6):
    p = (td_errors + epsilon) ** alpha
    return p / p.sum()


def test_both_buffers_follow_the_replay_memory_interface():
    assert isinstance(PrioritizedReplayBuffer(10, (3,)), ReplayMemory)
    assert isinstance(PrioritizedFrameReplayBuffer(20, (4, 2, 2)), ReplayMemory)


@pytest.mark.parametrize("alpha", [0.0, 0.6, 1.0])
def test_sampling_frequencies_follow_p_to_the_alpha(alpha):
    memory = filled(PrioritizedReplayBuffer(8, (3,), seed=0, alpha=alpha), 8)
    memory.update_priorities(np.arange(8), TD_ERRORS)
    n_batches, batch_size = 8000, 8
    drawn = memory.sample_batches(n_batches, batch_size).indices
    counts = np.bincount(drawn.reshape(-1), minlength=8)
    n, expected = n_batches * batch_size, probabilities(TD_ERRORS, alpha)
    # Within 5 binomial standard deviations of n * P(i).  Stratified draws vary less than
    # independent ones, so this is a conservative bound (about 1 in 10^6 to fail if right).
    std = np.sqrt(n * expected * (1 - expected))
    assert (np.abs(counts - n * expected) <= 5 * std + 1e-9).all(), (counts, n * expected)
    chi2 = ((counts - n * expected) ** 2 / np.maximum(n * expected, 1e-12)).sum()
    assert chi2 < 40  # 7 degrees of freedom: P(chi2 > 40) < 2e-6 for independent draws
    if alpha > 0:
        assert counts[0] <= 5  # TD error 0: only epsilon left, about 1e-6**alpha of the weight


def test_a_minibatch_is_stratified_and_shuffled():
    memory = filled(PrioritizedReplayBuffer(64, (3,), seed=1, alpha=1.0), 64)  # all at the initial priority 1
    batch = memory.sample(64)
    # one draw per segment of [0, 64): with equal priorities, each slot once, in shuffled order
    assert sorted(batch.indices.tolist()) == list(range(64)) and batch.indices.tolist() != list(range(64))
    np.testing.assert_array_equal(batch.rewards, batch.indices)  # the rows are the slots' transitions
    np.testing.assert_array_equal(batch.states[:, 0], batch.indices)
    np.testing.assert_array_equal(batch.next_states[:, 0], batch.indices + 0.5)


def test_importance_weights_match_the_formula_exactly():
    alpha, beta = 0.6, 0.5
    memory = filled(PrioritizedReplayBuffer(8, (3,), seed=2, alpha=alpha), 8)
    memory.update_priorities(np.arange(8), TD_ERRORS)
    P = probabilities(TD_ERRORS, alpha)
    batch = memory.sample_batches(5, 8, beta=beta)
    assert batch.weights.shape == batch.indices.shape == (5, 8) and batch.weights.dtype == np.float32
    expected = (8 * P[batch.indices]) ** -beta
    expected /= expected.max(axis=1, keepdims=True)  # each minibatch on its own
    np.testing.assert_allclose(batch.weights, expected, rtol=1e-6)
    assert (batch.weights.max(axis=1) == 1).all()
    np.testing.assert_array_equal(batch.rewards, batch.indices)
    one = memory.sample(8, beta=beta)
    expected = (8 * P[one.indices]) ** -beta
    np.testing.assert_allclose(one.weights, expected / expected.max(), rtol=1e-6)
    np.testing.assert_array_equal(memory.sample(8, beta=0.0).weights, np.ones(8, np.float32))


def test_update_priorities_changes_what_gets_sampled():
    memory = filled(PrioritizedReplayBuffer(10, (3,), seed=3, alpha=1.0), 10)
    memory.update_priorities(np.arange(10), np.zeros(10))  # all down to epsilon...
    memory.update_priorities([7], [100.0])  # ...but one
    assert (memory.sample_batches(30, 10).indices == 7).all()
    batch = memory.sample_batches(2, 4)
    memory.update_priorities(batch.indices, np.zeros((2, 4)))  # a (K, B) batch's indices, as they come
    memory.update_priorities([2], [100.0])
    assert (memory.sample_batches(30, 10).indices == 2).all()


def test_new_transitions_get_the_largest_priority_yet_and_the_ring_overwrites_priorities():
    memory = filled(PrioritizedReplayBuffer(4, (3,), seed=4, alpha=0.5), 3)
    assert memory.max_priority == 1.0
    np.testing.assert_array_equal(memory.priorities, [1.0, 1.0, 1.0, 0.0])  # slot 3: nothing yet
    memory.update_priorities([0, 1, 2], [8.0, 0.0, 3.0])
    top = (8.0 + 1e-6) ** 0.5
    assert memory.max_priority == pytest.approx(top)
    memory.update_priorities([0], [0.0])  # lowering a priority does not lower the max
    assert memory.max_priority == pytest.approx(top)
    filled(memory, 2, start=3)  # slot 3, then slot 0 again (the ring wraps)
    np.testing.assert_allclose(memory.priorities, [top, 1e-3, 3.0000010**0.5, top])
    assert memory[0][2] == 1.0 and memory[-1][2] == 4.0
    memory.extend(*[np.array(c) for c in zip(*[transition(i) for i in range(10, 19)], strict=True)])
    np.testing.assert_allclose(memory.priorities, top)  # more than maxlen at once: all new


def test_anneal_beta_goes_from_its_start_to_one():
    memory = filled(PrioritizedReplayBuffer(8, (3,), seed=5, beta=0.4), 8)
    assert memory.beta == memory.beta_start == 0.4
    for fraction, beta in [(0.0, 0.4), (0.5, 0.7), (0.25, 0.55), (1.0, 1.0), (3.0, 1.0), (-1.0, 0.4)]:
        assert memory.anneal_beta(fraction) == pytest.approx(beta) and memory.beta == pytest.approx(beta)
    assert memory.beta_start == 0.4
    memory.update_priorities(np.arange(8), TD_ERRORS)
    memory.anneal_beta(0.5)
    state = memory.rng.bit_generator.state
    default = memory.sample(8)
    memory.rng.bit_generator.state = state
    np.testing.assert_array_equal(default.weights, memory.sample(8, beta=0.7).weights)  # beta=None: memory.beta


# ---------------------------------------------------------------- the frame buffer
def frame_transition(i):
    """A transition of one long episode of 2x2 frames (frame j is all j), stacks of 4."""
    state = np.stack([np.full((2, 2), max(j, 0), np.uint8) for j in range(i - 3, i + 1)])
    next_state = np.stack([np.full((2, 2), max(j, 0), np.uint8) for j in range(i - 2, i + 2)])
    return state, i % 3, float(i), next_state, i % 11 == 10


def random_stack_episodes(rng, n_envs, steps, k=4, shape=(2, 2)):
    """Transitions of ``n_envs`` interleaved frame-stack envs, with episode ends and padded first stacks."""

    def first():
        frame = rng.integers(0, 256, shape, dtype=np.uint8)
        return [frame] * k if rng.random() < 0.5 else [rng.integers(0, 256, shape, dtype=np.uint8) for _ in range(k)]

    current = [first() for _ in range(n_envs)]
    for _ in range(steps):
        rows = []
        for e in range(n_envs):
            frames = current[e]
            next_frames = frames[1:] + [rng.integers(0, 256, shape, dtype=np.uint8)]
            done, truncated = rng.random() < 0.1, rng.random() < 0.05
            rows.append((np.stack(frames), int(rng.integers(3)), float(rng.normal()), np.stack(next_frames), done))
            current[e] = first() if done or truncated else next_frames
        yield [np.array(c) for c in zip(*rows, strict=True)]


def assert_priorities_exactly_on_sampleable_transitions(memory):
    sampleable = memory.sampleable(np.arange(memory.maxlen))
    np.testing.assert_array_equal(memory.priorities > 0, sampleable)
    assert memory.total_priority == pytest.approx(memory.priorities.sum(), rel=1e-12)


@pytest.mark.parametrize("n_envs, maxlen", [(1, 10), (1, 23), (3, 16), (6, 40), (12, 64)])
def test_frame_buffer_never_samples_frame_only_slots_or_lost_transitions(n_envs, maxlen):
    rng = np.random.default_rng(n_envs * 100 + maxlen)
    memory = PrioritizedFrameReplayBuffer(maxlen, (4, 2, 2), seed=0, alpha=0.7)
    stored = set()
    for step, columns in enumerate(random_stack_episodes(rng, n_envs, steps=60)):
        states, actions, rewards, next_states, dones = columns
        stored.update((s.tobytes(), s2.tobytes()) for s, s2 in zip(states, next_states, strict=True))
        if n_envs == 1 and step % 2:
            memory.append(tuple(c[0] for c in columns))
        else:
            memory.extend(*columns)
        assert_priorities_exactly_on_sampleable_transitions(memory)
        if memory.total_priority > 0 and step % 3 == 0:
            batch = memory.sample_batches(2, min(8, len(memory)))
            assert memory.sampleable(batch.indices.reshape(-1)).all()
            for s, s2 in zip(batch.states.reshape(-1, 4, 2, 2), batch.next_states.reshape(-1, 4, 2, 2), strict=True):
                assert (s.tobytes(), s2.tobytes()) in stored  # a stack that was really stored
            memory.update_priorities(batch.indices, rng.exponential(size=batch.indices.shape))
            assert_priorities_exactly_on_sampleable_transitions(memory)
    assert memory.slots_written > 3 * maxlen  # wrapped several times
    drawn = memory.sample_batches(50, min(16, len(memory))).indices.reshape(-1)
    assert memory.is_transition[drawn].all() and memory.sampleable(drawn).all()


def test_the_parents_other_arguments_pass_through():
    memory = PrioritizedFrameReplayBuffer(20, (2, 2, 4), seed=np.random.default_rng(0), stack_axis=-1, action_size=3)
    for i in range(12):
        s, a, r, s2, d = frame_transition(i)
        memory.append((np.moveaxis(s, 0, -1), a, r, np.moveaxis(s2, 0, -1), d))
    batch = memory.sample(8)
    assert batch.states.shape == (8, 2, 2, 4) and "rng" not in memory.state_dict()
    np.testing.assert_array_equal(batch.states[:, 0, 0, -1], batch.rewards)  # frame j is all j
    with pytest.raises(ValueError, match="action"):
        memory.append((np.moveaxis(s, 0, -1), 3, r, np.moveaxis(s2, 0, -1), d))
    assert PrioritizedReplayBuffer(5, (3,), state_dtype=np.uint8).states.dtype == np.uint8


def test_frame_buffer_ignores_priorities_of_slots_lost_since_they_were_sampled():
    rng = np.random.default_rng(0)
    memory = PrioritizedFrameReplayBuffer(16, (4, 2, 2), seed=0)
    episodes = random_stack_episodes(rng, n_envs=3, steps=40)
    for _ in range(10):
        memory.extend(*next(episodes))
    batch = memory.sample_batches(4, len(memory))
    for _ in range(6):  # 18+ slots written: everything sampled is gone or rewritten
        memory.extend(*next(episodes))
    lost = ~memory.sampleable(batch.indices)
    assert lost.any() and not lost.all()  # frame-only slots or lost frames now, and new transitions
    memory.update_priorities(batch.indices, np.full(batch.indices.shape, 5.0))  # in range: no error
    assert_priorities_exactly_on_sampleable_transitions(memory)  # the lost ones stay at 0
    np.testing.assert_allclose(memory.priorities[batch.indices[~lost]], (5.0 + 1e-6) ** 0.6)


# ---------------------------------------------------------------- state dicts
@pytest.mark.parametrize(
    "cls, shape, make", [(PrioritizedReplayBuffer, (3,), transition), (PrioritizedFrameReplayBuffer, (4, 2, 2),
                                                                       frame_transition)]
)  # fmt: skip
def test_state_dict_round_trip_restores_priorities_and_sampling(cls, shape, make):
    rng = np.random.default_rng(6)
    original = cls(30, shape, seed=5)
    for i in range(45):  # wrapped
        original.append(make(i))
        if i > 10 and i % 4 == 0:
            batch = original.sample(8)
            original.update_priorities(batch.indices, rng.exponential(3.0, size=8))
    state = original.state_dict()
    assert {"priorities", "max_priority", "rng"} <= set(state) and state["priorities"].dtype == np.float64
    meta = {k: v for k, v in state.items() if not isinstance(v, np.ndarray)}
    assert json.loads(json.dumps(meta)) == meta  # what a checkpoint keeps beside the arrays
    restored = cls(30, shape, seed=99)
    restored.load_state_dict(state)
    np.testing.assert_array_equal(restored.priorities, original.priorities)
    assert restored.max_priority == original.max_priority > 1.0
    assert restored.total_priority == original.total_priority
    for a, b in zip(restored.sample_batches(3, 8), original.sample_batches(3, 8), strict=True):
        np.testing.assert_array_equal(a, b)  # indices, weights and contents alike
    for memory in (original, restored):  # and both go on
        for i in range(45, 52):
            memory.append(make(i))
    if cls is PrioritizedReplayBuffer:  # alike (a restored frame buffer starts new stacks: other slots)
        np.testing.assert_array_equal(restored.priorities, original.priorities)
        for a, b in zip(restored.sample_batches(3, 8), original.sample_batches(3, 8), strict=True):
            np.testing.assert_array_equal(a, b)
    else:
        assert_priorities_exactly_on_sampleable_transitions(restored)
        assert restored.max_priority == original.max_priority


def test_without_max_priority_a_state_dict_takes_the_largest_stored():
    memory = filled(PrioritizedReplayBuffer(6, (3,), seed=0, alpha=1.0), 6)
    memory.update_priorities([1, 2], [0.5, 3.0])
    state = memory.state_dict()
    del state["max_priority"]
    other = PrioritizedReplayBuffer(6, (3,), alpha=1.0)
    other.load_state_dict(state)
    assert other.max_priority == pytest.approx(3.0 + 1e-6)
    memory.update_priorities(np.arange(6), np.zeros(6))
    state = memory.state_dict()
    del state["max_priority"]
    other.load_state_dict(state)
    assert other.max_priority == 1.0  # never below where it starts


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda s: s.pop("priorities"), r"'priorities' is missing; expected a float64 array of shape \(6,\)"),
        (lambda s: s.update(priorities=np.ones(7)), r"'priorities' should be a float64 array of shape \(6,\)"),
        (lambda s: s["priorities"].__setitem__(1, -1.0), "'priorities' should be finite and non-negative"),
        (lambda s: s["priorities"].__setitem__(1, np.nan), "'priorities' should be finite and non-negative"),
        (lambda s: s.update(max_priority=0.5), r"'max_priority' should be a finite number >= 1.0, found 0.5"),
        (lambda s: s.update(max_priority="big"), r"'max_priority' should be a finite number >= 1.0, found 'big'"),
        (lambda s: s.update(alpha=0.5), r"its priorities were raised to alpha 0.5; this memory's alpha is 0.6"),
    ],
)
def test_bad_state_dicts_are_refused_and_change_nothing(change, message):
    state = {k: np.copy(v) if isinstance(v, np.ndarray) else v
             for k, v in filled(PrioritizedReplayBuffer(6, (3,), seed=0), 4).state_dict().items()}  # fmt: skip
    change(state)
    memory = filled(PrioritizedReplayBuffer(6, (3,)), 2)
    with pytest.raises(ValueError, match=message):
        memory.load_state_dict(state)
    assert len(memory) == 2
    np.testing.assert_array_equal(memory.priorities, [1, 1, 0, 0, 0, 0])


def test_nbytes_per_transition_counts_the_tree():
    # ReplayBuffer's 48 bytes (44 + the n-step link), plus the sum-tree: 2 * 1024 float64 over 1000 slots
    assert PrioritizedReplayBuffer(1000, (4,)).nbytes_per_transition == pytest.approx(48 + 2 * 1024 * 8 / 1000)


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(alpha=-0.1), r"PrioritizedReplayBuffer alpha must be >= 0 \(0: uniform replay\), got -0.1"),
        (dict(alpha=np.nan), "PrioritizedReplayBuffer alpha must be finite, got nan"),
        (dict(beta=1.5), r"PrioritizedReplayBuffer beta must be in \[0, 1\], got 1.5"),
        (dict(beta=-0.1), r"PrioritizedReplayBuffer beta must be in \[0, 1\], got -0.1"),
        (dict(epsilon=0.0), "PrioritizedReplayBuffer epsilon must be positive, got 0.0"),
        (dict(epsilon=-1e-6), "PrioritizedReplayBuffer epsilon must be positive, got -1e-06"),
        (dict(maxlen=0), "ReplayBuffer maxlen must be a positive integer, got 0"),
    ],
)
def test_bad_constructor_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PrioritizedReplayBuffer(**{"maxlen": 10, "state_shape": (3,), **kwargs})


def test_bad_frame_buffer_arguments_name_their_class():
    with pytest.raises(ValueError, match="PrioritizedFrameReplayBuffer alpha must be >= 0"):
        PrioritizedFrameReplayBuffer(20, (4, 2, 2), alpha=-1)
    with pytest.raises(ValueError, match="FrameReplayBuffer maxlen must be at least 10"):
        PrioritizedFrameReplayBuffer(9, (4, 2, 2))


@pytest.mark.parametrize(
    "indices, priorities, message",
    [
        ([0, 1], [1.0, -0.5], r"priorities must be non-negative finite numbers \(\|TD error\|\), got -0.5 at pos"),
        ([0, 1], [np.nan, 1.0], "priorities must be non-negative finite numbers.*got nan at position 0"),
        ([0, 1], [1.0, np.inf], "priorities must be non-negative finite numbers.*got inf at position 1"),
        ([0, 1, 2], [1.0, 2.0], r"expected one priority per index; got 3 indices \(shape \(3,\)\) and 2 priorities"),
        ([0, 4], [1.0, 2.0], r"indices must be slots of stored transitions, in \[0, 4\), got 4"),
        ([-1, 0], [1.0, 2.0], r"indices must be slots of stored transitions, in \[0, 4\), got -1"),
        ([0.0, 1.0], [1.0, 2.0], "indices must be integer slots"),
        ([0, 1], ["a", "b"], "priorities must be real numbers"),
    ],
)
def test_bad_priorities_are_refused_and_change_nothing(indices, priorities, message):
    memory = filled(PrioritizedReplayBuffer(10, (3,), seed=0), 4)
    with pytest.raises(ValueError, match=message):
        memory.update_priorities(indices, priorities)
    np.testing.assert_array_equal(memory.priorities[:4], 1.0)
    assert memory.max_priority == 1.0


@pytest.mark.parametrize("beta", [-0.1, 1.1, np.nan, "high"])
def test_sample_beta_must_be_in_zero_one(beta):
    memory = filled(PrioritizedReplayBuffer(10, (3,), seed=0), 4)
    with pytest.raises(ValueError, match="sample\\(\\) beta must be"):
        memory.sample(2, beta=beta)
    with pytest.raises(ValueError, match="sample_batches\\(\\) beta must be"):
        memory.sample_batches(2, 2, beta=beta)
    with pytest.raises(ValueError, match="anneal_beta\\(\\) fraction must be"):
        memory.anneal_beta(beta if isinstance(beta, str) else np.nan)


def test_sampling_more_than_stored_is_refused():
    memory = filled(PrioritizedReplayBuffer(10, (3,), seed=0), 4)
    with pytest.raises(ValueError, match="holds only 4"):
        memory.sample(5)

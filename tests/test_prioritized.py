"""Prioritized replay: the sum-tree."""

import numpy as np
import pytest

from keras_dqn.prioritized import SumTree


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
    tree._leaves[:] = np.arange(1000)
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

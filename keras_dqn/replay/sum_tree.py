""":class:`SumTree`: drawing in proportion to priorities, and changing them, in ``log2(N)`` steps.

The sum-tree.  Drawing with probability proportional to ``p**alpha`` from a million
transitions, and changing 32 of the priorities after every step, would cost a pass over the
whole memory each time with a plain array (``cumsum`` then ``searchsorted``).  A
:class:`SumTree` is a binary tree whose leaves are the priorities and whose every inner node
holds the sum of its two children, so the root is the total.  Changing a leaf updates the
``log2(N)`` nodes above it; drawing walks down from the root, going left when the number
drawn is below the left child's sum and right (minus that sum) otherwise, which finds the
leaf whose prefix sum holds the number in ``log2(N)`` steps.  Here both walks run for a
whole minibatch at once, one NumPy operation per level of the tree.  A minibatch of ``k``
is drawn *stratified*: ``[0, total)`` is cut into ``k`` equal segments and one number is
drawn in each, so a minibatch spreads over the priorities the way the paper does it.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class SumTree:
    """A binary sum-tree over ``capacity`` non-negative leaf values, in one float64 array.

    Leaf ``i`` is array entry ``size + i`` (``size``: ``capacity`` rounded up to a power of
    two; the padding leaves stay 0); node ``n`` has children ``2n`` and ``2n + 1``, and the
    root is node 1, so ``total`` is one read.  Every method takes arrays of leaves and loops
    over the levels of the tree, never over the leaves.

    Args:
        capacity: number of leaves.
    """

    def __init__(self, capacity: int):
        if isinstance(capacity, bool) or not isinstance(capacity, (int, np.integer)) or capacity < 1:
            raise ValueError(f"SumTree capacity must be a positive integer, got {capacity!r}")
        self.capacity = int(capacity)
        self.levels = (self.capacity - 1).bit_length()  # levels of inner nodes above the leaves
        self.size = 1 << self.levels  # leaves, padding included
        self._tree = np.zeros(2 * self.size, dtype=np.float64)  # entry 0 is unused
        self.leaves = self._tree[self.size : self.size + self.capacity]
        """The leaf values, a writable view: after writing it, call :meth:`rebuild`."""

    def __len__(self) -> int:
        return self.capacity

    @property
    def total(self) -> float:
        """The sum of all leaf values."""
        return float(self._tree[1])

    @property
    def values(self) -> np.ndarray:
        """The leaf values, a read-only view (change them with :meth:`update`)."""
        view = self.leaves.view()
        view.flags.writeable = False
        return view

    @property
    def nbytes(self) -> int:
        """Bytes of the tree's array (leaves and inner nodes)."""
        return self._tree.nbytes

    def update(self, indices: Any, values: Any) -> None:
        """Set leaves ``indices`` (an int or an array of any shape) to ``values`` (broadcast to it).

        An index given twice takes the value given last.  The sums above the changed leaves
        are recomputed from their children, level by level (no drift from adding differences).

        Raises:
            ValueError: an index outside ``[0, capacity)``, or a value that is negative or not finite.
        """
        indices = np.asarray(indices)
        if indices.size and indices.dtype.kind not in "iu":
            raise ValueError(f"SumTree indices must be integers, got {indices.dtype} {indices!r}")
        indices = indices.reshape(-1).astype(np.int64, copy=False)
        values = np.broadcast_to(np.asarray(values, dtype=np.float64), indices.shape)
        if indices.size == 0:
            return
        if indices.min() < 0 or indices.max() >= self.capacity:
            bad = indices[(indices < 0) | (indices >= self.capacity)][0]
            raise ValueError(f"SumTree indices must be in [0, {self.capacity}), got {bad}")
        if not np.all(np.isfinite(values) & (values >= 0)):
            bad = values[~(np.isfinite(values) & (values >= 0))][0]
            raise ValueError(f"SumTree values must be finite and non-negative, got {bad}")
        if indices.size > 1:  # keep the last value of each index: unique over the reversed order
            indices, last = np.unique(indices[::-1], return_index=True)
            values = values[::-1][last]
        nodes = indices + self.size
        self._tree[nodes] = values
        for _ in range(self.levels):  # a parent listed twice gets the same sum twice: harmless
            nodes = nodes >> 1
            self._tree[nodes] = self._tree[2 * nodes] + self._tree[2 * nodes + 1]

    def rebuild(self) -> None:
        """Recompute every inner node from the leaves (after the leaves were written directly)."""
        for level in range(self.levels):
            first = self.size >> (level + 1)  # nodes [first, 2 * first) sum nodes [2 * first, 4 * first)
            children = self._tree[2 * first : 4 * first]
            self._tree[first : 2 * first] = children[0::2] + children[1::2]

    def find(self, prefix_sums: Any) -> np.ndarray:
        """The leaf holding each of ``prefix_sums`` (an array of any shape, values in ``[0, total)``).

        Leaf ``i`` holds the values in ``[sum(leaves[:i]), sum(leaves[:i + 1]))``, so a uniform
        number in ``[0, total)`` finds leaf ``i`` with probability ``leaves[i] / total``.
        A leaf of value 0 is never returned (a number at or past ``total``, from rounding,
        gives the last non-zero leaf) as long as ``total > 0``.
        """
        remaining = np.array(prefix_sums, dtype=np.float64)  # a copy: it is changed below
        nodes = np.ones(remaining.shape, dtype=np.int64)
        for _ in range(self.levels):
            left = 2 * nodes
            left_sum = self._tree[left]
            # Go right past the left subtree's sum, unless the right subtree is empty.
            right = (remaining >= left_sum) & (self._tree[left + 1] > 0)
            remaining -= np.where(right, left_sum, 0.0)
            nodes = left + right
        return nodes - self.size

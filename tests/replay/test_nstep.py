"""n-step returns in both replay buffers, checked against sums worked out by hand (n = 3, gamma = 0.9).

A transition is named by an integer ``v``: its state is ``v``, its next state ``v + 1``.  As a
vector that is ``[v]``; as a stack of two 1x1 frames it is ``[v - 1, v]`` (``[v, v]`` at an
episode start, gymnasium's padding), so :class:`FrameReplayBuffer` can hold the same episodes.
Each table maps ``v`` to what a sampled row starting at ``v`` must hold: the reward sum, the
name of its next state, done and discount.
"""

import numpy as np
import pytest

from keras_dqn.replay.frames import FrameReplayBuffer
from keras_dqn.replay.uniform import ReplayBuffer

N, GAMMA = 3, 0.9


# ---------------------------------------------------------------- how a state is written and read
class Vectors:
    """States ``[v]`` in a :class:`ReplayBuffer`: equal states are easy to make on purpose."""

    shape = (1,)

    @staticmethod
    def make(maxlen, **kwargs):
        return ReplayBuffer(maxlen, (1,), **kwargs)

    @staticmethod
    def state(v, first):
        return np.array([v], np.float32)

    @staticmethod
    def name(state):
        return int(state[0])


class Stacks:
    """States ``[v - 1, v]``: two stacked 1x1 frames, in either buffer."""

    shape = (2, 1, 1)

    def __init__(self, cls):
        self.cls = cls

    def __repr__(self):
        return f"Stacks({self.cls.__name__})"

    def make(self, maxlen, **kwargs):
        if self.cls is ReplayBuffer:
            return ReplayBuffer(maxlen, self.shape, state_dtype=np.uint8, **kwargs)
        return FrameReplayBuffer(max(maxlen, 6), self.shape, **kwargs)

    @staticmethod
    def state(v, first):
        return np.array([v if first else v - 1, v], np.uint8).reshape(2, 1, 1)

    @staticmethod
    def name(state):
        return int(state[-1, 0, 0])


KINDS = [Vectors, Stacks(ReplayBuffer), Stacks(FrameReplayBuffer)]


def episode(start, rewards, end=None, padded=True):
    """The transitions ``(v, first, reward, terminated, truncated)`` of an episode whose states
    are ``start, start + 1, ...``; ``end`` is ``"terminated"``, ``"truncated"`` or ``None`` (running).

    ``padded=False``: the first stack is ``[start - 1, start]``, exactly the state an episode
    that ended in ``start`` ended in, so only done / truncated can keep the two apart."""
    last = len(rewards) - 1
    return [(start + i, i == 0 and padded, r, end == "terminated" and i == last, end == "truncated" and i == last)
            for i, r in enumerate(rewards)]  # fmt: skip


def row(kind, v, first, reward, done):
    """The transition tuple of ``v``."""
    return kind.state(v, first), 0, float(reward), kind.state(v + 1, False), done


def everything(memory):
    """Every sampleable transition, through the sampling path."""
    if isinstance(memory, FrameReplayBuffer):
        return memory.gather(np.flatnonzero(memory.sampleable(np.arange(memory.maxlen))))
    return memory.gather(np.arange(len(memory)))


def check(kind, batch, table):
    """Every row of ``batch`` (any leading shape) is what ``table`` says for its state."""
    assert batch.discounts.dtype == np.float32 and batch.dones.dtype == np.float32
    assert batch.weights is None and batch.indices is None
    shape = kind.shape
    rows = zip(batch.states.reshape(-1, *shape), batch.rewards.reshape(-1), batch.next_states.reshape(-1, *shape),
               batch.dones.reshape(-1), batch.discounts.reshape(-1), strict=True)  # fmt: skip
    seen = set()
    for state, reward, next_state, done, discount in rows:
        v = kind.name(state)
        expected_reward, expected_next, expected_done, expected_discount = table[v]
        found = (round(float(reward), 4), kind.name(next_state), float(done), round(float(discount), 6))
        assert found == (expected_reward, expected_next, expected_done, expected_discount), f"state {v}"
        seen.add(v)
    return seen


# ---------------------------------------------------------------- one env
# Episode A terminates after 6 steps; B starts in A's terminal state and is cut by a time limit
# after 2; C starts in the state B was cut in and is still running.  Equal states at the seams:
# only done / truncated keep the episodes apart.
ONE_ENV = [
    *episode(0, [1, 2, 3, 4, 5, 6], "terminated"),
    *episode(6, [10, 20], "truncated", padded=False),
    *episode(8, [100, 200, 300], padded=False),
]
ONE_ENV_TABLE = {  # v: (r_v + 0.9 r_v+1 + 0.81 r_v+2 as far as the episode goes, next state, done, discount)
    0: (5.23, 3, 0.0, 0.729),  # 1 + 1.8 + 2.43
    1: (7.94, 4, 0.0, 0.729),  # 2 + 2.7 + 3.24
    2: (10.65, 5, 0.0, 0.729),  # 3 + 3.6 + 4.05
    3: (13.36, 6, 1.0, 0.0),  # 4 + 4.5 + 4.86, and A terminates: no bootstrap
    4: (10.4, 6, 1.0, 0.0),  # 5 + 5.4
    5: (6.0, 6, 1.0, 0.0),
    6: (28.0, 8, 0.0, 0.81),  # 10 + 18, then the cut: bootstrap from state 8 with 0.9**2
    7: (20.0, 8, 0.0, 0.9),
    8: (523.0, 11, 0.0, 0.729),  # 100 + 180 + 243
    9: (470.0, 11, 0.0, 0.81),  # the newest transitions have shorter windows
    10: (300.0, 11, 0.0, 0.9),
}


def write_one_env(kind, memory, transitions, how):
    """Write one env's transitions with ``append``, one-row ``extend`` calls, or one ``extend`` with ``env_indices``."""
    if how == "env_indices":
        write_sub_envs(kind, memory, [[(0, t) for t in transitions]])
        return
    for v, first, reward, terminated, truncated in transitions:
        if how == "append":
            memory.append(row(kind, v, first, reward, terminated), truncated=truncated)
        else:  # one row per extend (ReplayBuffer's fast path), truncated as gymnasium gives it
            s, a, r, s2, d = row(kind, v, first, reward, terminated)
            flags = np.array([d]), np.array([truncated])
            memory.extend(s[None], np.array([a]), np.array([r]), s2[None], flags[0], truncated=flags[1])


@pytest.mark.parametrize("how", ["append", "extend", "env_indices"])
@pytest.mark.parametrize("kind", KINDS, ids=repr)
def test_one_env_sums_dones_and_discounts(kind, how):
    memory = kind.make(100, n_step=N, gamma=GAMMA, seed=0)
    write_one_env(kind, memory, ONE_ENV, how)
    assert check(kind, everything(memory), ONE_ENV_TABLE) == set(ONE_ENV_TABLE)
    check(kind, memory.sample(8), ONE_ENV_TABLE)
    batches = memory.sample_batches(3, 8)
    assert batches.discounts.shape == batches.rewards.shape == (3, 8)
    check(kind, batches, ONE_ENV_TABLE)
    # memory[i] is still the one-step transition as appended
    s, _, r, s2, d = memory[3]
    assert (kind.name(s), r, kind.name(s2), d) == (3, 4.0, 4, False)


def test_gamma_is_read_when_sampling():
    memory = Vectors.make(100, n_step=N, gamma=GAMMA)
    write_one_env(Vectors, memory, ONE_ENV, "append")
    memory.gamma = 0.5  # what an agent does when its gamma changes
    batch = memory.gather(np.array([0, 6, 7]))
    np.testing.assert_allclose(batch.rewards, [1 + 0.5 * 2 + 0.25 * 3, 10 + 0.5 * 20, 20])
    np.testing.assert_allclose(batch.discounts, [0.125, 0.25, 0.5])


def test_terminated_and_truncated_together_is_terminated():
    memory = Vectors.make(10, n_step=N, gamma=GAMMA)
    memory.append(row(Vectors, 0, True, 1, False))
    memory.append(row(Vectors, 1, False, 2, True), truncated=True)
    check(Vectors, everything(memory), {0: (2.8, 2, 1.0, 0.0), 1: (2.0, 2, 1.0, 0.0)})


# ---------------------------------------------------------------- a vector env of 3 sub-envs
# Sub-env 0 terminates at its 2nd step and starts again; sub-env 1 is cut at its 4th; sub-env 2
# runs on.  Their transitions interleave in the ring.
SUB_ENVS = [  # each new episode starts in the state the last one ended in
    episode(0, [1, 2], "terminated") + episode(2, [3, 4, 5], padded=False),
    episode(100, [10, 20, 30, 40], "truncated") + episode(104, [50], padded=False),
    episode(200, [100, 200, 300, 400, 500]),
]
SUB_ENV_TABLE = {
    0: (2.8, 2, 1.0, 0.0),  # 1 + 1.8, terminated
    1: (2.0, 2, 1.0, 0.0),
    2: (10.65, 5, 0.0, 0.729),  # 3 + 3.6 + 4.05
    3: (8.5, 5, 0.0, 0.81),
    4: (5.0, 5, 0.0, 0.9),
    100: (52.3, 103, 0.0, 0.729),  # 10 + 18 + 24.3
    101: (79.4, 104, 0.0, 0.729),  # 20 + 27 + 32.4, the last reward before the cut
    102: (66.0, 104, 0.0, 0.81),  # 30 + 36, cut: bootstrap from 104
    103: (40.0, 104, 0.0, 0.9),
    104: (50.0, 105, 0.0, 0.9),
    200: (523.0, 203, 0.0, 0.729),
    201: (794.0, 204, 0.0, 0.729),  # 200 + 270 + 324
    202: (1065.0, 205, 0.0, 0.729),  # 300 + 360 + 405
    203: (850.0, 205, 0.0, 0.81),
    204: (500.0, 205, 0.0, 0.9),
}


def sub_env_calls(layout):
    """The ``extend`` calls that store SUB_ENVS: lists of ``(sub-env, transition)`` rows.

    * ``"steps"``: one call per step, every sub-env in it (gymnasium's same-step autoreset).
    * ``"skip"``: as the training loop: the step after an episode ends only resets that sub-env,
      so it has no row there (``env_indices`` says which sub-envs the rows are).
    * ``"one call"``: everything in one call, sub-envs interleaved, several rows each.
    """
    queues = [list(transitions) for transitions in SUB_ENVS]
    calls = []
    resetting = set()
    while any(queues):
        rows = []
        for e, queue in enumerate(queues):
            if layout == "skip" and e in resetting:
                resetting.discard(e)
                continue
            if queue:
                transition = queue.pop(0)
                rows.append((e, transition))
                if transition[3] or transition[4]:
                    resetting.add(e)
        calls.append(rows)
    return [[r for rows in calls for r in rows]] if layout == "one call" else calls


def write_sub_envs(kind, memory, calls, with_indices=True):
    for rows in calls:
        lanes = [e for e, _ in rows]
        columns = [row(kind, v, first, reward, terminated) for _, (v, first, reward, terminated, _) in rows]
        s, a, r, s2, d = (np.array(c) for c in zip(*columns, strict=True))
        truncated = np.array([t[4] for _, t in rows])
        env_indices = np.array(lanes) if with_indices else None
        memory.extend(s, a, r, s2, d, env_indices=env_indices, truncated=truncated)


@pytest.mark.parametrize("layout", ["steps", "skip", "one call"])
@pytest.mark.parametrize("kind", KINDS, ids=repr)
def test_sub_envs_of_a_vector_env_interleaved(kind, layout):
    memory = kind.make(100, n_step=N, gamma=GAMMA, seed=0)
    write_sub_envs(kind, memory, sub_env_calls(layout))
    assert check(kind, everything(memory), SUB_ENV_TABLE) == set(SUB_ENV_TABLE)
    check(kind, memory.sample_batches(4, 8), SUB_ENV_TABLE)


@pytest.mark.parametrize("kind", KINDS, ids=repr)
def test_default_env_indices_are_the_rows(kind):
    memory = kind.make(100, n_step=N, gamma=GAMMA)
    write_sub_envs(kind, memory, sub_env_calls("steps"), with_indices=False)
    assert check(kind, everything(memory), SUB_ENV_TABLE) == set(SUB_ENV_TABLE)


# ---------------------------------------------------------------- ring wrap-around
LONG = episode(0, [v + 1 for v in range(10)])  # one running episode, r_v = v + 1
LONG_TABLE = {  # what is left of it in a ring of 4 transitions
    6: (21.49, 9, 0.0, 0.729),  # 7 + 7.2 + 7.29
    7: (24.2, 10, 0.0, 0.729),  # 8 + 8.1 + 8.1
    8: (18.0, 10, 0.0, 0.81),
    9: (10.0, 10, 0.0, 0.9),
}


@pytest.mark.parametrize("how", ["append", "extend", "env_indices"])
@pytest.mark.parametrize("kind", KINDS, ids=repr)
def test_ring_wraparound_follows_no_overwritten_link(kind, how):
    """Slot of 9 held 5, which linked on to 6: the newest transition must not inherit that link."""
    memory = kind.make(4, n_step=N, gamma=GAMMA)  # a frame buffer of 6 slots keeps the same 4 transitions
    write_one_env(kind, memory, LONG, how)
    assert check(kind, everything(memory), LONG_TABLE) == set(LONG_TABLE)


def put(memory, sub_env, state, reward, next_state, done=False):
    """One transition ``[state] -> [next_state]`` of ``sub_env`` into a Vectors memory."""
    memory.extend(np.array([[state]], np.float32), np.array([0]), np.array([reward]),
                  np.array([[next_state]], np.float32), np.array([done]), env_indices=[sub_env])  # fmt: skip


def test_an_overwritten_last_transition_is_not_continued_even_with_an_equal_next_state():
    memory = Vectors.make(4, n_step=N, gamma=GAMMA)
    put(memory, 0, 0, 1.0, 1)  # slot 0
    put(memory, 0, 1, 2.0, 2)  # slot 1: sub-env 0's last transition, ends in state 2
    put(memory, 1, 40, 0.0, 41, done=True)  # sub-env 1 fills the ring
    put(memory, 1, 42, 0.0, 43, done=True)
    put(memory, 1, 44, 0.0, 45, done=True)  # slot 0
    put(memory, 1, 50, 7.0, 2)  # slot 1, overwriting 1 -> 2 with a transition that also ends in state 2
    put(memory, 0, 2, 3.0, 3)  # sub-env 0 goes on from state 2: its last transition is gone
    check(Vectors, everything(memory), {42: (0.0, 43, 1.0, 0.0), 44: (0.0, 45, 1.0, 0.0),
                                        50: (7.0, 2, 0.0, 0.9), 2: (3.0, 3, 0.0, 0.9)})  # fmt: skip


def test_a_last_transition_overwritten_by_the_next_one_is_not_continued():
    """A ring of one: each transition overwrites the one before; a step that stays in its state
    (as in a grid world, walking into a wall) must not link the slot to itself."""
    memory = Vectors.make(1, n_step=N, gamma=GAMMA)
    put(memory, 0, 0, 1.0, 1)
    put(memory, 0, 1, 2.0, 1)
    check(Vectors, everything(memory), {1: (2.0, 1, 0.0, 0.9)})


@pytest.mark.parametrize("how", ["append", "extend", "env_indices"])
@pytest.mark.parametrize("kind", KINDS, ids=repr)
def test_a_transition_that_does_not_continue_the_last_one_starts_a_new_window(kind, how):
    """Neither done nor truncated, but the sub-env's next state is not where the last one ended
    (an env reset by hand, or rows given the wrong ``env_indices``): no link."""
    memory = kind.make(100, n_step=N, gamma=GAMMA)
    write_one_env(kind, memory, episode(0, [1, 2]) + episode(10, [3, 4], padded=False), how)
    check(kind, everything(memory), {0: (2.8, 2, 0.0, 0.81), 1: (2.0, 2, 0.0, 0.9),
                                     10: (6.6, 12, 0.0, 0.81), 11: (4.0, 12, 0.0, 0.9)})  # fmt: skip


def as_table(kind, batch):
    shape = kind.shape
    return {kind.name(s): (float(r), kind.name(s2), float(d), float(g)) for s, r, s2, d, g in zip(
        batch.states.reshape(-1, *shape), batch.rewards.reshape(-1), batch.next_states.reshape(-1, *shape),
        batch.dones.reshape(-1), batch.discounts.reshape(-1), strict=True)}  # fmt: skip


@pytest.mark.parametrize("maxlen", [3, 7])
def test_extend_of_more_rows_than_the_ring_holds(maxlen):
    """Only the newest maxlen rows are kept; the links among them are those of writing one by one."""
    one, many = Vectors.make(maxlen, n_step=N, gamma=GAMMA), Vectors.make(maxlen, n_step=N, gamma=GAMMA)
    (calls,) = sub_env_calls("one call")
    write_sub_envs(Vectors, one, [[r] for r in calls])
    write_sub_envs(Vectors, many, [calls])
    assert len(many) == maxlen
    assert as_table(Vectors, everything(one)) == as_table(Vectors, everything(many))
    assert len(check(Vectors, everything(many), SUB_ENV_TABLE)) == maxlen


# ---------------------------------------------------------------- the frame buffer = ReplayBuffer
def random_stacks(rng, n_envs, steps, k=4, shape=(5, 5), stack_axis=0):
    """Rows ``(state, action, reward, next_state, terminated, truncated)`` of random-frame episodes."""

    def frame():
        return rng.integers(0, 256, shape, dtype=np.uint8)

    def first():
        return [frame()] * k if rng.random() < 0.5 else [frame() for _ in range(k)]

    current = [first() for _ in range(n_envs)]
    for _ in range(steps):
        rows = []
        for e in range(n_envs):
            frames, next_frames = current[e], current[e][1:] + [frame()]
            terminated, truncated = bool(rng.random() < 0.05), bool(rng.random() < 0.05)
            rows.append((np.stack(frames, axis=stack_axis), int(rng.integers(4)), float(rng.normal()),
                         np.stack(next_frames, axis=stack_axis), terminated, truncated))  # fmt: skip
            current[e] = first() if terminated or truncated else next_frames
        yield rows


@pytest.mark.parametrize("n_step", [1, 3])
@pytest.mark.parametrize("stack_axis", [0, -1])
def test_frame_buffer_gives_the_batches_of_a_replay_buffer(stack_axis, n_step):
    state_shape = (4, 5, 5) if stack_axis == 0 else (5, 5, 4)
    frames = FrameReplayBuffer(64, state_shape, stack_axis=stack_axis, n_step=n_step, gamma=GAMMA, seed=0)
    naive = ReplayBuffer(10_000, state_shape, state_dtype=np.uint8, n_step=n_step, gamma=GAMMA)
    for rows in random_stacks(np.random.default_rng(3), 3, 150, stack_axis=stack_axis):
        s, a, r, s2, d, t = (np.array(c) for c in zip(*rows, strict=True))
        frames.extend(s, a, r, s2, d, truncated=t)
        naive.extend(s, a, r, s2, d, truncated=t)
    assert frames.slots_written > 3 * frames.maxlen  # wrapped
    where = {naive.states[i].tobytes(): i for i in range(len(naive))}  # random frames: states are unique
    for batch in (everything(frames), frames.sample_batches(4, 32)):
        flat = [
            batch.states.reshape(-1, *state_shape),
            batch.actions.reshape(-1),
            batch.rewards.reshape(-1),
            batch.next_states.reshape(-1, *state_shape),
            batch.dones.reshape(-1),
            batch.discounts.reshape(-1),
        ]
        expected = naive.gather(np.array([where[state.tobytes()] for state in flat[0]]))
        for mine, theirs in zip(flat, expected[:6], strict=True):
            np.testing.assert_allclose(mine, theirs, rtol=1e-6)
    if n_step == 3:  # some windows were cut short by an end, others ran the full 3 steps
        discounts = {round(g, 6) for g in everything(frames).discounts.tolist()}
        assert {0.0, 0.9, 0.81, 0.729} <= discounts


# ---------------------------------------------------------------- n_step=1: as before
@pytest.mark.parametrize("kind", KINDS, ids=repr)
def test_n_step_1_is_the_one_step_batch_with_discounts(kind):
    memory = kind.make(100, gamma=GAMMA)
    assert memory.n_step == 1 and memory.gamma == GAMMA
    write_sub_envs(kind, memory, sub_env_calls("steps"))
    batch = everything(memory)
    table = {v: (float(r), v + 1, float(d), round(GAMMA * (1 - d), 6)) for v, _, r, d, _ in sum(SUB_ENVS, [])}
    check(kind, batch, table)
    np.testing.assert_array_equal(batch.discounts, np.float32(GAMMA) * (1 - batch.dones))
    assert (memory.links == -1).all()  # no link bookkeeping with n_step=1
    if isinstance(memory, ReplayBuffer):  # the stored arrays, fancy-indexed, as before n-step returns
        idx = np.array([[3, 1], [0, 7]])
        batch = memory.gather(idx)
        for got, stored in zip(batch[:5], (memory.states, memory.actions, memory.rewards, memory.next_states,
                                           memory.dones), strict=True):  # fmt: skip
            np.testing.assert_array_equal(got, stored[idx])


# ---------------------------------------------------------------- checkpoints
@pytest.mark.parametrize("kind", KINDS, ids=repr)
def test_state_dict_round_trip(kind):
    original = kind.make(12, n_step=N, gamma=GAMMA, seed=5)
    write_sub_envs(kind, original, sub_env_calls("steps"))  # 15 transitions in 12 slots: wrapped
    state = original.state_dict()
    assert "links" in state and (state["links"] >= 0).any()
    restored = kind.make(12, n_step=N, gamma=GAMMA, seed=99)
    restored.load_state_dict(state)
    for a, b in zip(everything(restored), everything(original), strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(restored.sample_batches(3, 8), original.sample_batches(3, 8), strict=True):
        np.testing.assert_array_equal(a, b)
    # What each sub-env was doing is saved by a ReplayBuffer ("lanes"): its next transition goes on
    # with the window.  Not by a frame buffer: after a restore its next transition starts a new
    # window (the transition before it keeps its shorter one).
    for memory in (original, restored):
        write_sub_envs(kind, memory, [[(2, (205, False, 600, False, False))]])
    new = {205: (600.0, 206, 0.0, 0.9)}
    went_on = {**SUB_ENV_TABLE, **new, 203: (1336.0, 206, 0.0, 0.729), 204: (1040.0, 206, 0.0, 0.81)}  # 400+450+486
    check(kind, everything(original), went_on)
    if isinstance(restored, FrameReplayBuffer):
        # (a frame buffer writes the frames of state 205 again, over those of the oldest transitions)
        assert {204, 205} <= check(kind, everything(restored), {**SUB_ENV_TABLE, **new})
    else:
        for a, b in zip(everything(restored), everything(original), strict=True):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind", KINDS, ids=repr)
def test_a_state_dict_without_links_loads_as_one_step_windows(kind):
    """State dicts written before n-step returns have no "links"."""
    original = kind.make(100, n_step=N, gamma=GAMMA)
    write_sub_envs(kind, original, sub_env_calls("steps"))
    state = {name: value for name, value in original.state_dict().items() if name != "links"}
    restored = kind.make(100, n_step=N, gamma=GAMMA)
    restored.load_state_dict(state)
    table = {v: (float(r), v + 1, float(d), round(GAMMA * (1 - d), 6)) for v, _, r, d, _ in sum(SUB_ENVS, [])}
    check(kind, everything(restored), table)


@pytest.mark.parametrize("bad", [-2, 100])
def test_links_out_of_range_are_refused(bad):
    memory = Vectors.make(100, n_step=N, gamma=GAMMA)
    write_one_env(Vectors, memory, ONE_ENV, "append")
    state = memory.state_dict()
    state["links"] = state["links"].copy()
    state["links"][3] = bad
    fresh = Vectors.make(100, n_step=N, gamma=GAMMA)
    with pytest.raises(ValueError, match=r"'links' should hold slots in \[-1, 99\]"):
        fresh.load_state_dict(state)
    assert len(fresh) == 0


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("cls, shape", [(ReplayBuffer, (1,)), (FrameReplayBuffer, (2, 1, 1))])
@pytest.mark.parametrize("n_step", [0, 1.5, -1, True, "3"])
def test_n_step_must_be_a_positive_integer(cls, shape, n_step):
    with pytest.raises(ValueError, match=rf"{cls.__name__} n_step must be a positive integer, got {n_step!r}"):
        cls(10, shape, n_step=n_step)


@pytest.mark.parametrize("cls, shape", [(ReplayBuffer, (1,)), (FrameReplayBuffer, (2, 1, 1))])
@pytest.mark.parametrize("gamma", [-0.1, 2, 1.01])
def test_gamma_must_be_in_0_1(cls, shape, gamma):
    with pytest.raises(ValueError, match=rf"{cls.__name__} gamma must be in \[0, 1\], got {gamma!r}"):
        cls(10, shape, gamma=gamma)
    with pytest.raises(ValueError, match=rf"{cls.__name__} gamma must be a number, got 'x'"):
        cls(10, shape, gamma="x")


@pytest.mark.parametrize("kind", KINDS, ids=repr)
@pytest.mark.parametrize(
    "truncated, message",
    [
        (np.array([False, False, True]), r"extend\(\) truncated must be a 1-d array of 2 \(one per transition\), got"),
        (np.array([True]), r"extend\(\) truncated must be a 1-d array of 2 \(one per transition\), got shape \(1,\)"),
        (np.array([2, 0]), r"extend\(\) truncated must be bools \(or 0/1\)"),
        (["yes", "no"], r"extend\(\) truncated must be bools \(or 0/1\)"),
    ],
)  # fmt: skip
def test_bad_truncated_in_extend(kind, truncated, message):
    memory = kind.make(10, n_step=N, gamma=GAMMA)
    rows = [row(kind, v, first, r, d) for v, first, r, d, _ in episode(0, [1, 2])]
    s, a, r, s2, d = (np.array(c) for c in zip(*rows, strict=True))
    with pytest.raises(ValueError, match=message):
        memory.extend(s, a, r, s2, d, truncated=truncated)
    assert len(memory) == 0


@pytest.mark.parametrize("kind", KINDS, ids=repr)
@pytest.mark.parametrize("truncated", ["yes", 2, None, np.array([True, False])])
@pytest.mark.parametrize("done", [False, True])
def test_bad_truncated_in_append_and_one_row_extend(kind, truncated, done):
    memory = kind.make(10, n_step=N, gamma=GAMMA)
    transition = row(kind, 0, True, 1, done)
    with pytest.raises(ValueError, match=r"append\(\) truncated must be a bool \(or 0/1\), got"):
        memory.append(transition, truncated=truncated)
    s, a, r, s2, d = transition
    with pytest.raises(ValueError, match=r"extend\(\) truncated must be"):
        memory.extend(s[None], np.array([a]), np.array([r]), s2[None], np.array([d]), truncated=[truncated])
    assert len(memory) == 0

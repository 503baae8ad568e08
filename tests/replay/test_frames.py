"""FrameReplayBuffer: each Atari frame stored once, stacks rebuilt exactly; its checkpoints."""


import numpy as np
import pytest

from keras_dqn import ConvDQNAgent, FrameReplayBuffer, ReplayBuffer
from keras_dqn.files.checkpoint import load_checkpoint, save_checkpoint


def _random_stack_episodes(rng, n_envs: int, steps: int, k: int = 4, shape=(6, 6), stack_axis: int = 0, values=256):
    """Transitions of ``n_envs`` interleaved frame-stack envs with random episode ends.

    First stacks are either one frame repeated (gymnasium's padding) or distinct frames.  With
    few pixel ``values``, equal frames (and equal stacks in different envs) turn up often."""

    def stack(frames):
        return np.stack(frames, axis=stack_axis)

    def frame():
        return rng.integers(0, values, shape, dtype=np.uint8)

    def first():
        if rng.random() < 0.5:
            return [frame()] * k
        return [frame() for _ in range(k)]

    current = [first() for _ in range(n_envs)]
    for _ in range(steps):
        rows = []
        for e in range(n_envs):
            frames = current[e]
            next_frames = frames[1:] + [frame()]
            terminated, truncated = rng.random() < 0.05, rng.random() < 0.03
            rows.append((stack(frames), int(rng.integers(6)), float(rng.normal()), stack(next_frames), terminated))
            current[e] = first() if terminated or truncated else next_frames
        yield rows


@pytest.mark.parametrize("stack_axis", [0, -1])
@pytest.mark.parametrize("maxlen", [37, 64, 101])
def test_frame_buffer_returns_exactly_what_a_naive_buffer_stored(stack_axis, maxlen):
    rng = np.random.default_rng(maxlen)
    state_shape = (4, 6, 6) if stack_axis == 0 else (6, 6, 4)
    frames = FrameReplayBuffer(maxlen, state_shape, seed=0, stack_axis=stack_axis)
    naive = ReplayBuffer(10_000, state_shape, state_dtype=np.uint8)
    for rows in _random_stack_episodes(rng, n_envs=3, steps=200, stack_axis=stack_axis):
        columns = [np.array(c) for c in zip(*rows, strict=True)]
        frames.extend(*columns)
        naive.extend(*columns)
    assert frames.slots_written > 3 * maxlen  # the ring wrapped several times, across many episode starts

    stored = {}  # (state, next_state) -> (position in the naive buffer, action, reward, done)
    for i in range(len(naive)):
        s, a, r, s2, d = naive[i]
        stored[(s.tobytes(), s2.tobytes())] = (i, a, r, d)
    order = []
    for i in range(maxlen):
        try:
            s, a, r, s2, d = frames[i]
        except IndexError:
            break
        i_naive, a_naive, r_naive, d_naive = stored[(s.tobytes(), s2.tobytes())]  # KeyError: a stack never stored
        assert (a, d) == (a_naive, d_naive) and r == pytest.approx(r_naive)
        order.append(i_naive)
    assert order == sorted(order) and order[-1] == len(naive) - 1  # oldest first, up to the newest
    # all recent transitions are there: at most k per sub-env lost their oldest frames
    assert set(range(len(naive) - len(frames) + 4 * 3, len(naive))) <= set(order)

    batch = frames.sample_batches(3, 16)
    assert batch.states.shape == (3, 16, *state_shape) and batch.states.dtype == np.uint8
    for s, s2, a in zip(batch.states.reshape(-1, *state_shape), batch.next_states.reshape(-1, *state_shape),
                        batch.actions.reshape(-1), strict=True):  # fmt: skip
        assert stored[(s.tobytes(), s2.tobytes())][1] == a


def _naive_transitions(naive: ReplayBuffer) -> dict:
    """(state, next_state) bytes -> every (action, reward, done) stored with that pair."""
    stored: dict = {}
    for i in range(len(naive)):
        s, a, r, s2, d = naive[i]
        stored.setdefault((s.tobytes(), s2.tobytes()), []).append((a, round(r, 5), d))
    return stored


@pytest.mark.parametrize("values", [2, 3])
def test_equal_frames_and_a_small_ring_shared_by_many_envs(values):
    """Few pixel values make equal frames and equal stacks across envs; 12 envs share 40 slots."""
    rng = np.random.default_rng(values)
    memory = FrameReplayBuffer(40, (4, 3, 3), seed=0)
    naive = ReplayBuffer(100_000, (4, 3, 3), state_dtype=np.uint8)
    for rows in _random_stack_episodes(rng, n_envs=12, steps=100, shape=(3, 3), values=values):
        columns = [np.array(c) for c in zip(*rows, strict=True)]
        memory.extend(*columns)
        naive.extend(*columns)
    stored = _naive_transitions(naive)
    assert 0 < len(memory) <= 40
    for _ in range(10):
        batch = memory.sample(len(memory))  # returns: few sampleable slots must not make it spin forever
        for s, a, r, s2, d in zip(*batch[:5], strict=True):
            assert (int(a), round(float(r), 5), bool(d)) in stored[(s.tobytes(), s2.tobytes())]


def test_frames_stored_after_a_checkpoint_restore_are_right(tmp_path):
    rng = np.random.default_rng(7)
    agent = ConvDQNAgent((4, 36, 36), 3, seed=0, memory_size=300)
    naive = ReplayBuffer(100_000, (4, 36, 36), state_dtype=np.uint8)
    episodes = _random_stack_episodes(rng, n_envs=3, steps=120, shape=(36, 36))
    for step, rows in enumerate(episodes):
        columns = [np.array(c) for c in zip(*rows, strict=True)]
        columns[1] = columns[1] % 3
        agent.memory.extend(*columns)
        naive.extend(*columns)
        if step == 60:
            save_checkpoint(agent, tmp_path, {}, include_memory=True)
            agent = ConvDQNAgent((4, 36, 36), 3, seed=0, memory_size=300)
            load_checkpoint(agent, tmp_path)  # the same envs go on into the restored memory
    stored = _naive_transitions(naive)
    for i in range(len(agent.memory)):
        try:
            s, a, r, s2, d = agent.memory[i]
        except IndexError:
            break
        assert (a, round(r, 5), d) in stored[(s.tobytes(), s2.tobytes())]


def test_episode_starts_never_mix_episodes():
    """The first transition of an episode rebuilds its padded first stack, not the previous episode's frames."""
    memory = FrameReplayBuffer(50, (4, 2, 2), seed=0)
    frame = [np.full((2, 2), v, np.uint8) for v in range(10)]
    s = np.stack([frame[1]] * 4)  # episode 1 starts: one frame repeated
    s2 = np.stack([frame[1]] * 3 + [frame[2]])
    memory.append((s, 0, 1.0, s2, False))
    s3 = np.stack([frame[1]] * 2 + [frame[2], frame[3]])
    memory.append((s2, 1, 0.0, s3, True))
    t = np.stack([frame[5]] * 4)  # episode 2
    t2 = np.stack([frame[5]] * 3 + [frame[6]])
    memory.append((t, 2, 0.5, t2, False))
    assert len(memory) == 3
    assert np.array_equal(memory[2][0], t) and np.array_equal(memory[2][3], t2)
    assert np.array_equal(memory[1][3], s3) and memory[1][4] is True
    assert memory.slots_written == 5  # 1 slot for each repeated first frame, 1 per transition


def test_bytes_per_transition_measured_from_the_arrays():
    frames = FrameReplayBuffer(100_000, (4, 84, 84))
    naive = ReplayBuffer(1000, (4, 84, 84), state_dtype=np.uint8)
    assert 84 * 84 <= frames.nbytes_per_transition <= 7100
    assert naive.nbytes_per_transition > 8 * 84 * 84
    assert frames.nbytes_per_transition * 1_000_000 < 8e9  # 1M transitions fit in 8 GB
    bigger = FrameReplayBuffer(100_000, (4, 84, 84))
    bigger.frames = np.zeros((100_000, 100, 100), np.uint8)  # measured, not a formula
    assert bigger.nbytes_per_transition > frames.nbytes_per_transition + 2000


def test_frame_buffer_rejects_what_it_cannot_store():
    memory = FrameReplayBuffer(50, (4, 8, 8))
    s = np.zeros((4, 8, 8), np.uint8)
    with pytest.raises(ValueError, match=r"uint8 frame stacks of shape \(4, 8, 8\).*float32"):
        memory.append((s.astype(np.float32), 0, 0.0, s, False))
    with pytest.raises(ValueError, match=r"shape \(4, 8, 8\).*\(4, 8, 9\)"):
        memory.append((s, 0, 0.0, np.zeros((4, 8, 9), np.uint8), False))
    with pytest.raises(ValueError, match="moved on by one frame"):
        memory.append((s, 0, 0.0, np.ones((4, 8, 8), np.uint8), False))
    assert len(memory) == 0 and memory.slots_written == 0  # nothing half-written
    with pytest.raises(ValueError, match="axis 0 or -1"):
        FrameReplayBuffer(50, (8,))



"""The conv variant: ConvDQNAgent, the frame replay memory, the Atari env helpers."""

import importlib.util
import re
import sys

import gymnasium as gym
import numpy as np
import pytest
from support import bar_env  # the synthetic frame env

import keras_dqn
from keras_dqn import ConvDQNAgent, FrameReplayBuffer, ReplayBuffer
from keras_dqn.envs.make import env_options
from keras_dqn.files.checkpoint import load_checkpoint, save_checkpoint

HAS_ALE = importlib.util.find_spec("ale_py") is not None and importlib.util.find_spec("cv2") is not None
needs_ale = pytest.mark.skipif(not HAS_ALE, reason="ale-py/opencv missing: pip install -e '.[atari]' to run this")


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


def test_checkpoint_restores_the_frame_memory(tmp_path):
    agent = ConvDQNAgent((4, 36, 36), 2, seed=0, memory_size=200)
    env = bar_env()
    obs, _ = env.reset(seed=0)
    for _ in range(60):
        action = agent.act(obs)
        next_obs, reward, terminated, truncated, _ = env.step(action)
        agent.remember(obs, action, reward, next_obs, terminated)
        obs = next_obs if not (terminated or truncated) else env.reset()[0]
    save_checkpoint(agent, tmp_path, {"steps": 60}, include_memory=True)
    other = ConvDQNAgent((4, 36, 36), 2, seed=1, memory_size=200)
    assert load_checkpoint(other, tmp_path) == {"steps": 60}
    assert len(other.memory) == len(agent.memory) == 60
    for i in (0, 30, -1):
        for mine, theirs in zip(agent.memory[i], other.memory[i], strict=True):
            np.testing.assert_array_equal(mine, theirs)
    small = ConvDQNAgent((4, 36, 36), 2, memory_size=100)
    with pytest.raises(ValueError, match="does not fit this agent's FrameReplayBuffer"):
        load_checkpoint(small, tmp_path)


# --- the agent ---------------------------------------------------------------------------


def test_conv_agent_network_and_defaults():
    agent = ConvDQNAgent((4, 84, 84), 6, seed=0)
    assert isinstance(agent, keras_dqn.TargetDQNAgent) and isinstance(agent.memory, FrameReplayBuffer)
    assert agent.model.input_shape == (None, 4, 84, 84) and agent.model.output_shape == (None, 6)
    assert agent.model.inputs[0].dtype == "uint8"
    convs = [layer for layer in agent.model.layers if "conv" in layer.name]
    assert [(c.filters, c.kernel_size, c.strides) for c in convs] == [(32, (8, 8), (4, 4)), (64, (4, 4), (2, 2)),
                                                                     (64, (3, 3), (1, 1))]  # fmt: skip
    assert agent.model.layers[-2].units == 512
    assert (agent.gamma, agent.learning_rate, agent.loss, agent.double) == (0.99, 1e-4, "huber", True)
    frames_last = ConvDQNAgent((84, 84, 4), 6, seed=0)
    assert isinstance(frames_last.memory, FrameReplayBuffer) and frames_last.memory.stack_axis == -1
    # the same pixels give the same Q-values whichever axis stacks them
    frames_last.model.set_weights(agent.model.get_weights())
    state = np.random.default_rng(0).integers(0, 256, (4, 84, 84), dtype=np.uint8)
    np.testing.assert_allclose(agent.q_values(state), frames_last.q_values(np.moveaxis(state, 0, -1)), rtol=1e-5)


def test_conv_agent_learns_the_synthetic_frame_env():
    """End to end with keras_dqn.train on a synthetic frame env: greedy play beats chance by far."""
    env = gym.vector.SyncVectorEnv([bar_env] * 4)
    eval_env = gym.vector.SyncVectorEnv([bar_env] * 4)
    agent = ConvDQNAgent(
        env.single_observation_space.shape, 2, seed=0, memory_size=2000, learning_rate=5e-4,
        target_update=50, epsilon_decay=0.98, gamma=0.5,
    )  # fmt: skip
    before = np.mean(keras_dqn.evaluate(agent, eval_env, 20, seed=123))
    history = keras_dqn.train(
        agent, env, 1600, train_every=4, learning_starts=200, eval_env=eval_env, eval_every=800, eval_episodes=8,
        progress=False, seed=0,
    )  # fmt: skip
    after = keras_dqn.evaluate(agent, eval_env, 20, seed=456)
    assert len(history.history["eval_mean"]) == 2
    assert np.mean(after) >= 7.0 > before + 1.0  # optimal 8, random 4
    assert np.isfinite(history.history["loss"]).all()


def test_save_and_load_round_trip(tmp_path):
    agent = ConvDQNAgent((4, 36, 36), 3, seed=0, dueling=True)
    agent.env_id = "ALE/Pong-v5"
    agent.save(tmp_path / "conv.h5")
    loaded = keras_dqn.load_agent(tmp_path / "conv.h5")
    assert type(loaded) is ConvDQNAgent and loaded.state_shape == (4, 36, 36) and loaded.dueling
    assert loaded.env_id == "ALE/Pong-v5"
    states = np.random.default_rng(1).integers(0, 256, (5, 4, 36, 36), dtype=np.uint8)
    np.testing.assert_allclose(loaded.q_values(states), agent.q_values(states), rtol=1e-6)
    np.testing.assert_allclose(loaded.target_model(states), agent.q_values(states), rtol=1e-5)
    wrong = ConvDQNAgent((4, 36, 36), 4)
    with pytest.raises(ValueError, match="q_values"):
        wrong.load(tmp_path / "conv.h5")


def test_bad_inputs_get_clear_errors():
    with pytest.raises(ValueError, match=r"image observations.*got \(4,\).*use DQNAgent"):
        ConvDQNAgent((4,), 2)
    with pytest.raises(ValueError, match="image observations"):
        ConvDQNAgent(4, 2)
    with pytest.raises(TypeError, match="Nature CNN"):
        ConvDQNAgent((4, 84, 84), 2, hidden=(64,))
    with pytest.raises(ValueError, match="at least 36x36"):
        ConvDQNAgent((4, 20, 20), 2)
    agent = ConvDQNAgent((4, 36, 36), 2)
    frames = np.zeros((4, 36, 36), np.uint8)
    with pytest.raises(ValueError, match="expected uint8 frames.*float"):
        agent.act(frames.astype(np.float32) / 255)
    with pytest.raises(ValueError, match=r"shape \(4, 36, 36\).*\(4, 84, 84\)"):
        agent.act(np.zeros((4, 84, 84), np.uint8))
    with pytest.raises(ValueError, match="expected uint8 frames"):
        agent.remember(frames.astype(np.float64), 0, 0.0, frames, False)
    with pytest.raises(ValueError, match="observations have shape"):
        keras_dqn.train(agent, gym.vector.SyncVectorEnv([lambda: bar_env(size=40)]), 10, progress=False,
                        eval_episodes=0)  # fmt: skip


# --- the Atari environment ---------------------------------------------------------------


@needs_ale
def test_real_pong_resets_and_steps_with_the_expected_shapes():
    env = keras_dqn.make_atari_env("Pong")
    obs, info = env.reset(seed=0)
    assert obs.shape == (4, 84, 84) and obs.dtype == np.uint8
    assert env.observation_space.shape == (4, 84, 84) and env.action_space.n == 6
    rewards = []
    for _ in range(300):
        obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        rewards.append(reward)
    assert obs.shape == (4, 84, 84) and obs.dtype == np.uint8 and not terminated
    assert set(rewards) <= {-1.0, 0.0, 1.0} and -1.0 in rewards  # the opponent scores on random play
    assert obs.std() > 0  # a real picture, not a blank one
    env.close()
    agent = ConvDQNAgent(env.observation_space.shape, env.action_space.n, seed=0)
    assert agent.act(obs) in range(6)
    eval_env = keras_dqn.make_atari_env("Pong", training=False)
    assert "ClipReward" not in str(eval_env) and "ClipReward" in str(env)


@needs_ale
def test_life_loss_ends_a_training_episode_but_not_the_game():
    env = keras_dqn.make_atari_env("Breakout")  # 5 lives; NOOP never hits the ball
    env.reset(seed=0)
    ale = env.unwrapped.ale
    lives = [ale.lives()]
    for _ in range(4):
        while not env.step(0)[2]:
            pass
        env.reset()
        lives.append(ale.lives())
    assert lives == [5, 4, 3, 2, 1]  # each reset went on with the same game
    # evaluation plays whole games, and FIRE after a lost life keeps a NOOP agent's game moving
    games = keras_dqn.make_atari_env("Breakout", training=False)
    games.reset(seed=0)
    steps, terminated, truncated = 0, False, False
    while not (terminated or truncated or steps == 5000):
        _, _, terminated, truncated, _ = games.step(0)
        steps += 1
    assert terminated and steps < 1000


@needs_ale
def test_max_episode_steps_counts_agent_steps():
    env = keras_dqn.make_atari_env("Pong", max_episode_steps=50, noop_max=0)
    env.reset(seed=0)
    steps, truncated = 1, False  # the FIRE pressed at reset is the episode's first step
    while not truncated:
        truncated = env.step(0)[3]
        steps += 1
    assert steps == 50


@needs_ale
def test_the_sticky_actions_protocol_is_recorded_with_the_weights(tmp_path):
    env = keras_dqn.make_atari_env("Pong", sticky_actions=0.25)
    assert env.unwrapped.ale.getFloat("repeat_action_probability") == 0.25
    assert env_options(env) == {"sticky_actions": 0.25}
    assert env_options(keras_dqn.make_atari_env("Pong")) == {}  # Nature-DQN's deterministic emulator
    envs = keras_dqn.make_atari_vector_env("Pong", 2, sticky_actions=0.25)
    agent = ConvDQNAgent(env.observation_space.shape, env.action_space.n, memory_size=100, seed=0)
    eval_env = keras_dqn.make_atari_vector_env("Pong", 1, training=False, sticky_actions=0.25)
    keras_dqn.train(agent, envs, 20, eval_env=eval_env, learning_starts=50, progress=False)
    assert agent.env_kwargs == {"sticky_actions": 0.25}
    agent.save(tmp_path / "pong.h5")
    assert keras_dqn.load_agent(tmp_path / "pong.h5").env_kwargs == {"sticky_actions": 0.25}  # evaluate's default


@needs_ale
def test_train_on_an_atari_env_needs_an_eval_env():
    env = keras_dqn.make_atari_env("Pong")
    agent = ConvDQNAgent(env.observation_space.shape, env.action_space.n, memory_size=100)
    with pytest.raises(ValueError, match="pass eval_env.*AtariPreprocessing.*training=False"):
        keras_dqn.train(agent, env, 100, progress=False)


def test_make_atari_env_without_the_extra_gives_a_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "ale_py", None)  # import ale_py now raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'keras_dqn\[atari\]'"):
        keras_dqn.make_atari_env("Pong")


@needs_ale
def test_atari_example_trains_resumes_plays_and_records(tmp_path, capsys):
    """examples/atari.py as a user runs it, on a tiny budget: train, --resume, --weights, --record."""
    import subprocess
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "examples" / "atari.py"
    small = ["--memory-size", "1000", "--learning-starts", "100", "--eval-every", "200", "--eval-games", "1",
             "--n-envs", "2", "--out", str(tmp_path / "run")]  # fmt: skip

    def run(*args: str) -> str:
        result = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr[-2000:]
        return result.stdout

    out = run("--steps", "200", *small)
    assert "step: 200" in out and "eval_mean: -21" in out  # an untrained agent loses every point
    assert (tmp_path / "run" / "checkpoint.npz").is_file() and (tmp_path / "run" / "pong-conv-dqn.h5").is_file()
    out = run("--steps", "400", "--resume", *small)
    assert "resuming from" in out and "at step 200" in out and "step: 400" in out
    assert "frames_per_s" in out
    rows = (tmp_path / "run" / "logs" / "progress.csv").read_text().splitlines()
    assert len(rows) == 3  # header + one row per evaluation, appended on resume

    from keras_dqn.cli.commands import main as cli

    assert cli(["evaluate", str(tmp_path / "run" / "last.h5"), "--episodes", "1"]) == 0  # the file knows its game
    assert "ALE/Pong-v5, 1 greedy episodes" in capsys.readouterr().out

    gif = tmp_path / "pong.gif"
    out = run("--weights", str(tmp_path / "run" / "last.h5"), "--episodes", "1", "--record", str(gif))
    mean = re.search(r"Pong: greedy evaluation over 1 games: mean (-?\d+\.\d)", out)
    assert mean and float(mean.group(1)) <= -15  # 400 agent steps of training: it still loses nearly every point
    assert f"to {gif}" in out and gif.stat().st_size > 10_000

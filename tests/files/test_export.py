"""agent.export: the greedy Q-network as ONNX, TFLite or a SavedModel, equal to the agent's Q-values."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import keras_dqn
from keras_dqn.files.export import export_format

ROOT = Path(__file__).resolve().parents[2]


def _states(agent, n: int = 6) -> np.ndarray:
    rng = np.random.default_rng(0)
    if agent.state_dtype == np.uint8:
        return rng.integers(0, 256, (n, *agent.state_shape), dtype=np.uint8)
    return rng.normal(size=(n, *agent.state_shape)).astype(np.float32)


def _onnx_q_values(path: Path, states: np.ndarray) -> np.ndarray:
    onnxruntime = pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")
    session = onnxruntime.InferenceSession(str(path))
    assert [i.name for i in session.get_inputs()] == ["states"]
    return session.run(None, {"states": states})[0]


@pytest.mark.parametrize("make_agent", [
    lambda: keras_dqn.load_agent(keras_dqn.weights_path("cartpole-target-dqn")),
    lambda: keras_dqn.RainbowAgent(4, 2, seed=0),  # noisy layers (mean weights) and C51 (expected values)
    lambda: keras_dqn.ConvDQNAgent((84, 84, 4), 6, seed=0),  # uint8 frames in
], ids=["target-dqn", "rainbow", "conv"])  # fmt: skip
def test_onnx_export_gives_the_agents_greedy_q_values(tmp_path, make_agent):
    pytest.importorskip("tf2onnx", reason="the onnx extra is not installed")
    agent = make_agent()
    states = _states(agent)
    path = agent.export(tmp_path / "q.onnx")
    assert path == tmp_path / "q.onnx" and sorted(os.listdir(tmp_path)) == ["q.onnx"]  # nothing else left behind
    exported = _onnx_q_values(path, states)
    expected = agent.q_values(states)
    assert exported.shape == expected.shape == (len(states), agent.action_size)
    np.testing.assert_allclose(exported, expected, rtol=1e-5, atol=1e-5)
    assert (exported.argmax(axis=1) == expected.argmax(axis=1)).all()


def test_savedmodel_and_tflite_exports_give_the_same_q_values(tmp_path):
    import tensorflow as tf

    agent = keras_dqn.load_agent(keras_dqn.weights_path("cartpole-target-dqn"))
    states = _states(agent)
    expected = agent.q_values(states)
    saved = tf.saved_model.load(str(agent.export(tmp_path / "saved")))
    np.testing.assert_allclose(saved.serve(states).numpy(), expected, rtol=1e-5, atol=1e-5)
    interpreter = tf.lite.Interpreter(str(agent.export(tmp_path / "q.tflite")))
    (inputs,), (outputs,) = interpreter.get_input_details(), interpreter.get_output_details()
    interpreter.resize_tensor_input(inputs["index"], states.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(inputs["index"], states)
    interpreter.invoke()
    np.testing.assert_allclose(interpreter.get_tensor(outputs["index"]), expected, rtol=1e-5, atol=1e-4)


def test_the_keras_rl_agent_exports_its_network(tmp_path):
    import keras

    from keras_dqn.rl import DQNAgent, EpsGreedyQPolicy, SequentialMemory

    model = keras.Sequential([keras.Input((1, 4)), keras.layers.Flatten(), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(2)])  # fmt: skip
    dqn = DQNAgent(model=model, nb_actions=2, memory=SequentialMemory(limit=100, window_length=1),
                   policy=EpsGreedyQPolicy(), nb_steps_warmup=10)  # fmt: skip
    dqn.compile(keras.optimizers.Adam(1e-3))
    states = _states(dqn.core)
    import tensorflow as tf

    loaded = tf.saved_model.load(str(dqn.export(tmp_path / "saved")))  # (kept: its functions need its variables)
    np.testing.assert_allclose(loaded.serve(states).numpy(), model(states).numpy(), rtol=1e-5, atol=1e-5)


def test_export_refuses_an_unknown_format_an_existing_savedmodel_and_non_finite_weights(tmp_path):
    agent = keras_dqn.DQNAgent(4, 2, seed=0)
    with pytest.raises(ValueError, match=r"NAME\.onnx.*NAME\.tflite.*SavedModel.*'\.pt'"):
        agent.export(tmp_path / "q.pt")
    assert export_format("q.ONNX") == "onnx" and export_format(tmp_path / "folder") == "tf_saved_model"
    existing = tmp_path / "saved"
    existing.mkdir()
    (existing / "mine.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="saved.*exists"):
        agent.export(existing)
    assert (existing / "mine.txt").read_text() == "keep me"
    good = agent.export(tmp_path / "q.tflite")
    before = good.read_bytes()
    weights = agent.model.get_weights()
    agent.model.set_weights([np.full_like(w, np.nan) for w in weights])
    with pytest.raises(ValueError, match="not all finite"):
        agent.export(good)
    assert good.read_bytes() == before  # the earlier export is untouched
    assert sorted(os.listdir(tmp_path)) == ["q.tflite", "saved"]


def test_onnx_export_without_the_extra_says_which_install_is_missing(tmp_path, monkeypatch):
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name == "tf2onnx" else real_find_spec(name, *args))  # fmt: skip
    with pytest.raises(ImportError, match=r"tf2onnx.*keras_dqn\[onnx\]"):
        keras_dqn.DQNAgent(4, 2, seed=0).export(tmp_path / "q.onnx")
    assert not (tmp_path / "q.onnx").exists()


def test_the_onnx_example_plays_cartpole_without_keras_dqn_or_tensorflow(tmp_path):
    pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")
    pytest.importorskip("tf2onnx", reason="the onnx extra is not installed")
    model = keras_dqn.load_agent(keras_dqn.weights_path("cartpole-target-dqn")).export(tmp_path / "cartpole.onnx")
    script = (
        "import runpy, sys; sys.argv = ['onnx_cartpole.py', '--model', sys.argv[1], '--episodes', '3'];"
        f"runpy.run_path({str(ROOT / 'examples' / 'onnx_cartpole.py')!r}, run_name='__main__');"
        "loaded = [m for m in ('keras_dqn', 'keras', 'tensorflow') if m in sys.modules];"
        "print('loaded:', loaded)"
    )
    run = subprocess.run([sys.executable, "-c", script, str(model)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "greedy mean over 3 episodes: 500.0" in run.stdout
    assert "loaded: []" in run.stdout

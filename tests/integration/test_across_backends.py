"""Files cross Keras backends: a shipped file scores and answers the same on TensorFlow, JAX and
PyTorch, and a checkpoint written on TensorFlow resumes on each (one process per backend:
Keras picks its backend once, at import)."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

PROBE = Path(__file__).with_name("backend_probe.py")
BACKENDS = [b for b in ("tensorflow", "jax", "torch") if importlib.util.find_spec(b) is not None]


def probe(backend: str, mode: str, folder: Path) -> dict:
    env = {**os.environ, "KERAS_BACKEND": backend}
    done = subprocess.run([sys.executable, str(PROBE), mode, str(folder)], env=env, capture_output=True, text=True,
                          timeout=600)  # fmt: skip
    assert done.returncode == 0, f"{backend} {mode} failed:\n{done.stderr[-3000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(len(BACKENDS) < 2, reason="install the jax or torch extra to compare backends")
def test_a_checkpoint_and_a_shipped_file_cross_backends(tmp_path):
    written = probe("tensorflow", "train", tmp_path / "run")
    assert written["backend"] == "tensorflow" and written["steps"] == 400 and written["train_steps"] > 0
    for backend in BACKENDS:
        folder = tmp_path / backend
        shutil.copytree(tmp_path / "run", folder)
        resumed = probe(backend, "resume", folder)
        assert resumed["backend"] == backend
        # every array of the TensorFlow checkpoint is restored as it was: weights, target, Adam's moments
        assert resumed["restored_weights_equal"] == {"model": True, "optimizer": True, "target": True}
        # and training goes on from where it stopped, with finite losses
        assert resumed["steps"] == 800 and resumed["train_steps"] > written["train_steps"]
        assert np.isfinite(resumed["loss"])
        # the shipped file: the same Q-values within float32 tolerance, and it balances the pole
        np.testing.assert_allclose(resumed["q_values"], written["q_values"], rtol=1e-5, atol=1e-5)
        assert resumed["score"] == written["score"] == 500.0


def test_a_backend_keras_dqn_cannot_train_on_is_refused_with_one_clear_error():
    env = {**os.environ, "KERAS_BACKEND": "numpy"}
    command = [sys.executable, "-c", "import keras_dqn; keras_dqn.DQNAgent(4, 2)"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    expected = "RuntimeError: keras_dqn trains on the Keras backends tensorflow, jax, torch; this Keras runs on 'numpy'"
    assert expected in done.stderr

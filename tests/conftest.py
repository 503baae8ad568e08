"""The suite on every Keras backend.

``pytest`` runs everything on the backend Keras is set to (TensorFlow by default);
``KERAS_BACKEND=jax pytest`` and ``KERAS_BACKEND=torch pytest`` run only the tests of what
differs between backends — the agents, their learning, replay and files — and skip those
marked ``tensorflow_only`` (XLA, ``tf.function``, TensorFlow's own workarounds).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import keras_dqn  # noqa: F401  (before Keras: it imports TensorFlow quietly, which the CLI tests' subprocesses inherit)


def _backend() -> str:
    import keras  # (here, after keras_dqn)

    return keras.backend.backend()


BACKEND = _backend()
TESTS = Path(__file__).parent
ON_EVERY_BACKEND = ("agents/", "learning/", "replay/", "rl/", "backends/", "files/test_checkpoint.py",
                    "files/test_weights.py")  # fmt: skip


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "tensorflow_only: tests TensorFlow itself (tf.function, XLA); skipped elsewhere")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if BACKEND == "tensorflow":
        return
    kept, dropped = [], []
    for item in items:
        where = Path(item.fspath).relative_to(TESTS).as_posix()
        every = where.startswith(ON_EVERY_BACKEND) and item.get_closest_marker("tensorflow_only") is None
        (kept if every else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = kept

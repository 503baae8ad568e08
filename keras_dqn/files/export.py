"""Exporting a Q-network for use outside Python training code: ONNX, a TensorFlow SavedModel, or
a TFLite (LiteRT) file, each picked by the destination's name.

The exported file needs neither keras_dqn nor Keras to run: ONNX Runtime reads ``.onnx`` files,
TensorFlow (``tf.saved_model.load``) or TensorFlow Serving a SavedModel folder, and the LiteRT
interpreter a ``.tflite`` file. ONNX export needs the ``onnx`` extra (``onnx``, ``tf2onnx``;
``onnxruntime`` to run it).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

import keras
import numpy as np

from keras_dqn.files.atomic import atomic_write

FORMATS = {".onnx": "onnx", ".tflite": "litert", "": "tf_saved_model"}
"""Destination suffix -> Keras export format (no suffix: a SavedModel folder)."""


def export_format(path: str | os.PathLike) -> str:
    """The Keras export format a destination's name asks for.

    Raises:
        ValueError: a suffix other than ``.onnx`` and ``.tflite`` (or none, for a SavedModel).
    """
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(
            f"cannot tell the export format from {str(path)!r}: name an ONNX file 'NAME.onnx', a TFLite file "
            f"'NAME.tflite', or a SavedModel folder without a suffix, got the suffix {suffix!r}"
        )
    return FORMATS[suffix]


def _check_onnx_installed() -> None:
    missing = [name for name in ("onnx", "tf2onnx") if importlib.util.find_spec(name) is None]
    if missing:
        raise ImportError(
            f"exporting to ONNX needs {' and '.join(missing)}: pip install 'keras_dqn[onnx]' "
            "(onnx, tf2onnx and onnxruntime)"
        )


# What Keras' model.export cannot write from a backend (ONNX from JAX needs the jax2onnx package,
# which Keras names itself when it is missing).
_NOT_ON_BACKEND = {("jax", "litert"), ("torch", "tf_saved_model")}


def export_model(model: keras.Model, path: str | os.PathLike) -> Path:
    """Write ``model`` (a built Keras model) for inference at ``path``, in the format its name says.

    Everything is written beside its destination first and renamed into place: a file
    (``.onnx``, ``.tflite``) replaces an existing one only once complete, as weights files do;
    a SavedModel folder never replaces anything (an existing ``path`` is refused).

    Args:
        model: the model to export (e.g. :func:`keras_dqn.networks.greedy.greedy_q_network`).
        path: ``NAME.onnx``, ``NAME.tflite`` or a folder name without a suffix (SavedModel).

    Returns:
        ``path``, as a ``Path``.

    Raises:
        ValueError: an unknown suffix, or weights that are not all finite (nothing is written).
        FileExistsError: a SavedModel destination that exists.
        ImportError: ONNX export without the ``onnx`` extra.
    """
    path = Path(path)
    format = export_format(path)  # noqa: A001 (Keras' own name for it)
    if not all(np.isfinite(w).all() for w in model.get_weights()):
        raise ValueError(f"refusing to export {str(path)!r}: the network's weights are not all finite (NaN or inf)")
    backend = keras.backend.backend()
    if (backend, format) in _NOT_ON_BACKEND:
        raise ValueError(
            f"Keras cannot export {format} from the {backend} backend; weights files cross backends, so save the "
            f"agent (agent.save('agent.h5')) and export it on TensorFlow: "
            f"KERAS_BACKEND=tensorflow keras-dqn export agent.h5 {path.name}"
        )
    if format == "onnx" and backend == "tensorflow":
        _check_onnx_installed()
    if format == "tf_saved_model" and path.exists():
        raise FileExistsError(f"{str(path)!r} exists: remove it, or export the SavedModel to another folder")
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{path.name}.", dir=path.parent) as staging:
        staged = Path(staging) / path.name  # the exporters want the destination's own suffix
        model.export(str(staged), format=format, verbose=False)
        if format == "tf_saved_model":
            os.replace(staged, path)  # a folder: renamed into place whole
            return path
        return atomic_write(path, lambda tmp: shutil.copyfile(staged, tmp))

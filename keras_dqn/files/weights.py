"""Weights-only HDF5 files: save, load, and the weights shipped with the package.

We write the classic Keras-2 ``.h5`` layout — root attribute ``layer_names``, one group per
layer with a ``weight_names`` attribute and one dataset per weight — because it is what the
blog's ``model.save_weights("cartpole-dqn.h5")`` produced.  So one reader handles our files
and the original tutorial's, plain ``keras.Model.load_weights`` reads ours too, and the user
may name the file anything (Keras 3's own ``save_weights`` insists on ``.weights.h5``).

Writes go through :func:`keras_dqn.files.atomic.atomic_write`, so a failure halfway never destroys a
file that was already there.
"""

from __future__ import annotations

import importlib.resources
import json
import os
from pathlib import Path
from typing import Any

import h5py
import keras
import numpy as np

from keras_dqn.files.atomic import atomic_write

CONFIG_ATTR = "keras_dqn_config"


def save_h5(model: keras.Model, path: str | os.PathLike, config: dict[str, Any] | None = None) -> Path:
    """Write ``model``'s weights to ``path`` (any name), atomically.

    Args:
        model: the model whose weights are saved.
        path: destination; parent folders are created.
        config: JSON-serialisable description stored as the ``keras_dqn_config`` attribute.

    Returns:
        The path written.

    Raises:
        OSError: the file could not be written (the message names ``path``); a file already
            at ``path`` is then left as it was.
    """

    def write(tmp: Path) -> None:
        with h5py.File(tmp, "w") as f:
            layers = [layer for layer in model.layers if layer.weights]
            f.attrs["layer_names"] = np.array([layer.name.encode() for layer in layers])
            f.attrs["backend"] = keras.backend.backend().encode()
            f.attrs["keras_version"] = keras.__version__.encode()
            if config is not None:
                f.attrs[CONFIG_ATTR] = json.dumps(config)
            for layer in layers:
                group = f.create_group(layer.name)
                names = [_weight_name(layer, w) for w in layer.weights]
                group.attrs["weight_names"] = np.array([n.encode() for n in names])
                for name, w in zip(names, layer.weights, strict=True):
                    group.create_dataset(name, data=np.asarray(w.numpy()))

    return atomic_write(path, write)


def _weight_name(layer: keras.Layer, weight: keras.Variable) -> str:
    """Keras-2 style name, unique inside its layer: ``dense/kernel:0``, ``q_values/value/kernel:0``."""
    start = weight.path.find(f"{layer.name}/")
    return (weight.path[start:] if start >= 0 else f"{layer.name}/{weight.name}") + ":0"


def read_h5(path: str | os.PathLike) -> tuple[list[tuple[str, list[np.ndarray]]], dict[str, Any] | None]:
    """Read a weights-only ``.h5`` file in the Keras-2 layout.

    Returns:
        ``([(layer_name, [arrays...]), ...], config)`` for the layers that have weights, in
        file order, and the ``keras_dqn_config`` attribute (``None`` in foreign files).

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: the file is not HDF5, not a weights file in that layout, or damaged
            (truncated, or a layer or weight it lists is missing); the message names the file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no weights file at {str(path)!r}")
    expected = "expected a weights .h5 file written by DQNAgent.save or Keras 2's model.save_weights"
    if not h5py.is_hdf5(path):
        raise ValueError(f"{str(path)!r} is not an HDF5 file; {expected}")
    try:
        with h5py.File(path, "r") as f:
            if "layer_names" not in f.attrs:
                raise ValueError(
                    f"{str(path)!r} is HDF5 but not a Keras weights file (no 'layer_names' attribute); {expected}"
                )
            layers = []
            for raw in f.attrs["layer_names"]:
                name = _text(raw)
                if name not in f:
                    raise ValueError(f"{str(path)!r} lists layer {name!r} but has no group for it; {expected}")
                group = f[name]
                weight_names = [_text(w) for w in group.attrs.get("weight_names", [])]
                missing = [w for w in weight_names if w not in group]
                if missing:
                    raise ValueError(f"{str(path)!r} lacks the weights {missing} of layer {name!r}; {expected}")
                if weight_names:
                    layers.append((name, [np.asarray(group[w]) for w in weight_names]))
            config = json.loads(f.attrs[CONFIG_ATTR]) if CONFIG_ATTR in f.attrs else None
    except (OSError, KeyError, TypeError, json.JSONDecodeError) as error:  # truncated or corrupt inside
        raise ValueError(f"{str(path)!r} is damaged (truncated or corrupt): {error}; {expected}") from error
    return layers, config


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw)


def load_h5(model: keras.Model, path: str | os.PathLike) -> dict[str, Any] | None:
    """Load weights from ``path`` into ``model``, matching layers with weights in order.

    Every shape is checked before anything is assigned, so a file that does not fit leaves
    the model untouched.

    Returns:
        The file's ``keras_dqn_config`` attribute, or ``None`` if it has none.

    Raises:
        FileNotFoundError, ValueError: see :func:`read_h5`; also ``ValueError`` naming the
        layer and both shapes when the file's weights do not fit ``model``.
    """
    file_layers, config = read_h5(path)
    model_layers = [layer for layer in model.layers if layer.weights]
    if len(file_layers) != len(model_layers):
        raise ValueError(
            f"{str(path)!r} holds weights for {len(file_layers)} layers "
            f"({', '.join(n for n, _ in file_layers)}), but the model has {len(model_layers)} "
            f"({', '.join(layer.name for layer in model_layers)})"
        )
    for (file_name, arrays), layer in zip(file_layers, model_layers, strict=True):
        expected = [tuple(w.shape) for w in layer.weights]
        got = [a.shape for a in arrays]
        if expected != got:
            raise ValueError(
                f"weights in {str(path)!r} do not fit the model: layer {layer.name!r} expects shapes "
                f"{expected}, the file's layer {file_name!r} has {got}"
            )
    for (_, arrays), layer in zip(file_layers, model_layers, strict=True):
        layer.set_weights(arrays)
    return config


def weights_path(name: str) -> Path:
    """Path of a pretrained weights file shipped with keras_dqn, e.g. ``"cartpole-dqn"``.

    Works from a source checkout and from an installed package (the repository's
    ``weights/`` folder is installed as the ``keras_dqn.pretrained`` package data).

    Raises:
        FileNotFoundError: no shipped file of that name; the message lists the ones there are.
    """
    filename = name if name.endswith(".h5") else f"{name}.h5"
    try:
        folder = Path(str(importlib.resources.files("keras_dqn.pretrained")))
    except ModuleNotFoundError:  # running from a checkout that was never pip-installed
        folder = Path(__file__).resolve().parent.parent / "weights"
    path = folder / filename
    if not path.is_file():
        available = sorted(p.stem for p in folder.glob("*.h5"))
        raise FileNotFoundError(f"no shipped weights named {name!r}; available: {', '.join(available) or 'none'}")
    return path

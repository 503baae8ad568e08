"""Keras callbacks for :func:`keras_dqn.train`'s log rows.

``train`` hands each log row to its callbacks as ``on_epoch_end(epoch, logs)``, the Keras
protocol, so Keras' own callbacks (``CSVLogger``, ``History``, ``LambdaCallback``) work
unchanged.  The two here put the x-axis where RL wants it: at ``logs["step"]``, the number
of environment steps so far, rather than at the row number.
"""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import keras
import tensorflow as tf

from keras_dqn.files.atomic import atomic_write


class CSVLogger(keras.callbacks.CSVLogger):
    """Keras' ``CSVLogger`` without the empty ``val_*`` columns, and safe to append to.

    Keras adds a ``val_`` twin of every column when a row has no validation metrics, which RL
    runs never have; this keeps exactly the row's own keys (sorted, as Keras does).  When a
    resumed run appends rows whose columns differ from the file's header (a newer keras_dqn
    logs a new column), Keras would write them under the wrong names; this rewrites the file
    once with every column (old rows get empty cells for the new ones), so no value lands
    under another column's name.
    """

    def on_epoch_end(self, epoch, logs=None):
        if self.keys is None and logs:
            self.keys = sorted(logs)
            if self.append and not self.append_header:  # appending under an existing header
                self.keys = self._merge_header(self.keys)
        logs = logs or {}
        super().on_epoch_end(epoch, {k: logs.get(k, "") for k in self.keys or ()})  # a missing value: empty

    def _merge_header(self, keys: list[str]) -> list[str]:
        """The file's columns followed by the new ones; rewrites the file if there are new ones."""
        self.csv_file.flush()
        with open(self.filename, newline="") as f:
            rows = list(csv.reader(f, delimiter=self.sep))
        header = rows[0]
        columns = [c for c in header if c != "epoch"]
        merged = columns + [k for k in keys if k not in columns]
        if merged != columns:
            self.csv_file.close()
            widths = len(merged) + 1

            def write(tmp: Path) -> None:
                with open(tmp, "w", newline="") as f:
                    writer = csv.writer(f, delimiter=self.sep)
                    writer.writerow(["epoch", *merged])
                    writer.writerows(row + [""] * (widths - len(row)) for row in rows[1:])

            atomic_write(Path(self.filename), write)
            self.csv_file = open(self.filename, "a", newline="")  # noqa: SIM115  (Keras closes it)
        return merged


class TensorBoardScalars(keras.callbacks.Callback):
    """Write every number in each log row as a TensorBoard scalar at ``logs["step"]``.

    Args:
        log_dir: folder for the event files (``tensorboard --logdir`` on it).
    """

    def __init__(self, log_dir: str | Path):
        super().__init__()
        self.log_dir = str(log_dir)
        self._writer = None

    def on_train_begin(self, logs=None):
        self._writer = tf.summary.create_file_writer(self.log_dir)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        step = int(logs.get("step", epoch))
        with self._writer.as_default():
            for name, value in logs.items():
                if name != "step" and isinstance(value, (int, float)):
                    tf.summary.scalar(name, value, step=step)
        self._writer.flush()

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()


class WandbLogger(keras.callbacks.Callback):
    """Send each log row to Weights & Biases (``wandb.log(logs, step=...)``).

    Needs ``pip install wandb`` and an initialised run (``wandb.init(...)``) or the
    arguments to start one; keras_dqn never requires wandb.
    """

    def __init__(self, **init_kwargs):
        super().__init__()
        if importlib.util.find_spec("wandb") is None:
            raise ImportError("WandbLogger needs wandb: pip install wandb")
        import wandb

        self.wandb = wandb
        self.init_kwargs = init_kwargs

    def on_train_begin(self, logs=None):
        if self.wandb.run is None:
            self.wandb.init(**self.init_kwargs)

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        self.wandb.log(logs, step=int(logs.get("step", epoch)))

"""bfloat16: :func:`build_nature_cnn` takes ``dtype_policy="mixed_bfloat16"`` to compute the
convolutions and the 512-unit layer in bfloat16 (half the memory traffic; fast on CPUs with
AVX512-BF16/AMX and on recent GPUs, see :func:`bf16_supported`) while the weights, the output
head and the softmax stay float32.

Whether it pays depends on the CPU and the Keras backend, not only on the instruction set
(``benchmarks/atari_throughput.py``: 1.27x faster for Pong DQN on TensorFlow on one Xeon with
AMX, slower on JAX's CPU build on the same machine, 25% slower on another CPU with the same
flags), so :func:`fastest_precision` times it where it runs.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Sequence

import keras
import numpy as np

BF16_MUST_SAVE = 0.10
""":func:`fastest_precision` picks bfloat16 only when a training step takes at least this
fraction less time than in float32: a smaller gain is within the timing noise and not worth
bfloat16's coarser arithmetic."""

_BF16_CPU_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


def _cpu_has_bf16(cpuinfo: str | os.PathLike = "/proc/cpuinfo") -> bool:
    """Whether the CPU flags in ``cpuinfo`` (Linux's format) include a bfloat16 instruction set."""
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "flags" and _BF16_CPU_FLAGS & set(value.split()):
                    return True
    except OSError:  # not Linux, or no /proc
        return False
    return False


def _gpu_runs_bf16() -> bool:
    """Whether TensorFlow sees a GPU that computes bfloat16 natively (compute capability 8.0+, or unknown)."""
    import tensorflow as tf

    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            capability = tf.config.experimental.get_device_details(gpu).get("compute_capability")
        except (RuntimeError, ValueError):
            capability = None
        if capability is None or tuple(capability) >= (8, 0):
            return True
    return False


def bf16_supported() -> bool:
    """Whether this machine runs bfloat16 fast enough for ``dtype_policy="mixed_bfloat16"`` to pay.

    True for a CPU with bfloat16 instructions (``avx512_bf16`` or ``amx_bf16`` among the flags
    of ``/proc/cpuinfo``, on Linux) or a GPU visible to TensorFlow that computes bfloat16
    natively (NVIDIA compute capability 8.0 and up, i.e. Ampere or later; a GPU that does not
    report one counts).  False elsewhere: there bfloat16 is emulated, slower than float32.
    """
    return _cpu_has_bf16() or _gpu_runs_bf16()


_measured: dict[tuple, tuple[str, dict[str, float]]] = {}  # what fastest_precision timed in this process


def fastest_precision(
    build: Callable[[str], keras.Model],
    input_shape: Sequence[int],
    *,
    input_dtype: str = "uint8",
    batch_size: int = 32,
    rounds: int = 3,
    steps: int = 4,
    cache_key: object = None,
) -> tuple[str, dict[str, float]]:
    """``"float32"`` or ``"mixed_bfloat16"``: the one that trains this network faster here.

    Where :func:`bf16_supported` says no, float32 without timing anything.  Else it builds the
    network in both precisions (``build(precision)``, a compiled model; throwaway copies, so
    the caller's own network is never trained) and times ``model.train_on_batch`` on random
    inputs, ``rounds`` alternating rounds of ``steps`` calls each after a warm-up call, on
    the Keras backend in use.  bfloat16 wins only if its median step is at least
    :data:`BF16_MUST_SAVE` faster.  A ``cache_key`` (anything hashable that says which
    network) keeps the answer for the rest of the process, so a seed study times it once.

    Args:
        build: makes the compiled model in the precision it is given (a Keras dtype policy name).
        input_shape: one input's shape, e.g. ``(4, 84, 84)``.
        input_dtype: the inputs' dtype (uint8 frames: random pixels).
        batch_size: the minibatch size timed.
        rounds: alternating rounds per precision; the median round counts.
        steps: training steps per round.
        cache_key: ``None`` (time it every call) or a key for this network's answer.

    Returns:
        The precision picked, and the median milliseconds a training step took per precision
        (empty when nothing was timed).
    """
    if not bf16_supported():
        return "float32", {}
    key = None if cache_key is None else (keras.backend.backend(), tuple(input_shape), input_dtype, batch_size,
                                          cache_key)  # fmt: skip
    if key in _measured:
        return _measured[key]
    rng = np.random.default_rng(0)
    if np.dtype(input_dtype) == np.uint8:
        inputs = rng.integers(0, 256, (batch_size, *input_shape), dtype=np.uint8)
    else:
        inputs = rng.standard_normal((batch_size, *input_shape)).astype(input_dtype)
    models, targets = {}, {}
    for precision in ("float32", "mixed_bfloat16"):
        models[precision] = model = build(precision)
        targets[precision] = np.zeros((batch_size, *model.output_shape[1:]), np.float32)
        model.train_on_batch(inputs, targets[precision])  # compiles (traces, jits) the step
    seconds: dict[str, list[float]] = {precision: [] for precision in models}
    for _ in range(rounds):
        for precision, model in models.items():
            start = time.perf_counter()
            for _ in range(steps):
                model.train_on_batch(inputs, targets[precision])
            seconds[precision].append((time.perf_counter() - start) / steps)
    timings = {precision: round(1000 * statistics.median(times), 2) for precision, times in seconds.items()}
    faster = timings["mixed_bfloat16"] <= (1 - BF16_MUST_SAVE) * timings["float32"]
    answer = ("mixed_bfloat16" if faster else "float32"), timings
    if key is not None:
        _measured[key] = answer
    return answer

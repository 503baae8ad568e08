"""bfloat16: :func:`build_nature_cnn` takes ``dtype_policy="mixed_bfloat16"`` to compute the
convolutions and the 512-unit layer in bfloat16 (half the memory traffic; fast on CPUs with
AVX512-BF16/AMX and on recent GPUs, see :func:`bf16_supported`) while the weights, the output
head and the softmax stay float32.
"""

from __future__ import annotations

import os

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

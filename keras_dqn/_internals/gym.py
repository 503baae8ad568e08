"""Every use of gymnasium's private internals, and why.  ``tests/test_internals.py`` fails,
saying which, if an upgrade moves one of them.

(:mod:`keras_dqn.files.env_state` reads envs' attributes generically, ``vars(env)``, private ones
among them: that is an env's state, and gymnasium has no public API for it.)
"""

from __future__ import annotations

import numpy as np
from gymnasium.vector import SyncVectorEnv


def can_set_autoreset_flags(envs) -> bool:
    """Whether :func:`set_autoreset_flags` works on ``envs``: a ``SyncVectorEnv`` of this gymnasium."""
    return isinstance(envs, SyncVectorEnv) and hasattr(envs, "_autoreset_envs")


def set_autoreset_flags(envs: SyncVectorEnv, flags: np.ndarray) -> None:
    """Tell a ``SyncVectorEnv`` which sub-envs' next step only resets them (NEXT_STEP autoreset).

    A resumed run continues the episodes in progress: the sub-envs whose episode had just ended
    when the checkpoint was written must reset on their next step, as they would have.  The
    flags are ``SyncVectorEnv._autoreset_envs``, which gymnasium sets only inside ``step`` and
    ``reset``.

    Raises:
        RuntimeError: this gymnasium's ``SyncVectorEnv`` has no ``_autoreset_envs``.
    """
    if not hasattr(envs, "_autoreset_envs"):
        raise RuntimeError(
            "this gymnasium's SyncVectorEnv has no _autoreset_envs, which keras_dqn sets to continue a checkpoint's "
            "episodes: keras_dqn needs an update for this gymnasium"
        )
    envs._autoreset_envs = np.array(flags, dtype=bool)

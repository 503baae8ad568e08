"""Honest statistics for runs over several seeds: the interquartile mean and bootstrap confidence intervals.

Deep RL results vary a lot from seed to seed: the same settings can solve CartPole on one
seed and collapse on the next.  The habit of training 3 seeds and reporting "mean ± std"
hides this twice over: the mean is dragged around by one lucky or unlucky run, and a
standard deviation of 3 numbers says almost nothing about where the true average lies.
Agarwal et al. (2021), "Deep Reinforcement Learning at the Edge of the Statistical
Precipice" (NeurIPS), recommend instead:

* the **interquartile mean** (IQM): sort the scores, drop the lowest and the highest
  quarter, average the middle half.  It is robust to a single outlier (unlike the mean) yet
  uses far more of the data than the median, so it settles down with fewer seeds;
* a **bootstrap confidence interval** around it: resample the seeds with replacement many
  times, recompute the statistic on each resample, and read off the middle 95% of those
  values.  It needs no assumption about the shape of the score distribution, and its width
  tells you honestly how little a handful of seeds can pin down;
* **how often** and **how fast** a task is solved, counting the seeds that never solved it
  instead of quietly leaving them out.

Those are :func:`interquartile_mean`, :func:`bootstrap_ci`, :func:`summarize_seeds` and (for
whole learning curves) :func:`mean_curve`.  They need SciPy, which comes with the ``ray``
extra (``pip install -e ".[ray]"``); it is imported only inside the functions that use it, so
``import keras_dqn`` works without it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import gymnasium as gym
import numpy as np

from keras_dqn.envs.atari import register_atari_envs
from keras_dqn.envs.make import is_atari

SCIPY_HINT = 'this needs SciPy, which comes with the ray extra: pip install -e ".[ray]"  (or pip install scipy)'


def _scipy_stats():
    try:
        import scipy.stats
    except ImportError:
        raise ImportError(SCIPY_HINT) from None
    return scipy.stats


def _check_scores(scores: Sequence[float], what: str = "scores") -> np.ndarray:
    """``scores`` as a 1-D float array, or one clear ``ValueError``."""
    try:
        array = np.asarray(scores, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a sequence of numbers, got {scores!r}") from None
    if array.ndim != 1:
        raise ValueError(f"{what} must be a flat sequence of numbers (one per seed), got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{what} is empty: there is nothing to summarize")
    if not np.all(np.isfinite(array)):
        raise ValueError(
            f"{what} must be finite numbers, got {array.tolist()} (a NaN usually means a run without a score)"
        )
    return array


def _check_confidence(confidence: float) -> float:
    if not isinstance(confidence, (int, float)) or not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be a level strictly between 0 and 1 (e.g. 0.95), got {confidence!r}")
    return float(confidence)


def _check_resamples(n_resamples: int) -> int:
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, (int, np.integer)) or n_resamples < 1:
        raise ValueError(f"n_resamples must be a positive whole number (e.g. 10_000), got {n_resamples!r}")
    return int(n_resamples)


def interquartile_mean(scores: Sequence[float]) -> float:
    """The mean of the middle 50% of ``scores``: the lowest and highest quarter are dropped.

    This is ``scipy.stats.trim_mean(scores, 0.25)``: with ``n`` scores it drops
    ``floor(n / 4)`` from each end, so with fewer than 4 scores it is the plain mean.  With 8
    seeds it averages the 3rd to the 6th best.  It sits between the mean (every seed, but one
    wild seed moves it a lot) and the median (robust, but it ignores all seeds but one or two).

    Args:
        scores: one score per seed, e.g. each run's final greedy evaluation mean.

    Returns:
        The interquartile mean, as a Python float.

    Raises:
        ValueError: ``scores`` is empty or holds NaN or infinite values.
        ImportError: SciPy is missing.
    """
    array = _check_scores(scores)
    return float(_scipy_stats().trim_mean(array, 0.25))


def _vectorized_iqm(sample: np.ndarray, axis: int = -1) -> np.ndarray:
    """The IQM along ``axis``, so SciPy's bootstrap can score all resamples in one call."""
    return _scipy_stats().trim_mean(sample, 0.25, axis=axis)


def bootstrap_ci(
    scores: Sequence[float],
    statistic: Callable[[np.ndarray], float] = interquartile_mean,
    confidence: float = 0.95,
    n_resamples: int = 10_000,
    seed: int | None = 0,
) -> tuple[float, float]:
    """A percentile bootstrap confidence interval for ``statistic(scores)``.

    The method: draw ``n_resamples`` new sets of scores, each as many as ``scores``, by
    picking seeds at random *with replacement* (so a resample may hold one seed twice and
    miss another); compute ``statistic`` on each; the interval runs from the
    ``(1 - confidence) / 2`` to the ``(1 + confidence) / 2`` quantile of those values (2.5%
    and 97.5% at 95%).  That is ``scipy.stats.bootstrap(..., method="percentile")``, the
    interval Agarwal et al. (2021) use.  (SciPy's default, BCa, corrects for bias but fails on
    resamples that are all equal, common with capped scores such as CartPole's 500.)

    The interval says how far the statistic could plausibly move if you ran the same number
    of new seeds: a wide one means "run more seeds before concluding anything".  With very
    few seeds (say 3) the bootstrap itself underestimates the width, which is one more reason
    to run more.

    Args:
        scores: one score per seed.
        statistic: what to compute on each resample; the IQM by default.  A function with an
            ``axis`` argument (``np.mean``, ``np.median``) is called once on all resamples.
        confidence: the coverage, strictly between 0 and 1.
        n_resamples: how many resamples to draw; more gives steadier interval ends.
        seed: seeds the resampling, so the same call gives the same interval (``None``:
            fresh randomness each call).

    Returns:
        ``(low, high)`` as Python floats.  With a single score there is nothing to resample:
        ``(score, score)``.

    Raises:
        ValueError: ``scores`` is empty or not finite, ``confidence`` is outside (0, 1), or
            ``n_resamples`` is not a positive whole number.
        ImportError: SciPy is missing.
    """
    array = _check_scores(scores)
    confidence = _check_confidence(confidence)
    n_resamples = _check_resamples(n_resamples)
    if array.size == 1:
        return float(array[0]), float(array[0])
    stats = _scipy_stats()
    if statistic is interquartile_mean:
        statistic, vectorized = _vectorized_iqm, True
    else:
        vectorized = None  # SciPy vectorizes when the statistic takes an `axis` argument
    result = stats.bootstrap(
        (array,),
        statistic,
        n_resamples=n_resamples,
        vectorized=vectorized,
        confidence_level=confidence,
        method="percentile",
        rng=np.random.default_rng(seed),
    )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def solved_score(env_id: str) -> float | None:
    """The score at which ``env_id`` counts as solved: its gymnasium ``reward_threshold``.

    For example CartPole-v1 475, Acrobot-v1 -100, MountainCar-v0 -110, LunarLander-v3 200.
    Many environments (Pendulum-v1, the Atari games) have none.

    Args:
        env_id: a registered gymnasium id; ALE ids (``ALE/Pong-v5``) register ale-py first.

    Returns:
        The threshold as a float, or ``None`` when the environment has none.

    Raises:
        ValueError: the id is not a string or is unknown to gymnasium.
        ImportError: an ALE id without the ``atari`` extra.
    """
    if not isinstance(env_id, str):
        raise ValueError(f"an env id must be a string such as 'CartPole-v1', got {env_id!r}")
    if is_atari(env_id):
        register_atari_envs()
    try:
        threshold = gym.spec(env_id).reward_threshold
    except gym.error.Error as exc:
        raise ValueError(f"unknown gymnasium environment {env_id!r}: {exc}") from exc
    return None if threshold is None else float(threshold)


def _times_to_solve(times: Sequence[float | None], n_seeds: int, name: str) -> np.ndarray:
    """``times`` as floats with ``inf`` for the seeds that never solved (``None``)."""
    if isinstance(times, (str, bytes)) or not isinstance(times, Sequence):
        raise ValueError(f"{name} must be a sequence with one entry (a number or None) per seed, got {times!r}")
    if len(times) != n_seeds:
        raise ValueError(f"{name} has {len(times)} entries but there are {n_seeds} final scores: give one per seed")
    out = np.empty(n_seeds)
    for i, value in enumerate(times):
        if value is None:
            out[i] = math.inf
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise ValueError(f"{name}[{i}] must be a number or None (never solved), got {value!r}")
        if math.isnan(value) or value < 0:
            raise ValueError(f"{name}[{i}] must be a number >= 0 or None (never solved), got {value!r}")
        out[i] = float(value)
    return out


def _median_or_none(times: np.ndarray) -> float | None:
    median = float(np.median(times))
    return None if math.isinf(median) else median


def summarize_seeds(
    final_scores: Sequence[float],
    *,
    solved_at: float | None,
    steps_to_solve: Sequence[float | None],
    seconds_to_solve: Sequence[float | None],
    confidence: float = 0.95,
    seed: int | None = 0,
    n_resamples: int = 10_000,
) -> dict:
    """Everything worth reporting about one setting trained on several seeds, as a JSON-able dict.

    The times to solve are medians over **all** seeds, the ones that never solved counting as
    infinitely slow.  Averaging only the seeds that solved would make a setting that solves
    1 seed in 10, quickly, look better than one that solves all 10 a little later.  When at
    least half the seeds never solved, the median is infinite and reported as ``None``: "most
    runs do not get there" is the honest answer.

    Args:
        final_scores: each seed's final score (e.g. its last greedy evaluation mean).
        solved_at: the score that counts as solved (see :func:`solved_score`), or ``None``
            when the task has none.
        steps_to_solve: for each seed, the env steps at which it first reached ``solved_at``,
            or ``None`` if it never did.
        seconds_to_solve: the same in wall-clock seconds; ``None`` for the same seeds.
        confidence: the coverage of the IQM's bootstrap interval, strictly between 0 and 1.
        seed: seeds the bootstrap (see :func:`bootstrap_ci`).
        n_resamples: bootstrap resamples.

    Returns:
        A dict of plain Python values: ``n_seeds``; ``iqm`` with its interval ``ci_low`` and
        ``ci_high`` at ``confidence``; ``mean``, ``median``, ``min``, ``max`` of the final
        scores; ``solved_at``; ``fraction_solved`` (the share of final scores
        ``>= solved_at``, ``None`` without a ``solved_at``); ``median_steps_to_solve`` and
        ``median_seconds_to_solve`` (``None`` when at least half never solved);
        ``n_solved_ever`` (seeds that reached ``solved_at`` at some point, even if they lost
        it again by the end).

    Raises:
        ValueError: ``final_scores`` is empty or not finite; ``steps_to_solve`` or
            ``seconds_to_solve`` does not have one entry per seed, holds something other
            than a number >= 0 or ``None``, or the two disagree on which seeds solved;
            ``confidence`` is outside (0, 1).
        ImportError: SciPy is missing.
    """
    scores = _check_scores(final_scores, "final_scores")
    confidence = _check_confidence(confidence)
    if solved_at is not None:
        if isinstance(solved_at, bool) or not isinstance(solved_at, (int, float, np.integer, np.floating)):
            raise ValueError(f"solved_at must be a number or None, got {solved_at!r}")
        if not math.isfinite(solved_at):
            raise ValueError(f"solved_at must be a finite number or None, got {solved_at!r}")
        solved_at = float(solved_at)
    steps = _times_to_solve(steps_to_solve, scores.size, "steps_to_solve")
    seconds = _times_to_solve(seconds_to_solve, scores.size, "seconds_to_solve")
    disagree = np.flatnonzero(np.isinf(steps) != np.isinf(seconds))
    if disagree.size:
        i = int(disagree[0])
        raise ValueError(
            f"steps_to_solve and seconds_to_solve disagree on whether seed {i} solved "
            f"({steps_to_solve[i]!r} vs {seconds_to_solve[i]!r}): both are None for a seed that never solved"
        )
    low, high = bootstrap_ci(scores, confidence=confidence, n_resamples=n_resamples, seed=seed)
    return {
        "n_seeds": int(scores.size),
        "iqm": interquartile_mean(scores),
        "ci_low": low,
        "ci_high": high,
        "confidence": confidence,
        "mean": float(np.mean(scores)),
        "median": float(np.median(scores)),
        "min": float(np.min(scores)),
        "max": float(np.max(scores)),
        "solved_at": solved_at,
        "fraction_solved": None if solved_at is None else float(np.mean(scores >= solved_at)),
        "median_steps_to_solve": _median_or_none(steps),
        "median_seconds_to_solve": _median_or_none(seconds),
        "n_solved_ever": int(np.sum(np.isfinite(steps))),
    }


def _check_curve(curve, i: int) -> tuple[np.ndarray, np.ndarray]:
    """Curve ``i`` as ``(steps, values)`` float arrays without its NaN values."""
    try:
        steps, values = curve
        steps = np.asarray(steps, dtype=float)
        values = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"curve {i} must be a pair (steps, values) of number sequences, got {curve!r}") from None
    if steps.ndim != 1 or values.ndim != 1:
        raise ValueError(
            f"curve {i}: steps and values must be flat sequences, got shapes {steps.shape} and {values.shape}"
        )
    if steps.size != values.size:
        raise ValueError(f"curve {i} has {steps.size} steps but {values.size} values: give one value per step")
    if not np.all(np.isfinite(steps)):
        raise ValueError(f"curve {i}'s steps must be finite numbers, got {steps.tolist()}")
    if np.any(np.diff(steps) < 0):
        raise ValueError(f"curve {i}'s steps must not decrease, got {steps.tolist()}")
    if np.any(np.isinf(values)):
        raise ValueError(f"curve {i}'s values must be finite (NaN marks a row without a value), got {values.tolist()}")
    kept = ~np.isnan(values)
    if not kept.any():
        raise ValueError(f"curve {i} has no points (no step with a value)")
    return steps[kept], values[kept]


def mean_curve(
    curves: Sequence[tuple[Sequence[float], Sequence[float]]],
    *,
    points: int = 50,
    confidence: float = 0.95,
    seed: int | None = 0,
    n_resamples: int = 10_000,
) -> dict:
    """The mean learning curve of several seeds, with a bootstrap confidence band.

    Seeds rarely log at the same steps, so each curve is first interpolated linearly
    (``np.interp``) onto a common grid of ``points`` steps from 0 to the last step of the
    shortest curve (no seed is extrapolated past its end); before a curve's first point its
    first value is used.  At every grid step the band is a percentile bootstrap interval of
    the mean across seeds (see :func:`bootstrap_ci`), with the same resampled seeds at every
    step, so the band shows how much the whole curve could move with other seeds.

    Args:
        curves: one ``(steps, values)`` pair per seed, e.g. each log row's ``step`` and
            greedy ``eval_mean``.  Steps must not decrease; NaN values (rows without an
            evaluation) are skipped.
        points: how many grid steps, at least 2.
        confidence: the band's coverage, strictly between 0 and 1.
        seed: seeds the resampling.
        n_resamples: bootstrap resamples.

    Returns:
        ``{"steps": [...], "mean": [...], "low": [...], "high": [...]}``, lists of ``points``
        floats.  With one seed the band is the curve itself.

    Raises:
        ValueError: no curves, a curve whose steps and values differ in length, with
            decreasing steps, or without any value; a shortest curve that ends at step 0 or
            before; ``points`` below 2; ``confidence`` outside (0, 1).
    """
    if isinstance(curves, (str, bytes)) or not isinstance(curves, Sequence) or len(curves) == 0:
        raise ValueError(f"curves must be a non-empty sequence of (steps, values) pairs, one per seed, got {curves!r}")
    if isinstance(points, bool) or not isinstance(points, (int, np.integer)) or points < 2:
        raise ValueError(f"points must be a whole number >= 2, got {points!r}")
    confidence = _check_confidence(confidence)
    n_resamples = _check_resamples(n_resamples)
    checked = [_check_curve(curve, i) for i, curve in enumerate(curves)]
    end = min(steps[-1] for steps, _ in checked)
    if end <= 0:
        raise ValueError(f"the shortest curve ends at step {end:g}: the common grid 0..{end:g} would be empty")
    grid = np.linspace(0.0, end, int(points))
    values = np.stack([np.interp(grid, steps, vals) for steps, vals in checked])  # (seeds, points)
    mean = values.mean(axis=0)
    n_seeds = values.shape[0]
    if n_seeds == 1:
        low = high = mean
    else:
        rng = np.random.default_rng(seed)
        picks = rng.integers(0, n_seeds, size=(n_resamples, n_seeds))  # seed indices of each resample
        counts = np.zeros((n_resamples, n_seeds))
        np.add.at(counts, (np.arange(n_resamples)[:, None], picks), 1.0)  # how often each seed was picked
        resampled_means = counts @ values / n_seeds  # (resamples, points)
        low, high = np.quantile(resampled_means, [(1 - confidence) / 2, (1 + confidence) / 2], axis=0)
    return {
        "steps": grid.tolist(),
        "mean": mean.tolist(),
        "low": np.asarray(low).tolist(),
        "high": np.asarray(high).tolist(),
    }

"""Many runs, and what to conclude from them.

* :mod:`~keras_dqn.experiments.sweeps`: :func:`sweep`, hyperparameter search on Ray Tune;
* :mod:`~keras_dqn.experiments.seed_studies`: :func:`seeds`, one recipe over many seeds;
* :mod:`~keras_dqn.experiments.ray_jobs`: what both share (the trial, Ray, progress, results);
* :mod:`~keras_dqn.experiments.stats`: IQM, bootstrap intervals, seed summaries (SciPy);
* :mod:`~keras_dqn.experiments.plots`: learning curves, Q-value plots, recordings (matplotlib).

``sweep`` and ``seeds`` need the ``ray`` extra; they are imported (and Ray with them) only when
asked for: ``from keras_dqn.experiments import sweep``.
"""

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "sweep":
        from keras_dqn.experiments.sweeps import sweep

        return sweep
    if name == "seeds":
        from keras_dqn.experiments.seed_studies import seeds

        return seeds
    raise AttributeError(f"module 'keras_dqn.experiments' has no attribute {name!r}")

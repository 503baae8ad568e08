"""Honest statistics over seeds (IQM, bootstrap intervals, times to solve, mean curves) and their plots."""

import importlib.util
import json
import sys

import numpy as np
import pytest

pytest.importorskip("scipy")  # the ray extra

import keras_dqn.experiments.stats as statistics_module  # noqa: E402
from keras_dqn.experiments.stats import (  # noqa: E402
    bootstrap_ci,
    interquartile_mean,
    mean_curve,
    solved_score,
    summarize_seeds,
)

# --- interquartile mean -------------------------------------------------------------------


def test_iqm_of_eight_scores_averages_the_middle_four():
    scores = [100.0, 3.0, 1.0, 7.0, 5.0, 2.0, 6.0, 4.0]  # sorted: 1 2 | 3 4 5 6 | 7 100
    assert interquartile_mean(scores) == pytest.approx((3 + 4 + 5 + 6) / 4)
    assert np.mean(scores) == pytest.approx(16.0)  # the one wild seed drags the mean far away


def test_iqm_of_few_scores():
    assert interquartile_mean([1.0, 2.0, 9.0]) == pytest.approx(4.0)  # fewer than 4: nothing dropped
    assert interquartile_mean([0.0, 1.0, 2.0, 3.0, 50.0]) == pytest.approx(2.0)  # one dropped at each end
    assert interquartile_mean([7]) == 7.0 and isinstance(interquartile_mean(np.array([7])), float)


# --- bootstrap intervals ------------------------------------------------------------------


def test_bootstrap_ci_contains_the_iqm_and_narrows_with_more_seeds():
    rng = np.random.default_rng(1)
    few, many = rng.normal(200, 50, size=5), rng.normal(200, 50, size=80)
    low_few, high_few = bootstrap_ci(few)
    low_many, high_many = bootstrap_ci(many)
    assert low_few <= interquartile_mean(few) <= high_few
    assert low_many <= interquartile_mean(many) <= high_many
    assert high_many - low_many < 0.6 * (high_few - low_few)
    assert bootstrap_ci(many, confidence=0.5)[1] - bootstrap_ci(many, confidence=0.5)[0] < high_many - low_many


def test_bootstrap_ci_is_reproducible_for_a_seed():
    scores = np.random.default_rng(0).normal(200, 50, size=10)
    first = bootstrap_ci(scores, seed=3)
    assert bootstrap_ci(scores, seed=3) == first
    assert bootstrap_ci(scores, seed=4) != first
    assert all(isinstance(end, float) for end in first)


def test_bootstrap_ci_single_score_and_equal_scores():
    assert bootstrap_ci([42.0]) == (42.0, 42.0)
    assert bootstrap_ci([500.0, 500.0, 500.0]) == (500.0, 500.0)  # a capped score on every seed


def test_bootstrap_ci_other_statistics():
    scores = [1.0, 2.0, 3.0, 4.0, 10.0]
    low, high = bootstrap_ci(scores, statistic=np.mean, n_resamples=2000)  # vectorized (has `axis`)
    assert low <= 4.0 <= high and 1.0 <= low and high <= 10.0
    low, high = bootstrap_ci(scores, statistic=lambda x: float(np.max(x)), n_resamples=500)  # one call per resample
    assert 1.0 <= low <= high == 10.0


# --- solved scores ------------------------------------------------------------------------


def test_solved_score():
    assert solved_score("CartPole-v1") == 475.0
    assert solved_score("Acrobot-v1") == -100.0
    assert solved_score("Pendulum-v1") is None  # no threshold in gymnasium's registry
    with pytest.raises(ValueError, match="NoSuchEnv-v0"):
        solved_score("NoSuchEnv-v0")
    with pytest.raises(ValueError, match="string"):
        solved_score(475)


def test_solved_score_atari():
    pytest.importorskip("ale_py")
    assert solved_score("ALE/Pong-v5") is None


# --- summarize_seeds ----------------------------------------------------------------------


def test_summarize_seeds_on_a_hand_table():
    #         seed:     0       1       2 (solved, then collapsed)   3       4 (never)
    final = [500.0, 480.0, 200.0, 500.0, 30.0]
    steps = [10_000, 20_000, 15_000, 40_000, None]
    seconds = [5.0, 12.0, 8.0, 30.0, None]
    summary = summarize_seeds(final, solved_at=475.0, steps_to_solve=steps, seconds_to_solve=seconds)
    assert summary["n_seeds"] == 5
    assert summary["iqm"] == pytest.approx((200 + 480 + 500) / 3)  # sorted 30 | 200 480 500 | 500
    assert summary["ci_low"] <= summary["iqm"] <= summary["ci_high"]
    assert summary["confidence"] == 0.95
    assert (summary["mean"], summary["median"], summary["min"], summary["max"]) == (342.0, 480.0, 30.0, 500.0)
    assert summary["solved_at"] == 475.0
    assert summary["fraction_solved"] == pytest.approx(3 / 5)  # 500, 480, 500 at the end
    assert summary["n_solved_ever"] == 4
    assert summary["median_steps_to_solve"] == 20_000.0  # of 10k 15k 20k 40k inf
    assert summary["median_seconds_to_solve"] == 12.0  # of 5 8 12 30 inf
    assert json.loads(json.dumps(summary)) == summary  # plain JSON values only
    assert set(summary) == {
        "n_seeds", "iqm", "ci_low", "ci_high", "confidence", "mean", "median", "min", "max",
        "solved_at", "fraction_solved", "median_steps_to_solve", "median_seconds_to_solve", "n_solved_ever",
    }  # fmt: skip


def test_summarize_seeds_when_most_never_solved_and_without_a_threshold():
    summary = summarize_seeds(
        [480.0, 20.0, 35.0], solved_at=475, steps_to_solve=[3000, None, None], seconds_to_solve=[2.5, None, None]
    )
    assert summary["median_steps_to_solve"] is None and summary["median_seconds_to_solve"] is None
    assert summary["n_solved_ever"] == 1 and summary["fraction_solved"] == pytest.approx(1 / 3)
    half = summarize_seeds(
        [1.0, 2.0, 3.0, 4.0], solved_at=2, steps_to_solve=[10, 20, None, None], seconds_to_solve=[1, 2, None, None]
    )
    assert half["median_steps_to_solve"] is None  # the median of 10, 20, inf, inf is inf
    none = summarize_seeds([-120.0, -90.0], solved_at=None, steps_to_solve=[None, None], seconds_to_solve=[None, None])
    assert none["fraction_solved"] is None and none["solved_at"] is None and none["n_solved_ever"] == 0
    assert json.loads(json.dumps(none)) == none


# --- mean curves --------------------------------------------------------------------------


def test_mean_curve_on_different_grids_against_a_hand_interpolation():
    a = ([0, 100, 200], [0.0, 10.0, 20.0])
    b = ([50, 150], [5.0, 25.0])  # starts late (its first value before step 50) and ends first
    curve = mean_curve([a, b], points=4)
    assert set(curve) == {"steps", "mean", "low", "high"}
    assert curve["steps"] == [0.0, 50.0, 100.0, 150.0]  # 0 .. the shortest curve's last step
    # a at 0, 50, 100, 150: 0, 5, 10, 15; b: 5, 5, 15, 25
    assert curve["mean"] == pytest.approx([2.5, 5.0, 12.5, 20.0])
    assert curve["low"][1] == pytest.approx(5.0) and curve["high"][1] == pytest.approx(5.0)  # both seeds agree
    seed_values = [(0, 5), (5, 5), (10, 15), (15, 25)]
    for low, mean, high, values in zip(curve["low"], curve["mean"], curve["high"], seed_values, strict=True):
        assert min(values) - 1e-9 <= low <= mean + 1e-9 and mean - 1e-9 <= high <= max(values) + 1e-9
    assert curve["low"][3] < curve["high"][3]
    assert mean_curve([a, b], points=4, seed=1) == mean_curve([a, b], points=4, seed=1)
    assert json.loads(json.dumps(curve)) == curve


def test_mean_curve_band_matches_a_per_point_bootstrap():
    rng = np.random.default_rng(0)
    steps = np.arange(0, 1001, 100)
    curves = [(steps, rng.normal(100, 30, size=steps.size)) for _ in range(6)]
    curve = mean_curve(curves, points=11)
    assert curve["steps"] == pytest.approx(steps.tolist())
    for i in (0, 5, 10):
        column = [values[i] for _, values in curves]
        low, high = bootstrap_ci(column, statistic=np.mean)
        spread = max(column) - min(column)
        assert curve["low"][i] == pytest.approx(low, abs=0.05 * spread)
        assert curve["high"][i] == pytest.approx(high, abs=0.05 * spread)


def test_mean_curve_skips_rows_without_a_value_and_one_seed_is_its_own_band():
    curve = mean_curve([([0, 10, 20], [1.0, float("nan"), 3.0])], points=3)
    assert curve["mean"] == pytest.approx([1.0, 2.0, 3.0])
    assert curve["low"] == curve["mean"] == curve["high"]


# --- bad inputs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "scores, match",
    [([], "empty"), ([1.0, float("nan")], "finite"), ([1.0, float("inf")], "finite"), ([[1.0, 2.0]], "flat")],
)
def test_bad_scores(scores, match):
    with pytest.raises(ValueError, match=match):
        interquartile_mean(scores)
    with pytest.raises(ValueError, match=match):
        bootstrap_ci(scores)
    with pytest.raises(ValueError, match=match):
        summarize_seeds(scores, solved_at=None, steps_to_solve=[None], seconds_to_solve=[None])


@pytest.mark.parametrize("confidence", [0, 1, 1.5, -0.1, 95])
def test_bad_confidence(confidence):
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_ci([1.0, 2.0], confidence=confidence)
    with pytest.raises(ValueError, match="confidence"):
        summarize_seeds([1.0], solved_at=None, steps_to_solve=[None], seconds_to_solve=[None], confidence=confidence)
    with pytest.raises(ValueError, match="confidence"):
        mean_curve([([0, 1], [0.0, 1.0])], confidence=confidence)


def test_bad_times_to_solve():
    with pytest.raises(ValueError, match="steps_to_solve has 1 entries but there are 2"):
        summarize_seeds([1.0, 2.0], solved_at=1, steps_to_solve=[5], seconds_to_solve=[1.0, None])
    with pytest.raises(ValueError, match="seconds_to_solve has 3 entries"):
        summarize_seeds([1.0, 2.0], solved_at=1, steps_to_solve=[5, None], seconds_to_solve=[1.0, None, None])
    with pytest.raises(ValueError, match="disagree on whether seed 1"):
        summarize_seeds([1.0, 2.0], solved_at=1, steps_to_solve=[5, None], seconds_to_solve=[1.0, 2.0])
    with pytest.raises(ValueError, match=r"steps_to_solve\[0\]"):
        summarize_seeds([1.0], solved_at=1, steps_to_solve=[float("nan")], seconds_to_solve=[None])
    with pytest.raises(ValueError, match="solved_at"):
        summarize_seeds([1.0], solved_at=float("nan"), steps_to_solve=[None], seconds_to_solve=[None])


@pytest.mark.parametrize(
    "curves, kwargs, match",
    [
        ([], {}, "non-empty"),
        ([([0, 1, 2], [0.0, 1.0])], {}, "3 steps but 2 values"),
        ([([], [])], {}, "no points"),
        ([([0, 1], [float("nan"), float("nan")])], {}, "no points"),
        ([([0, 2, 1], [0.0, 1.0, 2.0])], {}, "must not decrease"),
        ([([0, 5], [0.0, 1.0]), ([0], [3.0])], {}, "ends at step 0"),
        ([([0, 1], [0.0, 1.0])], {"points": 1}, "points"),
    ],
)
def test_bad_curves(curves, kwargs, match):
    with pytest.raises(ValueError, match=match):
        mean_curve(curves, **kwargs)


def test_missing_scipy_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy", None)  # `import scipy` now raises ImportError
    monkeypatch.setitem(sys.modules, "scipy.stats", None)
    with pytest.raises(ImportError, match=r'pip install -e "\.\[ray\]"'):
        interquartile_mean([1.0, 2.0])
    # a fresh copy of the module imports fine without SciPy: only the functions need it
    spec = importlib.util.spec_from_file_location("statistics_without_scipy", statistics_module.__file__)
    fresh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fresh)
    assert fresh.solved_score("CartPole-v1") == 475.0
    assert fresh.mean_curve([([0, 1], [0.0, 1.0])], points=2)["mean"] == [0.0, 1.0]


# --- plots --------------------------------------------------------------------------------


@pytest.fixture
def kept_figures(monkeypatch):
    """The figures the plot functions close, kept open to look at (closed after the test)."""
    plt = pytest.importorskip("matplotlib.pyplot")
    close, kept = plt.close, []
    monkeypatch.setattr(plt, "close", kept.append)
    yield kept
    for fig in kept:
        close(fig)


def is_png(path):
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 1000


def test_plot_mean_curve_draws_the_band(tmp_path, kept_figures):
    from matplotlib.collections import PolyCollection

    from keras_dqn.experiments.plots import plot_mean_curve

    seeds = [([0, 100, 200], [0.0, 10.0, 20.0]), ([50, 150, 250], [5.0, float("nan"), 25.0])]
    curve = mean_curve(seeds, points=5)
    path = plot_mean_curve(curve, tmp_path / "plots" / "mean.png", title="CartPole", target=15.0, per_seed=seeds)
    assert path == tmp_path / "plots" / "mean.png" and is_png(path)
    assert [p.name for p in path.parent.iterdir()] == ["mean.png"]  # no temporary file left behind
    (fig,) = kept_figures
    (ax,) = fig.axes
    (band,) = [c for c in ax.collections if isinstance(c, PolyCollection)]
    ys = np.concatenate([p.vertices[:, 1] for p in band.get_paths()])
    assert ys.min() == pytest.approx(min(curve["low"])) and ys.max() == pytest.approx(max(curve["high"]))
    assert len(ax.lines) == 2 + 1 + 1  # two seeds, the mean, the target
    (target,) = [line for line in ax.lines if line.get_linestyle() == "--"]
    assert set(target.get_ydata()) == {15.0}
    assert ax.get_title() == "CartPole" and ax.get_ylabel() == "greedy evaluation mean"


def test_plot_mean_curve_without_extras(tmp_path, kept_figures):
    from keras_dqn.experiments.plots import plot_mean_curve

    path = plot_mean_curve(mean_curve([([0, 10], [1.0, 2.0])]), tmp_path / "m.png", title="t", ylabel="return")
    assert is_png(path)
    (ax,) = kept_figures[0].axes
    assert len(ax.lines) == 1 and ax.get_ylabel() == "return"


def test_plot_trial_curves_emphasizes_the_best(tmp_path, kept_figures):
    from keras_dqn.experiments.plots import plot_trial_curves

    trials = {f"trial_{i}": ([0, 500, 1000], [10.0 * i, 20.0 * i, float("nan")]) for i in range(3)}
    path = plot_trial_curves(trials, tmp_path / "trials.png", title="sweep", best="trial_2")
    assert is_png(path)
    (ax,) = kept_figures[0].axes
    assert len(ax.lines) == 3
    widest = max(ax.lines, key=lambda line: line.get_linewidth())
    assert widest.get_label() == "trial_2 (best)"
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["trial_0", "trial_1", "trial_2 (best)"]


def test_plot_many_trials_puts_the_legend_outside(tmp_path, kept_figures):
    from keras_dqn.experiments.plots import plot_trial_curves

    trials = {f"t{i:02d}": ([0, 100], [0.0, float(i)]) for i in range(20)}
    assert is_png(plot_trial_curves(trials, tmp_path / "many.png", title="20 trials"))
    legend = kept_figures[0].axes[0].get_legend()
    assert len(legend.get_texts()) == 20
    assert legend.get_bbox_to_anchor().x0 > kept_figures[0].axes[0].get_window_extent().x1  # right of the plot


def test_plot_bad_inputs(tmp_path, kept_figures):
    from keras_dqn.experiments.plots import plot_mean_curve, plot_trial_curves

    curve = mean_curve([([0, 10], [1.0, 2.0])], points=3)
    with pytest.raises(ValueError, match=r"\.png"):
        plot_mean_curve(curve, tmp_path / "m.svg", title="t")
    with pytest.raises(ValueError, match="missing"):
        plot_mean_curve({"steps": [0]}, tmp_path / "m.png", title="t")
    with pytest.raises(ValueError, match="one length"):
        plot_mean_curve({**curve, "low": [0.0]}, tmp_path / "m.png", title="t")
    with pytest.raises(ValueError, match="empty"):
        plot_trial_curves({}, tmp_path / "t.png", title="t")
    with pytest.raises(ValueError, match="best='nope'"):
        plot_trial_curves({"a": ([0, 1], [0.0, 1.0])}, tmp_path / "t.png", title="t", best="nope")
    with pytest.raises(ValueError, match="pair"):
        plot_trial_curves({"a": [0.0, 1.0, 2.0]}, tmp_path / "t.png", title="t")
    assert not list(tmp_path.iterdir())  # nothing written
    assert len(kept_figures) == 5  # a figure made before a bad input was found is closed too

"""Pictures of learning: learning curves, Q-values over an episode, recordings of play.

Needs the ``viz`` extra (``pip install -e ".[viz]"``): matplotlib for plots, imageio (with
imageio-ffmpeg for MP4) for recordings, and pygame, which gymnasium uses to draw CartPole.
"""

from __future__ import annotations

import csv
import importlib.util
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.wrappers import RenderCollection

from keras_dqn.envs.make import is_atari, make_env
from keras_dqn.training.evaluation import play_episode


def _require(module: str, package: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise ImportError(f"this needs {package}: pip install {package}  (or the extra: pip install 'keras_dqn[viz]')")


def _pyplot():
    _require("matplotlib", "matplotlib")
    import matplotlib

    matplotlib.use("Agg")  # files only, no window
    import matplotlib.pyplot as plt

    return plt


def _progress_rows(log_dir_or_csv: str | os.PathLike) -> tuple[Path, list[dict[str, str]]]:
    """The rows of a run's ``progress.csv`` (given the file or the log folder holding it)."""
    path = Path(log_dir_or_csv)
    csv_path = path if path.suffix == ".csv" else path / "progress.csv"
    if not csv_path.is_file():
        raise FileNotFoundError(f"no progress.csv in {str(path)!r}; train with log_dir={str(path)!r} first")
    with open(csv_path) as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError(f"{str(csv_path)!r} has no rows yet")
    return csv_path, rows


def run_label(log_dir_or_csv: str | os.PathLike) -> str:
    """A run's name from its log folder or progress.csv: ``runs/X/logs`` -> X, ``runs/X`` -> X."""
    path = Path(log_dir_or_csv).resolve()
    path = path.parent if path.suffix == ".csv" else path
    return path.parent.name if path.name == "logs" else path.name


def _column(rows: list[dict[str, str]], name: str) -> np.ndarray:
    """One column as floats; missing or empty cells are NaN."""
    return np.array([float(r[name]) if r.get(name) not in (None, "", "nan", "NA") else np.nan for r in rows])


def plot_learning_curve(
    log_dir: str | os.PathLike, path: str | os.PathLike | None = None, *, title: str | None = None
) -> Path:
    """Plot ``log_dir/progress.csv`` (written by :func:`keras_dqn.train`) to a PNG.

    Draws the mean training-episode return and the greedy evaluation mean against env
    steps.  Returns the PNG's path (default ``learning_curve.png`` beside the progress.csv).

    Args:
        log_dir: the run's log folder, or its progress.csv.
        path: the PNG to write (must end in ``.png``).
        title: the plot's title (default: "Learning curve: RUN").

    Raises:
        FileNotFoundError: ``log_dir`` has no progress.csv.
        ValueError: ``path`` does not end in ``.png``.
    """
    csv_path, rows = _progress_rows(log_dir)
    out = _png_path(path if path else csv_path.parent / "learning_curve.png")
    plt = _pyplot()
    steps = _column(rows, "step")
    fig, ax = plt.subplots(figsize=(7, 4))
    for column, label in (
        ("episode_return", "training episodes (mean of last 20)"),
        ("eval_mean", "greedy evaluation"),
    ):
        if column in rows[0]:
            ax.plot(steps, _column(rows, column), marker="o" if column == "eval_mean" else None, label=label)
    ax.set_xlabel("environment steps")
    ax.set_ylabel("return")
    ax.set_title(title or f"Learning curve: {run_label(log_dir)}")
    ax.grid(alpha=0.3)
    ax.legend()
    return _save_png(plt, fig, out)


def plot_runs(
    runs: Mapping[str, str | os.PathLike], path: str | os.PathLike, *, title: str = "", column: str = "eval_mean"
) -> Path:
    """Compare runs' learning curves in one PNG: against env steps, and against wall-clock hours.

    The right panel uses each run's ``wall_s`` column (:func:`keras_dqn.train` logs it:
    evaluations, checkpoints and resumed sessions included); it is left out when no run has one.

    Args:
        runs: a label for each run, and its log folder (or its ``progress.csv``).
        path: the PNG to write (must end in ``.png``; written atomically, folders created).
        title: the figure's title.
        column: the logged value to draw (default the greedy evaluation mean).

    Returns:
        ``path`` as a ``Path``.

    Raises:
        FileNotFoundError: a run without a progress.csv.
        ValueError: no runs, a path not ending in ``.png``, or a run that did not log ``column``.
        ImportError: matplotlib is missing.
    """
    path = _png_path(path)
    if not runs:
        raise ValueError("runs is empty: give at least one label and log folder")
    curves = {}
    for label, source in runs.items():
        csv_path, rows = _progress_rows(source)
        if column not in rows[0]:
            raise ValueError(f"{str(csv_path)!r} has no {column!r} column (it has {', '.join(rows[0])})")
        curves[label] = (_column(rows, "step"), _column(rows, "wall_s") / 3600, _column(rows, column))
    with_wall = any(np.isfinite(hours).any() for _, hours, _ in curves.values())
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2 if with_wall else 1, figsize=(11 if with_wall else 7, 4), squeeze=False)
    try:
        for label, (steps, hours, values) in curves.items():
            kept = np.isfinite(values)
            axes[0, 0].plot(steps[kept], values[kept], marker="o", markersize=3, label=label)
            if with_wall:
                timed = kept & np.isfinite(hours)
                axes[0, 1].plot(hours[timed], values[timed], marker="o", markersize=3, label=label)
        axes[0, 0].set_xlabel("environment steps")
        if with_wall:
            axes[0, 1].set_xlabel("wall-clock hours (evaluations and checkpoints included)")
        names = {"eval_mean": "greedy evaluation (mean return)", "episode_return": "training episodes (mean return)"}
        for ax in axes[0]:
            ax.set_ylabel(names.get(column, column))
            ax.grid(alpha=0.3)
        # One legend for both panels (they share colours), below them: it never hides a curve.
        handles, labels = axes[0, 0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=min(2, len(labels)))
        if title:
            fig.suptitle(title)
    except BaseException:
        plt.close(fig)
        raise
    return _save_png(plt, fig, path, bbox_inches="tight")  # "tight": the image takes in the legend below


def greedy_episode(
    agent: Any, env: str | gym.Env, seed: int | None = 0, render: bool = False
) -> tuple[float, np.ndarray, list[np.ndarray]]:
    """Play one greedy episode with :func:`keras_dqn.training.evaluation.play_episode`, keeping what it showed.

    Args:
        agent: anything with ``q_values``.
        env: an env id (made with :func:`keras_dqn.envs.make.make_env`, so ALE ids get the agent's
            preprocessing; closed at the end), or an env (made with ``render_mode="rgb_array"``
            when ``render``).
        seed: the episode's reset seed.
        render: also collect the env's frames.

    Returns:
        ``(return, q_values, frames)``: the Q-values of every step, shape ``(steps, actions)``,
        and with ``render`` the frames, the first one and one after each step (else ``[]``).
    """
    own = isinstance(env, str)
    if own:
        if render and not is_atari(env):
            _require("pygame", "pygame")  # gymnasium draws the classic-control envs with pygame
        env = make_env(env, render_mode="rgb_array" if render else None)
    elif render and env.render_mode != "rgb_array":
        raise ValueError(f"recording needs an env made with render_mode='rgb_array', got {env.render_mode!r}")
    q_trace: list[np.ndarray] = []
    try:
        played = RenderCollection(env) if render else env
        total = play_episode(agent, played, seed, on_step=lambda _obs, q: q_trace.append(q))
        frames = played.render() if render else []
    finally:
        if own:
            env.close()
    return total, np.array(q_trace), frames


def plot_q_values(agent: Any, env: str | gym.Env, path: str | os.PathLike, seed: int = 0) -> Path:
    """The TF workshop's plot: predicted Q of each action at every step of one greedy episode."""
    plt = _pyplot()
    total, q_trace, _ = greedy_episode(agent, env, seed=seed)
    fig, ax = plt.subplots(figsize=(7, 4))
    for action in range(q_trace.shape[1]):
        ax.plot(q_trace[:, action], label=f"Q(s, {action})")
    ax.set_xlabel("step")
    ax.set_ylabel("predicted Q")
    ax.set_title(f"Q-values over one greedy episode (return {total:.0f})")
    ax.grid(alpha=0.3)
    ax.legend()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


RECORDING_SUFFIXES = (".gif", ".mp4")


def check_recording_path(path: str | os.PathLike) -> Path:
    """``path`` as a ``Path`` if :func:`record` can write it; call it early to fail before playing.

    Raises:
        ValueError: the name does not end in ``.gif`` or ``.mp4``.
        ImportError: imageio (or, for MP4, imageio-ffmpeg) is not installed.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in RECORDING_SUFFIXES:
        raise ValueError(f"recordings are .gif or .mp4 files, got {str(path)!r}")
    _require("imageio", "imageio")
    if suffix == ".mp4":
        _require("imageio_ffmpeg", "imageio-ffmpeg")
    return path


def record(agent: Any, env: str | gym.Env, path: str | os.PathLike, *, seed: int = 0, fps: int = 30) -> float:
    """Record one greedy episode to a GIF or MP4 (by ``path``'s suffix), headless.

    Args:
        agent: anything with ``q_values``.
        env: an env id, or an env made with ``render_mode="rgb_array"``.  For Atari (an ALE
            id, or ``make_env(game, render_mode="rgb_array")``) the recording shows the
            emulator's full-colour screen while the agent sees its 84×84 stack.
        path: ``.gif`` or ``.mp4`` (see :func:`check_recording_path`).
        seed: the episode's reset seed.
        fps: frames per second of the recording.

    Returns:
        The episode's return.

    Raises:
        ValueError: another suffix, or an env not made with ``render_mode="rgb_array"``.
        ImportError: imageio, imageio-ffmpeg (MP4) or pygame (classic-control ids) is missing.
    """
    path = check_recording_path(path)
    import imageio.v2 as imageio

    total, _, frames = greedy_episode(agent, env, seed=seed, render=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".gif":
        imageio.mimsave(path, frames, duration=1000 / fps, loop=0)
    else:
        imageio.mimsave(path, frames, fps=fps)
    return total


def _png_path(path: str | os.PathLike) -> Path:
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"plots are saved as PNG: give a path ending in .png, got {str(path)!r}")
    return path


def _save_png(plt, fig, path: Path, **savefig_kwargs) -> Path:
    """Save ``fig`` to ``path`` with :func:`keras_dqn.files.atomic.atomic_write` and close it."""
    from keras_dqn.files.atomic import atomic_write

    try:
        fig.tight_layout()
        return atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100, **savefig_kwargs))
    finally:
        plt.close(fig)


def _curve_arrays(steps, values, what: str) -> tuple[np.ndarray, np.ndarray]:
    """``(steps, values)`` as float arrays of one length, NaN values (rows without one) dropped."""
    steps = np.asarray(steps, dtype=float)
    values = np.asarray(values, dtype=float)
    if steps.ndim != 1 or steps.shape != values.shape:
        raise ValueError(
            f"{what}: steps and values must be flat sequences of one length, got {steps.shape} and {values.shape}"
        )
    kept = ~np.isnan(values)
    return steps[kept], values[kept]


def _draw_mean_curve(ax, curve: dict, *, ylabel: str, target: float | None, per_seed) -> None:
    """Draw :func:`plot_mean_curve`'s picture on the axes ``ax``."""
    missing = [key for key in ("steps", "mean", "low", "high") if key not in curve]
    if missing:
        raise ValueError(
            f"curve needs the keys steps, mean, low and high (from keras_dqn.experiments.stats.mean_curve); "
            f"missing {missing}"
        )
    steps, mean, low, high = (np.asarray(curve[key], dtype=float) for key in ("steps", "mean", "low", "high"))
    if steps.ndim != 1 or steps.size == 0 or not steps.shape == mean.shape == low.shape == high.shape:
        raise ValueError(
            f"curve's steps, mean, low and high must be non-empty lists of one length, got lengths "
            f"{steps.size}, {mean.size}, {low.size}, {high.size}"
        )
    for i, seed_curve in enumerate(per_seed or ()):
        seed_steps, seed_values = _curve_arrays(*seed_curve, what=f"per_seed[{i}]")
        ax.plot(seed_steps, seed_values, color="grey", linewidth=0.7, alpha=0.5, label="each seed" if i == 0 else None)
    ax.fill_between(steps, low, high, alpha=0.3, label="confidence band of the mean")
    ax.plot(steps, mean, linewidth=2, label="mean over seeds")
    if target is not None:
        ax.axhline(target, color="black", linestyle="--", linewidth=1, label=f"target {target:g}")
    ax.set_xlabel("environment steps")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend()


def plot_mean_curve(
    curve: dict,
    path: str | os.PathLike,
    *,
    title: str,
    ylabel: str = "greedy evaluation mean",
    target: float | None = None,
    per_seed: Sequence[tuple[Sequence[float], Sequence[float]]] | None = None,
) -> Path:
    """Plot a mean learning curve over seeds with its confidence band, to a PNG.

    The band shows where the mean could plausibly lie had other seeds been run: if two
    settings' bands overlap a lot, a few seeds cannot tell them apart.

    Args:
        curve: the dict of :func:`keras_dqn.experiments.stats.mean_curve` (``steps``, ``mean``,
            ``low``, ``high``).
        path: the PNG to write (must end in ``.png``; written atomically, folders created).
        title: the plot's title.
        ylabel: the y axis label.
        target: draw a dashed horizontal line there, e.g. the solved score; ``None``: none.
        per_seed: optionally each seed's own ``(steps, values)``, drawn as thin grey lines
            (NaN values skipped) behind the mean.

    Returns:
        ``path`` as a ``Path``.

    Raises:
        ValueError: ``path`` does not end in ``.png``, or ``curve`` lacks a key or has lists of
            different lengths (or none), or a per-seed curve's steps and values differ in length.
        ImportError: matplotlib is missing.
    """
    path = _png_path(path)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    try:
        _draw_mean_curve(ax, curve, ylabel=ylabel, target=target, per_seed=per_seed)
        ax.set_title(title)
    except BaseException:
        plt.close(fig)
        raise
    return _save_png(plt, fig, path)


def _draw_trial_curves(ax, trials, *, best: str | None, ylabel: str) -> bool:
    """Draw :func:`plot_trial_curves`'s lines on ``ax``; whether the legend went outside."""
    if not trials:
        raise ValueError("trials is empty: there is no curve to plot")
    if best is not None and best not in trials:
        raise ValueError(f"best={best!r} is not one of the trials ({', '.join(map(str, trials))})")
    for name, curve in trials.items():
        try:
            steps, values = curve
        except (TypeError, ValueError):
            raise ValueError(f"trial {name!r} must be a pair (steps, values), got {curve!r}") from None
        steps, values = _curve_arrays(steps, values, what=f"trial {name!r}")
        if best is None:
            ax.plot(steps, values, linewidth=1.2, label=str(name))
        elif name == best:
            ax.plot(steps, values, color="black", linewidth=2.5, zorder=3, label=f"{name} (best)")
        else:
            ax.plot(steps, values, linewidth=0.9, alpha=0.5, label=str(name))
    ax.set_xlabel("environment steps")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    outside = len(trials) > 8
    if outside:
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="small", ncol=1 + len(trials) // 25)
    else:
        ax.legend()
    return outside


def plot_trial_curves(
    trials: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    path: str | os.PathLike,
    *,
    title: str,
    best: str | None = None,
    ylabel: str = "greedy evaluation mean",
) -> Path:
    """Plot the learning curves of a sweep's trials, one line each, to a PNG.

    Args:
        trials: a mapping from each trial's name (its label) to its ``(steps, values)``;
            NaN values (rows without an evaluation) are skipped.
        path: the PNG to write (must end in ``.png``; written atomically, folders created).
        title: the plot's title.
        best: the name of the trial to emphasize (a thick black line drawn on top; the others
            faded); ``None``: all drawn alike.
        ylabel: the y axis label.

    Returns:
        ``path`` as a ``Path``.  With more than 8 trials the legend sits right of the plot.

    Raises:
        ValueError: ``path`` does not end in ``.png``, ``trials`` is empty, ``best`` is not
            one of them, or a trial is not a ``(steps, values)`` pair of one length.
        ImportError: matplotlib is missing.
    """
    path = _png_path(path)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    try:
        outside = _draw_trial_curves(ax, trials, best=best, ylabel=ylabel)
        ax.set_title(title)
        if outside:
            fig.set_size_inches(10, 4)
    except BaseException:
        plt.close(fig)
        raise
    return _save_png(plt, fig, path, **({"bbox_inches": "tight"} if outside else {}))


def plot_grid_policy(
    tables: Mapping[str, np.ndarray],
    grid: Sequence[str],
    path: str | os.PathLike,
    *,
    arrows: str = "←↓→↑",
    title: str = "",
) -> Path:
    """Q-tables of a grid world side by side: each cell coloured by its greedy value ``max_a Q``
    (one colour scale for all), with an arrow for its greedy action and the map's letter (S start;
    H hole and G goal, grey: the episode ends there).

    Args:
        tables: ``{label: (n_states, n_actions) array}``, e.g. the value-iteration table
            (:func:`keras_dqn.envs.tabular.optimal_q_table`) and a network's Q-values on every
            one-hot state; state ``s`` is the cell at row ``s // width``, column ``s % width``.
        grid: the map, one string per row (FrozenLake's ``env.unwrapped.desc`` decoded).
        path: the PNG to write.
        arrows: one symbol per action, in the env's action order (FrozenLake: left, down,
            right, up).
        title: the figure's title.

    Raises:
        ValueError: a table whose shape does not fit the grid and the arrows, or a path not
            ending in ``.png``.
    """
    out = _png_path(path)
    rows, cols = len(grid), len(grid[0])
    for label, table in tables.items():
        if np.shape(table) != (rows * cols, len(arrows)):
            raise ValueError(f"table {label!r} has shape {np.shape(table)}; a {rows}x{cols} grid with "
                             f"{len(arrows)} actions needs ({rows * cols}, {len(arrows)})")  # fmt: skip
    plt = _pyplot()
    ends = np.array([[letter in "HG" for letter in row] for row in grid])  # holes and the goal: no decision
    values = {label: np.ma.masked_array(np.asarray(table).max(axis=1).reshape(rows, cols), ends)
              for label, table in tables.items()}  # fmt: skip
    low = min(float(v.min()) for v in values.values())  # one colour scale for every table
    high = max(float(v.max()) for v in values.values())
    cmap = plt.get_cmap("viridis").with_extremes(bad="lightgray")
    fig, axes = plt.subplots(1, len(tables), figsize=(3.2 * len(tables) + 0.6, 3.4), squeeze=False)
    for ax, (label, table) in zip(axes[0], tables.items(), strict=True):
        table = np.asarray(table)
        image = ax.imshow(values[label], cmap=cmap, vmin=low, vmax=high)
        for s, action in enumerate(table.argmax(axis=1)):
            r, c = divmod(s, cols)
            letter = grid[r][c]
            text = letter if letter in "HG" else f"{arrows[action]}" + ("\nS" if letter == "S" else "")
            color = "black" if letter in "HG" else "white"
            ax.text(c, r, text, ha="center", va="center", color=color, fontsize=12, fontweight="bold")
        ax.set_title(label, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    if title:
        fig.suptitle(title)
    return _save_png(plt, fig, out)

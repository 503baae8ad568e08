"""Seed studies on Ray Tune: :func:`seeds` trains one recipe with many seeds and summarizes
them honestly (IQM with bootstrap intervals, final greedy scores on unseen resets)::

    from keras_dqn.experiments import seeds
    seeds("CartPole-v1", n_seeds=10)          # runs/seeds-CartPole-v1
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from keras_dqn.checks import check_number, check_positive_int, check_positive_number
from keras_dqn.config.recipe import Recipe
from keras_dqn.config.recipes import get_recipe
from keras_dqn.config.settings import apply_config, check_config, read_config_file
from keras_dqn.experiments import stats
from keras_dqn.experiments.ray_jobs import (
    FINAL_EVAL_SEED,
    TrialProgress,
    announce_recipe,
    check_address,
    check_env,
    check_settings,
    collect_trials,
    default_out,
    draw_plot,
    eval_curve,
    jsonable,
    make_run_config,
    make_trainable,
    plots_module,
    ray_session,
    run_tuner,
    start_job,
    summarize_rows,
    tune,
    write_json,
    write_results,
)


# ---------------------------------------------------------------- seeds
def _config_overrides(recipe: Recipe, config: str | os.PathLike | Mapping[str, Any] | None) -> dict[str, dict]:
    """A ``--config`` file's (or dict's) 'agent' and 'train' settings, checked as ``keras-dqn train`` does."""
    if isinstance(config, Mapping):
        where = "config"
        try:
            given = check_config(jsonable(config))
        except ValueError as exc:
            raise ValueError(f"config: {exc}") from None
    else:
        where, given = str(config), read_config_file(config)  # its errors name the file
    try:
        apply_config(recipe, given)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    return given


def _new_job(env_id: str, recipe: str | None, config: Any, steps: int | None, n_seeds: int, cpus_per_trial: float,
             final_episodes: int, target: float | None) -> dict[str, Any]:
    """The description of a new seed study (what ``seeds-job.json`` keeps), every part of it checked."""
    check_env(env_id)
    chosen = announce_recipe(env_id, recipe)
    overrides = _config_overrides(chosen, config)
    configured = chosen.replace(agent_kwargs={**chosen.agent_kwargs, **overrides["agent"]},
                                train_kwargs={**chosen.train_kwargs, **overrides["train"]})  # fmt: skip
    configured.check_atoms_for(env_id, given=overrides["agent"])
    total_steps = check_settings(configured, {}, steps)
    return {"kind": "seeds", "env_id": env_id, "recipe": chosen.name, "n_seeds": n_seeds,
            "agent": overrides["agent"], "train": {**overrides["train"], "total_steps": total_steps}, "seed": 0,
            "cpus": cpus_per_trial, "final_episodes": final_episodes,
            "target": None if target is None else check_number("target", target)}  # fmt: skip


def seeds(
    env_id: str,
    *,
    n_seeds: int = 10,
    steps: int | None = None,
    config: str | os.PathLike | Mapping[str, Any] | None = None,
    recipe: str | None = None,
    cpus_per_trial: float = 1,
    address: str | None = None,
    out: str | os.PathLike | None = None,
    resume: bool = False,
    final_episodes: int = 100,
    num_cpus: int | None = None,
    storage: str | None = None,
    status_every: float = 30.0,
    target: float | None = None,
) -> dict[str, Any]:
    """Train one recipe on seeds ``0 .. n_seeds - 1`` as parallel Ray trials, and summarize them honestly.

    Each seed's **final score** is a greedy evaluation of its final weights (not its best
    ones: picking each seed's best evaluation flatters it) over ``final_episodes`` episodes
    that start from reset seeds ``1,000,000,000 + i``, which no training reset and no periodic
    evaluation (``10,000 + step``) uses.  Its solving time is the first log row whose greedy
    evaluation reached ``target`` (default: the env's solved score, gymnasium's
    ``reward_threshold``), and ``fraction_solved`` counts final scores at or above it.  Writes to
    ``out``:

    * ``seeds.csv``: per seed its ``final_score``, ``last_eval`` (the last log row's),
      ``best_eval``, ``steps``, ``wall_s``, ``steps_to_solve`` and ``seconds_to_solve``
      (empty: never), ``status``, ``node`` and ``host``;
    * ``summary.json``: :func:`keras_dqn.experiments.stats.summarize_seeds` of the final scores
      (``n_seeds``, ``iqm`` with its 95% bootstrap interval ``ci_low``/``ci_high``, ``mean``,
      ``median``, ``fraction_solved``, ``median_steps_to_solve``,
      ``median_seconds_to_solve``...) with the env, recipe, steps, settings,
      ``n_failed`` and ``n_unfinished`` (seeds of an interrupted run, not counted either);
    * ``curve.png``: the mean greedy-evaluation curve with its 95% bootstrap band, each seed's
      curve behind it (needs the viz extra);
    * ``seeds/``: Tune's experiment (``resume=True`` continues it), ``seeds-job.json``.

    Args:
        env_id: a gymnasium id with Discrete actions.
        n_seeds: how many seeds.
        steps: env steps per seed (default: the config's or recipe's ``total_steps``).
        config: a JSON file (or dict) with 'agent' and 'train' settings over the recipe's,
            as ``keras-dqn train --config`` takes (e.g. a sweep's ``best_config.json``).
        recipe: a recipe name (default: the env's own, else cartpole-target's).
        cpus_per_trial: CPUs Ray gives each seed; TensorFlow uses that many threads.
        address: a running Ray cluster (``"auto"`` or ``"HOST:PORT"``); ``None``: a local
            Ray started and stopped here.
        out: the folder for the results (default ``runs/seeds-ENV_ID``).
        resume: continue the interrupted run in ``out``, as it was first started.
        final_episodes: episodes of each seed's final greedy evaluation.
        num_cpus: CPUs of the local Ray (default: all); only without ``address``.
        storage: where Tune keeps its experiment (default ``out``); see :func:`sweep`.
        status_every: seconds between status lines while it runs.
        target: the score that counts as solved, e.g. a published figure to match (default:
            the env's ``reward_threshold``; ``None`` there too: no solved statistics).

    Returns:
        ``{"out", "recipe", "summary", "seeds", "interrupted"}``: ``summary`` as written to
        ``summary.json`` (``None`` when no seed finished), ``seeds`` the rows of ``seeds.csv``.

    Raises:
        ValueError: an unknown env or recipe, a bad config, ``n_seeds``, ``steps`` or
            ``final_episodes`` below 1, an ``out`` that holds another run (without
            ``resume``) or nothing to resume.
        ConnectionError: ``address`` cannot be reached.
    """
    out = Path(out) if out is not None else default_out("seeds", env_id)
    n_seeds = check_positive_int("n_seeds", n_seeds)
    final_episodes = check_positive_int("final_episodes", final_episodes)
    check_positive_number("cpus_per_trial", cpus_per_trial)
    if address is not None and num_cpus is not None:
        raise ValueError("num_cpus sizes a local Ray; a cluster at an address has its own CPUs")
    job = None if resume else _new_job(env_id, recipe, config, steps, n_seeds, cpus_per_trial, final_episodes, target)
    check_address(address)
    experiment, job = start_job("seeds", out, storage, resume, job)
    env_id = job["env_id"]
    chosen = get_recipe(job["recipe"])
    total_steps = job["train"]["total_steps"]
    target = job.get("target")
    target = stats.solved_score(env_id) if target is None else target
    progress = TrialProgress(experiment, total=job["n_seeds"], total_steps=total_steps, target=None,
                             every_s=status_every, describe=lambda config: f"seed {config.get('seed')}")  # fmt: skip
    print(f"seeds: {chosen.name} on {env_id}, seeds 0..{job['n_seeds'] - 1}, {total_steps:,} steps each, "
          f"{job['cpus']:g} CPU{'s' * (job['cpus'] != 1)} per seed; results in {out}")  # fmt: skip
    tune_config = tune.TuneConfig(num_samples=1, reuse_actors=True)
    param_space = {"seed": tune.grid_search(list(range(job["n_seeds"])))}
    with ray_session(address, num_cpus):
        results = run_tuner(experiment, resume, make_trainable(job, job["cpus"]), param_space, tune_config,
                       make_run_config(experiment, progress))  # fmt: skip
    return _seeds_outputs(job, out, collect_trials(results, experiment, total_steps, None), target)


def _seeds_outputs(job: dict, out: Path, trials: list[dict], target: float | None) -> dict[str, Any]:
    env_id, recipe = job["env_id"], job["recipe"]
    trials = sorted(trials, key=lambda t: t["config"].get("seed", 0))
    rows = []
    for trial in trials:
        summary = summarize_rows(trial["rows"])
        solved = next((r for r in trial["rows"] if target is not None and r["eval_mean"] >= target), None)
        status = trial["status"]
        if status == "completed" and trial["final_eval"] is None:
            status = "unfinished"  # trained, but its final evaluation was not reported
        rows.append({"seed": trial["config"].get("seed"), "final_score": trial["final_eval"],
                     "last_eval": summary["last_eval"], "best_eval": summary["best_eval"], "steps": summary["steps"],
                     "wall_s": summary["wall_s"], "steps_to_solve": None if solved is None else int(solved["step"]),
                     "seconds_to_solve": None if solved is None else round(float(solved["wall_s"]), 3),
                     "status": status, "node": summary["node"], "host": summary["host"],
                     "error": trial["error"]})  # fmt: skip
    interrupted = write_results(out / "seeds.csv", rows, f"keras-dqn seeds {env_id} --out {out} --resume")
    result: dict[str, Any] = {"out": str(out), "recipe": recipe, "summary": None, "seeds": rows,
                              "interrupted": interrupted}  # fmt: skip
    done = [r for r in rows if r["final_score"] is not None]
    if not done:
        print("no seed finished: no summary.json or curve.png")
        return result
    summary = stats.summarize_seeds(
        [r["final_score"] for r in done], solved_at=target, steps_to_solve=[r["steps_to_solve"] for r in done],
        seconds_to_solve=[r["seconds_to_solve"] for r in done],
    )  # fmt: skip
    failed = sum(r["status"] == "failed" for r in rows if r["final_score"] is None)
    summary = {**summary, "n_failed": failed, "n_unfinished": len(rows) - len(done) - failed, "env_id": env_id,
               "recipe": recipe, "steps": job["train"]["total_steps"],
               "settings": {"agent": job["agent"], "train": job["train"]},
               "final_score": f"greedy mean over {job['final_episodes']} episodes of each seed's final weights, reset "
                              f"seeds {FINAL_EVAL_SEED}..{FINAL_EVAL_SEED + job['final_episodes'] - 1}"}  # fmt: skip
    write_json(out / "summary.json", summary)
    result["summary"] = summary
    curves = [eval_curve(t["rows"]) for t in trials if t["rows"]]
    if curves:
        draw_plot(lambda: plots_module().plot_mean_curve(
            stats.mean_curve(curves), out / "curve.png", per_seed=curves, target=target,
            title=f"{env_id}: {recipe} over {len(curves)} seeds"), "curve.png")  # fmt: skip
    print(_summary_text(summary))
    print(f"wrote {out / 'summary.json'}" + (f" and {out / 'curve.png'}" if (out / "curve.png").is_file() else ""))
    return result


def _summary_text(summary: Mapping[str, Any]) -> str:
    lines = [f"{summary['n_seeds']} seeds of {summary['recipe']} on {summary['env_id']} "
             f"({summary['steps']:,} steps each; final score: {summary['final_score']}):",
             f"  IQM {summary['iqm']:.4g} (95% bootstrap CI {summary['ci_low']:.4g} .. {summary['ci_high']:.4g}), "
             f"mean {summary['mean']:.4g}, median {summary['median']:.4g}, min {summary['min']:.4g}, "
             f"max {summary['max']:.4g}"]  # fmt: skip
    if summary.get("solved_at") is not None:
        steps, seconds = summary["median_steps_to_solve"], summary["median_seconds_to_solve"]
        lines.append(f"  solved (final score >= {summary['solved_at']:g}): {summary['fraction_solved']:.0%} of seeds; "
                     f"median steps to solve {'never' if steps is None else f'{steps:,.0f}'}, seconds "
                     f"{'never' if seconds is None else f'{seconds:,.0f}'}")  # fmt: skip
    if summary.get("n_failed"):
        lines.append(f"  {summary['n_failed']} seed(s) failed and are not counted")
    if summary.get("n_unfinished"):
        lines.append(f"  {summary['n_unfinished']} seed(s) did not finish (resume the run) and are not counted")
    return "\n".join(lines)


__all__ = ["seeds"]

"""Hyperparameter sweeps on Ray Tune: :func:`sweep` samples a recipe's search space, ASHA stops
the trials that lag, and the best trial's settings and weights are written out::

    from keras_dqn.experiments import sweep
    sweep("CartPole-v1", samples=16)          # runs/tune-CartPole-v1
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from keras_dqn.checks import check_positive_int, check_positive_number
from keras_dqn.config.recipe import Recipe
from keras_dqn.config.recipes import get_recipe
from keras_dqn.config.spaces import check_search_space, search_space_values
from keras_dqn.experiments.ray_jobs import (
    REDUCTION_FACTOR,
    ASHAScheduler,
    BasicVariantGenerator,
    TrialProgress,
    announce_recipe,
    check_address,
    check_env,
    check_settings,
    collect_trials,
    copy_file,
    default_out,
    describe_trial,
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


# ---------------------------------------------------------------- the sweep
def load_space(space: str | os.PathLike | Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """A search space given as a dict or as a JSON or YAML file (``.yaml``/``.yml``), unchecked.

    Raises:
        ValueError: the file cannot be read or parsed.
    """
    if isinstance(space, Mapping):
        return {section: dict(settings) if isinstance(settings, Mapping) else settings
                for section, settings in space.items()}  # fmt: skip
    path = Path(space)
    try:
        text = path.read_text()
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml  # comes with Ray

            loaded = yaml.safe_load(text)
        else:
            loaded = json.loads(text)
    except Exception as exc:  # noqa: BLE001 - OSError, UnicodeDecodeError, JSONDecodeError, yaml.YAMLError
        raise ValueError(f"cannot read search space {path}: {' '.join(str(exc).split())}") from None
    return loaded if not isinstance(loaded, Mapping) else load_space(loaded)

def check_space(recipe: Recipe, space: Any, where: str) -> dict[str, dict[str, Any]]:
    try:
        check_search_space(recipe.agent_class, space)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    if not any(space.get(section) for section in ("agent", "train")):
        raise ValueError(f"{where}: the search space is empty: name at least one agent or train setting")
    return {section: dict(settings) for section, settings in space.items()}

def varied_settings(space: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, str]]:
    """The (section, name) of each setting a space samples (not the fixed ones)."""
    return [(section, name) for section, settings in space.items() for name, spec in settings.items()
            if isinstance(spec, Mapping)]  # fmt: skip

def tune_param_space(space: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    converted: dict[str, dict[str, Any]] = {}
    for section, settings in space.items():
        converted[section] = {}
        for name, spec in settings.items():
            if isinstance(spec, Mapping):
                kind, args = next(iter(spec.items()))
                converted[section][name] = SAMPLERS[kind](list(args)) if kind in ("choice", "grid") else (
                    SAMPLERS[kind](*args))  # fmt: skip
            else:
                converted[section][name] = spec
    return converted

def grid_size(space: Mapping[str, Mapping[str, Any]]) -> int:
    sizes = [len(next(iter(spec.values()))) for settings in space.values() for spec in settings.values()
             if isinstance(spec, Mapping) and next(iter(spec)) == "grid"]  # fmt: skip
    return math.prod(sizes)

def largest_eval_every(recipe: Recipe, space: Mapping[str, Mapping[str, Any]]) -> int:
    spec = space.get("train", {}).get("eval_every", recipe.train_kwargs["eval_every"])
    kind, values = search_space_values("train.eval_every", spec)
    return int(max(values))

SAMPLERS = {"uniform": tune.uniform, "loguniform": tune.loguniform, "randint": tune.randint,
             "choice": tune.choice, "grid": tune.grid_search}  # fmt: skip


def _new_job(env_id: str, recipe: str | None, space: Any, steps: int | None, samples: int, seed: int,
             cpus_per_trial: float, grace_rows: int) -> dict[str, Any]:
    """The description of a new sweep (what ``tune-job.json`` keeps), every part of it checked."""
    check_env(env_id)
    chosen = announce_recipe(env_id, recipe)
    given = chosen.search_space if space is None else load_space(space)
    if space is None and not chosen.search_space:
        raise ValueError(f"recipe {chosen.name} has no default search space: pass one (--space FILE)")
    checked = check_space(chosen, given, f"recipe {chosen.name}" if space is None else
                           "space" if isinstance(space, Mapping) else str(space))  # fmt: skip
    chosen.check_atoms_for(env_id, given=checked.get("agent", {}))
    total_steps = check_settings(chosen, checked, steps)
    return {"kind": "tune", "env_id": env_id, "recipe": chosen.name, "space": checked, "samples": samples,
            "agent": {}, "train": {"total_steps": total_steps}, "seed": seed, "cpus": cpus_per_trial,
            "grace_period": grace_rows * largest_eval_every(chosen, checked), "final_episodes": 0}  # fmt: skip


def sweep(
    env_id: str,
    *,
    space: str | os.PathLike | Mapping[str, Any] | None = None,
    samples: int = 8,
    steps: int | None = None,
    recipe: str | None = None,
    cpus_per_trial: float = 1,
    address: str | None = None,
    out: str | os.PathLike | None = None,
    resume: bool = False,
    seed: int = 0,
    grace_rows: int = 4,
    num_cpus: int | None = None,
    storage: str | None = None,
    status_every: float = 30.0,
) -> dict[str, Any]:
    """A Ray Tune sweep of a recipe's settings, bad trials stopped early (ASHA on the greedy evaluation).

    Each trial trains the recipe (:func:`keras_dqn.train`, ``steps`` env steps, seed ``seed``)
    with one sample of ``space`` and reports every log row.  Tune's ASHA scheduler compares the
    trials' greedy ``eval_mean`` at ``grace_rows``, ``3 x grace_rows``, ... log rows and stops
    all but the best third at each.  Writes to ``out``:

    * ``results.csv``: one row per trial, best first: its sampled settings, ``best_eval`` (its
      best greedy evaluation) and the step of it, ``last_eval``, ``steps`` trained,
      ``wall_s``, ``status`` (completed, stopped early, target reached, failed, unfinished),
      the ``node`` and ``host`` it ran on and, for a failed one, its ``error``;
    * ``best_config.json``: the best trial's settings as ``keras-dqn train --config`` takes
      them (``{"agent": {...}, "train": {...}}``; train with ``--recipe`` the recipe printed);
    * ``best.h5``: the best trial's best weights;
    * ``curves.png``: every trial's greedy evaluations over the steps (needs the viz extra);
    * ``tune/``: Tune's experiment (every trial's rows and latest checkpoint; ``resume=True``
      continues it), ``tune-job.json``: what the sweep runs.

    The best trial is the one with the highest best greedy evaluation (ties: the one that got
    there in fewer steps).

    Args:
        env_id: a gymnasium id with Discrete actions.
        space: ``{"agent": {NAME: SPEC}, "train": {NAME: SPEC}}`` (or a JSON or YAML file of
            it), each ``SPEC`` a fixed value or one of ``{"uniform": [low, high]}``,
            ``{"loguniform": [low, high]}``, ``{"randint": [low, high]}`` (high excluded),
            ``{"choice": [values]}``, ``{"grid": [values]}`` (every value, ``samples`` times
            each); default: the recipe's :attr:`~keras_dqn.config.recipe.Recipe.search_space`.
        samples: trials to sample (per grid point, with ``grid`` entries).
        steps: env steps per trial (default: the recipe's ``total_steps``).
        recipe: a recipe name (default: the env's own, else cartpole-target's).
        cpus_per_trial: CPUs Ray gives each trial; TensorFlow uses that many threads.
        address: a running Ray cluster (``"auto"`` or ``"HOST:PORT"``); ``None``: start a
            local Ray on this machine and stop it at the end.
        out: the folder for the results (default ``runs/tune-ENV_ID``).
        resume: continue the interrupted sweep in ``out``, as it was first started.
        seed: every trial's seed (the settings are compared on the same seed), and the seed
            of the sampling of ``space``.
        grace_rows: log rows every trial gets before ASHA may stop it.
        num_cpus: CPUs of the local Ray (default: all); only without ``address``.
        storage: where Tune keeps its experiment: a folder every node sees, or a cloud URI
            (default: ``out``).  Multi-machine clusters need a shared one.
        status_every: seconds between status lines while it runs.

    Returns:
        ``{"out", "recipe", "best", "trials", "interrupted"}``: ``best`` is the best trial's
        row of ``results.csv`` with its ``config``, ``trials`` all rows.

    Raises:
        ValueError: an unknown env or recipe; an empty or malformed space, or a setting the
            recipe's agent or ``train`` does not take; ``samples`` or ``steps`` below 1; an
            ``out`` that holds another sweep (without ``resume``) or nothing to resume.
        ConnectionError: ``address`` cannot be reached.
    """
    out = Path(out) if out is not None else default_out("tune", env_id)
    samples = check_positive_int("samples", samples)
    check_positive_number("cpus_per_trial", cpus_per_trial)
    grace_rows = check_positive_int("grace_rows", grace_rows)
    if address is not None and num_cpus is not None:
        raise ValueError("num_cpus sizes a local Ray; a cluster at an address has its own CPUs")
    job = None if resume else _new_job(env_id, recipe, space, steps, samples, seed, cpus_per_trial, grace_rows)
    check_address(address)
    experiment, job = start_job("tune", out, storage, resume, job)
    chosen = get_recipe(job["recipe"])
    total_steps = job["train"]["total_steps"]
    varied = varied_settings(job["space"]) or [(s, n) for s, settings in job["space"].items() for n in settings]
    total = job["samples"] * grid_size(job["space"])
    target = {**chosen.train_kwargs, **job["space"].get("train", {})}.get("target_score")
    target = target if isinstance(target, (int, float)) else None
    progress = TrialProgress(experiment, total=total, total_steps=total_steps, target=target, every_s=status_every,
                         describe=lambda config: describe_trial(config, varied))  # fmt: skip
    print(f"sweep: {total} trial{'s' * (total != 1)} of {chosen.name} on {job['env_id']}, {total_steps:,} steps "
          f"each, {job['cpus']:g} CPU{'s' * (job['cpus'] != 1)} per trial; results in {out}")  # fmt: skip
    scheduler = ASHAScheduler(time_attr="step", max_t=total_steps, grace_period=min(job["grace_period"], total_steps),
                              reduction_factor=REDUCTION_FACTOR)  # fmt: skip
    tune_config = tune.TuneConfig(metric="eval_mean", mode="max", scheduler=scheduler, num_samples=job["samples"],
                                  search_alg=BasicVariantGenerator(random_state=job["seed"]),
                                  reuse_actors=True)  # fmt: skip
    with ray_session(address, num_cpus):
        trainable = make_trainable(job, job["cpus"])
        results = run_tuner(experiment, resume, trainable, tune_param_space(job["space"]), tune_config,
                            make_run_config(experiment, progress))  # fmt: skip
    return _sweep_outputs(job, out, collect_trials(results, experiment, total_steps, target), varied)


def _sweep_outputs(job: dict, out: Path, trials: list[dict], varied: list[tuple[str, str]]) -> dict[str, Any]:
    env_id, recipe = job["env_id"], job["recipe"]
    rows = []
    for trial in trials:
        summary = summarize_rows(trial["rows"])
        settings = {f"{section}.{name}": value for section in ("agent", "train")
                    for name, value in trial["config"].get(section, {}).items()}  # fmt: skip
        rows.append({"trial": trial["index"], "status": trial["status"], **summary, **settings,
                     "error": trial["error"]})  # fmt: skip
        trial["summary"] = summary
    order = sorted(range(len(trials)), key=lambda i: (rows[i]["best_eval"] is None, -(rows[i]["best_eval"] or 0),
                                                      rows[i]["best_step"] or 0))  # fmt: skip
    rows = [rows[i] for i in order]
    trials = [trials[i] for i in order]
    interrupted = write_results(out / "results.csv", rows, f"keras-dqn tune {env_id} --out {out} --resume")
    result: dict[str, Any] = {"out": str(out), "recipe": recipe, "best": None, "trials": rows,
                              "interrupted": interrupted}  # fmt: skip
    scored = [t for t in trials if t["summary"]["best_eval"] is not None]
    if not scored:
        print("no trial reported an evaluation: no best_config.json, best.h5 or curves.png")
        return result
    best = scored[0]
    config = {section: jsonable(best["config"].get(section, {})) for section in ("agent", "train")}
    write_json(out / "best_config.json", config)
    best_weights = _best_weights(best, out)
    label = {t["index"]: f"#{t['index']} {describe_trial(t['config'], varied)}" for t in scored}
    draw_plot(lambda: plots_module().plot_trial_curves(
        {label[t["index"]]: eval_curve(t["rows"]) for t in scored}, out / "curves.png",
        title=f"{env_id}: {len(scored)} trials of {recipe}", best=label[best["index"]]), "curves.png")  # fmt: skip
    result["best"] = {**rows[0], "config": config, "weights": None if best_weights is None else str(best_weights)}
    steps = job["train"]["total_steps"]
    print(f"best: trial {best['index']} ({describe_trial(best['config'], varied)}): best greedy evaluation "
          f"{best['summary']['best_eval']:.1f} at step {best['summary']['best_step']:,}")  # fmt: skip
    print(f"wrote {out / 'best_config.json'}; train with it: keras-dqn train {env_id} --recipe {recipe} --config "
          f"{out / 'best_config.json'}" + (f" --steps {steps}" if steps != get_recipe(recipe).train_kwargs[
              "total_steps"] else ""))  # fmt: skip
    return result


def _best_weights(trial: dict, out: Path) -> Path | None:
    checkpoint = trial["checkpoint"]
    if checkpoint is None:
        return None
    with checkpoint.as_directory() as folder:
        source = Path(folder) / "best.h5"
        if not source.is_file():
            return None
        path = copy_file(source, out / "best.h5")
    print(f"wrote {path} (trial {trial['index']}'s best weights)")
    return path


__all__ = ["load_space", "sweep"]

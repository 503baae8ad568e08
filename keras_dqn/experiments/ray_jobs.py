"""What sweeps and seed studies share: a trial (one :func:`keras_dqn.train` run in a Ray
worker, reporting each log row), the input checks, the Ray session, the progress lines and
the result files.  :mod:`keras_dqn.experiments.sweeps` and
:mod:`keras_dqn.experiments.seed_studies` are the two jobs built on it.

Needs the ``ray`` extra (``pip install -e ".[ray]"``: Ray Tune, and SciPy for
:mod:`keras_dqn.experiments.stats`); nothing else in keras_dqn imports Ray.

Each trial is one :func:`keras_dqn.train` run of a recipe.  A Keras callback reports every log
row (``step``, the greedy ``eval_mean``, ``loss``, ``epsilon``, ``steps_per_s``..., plus the
trial's wall seconds and the Ray node it runs on) to Tune with the run's checkpoint, so an
interrupted sweep resumes (``resume=True``) and Tune's ASHA scheduler stops the trials whose
greedy evaluation lags behind.  Without ``address`` a local Ray is started (and stopped) on
this machine's cores; with one (``"auto"``, ``"HOST:PORT"``) the trials run on that cluster::

    keras_dqn.experiments.sweeps.sweep("CartPole-v1", samples=16)          # runs/tune-CartPole-v1
    keras_dqn.experiments.seed_studies.seeds("CartPole-v1", n_seeds=10)          # runs/seeds-CartPole-v1

On a cluster of several machines Tune keeps every trial's checkpoints in ``storage`` (default:
``out``), which every node must be able to write: a shared folder (NFS) or a cloud URI
(``s3://bucket/path``).  Every node needs keras_dqn (and its extras) installed.

``resume=True`` hands the experiment folder to ``Tuner.restore``, and Ray Tune keeps its
experiment state as pickles (cloudpickle): resume only folders your own machines wrote.  The
files keras_dqn itself writes there (``results.csv``, ``best_config.json``, the trials' weights
and checkpoints) are data, safe to open wherever they came from.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import json
import logging
import math
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import keras
import numpy as np

from keras_dqn.checks import check_positive_int
from keras_dqn.config.recipe import Recipe
from keras_dqn.config.recipes import get_recipe, pick_recipe
from keras_dqn.config.spaces import search_space_values
from keras_dqn.envs.make import check_discrete, is_atari, make_env, make_vector_env
from keras_dqn.files.atomic import atomic_write
from keras_dqn.files.checkpoint import CHECKPOINT_NAME
from keras_dqn.training.evaluation import evaluate
from keras_dqn.training.loop import train

RAY_HINT = 'sweeps and seed studies need Ray Tune: pip install -e ".[ray]"  (or pip install "ray[tune]" scipy)'
try:
    import ray
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler  # noqa: F401  (for sweeps: imported behind the install hint)
    from ray.tune.search.basic_variant import BasicVariantGenerator  # noqa: F401  (as above)
except ImportError as _error:  # pragma: no cover - exercised without the extra
    raise ImportError(RAY_HINT) from _error
if not hasattr(tune, "get_checkpoint"):  # pragma: no cover - ray.tune.report/get_checkpoint/Checkpoint: Ray 2.41+
    raise ImportError(f"sweeps and seed studies need Ray 2.41 or newer (this is {ray.__version__}): "
                      'pip install -U "ray[tune]>=2.41"')  # fmt: skip

FINAL_EVAL_SEED = 1_000_000_000  # seeds' final evaluation resets: never a training or periodic-evaluation seed
REDUCTION_FACTOR = 3  # ASHA keeps the best third of the trials at each rung
TRIAL_FILES = ("best.h5", "last.h5", CHECKPOINT_NAME)  # a trial's run folder, reported to Tune at every row
_STATE_FILE = "tune_state.json"  # in each reported checkpoint: the rows reported, the wall seconds saved
_JOB_FILE = "job.json"  # in the experiment folder: what the sweep runs, for resume=True
# Each experiment's trial statuses and configs as its progress callback last saw them (Tune runs the callbacks
# in this process; a resumed experiment's callback is an unpickled copy, so they meet here).  A trial that never
# started has no result to read its config from: an interrupted run's pending trials get theirs from here.
_STATUSES: dict[str, dict[str, tuple[str, dict]]] = {}


# ---------------------------------------------------------------- the trial (runs in a Ray worker)
class _ReportToTune(keras.callbacks.Callback):
    """Report each log row of :func:`keras_dqn.train` to Tune with the run folder's files.

    ``train`` calls the callbacks before it saves the row's ``last.h5`` and checkpoint, so the
    files reported with row ``r`` are row ``r - 1``'s (and ``best.h5`` as of row ``r``).  A
    trial resumed from them trains row ``r``'s steps again and does not report row ``r`` twice:
    rows are told apart by their number (Keras' epoch), not their step, which differs when the
    retrained row ends a few steps off (a checkpoint without the replay memory trains otherwise).
    """

    def __init__(self, run_dir: Path, *, reported_rows: int, wall_offset: float, extra: Mapping[str, Any]):
        super().__init__()
        self.run_dir = run_dir
        self.reported_rows = reported_rows  # rows Tune has already had (a resumed trial writes them again)
        self.wall_offset = wall_offset  # wall seconds of the runs before this one, up to the checkpoint's row
        self.saved_wall = wall_offset  # wall seconds at the row whose files are on disk
        self.extra = dict(extra)
        self.start = time.perf_counter()
        self.last: dict[str, Any] = {}

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        wall = self.wall_offset + time.perf_counter() - self.start
        row = {k: (float(v) if isinstance(v, (float, np.floating)) else v) for k, v in (logs or {}).items()}
        if epoch >= self.reported_rows:
            metrics = {**row, "wall_s": wall, **self.extra}
            with tempfile.TemporaryDirectory(prefix="keras-dqn-report-") as tmp:
                for name in TRIAL_FILES:
                    if (self.run_dir / name).is_file():
                        shutil.copy2(self.run_dir / name, Path(tmp) / name)
                state = {"reported_rows": epoch + 1, "wall_s": self.saved_wall}
                (Path(tmp) / _STATE_FILE).write_text(json.dumps(state))
                tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(tmp))
            self.last = metrics
        self.saved_wall = wall  # train() saves this row's files right after the callbacks


def _limit_threads(cpus: float) -> None:
    """Keep TensorFlow to the trial's CPUs (it must not have started yet)."""
    import tensorflow as tf

    threads = max(1, int(cpus))
    with contextlib.suppress(RuntimeError):  # already initialized in this worker: leave it
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)


def _trial_recipe(job: Mapping[str, Any], config: Mapping[str, Any]) -> Recipe:
    recipe = get_recipe(job["recipe"])
    return recipe.replace(
        agent_kwargs={**recipe.agent_kwargs, **job["agent"], **config.get("agent", {})},
        train_kwargs={**recipe.train_kwargs, **job["train"], **config.get("train", {})},
    )


def _trial(config: dict, job: dict) -> None:
    """One Tune trial: ``train()`` the job's recipe with the trial's settings, reporting each row."""
    _limit_threads(job["cpus"])
    recipe = _trial_recipe(job, config)
    seed = int(config.get("seed", job["seed"]))
    n_envs, total_steps, settings = recipe.train_args()
    env_id = job["env_id"]
    extra = {"node": ray.get_runtime_context().get_node_id()[:12], "host": socket.gethostname()}
    with tempfile.TemporaryDirectory(prefix="keras-dqn-trial-") as run_dir:
        run_dir = Path(run_dir)
        reported_rows, wall_offset = 0, 0.0
        checkpoint = tune.get_checkpoint()
        if checkpoint is not None:  # a resumed trial: continue from the files of its last report
            with checkpoint.as_directory() as saved:
                for name in TRIAL_FILES:
                    if (Path(saved) / name).is_file():
                        shutil.copy2(Path(saved) / name, run_dir / name)
                state = json.loads((Path(saved) / _STATE_FILE).read_text())
            reported_rows = int(state["reported_rows"])
            wall_offset = float(state["wall_s"])
        env_kwargs = recipe.env_kwargs_for(env_id)
        probe = make_env(env_id, **env_kwargs)
        n_actions, shape = check_discrete(probe), probe.observation_space.shape
        probe.close()
        agent = recipe.make_agent(shape, n_actions, seed=seed)
        envs = make_vector_env(env_id, n_envs, training=True, **env_kwargs)
        eval_env = None
        if is_atari(env_id) and settings.get("eval_episodes"):  # full games, the real score (as `keras-dqn train`)
            eval_env = make_vector_env(env_id, min(settings["eval_episodes"], 8), training=False, **env_kwargs)
        report = _ReportToTune(run_dir, reported_rows=reported_rows, wall_offset=wall_offset, extra=extra)
        try:
            train(agent, envs, total_steps, eval_env=eval_env, checkpoint_dir=run_dir, progress=False,
                  resume=(run_dir / CHECKPOINT_NAME).is_file(), seed=seed, callbacks=[report], **settings)  # fmt: skip
        finally:
            envs.close()
            if eval_env is not None:
                eval_env.close()
        if job.get("final_episodes"):  # the final weights' greedy score, on resets no training decision used
            returns = evaluate(agent, env_id, job["final_episodes"], seed=FINAL_EVAL_SEED, env_kwargs=env_kwargs)
            tune.report({**report.last, "final_eval": float(np.mean(returns)), "final": 1})


# ---------------------------------------------------------------- checking the input (no Ray started)
def check_env(env_id: str) -> None:
    """An unknown id fails here with its name; so does an env without Discrete actions."""
    env = make_env(env_id)
    try:
        check_discrete(env)
    finally:
        env.close()


def announce_recipe(env_id: str, name: str | None) -> Recipe:
    recipe, which = pick_recipe(env_id, name)  # the one home of the choice, shared with `keras-dqn train`
    print(which)
    return recipe


def check_settings(recipe: Recipe, space: Mapping[str, Mapping[str, Any]], steps: int | None) -> int:
    """The trials' budget; every trial must evaluate (ASHA compares greedy evaluations)."""
    train = {**recipe.train_kwargs, **space.get("train", {})}
    episodes = search_space_values("train.eval_episodes", train["eval_episodes"])[1]
    if any(e == 0 for e in episodes):
        raise ValueError("train.eval_episodes must be at least 1: the trials are compared by their greedy evaluations")
    return recipe.train_kwargs["total_steps"] if steps is None else check_positive_int("steps", steps)


def check_address(address: str | None) -> None:
    """Fail within seconds on a HOST:PORT nobody answers on (ray.init would keep retrying)."""
    if address is None or address in ("auto", "local"):
        return
    if not isinstance(address, str) or not address.strip():
        raise ValueError(f"address must be 'auto' or a Ray cluster's HOST:PORT, got {address!r}")
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"address must be 'auto' or a Ray cluster's HOST:PORT (e.g. 10.0.0.5:6379), got {address!r}")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=5).close()
    except OSError as exc:
        raise ConnectionError(f"cannot reach a Ray cluster at {address}: {exc.strerror or exc} (is `ray start "
                              "--head` running there, and the port open?)") from None  # fmt: skip


def default_out(kind: str, env_id: str) -> Path:
    return Path("runs") / f"{kind}-{env_id.replace('/', '-')}"


def _experiment(out: Path, storage: str | None, name: str) -> str:
    """Where Tune keeps the experiment: ``out/NAME``, or ``storage/OUT_NAME-NAME``."""
    if storage is None:
        return str((out / name).resolve())
    return f"{storage.rstrip('/')}/{out.resolve().name}-{name}"


def _storage_and_name(experiment: str) -> tuple[str, str]:
    parent, _, name = experiment.rstrip("/").rpartition("/")
    return parent, name


def _check_out(out: Path, experiment: str, resume: bool) -> None:
    if out.exists() and not out.is_dir():
        raise ValueError(f"out {out} is a file, not a folder")
    exists = tune.Tuner.can_restore(experiment)
    if resume and not exists:
        raise ValueError(f"nothing to resume: {experiment} holds no Tune experiment")
    if exists and not resume:
        raise ValueError(f"{experiment} already holds an experiment: pass resume=True (--resume) to continue it, "
                         "or another out (--out)")  # fmt: skip


# ---------------------------------------------------------------- Ray: started here, or a cluster's
@contextlib.contextmanager
def ray_session(address: str | None, num_cpus: int | None) -> Iterator[None]:
    """A local Ray started and stopped here (``address=None``; a Ray already started in this
    process is used and left running), or a connection to the cluster at ``address``."""
    if ray.is_initialized():
        yield
        return
    options = {"include_dashboard": False, "log_to_driver": False, "configure_logging": True,
               "logging_level": "ERROR"}  # fmt: skip
    try:
        if address is None:
            ray.init(num_cpus=num_cpus, **options)
        else:
            ray.init(address=address, **options)
    except (ConnectionError, RuntimeError, TimeoutError, ray.exceptions.RayError) as exc:
        raise ConnectionError(f"cannot connect to Ray at {address or 'a new local Ray'}: "
                              f"{' '.join(str(exc).split())}") from None  # fmt: skip
    try:
        nodes = [n for n in ray.nodes() if n.get("Alive")]
        cpus = sum(n.get("Resources", {}).get("CPU", 0) for n in nodes)
        where = "a local Ray" if address is None else f"the Ray cluster at {address}"
        print(f"ray: {where}, {len(nodes)} node{'s' * (len(nodes) != 1)}, {cpus:g} CPUs")
        yield
    finally:
        ray.shutdown()


def make_trainable(job: dict, cpus_per_trial: float):
    """The trial function with its CPUs.  Tune reuses a finished trial's worker for the next one
    (``reuse_actors``): TensorFlow is imported once per worker, not once per trial."""
    return tune.with_resources(functools.partial(_trial, job=job), {"cpu": cpus_per_trial})


# ---------------------------------------------------------------- progress lines on the driver
def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, (list, tuple)):
        return ",".join(_format(v) for v in value)
    return str(value)


def describe_trial(config: Mapping[str, Any], varied: list[tuple[str, str]]) -> str:
    if "seed" in config and not varied:
        return f"seed {config['seed']}"
    return " ".join(f"{name}={_format(config.get(section, {}).get(name))}" for section, name in varied)


def _trial_status(rows: list[Mapping[str, Any]], total_steps: int, target: float | None, status: str | None,
                  error: bool) -> str:  # fmt: skip
    """One word or two for how a trial ended."""
    if error or status == "ERROR":
        return "failed"
    steps = max((int(r.get("step", 0)) for r in rows), default=0)
    if steps >= total_steps:
        return "completed"
    if target is not None and any(r.get("eval_mean", -math.inf) >= target for r in rows):
        return "target reached"
    if status == "TERMINATED":
        return "stopped early"
    return "unfinished"


class TrialProgress(tune.Callback):
    """A line per finished trial and, every ``every_s`` seconds, the sweep's status."""

    def __init__(self, experiment: str, *, total: int, total_steps: int, target: float | None,
                 describe: Callable[[dict], str], every_s: float = 30.0):  # fmt: skip
        self.experiment = experiment
        self.total, self.total_steps, self.target = total, total_steps, target
        self.describe, self.every_s = describe, every_s
        self.rows: dict[str, list[dict]] = {}
        self.done = 0
        self.started = self.last_status = time.monotonic()

    def setup(self, **info):
        self.rows, self.done = {}, 0
        self.started = self.last_status = time.monotonic()

    def on_trial_result(self, iteration, trials, trial, result, **info):
        self.rows.setdefault(trial.trial_id, []).append(result)

    def _best(self, trial_id: str) -> float:
        return max((r["eval_mean"] for r in self.rows.get(trial_id, []) if "eval_mean" in r), default=math.nan)

    def _line(self, trial, status: str, error: str = "") -> None:
        self.done += 1
        rows = self.rows.get(trial.trial_id, [])
        steps = max((int(r.get("step", 0)) for r in rows), default=0)
        best = self._best(trial.trial_id)
        score = f"best eval {best:.1f}" if not math.isnan(best) else "no evaluation"
        print(f"trial {self.done}/{self.total} {status}: {self.describe(trial.config)}: {score} "
              f"after {steps:,} steps" + (f": {error}" if error else ""), flush=True)  # fmt: skip

    def on_trial_complete(self, iteration, trials, trial, **info):
        rows = self.rows.get(trial.trial_id, [])
        self._line(trial, _trial_status(rows, self.total_steps, self.target, "TERMINATED", False))

    def on_trial_error(self, iteration, trials, trial, **info):
        error = ""
        with contextlib.suppress(Exception):  # the error file is Tune's; a line from it is a courtesy
            lines = [line.strip() for line in Path(trial.error_file).read_text().splitlines() if line.strip()]
            error = lines[-1] if lines else ""
        self._line(trial, "failed", error)

    def on_step_end(self, iteration, trials, **info):
        # Statuses as the last step left them: an interrupted experiment's clean-up stops the running trials after.
        _STATUSES[self.experiment] = {t.path: (t.status, t.config) for t in trials}
        if time.monotonic() - self.last_status >= self.every_s:
            self.last_status = time.monotonic()
            print(self.status(trials), flush=True)

    def status(self, trials) -> str:
        counts = {s: sum(t.status == s for t in trials) for s in ("TERMINATED", "RUNNING", "ERROR", "PENDING")}
        best = max(((self._best(t.trial_id), t) for t in trials if not math.isnan(self._best(t.trial_id))),
                   default=None, key=lambda pair: pair[0])  # fmt: skip
        text = (f"[{time.monotonic() - self.started:,.0f} s] {counts['TERMINATED']} done, {counts['RUNNING']} running, "
                f"{counts['ERROR']} failed, {counts['PENDING']} pending")  # fmt: skip
        if best is not None:
            text += f"; best so far {best[0]:.4g} ({self.describe(best[1].config)})"
        return text


# ---------------------------------------------------------------- results
def jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _error_line(error: BaseException | None) -> str:
    if error is None:
        return ""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__


def collect_trials(results, experiment: str, total_steps: int, target: float | None) -> list[dict[str, Any]]:
    """Each trial's config, rows (the log rows; not a seed study's final report) and how it ended."""
    trials, statuses = [], _STATUSES.pop(experiment, {})
    for index, result in enumerate(results):
        frame = result.metrics_dataframe
        rows = [] if frame is None else [{k: v for k, v in row.items() if not _is_nan(v)}
                                         for row in frame.to_dict("records")]  # fmt: skip
        final = [r for r in rows if r.get("final")]
        rows = continued_rows([r for r in rows if not r.get("final") and "eval_mean" in r])
        seen_status, seen_config = statuses.get(result.path, (None, None))
        config = result.config or seen_config or {}
        status = _trial_status(rows, total_steps, target, seen_status, result.error is not None)
        trials.append({"index": index + 1, "config": config, "rows": rows, "status": status, "path": result.path,
                       "final_eval": final[-1]["final_eval"] if final else None, "checkpoint": result.checkpoint,
                       "error": _error_line(result.error)})  # fmt: skip
    return trials


def continued_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of the run that went on: a resumed trial restarts from its last checkpoint, and the rows
    it had reported after that checkpoint (still in Tune's files) give way to the ones it reports again.
    Rows are matched by Tune's ``training_iteration`` (the report's number, restored with the checkpoint),
    not by step: a row trained again may end a few steps later than the first time.

    Args:
        rows: one trial's result rows in the order Tune reported them, each with
            ``training_iteration`` (or ``step``).

    Returns:
        The rows the curve is drawn from: each report number once, the latest report of it.
    """
    kept: list[dict[str, Any]] = []
    for row in rows:
        key = "training_iteration" if "training_iteration" in row else "step"
        while kept and kept[-1][key] >= row[key]:
            kept.pop()
        kept.append(row)
    return kept


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def write_results(path: Path, rows: list[dict[str, Any]], resume_command: str) -> bool:
    """Write a sweep's or seed study's rows to ``path`` (CSV); return whether any is unfinished,
    after saying how to continue it (``resume=True``, or ``resume_command`` on the command line)."""
    _write_csv(path, rows)
    print(f"wrote {path} ({len(rows)} row{'s' * (len(rows) != 1)})")
    interrupted = any(r["status"] == "unfinished" for r in rows)
    if interrupted:
        print(f"not every run finished: continue it with resume=True ({resume_command})")
    return interrupted


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    columns = list(dict.fromkeys(key for row in rows for key in row))

    def write(tmp: Path) -> None:
        with open(tmp, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            for row in rows:
                writer.writerow({k: _format_cell(v) for k, v in row.items()})

    return atomic_write(path, write)


def _format_cell(value: Any) -> Any:
    if value is None or _is_nan(value):
        return ""
    if isinstance(value, (list, tuple)):
        return json.dumps(jsonable(value))
    return value


def write_json(path: Path, data: Any) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_text(json.dumps(jsonable(data), indent=2) + "\n"))


def copy_file(source: Path, path: Path) -> Path:
    return atomic_write(path, lambda tmp: shutil.copyfile(source, tmp))


def draw_plot(plot: Callable[[], Path], what: str) -> Path | None:
    try:
        return plot()
    except ImportError as exc:  # the viz extra is optional
        print(f"no {what}: {exc}")
        return None


def summarize_rows(rows: list[Mapping[str, Any]]) -> dict[str, Any]:
    evals = [r["eval_mean"] for r in rows]
    best = int(np.argmax(evals)) if evals else None
    return {
        "best_eval": None if best is None else float(evals[best]),
        "best_step": None if best is None else int(rows[best]["step"]),
        "last_eval": float(evals[-1]) if evals else None,
        "steps": int(rows[-1]["step"]) if rows else 0,
        # to the millisecond: a short trial on a warm worker takes ~0.04 s, which 0.1 s would report as 0
        "wall_s": round(float(rows[-1]["wall_s"]), 3) if rows and "wall_s" in rows[-1] else None,
        "node": rows[-1].get("node") if rows else None,
        "host": rows[-1].get("host") if rows else None,
    }


def eval_curve(rows: list[Mapping[str, Any]]) -> tuple[list[float], list[float]]:
    return [float(r["step"]) for r in rows], [float(r["eval_mean"]) for r in rows]


# ---------------------------------------------------------------- the job: what every trial runs
def start_job(kind: str, out: Path, storage: str | None, resume: bool, job: dict | None) -> tuple[str, dict]:
    """The experiment's location and its job (read back when resuming, written when starting)."""
    experiment = _experiment(out, storage, kind)
    _check_out(out, experiment, resume)
    job_file = out / f"{kind}-{_JOB_FILE}"
    if resume:
        if not job_file.is_file():
            raise ValueError(f"nothing to resume: {job_file} is missing")
        saved = json.loads(job_file.read_text())
        print(f"resuming the {kind} run in {experiment} as first started (its settings, not this call's)")
        return experiment, saved
    out.mkdir(parents=True, exist_ok=True)
    write_json(job_file, job)
    return experiment, job


@contextlib.contextmanager
def _quiet_tune() -> Iterator[None]:
    """Tune's own output off (our lines say what happened; a failed trial's traceback is in its
    ``error.txt`` in the experiment): verbose=0 silences Tune only with its older output engine."""
    previous = os.environ.get("RAY_AIR_NEW_OUTPUT")
    os.environ["RAY_AIR_NEW_OUTPUT"] = "0"
    tune_logger = logging.getLogger("ray.tune")
    level = tune_logger.level
    tune_logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        tune_logger.setLevel(level)
        if previous is None:
            os.environ.pop("RAY_AIR_NEW_OUTPUT", None)
        else:
            os.environ["RAY_AIR_NEW_OUTPUT"] = previous


def run_tuner(experiment: str, resume: bool, trainable, param_space: dict, tune_config, run_config):
    if resume:
        tuner = tune.Tuner.restore(experiment, trainable, resume_unfinished=True, resume_errored=True)
    else:
        tuner = tune.Tuner(trainable, param_space=param_space, tune_config=tune_config, run_config=run_config)
    with _quiet_tune():
        return tuner.fit()


def make_run_config(experiment: str, progress: TrialProgress):
    storage, name = _storage_and_name(experiment)
    return tune.RunConfig(name=name, storage_path=storage, verbose=0, callbacks=[progress],
                          checkpoint_config=tune.CheckpointConfig(num_to_keep=1))  # fmt: skip


def plots_module():
    """The plotting module (the viz extra), imported when a plot is drawn."""
    from keras_dqn.experiments import plots as viz

    return viz

"""Many runs on Ray Tune: hyperparameter sweeps (:func:`sweep`) and seed studies (:func:`seeds`).

Needs the ``ray`` extra (``pip install -e ".[ray]"``: Ray Tune, and SciPy for
:mod:`keras_dqn.statistics`); nothing else in keras_dqn imports Ray.

Each trial is one :func:`keras_dqn.train` run of a recipe.  A Keras callback reports every log
row (``step``, the greedy ``eval_mean``, ``loss``, ``epsilon``, ``steps_per_s``..., plus the
trial's wall seconds and the Ray node it runs on) to Tune with the run's checkpoint, so an
interrupted sweep resumes (``resume=True``) and Tune's ASHA scheduler stops the trials whose
greedy evaluation lags behind.  Without ``address`` a local Ray is started (and stopped) on
this machine's cores; with one (``"auto"``, ``"HOST:PORT"``) the trials run on that cluster::

    keras_dqn.tune.sweep("CartPole-v1", samples=16)          # runs/tune-CartPole-v1
    keras_dqn.tune.seeds("CartPole-v1", n_seeds=10)          # runs/seeds-CartPole-v1

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

from keras_dqn import statistics
from keras_dqn.checkpoint import CHECKPOINT_NAME
from keras_dqn.checks import check_number, check_positive_int, check_positive_number
from keras_dqn.envs import check_discrete, is_atari, make_env, make_vector_env
from keras_dqn.evaluation import evaluate
from keras_dqn.files import atomic_write
from keras_dqn.recipes import (
    Recipe,
    check_search_space,
    get_recipe,
    pick_recipe,
    search_space_values,
)
from keras_dqn.settings import apply_config, check_config, read_config_file
from keras_dqn.training import train

RAY_HINT = 'keras_dqn.tune needs Ray Tune: pip install -e ".[ray]"  (or pip install "ray[tune]" scipy)'
try:
    import ray
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler
    from ray.tune.search.basic_variant import BasicVariantGenerator
except ImportError as _error:  # pragma: no cover - exercised without the extra
    raise ImportError(RAY_HINT) from _error
if not hasattr(tune, "get_checkpoint"):  # pragma: no cover - ray.tune.report/get_checkpoint/Checkpoint: Ray 2.41+
    raise ImportError(f"keras_dqn.tune needs Ray 2.41 or newer (this is {ray.__version__}): "
                      'pip install -U "ray[tune]>=2.41"')  # fmt: skip

FINAL_EVAL_SEED = 1_000_000_000  # seeds' final evaluation resets: never a training or periodic-evaluation seed
REDUCTION_FACTOR = 3  # ASHA keeps the best third of the trials at each rung
RUN_FILES = ("best.h5", "last.h5", CHECKPOINT_NAME)  # a trial's run folder, reported to Tune at every row
_STATE_FILE = "tune_state.json"  # in each reported checkpoint: the rows reported, the wall seconds saved
_JOB_FILE = "job.json"  # in the experiment folder: what the sweep runs, for resume=True
# Each experiment's trial statuses and configs as its progress callback last saw them (Tune runs the callbacks
# in this process; a resumed experiment's callback is an unpickled copy, so they meet here).  A trial that never
# started has no result to read its config from: an interrupted run's pending trials get theirs from here.
_STATUSES: dict[str, dict[str, tuple[str, dict]]] = {}
_SAMPLERS = {"uniform": tune.uniform, "loguniform": tune.loguniform, "randint": tune.randint,
             "choice": tune.choice, "grid": tune.grid_search}  # fmt: skip


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
                for name in RUN_FILES:
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
                for name in RUN_FILES:
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
def _check_env(env_id: str) -> None:
    """An unknown id fails here with its name; so does an env without Discrete actions."""
    env = make_env(env_id)
    try:
        check_discrete(env)
    finally:
        env.close()


def _pick_recipe(env_id: str, name: str | None) -> Recipe:
    recipe, which = pick_recipe(env_id, name)  # the one home of the choice, shared with `keras-dqn train`
    print(which)
    return recipe


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


def _check_space(recipe: Recipe, space: Any, where: str) -> dict[str, dict[str, Any]]:
    try:
        check_search_space(recipe.agent_class, space)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    if not any(space.get(section) for section in ("agent", "train")):
        raise ValueError(f"{where}: the search space is empty: name at least one agent or train setting")
    return {section: dict(settings) for section, settings in space.items()}


def _check_settings(recipe: Recipe, space: Mapping[str, Mapping[str, Any]], steps: int | None) -> int:
    """The trials' budget; every trial must evaluate (ASHA compares greedy evaluations)."""
    train = {**recipe.train_kwargs, **space.get("train", {})}
    episodes = search_space_values("train.eval_episodes", train["eval_episodes"])[1]
    if any(e == 0 for e in episodes):
        raise ValueError("train.eval_episodes must be at least 1: the trials are compared by their greedy evaluations")
    return recipe.train_kwargs["total_steps"] if steps is None else check_positive_int("steps", steps)


def _check_address(address: str | None) -> None:
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


def _default_out(kind: str, env_id: str) -> Path:
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
def _ray_session(address: str | None, num_cpus: int | None) -> Iterator[None]:
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


def _trainable(job: dict, cpus_per_trial: float):
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


def _describe(config: Mapping[str, Any], varied: list[tuple[str, str]]) -> str:
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


class _Progress(tune.Callback):
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
def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _error_line(error: BaseException | None) -> str:
    if error is None:
        return ""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__


def _trials(results, experiment: str, total_steps: int, target: float | None) -> list[dict[str, Any]]:
    """Each trial's config, rows (the log rows; not a seed study's final report) and how it ended."""
    trials, statuses = [], _STATUSES.pop(experiment, {})
    for index, result in enumerate(results):
        frame = result.metrics_dataframe
        rows = [] if frame is None else [{k: v for k, v in row.items() if not _is_nan(v)}
                                         for row in frame.to_dict("records")]  # fmt: skip
        final = [r for r in rows if r.get("final")]
        rows = _continued([r for r in rows if not r.get("final") and "eval_mean" in r])
        seen_status, seen_config = statuses.get(result.path, (None, None))
        config = result.config or seen_config or {}
        status = _trial_status(rows, total_steps, target, seen_status, result.error is not None)
        trials.append({"index": index + 1, "config": config, "rows": rows, "status": status, "path": result.path,
                       "final_eval": final[-1]["final_eval"] if final else None, "checkpoint": result.checkpoint,
                       "error": _error_line(result.error)})  # fmt: skip
    return trials


def _continued(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of the run that went on: a resumed trial restarts from its last checkpoint, and the rows
    it had reported after that checkpoint (still in Tune's files) give way to the ones it reports again.
    Rows are matched by Tune's ``training_iteration`` (the report's number, restored with the checkpoint),
    not by step: a row trained again may end a few steps later than the first time."""
    kept: list[dict[str, Any]] = []
    for row in rows:
        key = "training_iteration" if "training_iteration" in row else "step"
        while kept and kept[-1][key] >= row[key]:
            kept.pop()
        kept.append(row)
    return kept


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _write_rows(path: Path, rows: list[dict[str, Any]], resume_command: str) -> bool:
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
        return json.dumps(_jsonable(value))
    return value


def _write_json(path: Path, data: Any) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_text(json.dumps(_jsonable(data), indent=2) + "\n"))


def _copy(source: Path, path: Path) -> Path:
    return atomic_write(path, lambda tmp: shutil.copyfile(source, tmp))


def _plot(plot: Callable[[], Path], what: str) -> Path | None:
    try:
        return plot()
    except ImportError as exc:  # the viz extra is optional
        print(f"no {what}: {exc}")
        return None


def _summary_of_rows(rows: list[Mapping[str, Any]]) -> dict[str, Any]:
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


def _curve(rows: list[Mapping[str, Any]]) -> tuple[list[float], list[float]]:
    return [float(r["step"]) for r in rows], [float(r["eval_mean"]) for r in rows]


# ---------------------------------------------------------------- the job: what every trial runs
def _start(kind: str, out: Path, storage: str | None, resume: bool, job: dict | None) -> tuple[str, dict]:
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
    _write_json(job_file, job)
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


def _run(experiment: str, resume: bool, trainable, param_space: dict, tune_config, run_config):
    if resume:
        tuner = tune.Tuner.restore(experiment, trainable, resume_unfinished=True, resume_errored=True)
    else:
        tuner = tune.Tuner(trainable, param_space=param_space, tune_config=tune_config, run_config=run_config)
    with _quiet_tune():
        return tuner.fit()


def _run_config(experiment: str, progress: _Progress):
    storage, name = _storage_and_name(experiment)
    return tune.RunConfig(name=name, storage_path=storage, verbose=0, callbacks=[progress],
                          checkpoint_config=tune.CheckpointConfig(num_to_keep=1))  # fmt: skip


def _varied(space: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, str]]:
    """The (section, name) of each setting a space samples (not the fixed ones)."""
    return [(section, name) for section, settings in space.items() for name, spec in settings.items()
            if isinstance(spec, Mapping)]  # fmt: skip


def _param_space(space: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    converted: dict[str, dict[str, Any]] = {}
    for section, settings in space.items():
        converted[section] = {}
        for name, spec in settings.items():
            if isinstance(spec, Mapping):
                kind, args = next(iter(spec.items()))
                converted[section][name] = _SAMPLERS[kind](list(args)) if kind in ("choice", "grid") else (
                    _SAMPLERS[kind](*args))  # fmt: skip
            else:
                converted[section][name] = spec
    return converted


def _grid_size(space: Mapping[str, Mapping[str, Any]]) -> int:
    sizes = [len(next(iter(spec.values()))) for settings in space.values() for spec in settings.values()
             if isinstance(spec, Mapping) and next(iter(spec)) == "grid"]  # fmt: skip
    return math.prod(sizes)


def _eval_every(recipe: Recipe, space: Mapping[str, Mapping[str, Any]]) -> int:
    spec = space.get("train", {}).get("eval_every", recipe.train_kwargs["eval_every"])
    kind, values = search_space_values("train.eval_every", spec)
    return int(max(values))


# ---------------------------------------------------------------- the sweep
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
            each); default: the recipe's :attr:`~keras_dqn.recipes.Recipe.search_space`.
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
    out = Path(out) if out is not None else _default_out("tune", env_id)
    samples = check_positive_int("samples", samples)
    check_positive_number("cpus_per_trial", cpus_per_trial)
    grace_rows = check_positive_int("grace_rows", grace_rows)
    if address is not None and num_cpus is not None:
        raise ValueError("num_cpus sizes a local Ray; a cluster at an address has its own CPUs")
    if not resume:
        _check_env(env_id)
        chosen = _pick_recipe(env_id, recipe)
        given = chosen.search_space if space is None else load_space(space)
        if space is None and not chosen.search_space:
            raise ValueError(f"recipe {chosen.name} has no default search space: pass one (--space FILE)")
        checked = _check_space(chosen, given, f"recipe {chosen.name}" if space is None else
                               "space" if isinstance(space, Mapping) else str(space))  # fmt: skip
        chosen.check_atoms_for(env_id, given=checked.get("agent", {}))
        total_steps = _check_settings(chosen, checked, steps)
        job = {"kind": "tune", "env_id": env_id, "recipe": chosen.name, "space": checked, "samples": samples,
               "agent": {}, "train": {"total_steps": total_steps}, "seed": seed, "cpus": cpus_per_trial,
               "grace_period": grace_rows * _eval_every(chosen, checked), "final_episodes": 0}  # fmt: skip
    else:
        job = None
    _check_address(address)
    experiment, job = _start("tune", out, storage, resume, job)
    chosen = get_recipe(job["recipe"])
    total_steps = job["train"]["total_steps"]
    varied = _varied(job["space"]) or [(s, n) for s, settings in job["space"].items() for n in settings]
    total = job["samples"] * _grid_size(job["space"])
    target = {**chosen.train_kwargs, **job["space"].get("train", {})}.get("target_score")
    target = target if isinstance(target, (int, float)) else None
    progress = _Progress(experiment, total=total, total_steps=total_steps, target=target, every_s=status_every,
                         describe=lambda config: _describe(config, varied))  # fmt: skip
    print(f"sweep: {total} trial{'s' * (total != 1)} of {chosen.name} on {job['env_id']}, {total_steps:,} steps "
          f"each, {job['cpus']:g} CPU{'s' * (job['cpus'] != 1)} per trial; results in {out}")  # fmt: skip
    scheduler = ASHAScheduler(time_attr="step", max_t=total_steps, grace_period=min(job["grace_period"], total_steps),
                              reduction_factor=REDUCTION_FACTOR)  # fmt: skip
    tune_config = tune.TuneConfig(metric="eval_mean", mode="max", scheduler=scheduler, num_samples=job["samples"],
                                  search_alg=BasicVariantGenerator(random_state=job["seed"]),
                                  reuse_actors=True)  # fmt: skip
    with _ray_session(address, num_cpus):
        results = _run(experiment, resume, _trainable(job, job["cpus"]), _param_space(job["space"]), tune_config,
                       _run_config(experiment, progress))  # fmt: skip
    return _sweep_outputs(job, out, _trials(results, experiment, total_steps, target), varied)


def _sweep_outputs(job: dict, out: Path, trials: list[dict], varied: list[tuple[str, str]]) -> dict[str, Any]:
    env_id, recipe = job["env_id"], job["recipe"]
    rows = []
    for trial in trials:
        summary = _summary_of_rows(trial["rows"])
        settings = {f"{section}.{name}": value for section in ("agent", "train")
                    for name, value in trial["config"].get(section, {}).items()}  # fmt: skip
        rows.append({"trial": trial["index"], "status": trial["status"], **summary, **settings,
                     "error": trial["error"]})  # fmt: skip
        trial["summary"] = summary
    order = sorted(range(len(trials)), key=lambda i: (rows[i]["best_eval"] is None, -(rows[i]["best_eval"] or 0),
                                                      rows[i]["best_step"] or 0))  # fmt: skip
    rows = [rows[i] for i in order]
    trials = [trials[i] for i in order]
    interrupted = _write_rows(out / "results.csv", rows, f"keras-dqn tune {env_id} --out {out} --resume")
    result: dict[str, Any] = {"out": str(out), "recipe": recipe, "best": None, "trials": rows,
                              "interrupted": interrupted}  # fmt: skip
    scored = [t for t in trials if t["summary"]["best_eval"] is not None]
    if not scored:
        print("no trial reported an evaluation: no best_config.json, best.h5 or curves.png")
        return result
    best = scored[0]
    config = {section: _jsonable(best["config"].get(section, {})) for section in ("agent", "train")}
    _write_json(out / "best_config.json", config)
    best_weights = _best_weights(best, out)
    label = {t["index"]: f"#{t['index']} {_describe(t['config'], varied)}" for t in scored}
    _plot(lambda: _viz().plot_trial_curves(
        {label[t["index"]]: _curve(t["rows"]) for t in scored}, out / "curves.png",
        title=f"{env_id}: {len(scored)} trials of {recipe}", best=label[best["index"]]), "curves.png")  # fmt: skip
    result["best"] = {**rows[0], "config": config, "weights": None if best_weights is None else str(best_weights)}
    steps = job["train"]["total_steps"]
    print(f"best: trial {best['index']} ({_describe(best['config'], varied)}): best greedy evaluation "
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
        path = _copy(source, out / "best.h5")
    print(f"wrote {path} (trial {trial['index']}'s best weights)")
    return path


def _viz():
    from keras_dqn import viz

    return viz


# ---------------------------------------------------------------- seeds
def _config_overrides(recipe: Recipe, config: str | os.PathLike | Mapping[str, Any] | None) -> dict[str, dict]:
    """A ``--config`` file's (or dict's) 'agent' and 'train' settings, checked as ``keras-dqn train`` does."""
    if isinstance(config, Mapping):
        where = "config"
        try:
            given = check_config(_jsonable(config))
        except ValueError as exc:
            raise ValueError(f"config: {exc}") from None
    else:
        where, given = str(config), read_config_file(config)  # its errors name the file
    try:
        apply_config(recipe, given)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    return given


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
    * ``summary.json``: :func:`keras_dqn.statistics.summarize_seeds` of the final scores
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
    out = Path(out) if out is not None else _default_out("seeds", env_id)
    n_seeds = check_positive_int("n_seeds", n_seeds)
    final_episodes = check_positive_int("final_episodes", final_episodes)
    check_positive_number("cpus_per_trial", cpus_per_trial)
    if address is not None and num_cpus is not None:
        raise ValueError("num_cpus sizes a local Ray; a cluster at an address has its own CPUs")
    if not resume:
        _check_env(env_id)
        chosen = _pick_recipe(env_id, recipe)
        overrides = _config_overrides(chosen, config)
        configured = chosen.replace(agent_kwargs={**chosen.agent_kwargs, **overrides["agent"]},
                                    train_kwargs={**chosen.train_kwargs, **overrides["train"]})  # fmt: skip
        configured.check_atoms_for(env_id, given=overrides["agent"])
        total_steps = _check_settings(configured, {}, steps)
        job = {"kind": "seeds", "env_id": env_id, "recipe": chosen.name, "n_seeds": n_seeds,
               "agent": overrides["agent"], "train": {**overrides["train"], "total_steps": total_steps}, "seed": 0,
               "cpus": cpus_per_trial, "final_episodes": final_episodes,
               "target": None if target is None else check_number("target", target)}  # fmt: skip
    else:
        job = None
    _check_address(address)
    experiment, job = _start("seeds", out, storage, resume, job)
    env_id = job["env_id"]
    chosen = get_recipe(job["recipe"])
    total_steps = job["train"]["total_steps"]
    target = job.get("target")
    target = statistics.solved_score(env_id) if target is None else target
    progress = _Progress(experiment, total=job["n_seeds"], total_steps=total_steps, target=None, every_s=status_every,
                         describe=lambda config: f"seed {config.get('seed')}")  # fmt: skip
    print(f"seeds: {chosen.name} on {env_id}, seeds 0..{job['n_seeds'] - 1}, {total_steps:,} steps each, "
          f"{job['cpus']:g} CPU{'s' * (job['cpus'] != 1)} per seed; results in {out}")  # fmt: skip
    tune_config = tune.TuneConfig(num_samples=1, reuse_actors=True)
    param_space = {"seed": tune.grid_search(list(range(job["n_seeds"])))}
    with _ray_session(address, num_cpus):
        results = _run(experiment, resume, _trainable(job, job["cpus"]), param_space, tune_config,
                       _run_config(experiment, progress))  # fmt: skip
    return _seeds_outputs(job, out, _trials(results, experiment, total_steps, None), target)


def _seeds_outputs(job: dict, out: Path, trials: list[dict], target: float | None) -> dict[str, Any]:
    env_id, recipe = job["env_id"], job["recipe"]
    trials = sorted(trials, key=lambda t: t["config"].get("seed", 0))
    rows = []
    for trial in trials:
        summary = _summary_of_rows(trial["rows"])
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
    interrupted = _write_rows(out / "seeds.csv", rows, f"keras-dqn seeds {env_id} --out {out} --resume")
    result: dict[str, Any] = {"out": str(out), "recipe": recipe, "summary": None, "seeds": rows,
                              "interrupted": interrupted}  # fmt: skip
    done = [r for r in rows if r["final_score"] is not None]
    if not done:
        print("no seed finished: no summary.json or curve.png")
        return result
    summary = statistics.summarize_seeds(
        [r["final_score"] for r in done], solved_at=target, steps_to_solve=[r["steps_to_solve"] for r in done],
        seconds_to_solve=[r["seconds_to_solve"] for r in done],
    )  # fmt: skip
    failed = sum(r["status"] == "failed" for r in rows if r["final_score"] is None)
    summary = {**summary, "n_failed": failed, "n_unfinished": len(rows) - len(done) - failed, "env_id": env_id,
               "recipe": recipe, "steps": job["train"]["total_steps"],
               "settings": {"agent": job["agent"], "train": job["train"]},
               "final_score": f"greedy mean over {job['final_episodes']} episodes of each seed's final weights, reset "
                              f"seeds {FINAL_EVAL_SEED}..{FINAL_EVAL_SEED + job['final_episodes'] - 1}"}  # fmt: skip
    _write_json(out / "summary.json", summary)
    result["summary"] = summary
    curves = [_curve(t["rows"]) for t in trials if t["rows"]]
    if curves:
        _plot(lambda: _viz().plot_mean_curve(
            statistics.mean_curve(curves), out / "curve.png", per_seed=curves, target=target,
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


__all__ = ["FINAL_EVAL_SEED", "RAY_HINT", "load_space", "seeds", "sweep"]

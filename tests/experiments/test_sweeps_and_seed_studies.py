"""Sweeps and seed studies: a sweep on a two-node cluster on this machine, a seed study on a local Ray, runs stopped by
Ctrl-C and resumed, bad input.

Every Ray here runs on this machine (its temp files under /tmp/ray, its results under tmp_path)
and is shut down by a fixture, even when a test fails.
"""

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

ray = pytest.importorskip("ray", reason='the ray extra: pip install -e ".[ray]"')

from ray.cluster_utils import Cluster  # noqa: E402

import keras_dqn  # noqa: E402
from keras_dqn.cli import commands as cli  # noqa: E402
from keras_dqn.config.recipes import RECIPES, get_recipe  # noqa: E402
from keras_dqn.config.settings import apply_config, read_config_file  # noqa: E402
from keras_dqn.config.spaces import check_search_space  # noqa: E402
from keras_dqn.experiments import ray_jobs, seed_studies, sweeps  # noqa: E402

# Tiny CartPole trials: an evaluation (3 greedy episodes) every 500 steps.
QUICK = {"eval_every": 500, "eval_episodes": 3, "learning_starts": 100, "gradient_steps": 1}


# For the Ray processes the tests start (they inherit the environment): no usage report leaves this machine,
# and a node's agents may take their time to start on a busy CI machine (Ray's defaults give up after 10-30 s).
RAY_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_agent_register_timeout_ms": "120000",
           "RAY_raylet_start_wait_time_s": "120"}  # fmt: skip


@pytest.fixture(autouse=True, scope="module")
def _ray_environment():
    previous = {name: os.environ.get(name) for name in RAY_ENV}
    os.environ.update(RAY_ENV)
    yield
    for name, value in previous.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture
def two_nodes():
    """A Ray cluster of two nodes with one CPU each, on this machine."""
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    try:
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        yield cluster
    finally:
        if ray.is_initialized():
            ray.shutdown()
        cluster.shutdown()


@pytest.fixture
def no_ray_left():
    yield
    if ray.is_initialized():  # a failed test must not leave its Ray to the next one
        ray.shutdown()
        pytest.fail("Ray was left running")


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_sweep_on_a_two_node_cluster(two_nodes, tmp_path, capsys):
    out = tmp_path / "sweep"
    space = {"agent": {"learning_rate": {"loguniform": [3e-4, 3e-3]}},
             "train": {"batch_size": {"choice": [32, 64]}, **QUICK}}  # fmt: skip
    result = sweeps.sweep("CartPole-v1", space=space, samples=4, steps=1500, address=two_nodes.address, out=out,
                      grace_rows=1, status_every=5)  # fmt: skip
    assert not ray.is_initialized()  # the driver disconnected; the cluster is the fixture's

    rows = read_csv(out / "results.csv")
    assert len(rows) == 4 and len(result["trials"]) == 4
    for row in rows:
        assert row["status"] in ("completed", "stopped early"), row
        assert float(row["best_eval"]) > 0 and 500 <= int(row["steps"]) <= 1500 + 8 and float(row["wall_s"]) > 0
        assert 3e-4 <= float(row["agent.learning_rate"]) <= 3e-3 and row["train.batch_size"] in ("32", "64")
        assert row["node"] and row["host"] and not row["error"]
    assert any(row["status"] == "completed" for row in rows)
    assert len({row["node"] for row in rows}) == 2, "trials ran on both nodes"
    best_evals = [float(row["best_eval"]) for row in rows]
    assert best_evals == sorted(best_evals, reverse=True)  # best first

    best = json.loads((out / "best_config.json").read_text())
    assert set(best) == {"agent", "train"}
    assert best["agent"]["learning_rate"] == pytest.approx(float(rows[0]["agent.learning_rate"]))
    assert best["train"] == {"batch_size": int(rows[0]["train.batch_size"]), **QUICK}
    given = read_config_file(str(out / "best_config.json"))  # as train --config reads it
    recipe = apply_config(get_recipe("cartpole-target"), given)
    assert given == best and recipe.train_kwargs["batch_size"] == best["train"]["batch_size"]
    agent = keras_dqn.load_agent(out / "best.h5")
    assert agent.learning_rate == pytest.approx(best["agent"]["learning_rate"])
    assert (out / "curves.png").stat().st_size > 0
    printed = capsys.readouterr().out
    assert printed.count("trial ") >= 4 and "best: trial" in printed and "--config" in printed

    with pytest.raises(ValueError, match="already holds an experiment: pass resume=True"):
        sweeps.sweep("CartPole-v1", space=space, out=out)


def test_three_seeds_on_a_local_ray(tmp_path, capsys, no_ray_left):
    out = tmp_path / "seeds"
    result = seed_studies.seeds("CartPole-v1", n_seeds=3, steps=2000, config={"train": QUICK}, num_cpus=2, out=out,
                      final_episodes=5)  # fmt: skip
    assert not ray.is_initialized()  # the local Ray it started is gone

    rows = read_csv(out / "seeds.csv")
    assert [row["seed"] for row in rows] == ["0", "1", "2"]
    for row in rows:
        assert row["status"] == "completed" and 2000 <= int(row["steps"]) <= 2000 + 8
        assert float(row["final_score"]) > 0 and float(row["best_eval"]) >= float(row["last_eval"]) > 0
        assert (row["steps_to_solve"] == "") == (row["seconds_to_solve"] == "")
    summary = json.loads((out / "summary.json").read_text())
    assert {"n_seeds", "iqm", "ci_low", "ci_high", "mean", "median", "fraction_solved", "median_steps_to_solve",
            "median_seconds_to_solve", "solved_at", "final_score", "env_id", "recipe"} <= set(summary)  # fmt: skip
    assert summary["n_seeds"] == 3 and summary["solved_at"] == 475 and summary["ci_low"] <= summary["ci_high"]
    assert summary["mean"] == pytest.approx(sum(float(r["final_score"]) for r in rows) / 3)
    assert result["summary"]["iqm"] == summary["iqm"]
    assert (out / "curve.png").stat().st_size > 0
    printed = capsys.readouterr().out
    assert "IQM" in printed and "95% bootstrap CI" in printed and printed.count("completed: seed") == 3


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (dict(env_id="NoSuchEnv-v0"), "unknown or unavailable gymnasium environment 'NoSuchEnv-v0'"),
        (dict(space={}), "the search space is empty"),
        (dict(space={"agent": {}}), "the search space is empty"),
        (dict(space={"agent": {"learning_rte": {"choice": [1e-3]}}}), r"unknown TargetDQNAgent settings: learning_rte"),
        (dict(space={"train": {"batch_sise": 32}}), r"unknown train settings: batch_sise"),
        (dict(space={"agent": {"learning_rate": {"normal": [0, 1]}}}), "a distribution is one of uniform, loguniform"),
        (dict(space={"agent": {"learning_rate": {"loguniform": [0, 1e-3]}}}), "loguniform needs low > 0"),
        (dict(space={"agent": {"gamma": {"choice": [0.9, 1.5]}}}), r"agent.gamma must be in \[0, 1\], got 1.5"),
        (dict(space={"train": {"total_steps": 100}}), "set by the sweep"),
        (dict(space={"agent": {"n_step": 3}}, recipe="cartpole-dqn"), ""),  # DQNAgent takes n_step: no error
        (dict(samples=0), "samples must be a positive integer, got 0"),
        (dict(steps=0), "steps must be a positive integer, got 0"),
        (dict(recipe="cartpole"), "unknown recipe 'cartpole'"),
        (dict(env_id="Acrobot-v1", recipe="cartpole-rainbow"), r"atoms span \[-10, 100\], the returns of CartPole-v1"),
    ],
)  # fmt: skip
def test_bad_sweeps_fail_before_ray_starts(call, message, tmp_path, no_ray_left):
    call = {"env_id": "CartPole-v1", "space": {"agent": {"learning_rate": {"choice": [1e-3]}}}, **call}
    if not message:  # a valid space: only the space is checked here (a bad address stops the sweep after it)
        with pytest.raises(ConnectionError):
            sweeps.sweep(**call, out=tmp_path / "out", address="127.0.0.1:1")
        return
    with pytest.raises(ValueError, match=message):
        sweeps.sweep(**call, out=tmp_path / "out")
    assert not ray.is_initialized() and not (tmp_path / "out").exists()


def test_bad_seed_studies_and_addresses(tmp_path, no_ray_left):
    with pytest.raises(ValueError, match="n_seeds must be a positive integer, got 0"):
        seed_studies.seeds("CartPole-v1", n_seeds=0, out=tmp_path / "a")
    with pytest.raises(ValueError, match=r"unknown TargetDQNAgent settings: lr"):
        seed_studies.seeds("CartPole-v1", config={"agent": {"lr": 0.1}}, out=tmp_path / "b")
    with pytest.raises(ValueError, match="target must be a number, got 'high'"):
        seed_studies.seeds("CartPole-v1", target="high", out=tmp_path / "t")
    with pytest.raises(ValueError, match=r"Acrobot-v1's returns may lie elsewhere"):  # C51 atoms of another env
        seed_studies.seeds("Acrobot-v1", recipe="cartpole-rainbow", config={"agent": {"v_min": -100.0}},
                           out=tmp_path / "t")
    assert not (tmp_path / "t").exists()
    with pytest.raises(ValueError, match="nothing to resume"):
        seed_studies.seeds("CartPole-v1", resume=True, out=tmp_path / "c")
    start = time.monotonic()
    with pytest.raises(ConnectionError, match="cannot reach a Ray cluster at 127.0.0.1:1"):
        seed_studies.seeds("CartPole-v1", n_seeds=2, address="127.0.0.1:1", out=tmp_path / "d")
    assert time.monotonic() - start < 30  # at once, not after ray.init's retries
    with pytest.raises(ValueError, match="HOST:PORT"):
        sweeps.sweep("CartPole-v1", address="nowhere", out=tmp_path / "e")


def test_space_files_json_and_yaml(tmp_path):
    space = {"agent": {"learning_rate": {"loguniform": [0.0001, 0.003]}}, "train": {"batch_size": {"grid": [32, 64]}}}
    (tmp_path / "space.json").write_text(json.dumps(space))
    (tmp_path / "space.yaml").write_text("agent:\n  learning_rate: {loguniform: [0.0001, 0.003]}\n"
                                         "train:\n  batch_size: {grid: [32, 64]}\n")  # fmt: skip
    assert sweeps.load_space(tmp_path / "space.json") == sweeps.load_space(tmp_path / "space.yaml") == space
    (tmp_path / "broken.json").write_text("{agent:")
    with pytest.raises(ValueError, match="cannot read search space .*broken.json"):
        sweeps.load_space(tmp_path / "broken.json")
    with pytest.raises(ValueError, match="cannot read search space"):
        sweeps.load_space(tmp_path / "missing.json")


def test_cli_usage_errors_are_one_line(tmp_path, capsys, no_ray_left):
    (tmp_path / "space.json").write_text(json.dumps({"agent": {"learning_rate": {"lognormal": [1, 2]}}}))
    cases = [
        (["tune", "CartPole-v1", "--samples", "0"], "keras-dqn tune: --samples must be a positive integer, got 0"),
        (["seeds", "CartPole-v1", "--seeds", "0"], "keras-dqn seeds: --seeds must be a positive integer, got 0"),
        (["tune", "CartPole-v1", "--cpus-per-trial", "0"], "keras-dqn tune: --cpus-per-trial must be positive, got 0"),
        (["tune", "NoSuchEnv-v0"], "keras-dqn tune: unknown or unavailable gymnasium environment 'NoSuchEnv-v0'"),
        (["tune", "CartPole-v1", "--space", str(tmp_path / "space.json"), "--out", str(tmp_path / "o")],
         "a distribution is one of uniform, loguniform, randint, choice, grid"),
        (["tune", "CartPole-v1", "--address", "127.0.0.1:1", "--out", str(tmp_path / "o")],
         "keras-dqn tune: cannot reach a Ray cluster at 127.0.0.1:1"),
    ]  # fmt: skip
    for argv, message in cases:
        assert cli.main(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert message in err and "\n" not in err, (argv, err)


def test_recipes_search_spaces():
    for name in ("cartpole-dqn", "cartpole-target", "cartpole-rainbow", "pong", "pong-rainbow"):
        recipe = RECIPES[name]
        assert recipe.search_space["agent"]["learning_rate"] == {"loguniform": [1e-4, 3e-3]} or name.startswith("pong")
        check_search_space(recipe.agent_class, recipe.search_space)
    assert "n_step" in get_recipe("cartpole-rainbow").search_space["agent"]
    with pytest.raises(TypeError):
        get_recipe("cartpole-target").search_space["agent"] = {}
    target = get_recipe("cartpole-target")
    with pytest.raises(ValueError, match="search space agent.noisy_nets.*unknown TargetDQNAgent settings"):
        target.replace(search_space={"agent": {"noisy_nets": {"choice": [True, False]}}})
    with pytest.raises(ValueError, match=r"train.batch_size must be an integer, got 32.0"):
        target.replace(search_space={"train": {"batch_size": {"uniform": [32, 64]}}})
    assert target.replace(search_space={}).search_space == {}
    dqn = get_recipe("cartpole-dqn")  # another agent: the space named the old agent's settings (train --agent dqn)
    assert target.replace(agent="DQNAgent", agent_kwargs=dqn.agent_kwargs).search_space == {}


def test_without_ray_one_clear_error():
    """``import keras_dqn`` never imports Ray; without it, sweeps, seed studies and their commands say so."""
    code = (
        "import sys\n"
        "import keras_dqn, keras_dqn.cli\n"
        "assert 'ray' not in sys.modules, 'import keras_dqn imported ray'\n"
        "sys.modules['ray'] = None\n"
        "try:\n"
        "    import keras_dqn.experiments.sweeps\n"
        "except ImportError as error:\n"
        "    print('IMPORT:', error)\n"
        "print('EXIT:', keras_dqn.cli.main(['tune', 'CartPole-v1']))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert 'IMPORT: sweeps and seed studies need Ray Tune: pip install -e ".[ray]"' in result.stdout
    assert "EXIT: 2" in result.stdout
    assert 'keras-dqn tune: sweeps and seed studies need Ray Tune: pip install -e ".[ray]"' in result.stderr


# ---------------------------------------------------------------- resume: a run stopped by Ctrl-C continues
def trial_rows(experiment, key):
    """Each trial's rows as Tune keeps them in the experiment (its ``*/result.json``), by ``key(row)``."""
    rows = {}
    for path in sorted(experiment.glob("*/result.json")):
        for line in path.read_text().splitlines():
            row = json.loads(line)
            rows.setdefault(key(row), []).append(row)
    return rows


def trial_files(experiment, pattern):
    """The files of the one trial folder that matches ``pattern``, as bytes."""
    (folder,) = experiment.glob(pattern)
    return {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()}


def ctrl_c_when(monkeypatch, ready):
    """Press Ctrl-C (SIGINT to this process) as soon as Tune's loop has taken in a trial's result after which
    ``ready(trial.config, results)`` is true (``results``: the trial's so far).  Pressed from within the loop,
    it stops the run at that result whatever the machine's speed: what the trials report after it is not taken
    in.  Returns a list that gets the trial's config once it is pressed."""
    pressed, results = [], {}
    on_trial_result = ray_jobs.TrialProgress.on_trial_result

    def hook(self, iteration, trials, trial, result, **info):
        on_trial_result(self, iteration, trials, trial, result, **info)
        results.setdefault(trial.trial_id, []).append(result)
        tune_handler = getattr(signal.getsignal(signal.SIGINT), "__name__", "") == "signal_interrupt_tune_run"
        if not pressed and tune_handler and ready(trial.config, results[trial.trial_id]):
            pressed.append(trial.config)
            signal.raise_signal(signal.SIGINT)  # Tune's handler: it stops the run, saves its state, and returns

    monkeypatch.setattr(ray_jobs.TrialProgress, "on_trial_result", hook)
    return pressed


def test_an_interrupted_seed_study_resumes(tmp_path, capsys, monkeypatch, no_ray_left):
    """Ctrl-C after seed 0 finished and while seed 1 trains (one CPU: one seed at a time); --resume on the
    folder trains seed 1 on from its last checkpoint, then seed 2, and leaves seed 0 as it was."""
    out, steps = tmp_path / "seeds", 800
    experiment = out / "seeds"
    train = {**QUICK, "eval_every": 200, "eval_episodes": 2}

    def seed_1s_third_row(config, results):  # the checkpoint before it holds seed 1's run files of step ~200
        return config["seed"] == 1 and len(results) == 3

    with monkeypatch.context() as patch:
        pressed = ctrl_c_when(patch, seed_1s_third_row)
        first = seed_studies.seeds("CartPole-v1", n_seeds=3, steps=steps, config={"train": train}, num_cpus=1, out=out,
                         final_episodes=2, status_every=3600, target=30.0)  # fmt: skip
    assert pressed == [{"seed": 1}], "the study finished without its Ctrl-C"
    assert not ray.is_initialized()
    printed = capsys.readouterr().out
    assert first["interrupted"] and "continue it with resume=True" in printed
    assert "2 seed(s) did not finish (resume the run)" in printed and "failed" not in printed
    before = {row["seed"]: row for row in read_csv(out / "seeds.csv")}
    assert list(before) == ["0", "1", "2"]
    assert before["0"]["status"] == "completed" and float(before["0"]["final_score"]) > 0
    for seed in ("1", "2"):
        assert before[seed]["status"] == "unfinished" and before[seed]["final_score"] == "", before[seed]
    assert 600 <= int(before["1"]["steps"]) < steps and before["2"]["steps"] == "0"  # stopped at its third row
    partial = json.loads((out / "summary.json").read_text())  # seed 0's alone, the others said to be unfinished
    assert (partial["n_seeds"], partial["n_failed"], partial["n_unfinished"]) == (1, 0, 2)
    assert partial["mean"] == pytest.approx(float(before["0"]["final_score"]))
    seed_0_files = trial_files(experiment, "*_seed=0_*")
    rows_before = trial_rows(experiment, key=lambda row: row["config"]["seed"])
    assert [len(rows_before.get(seed, [])) for seed in (0, 1, 2)] == [5, 3, 0]  # 4 rows and the final one; 3; none

    # As a user would: the command line, in the same folder (its other flags are the first run's, not these).
    assert cli.main(["seeds", "CartPole-v1", "--resume", "--out", str(out), "--seeds", "7"]) == 0
    assert not ray.is_initialized()
    printed = capsys.readouterr().out
    assert "resuming the seeds run" in printed
    assert printed.count("completed: seed") == 2 and "completed: seed 1" in printed and "completed: seed 2" in printed

    rows = read_csv(out / "seeds.csv")
    assert [row["seed"] for row in rows] == ["0", "1", "2"]  # each seed once, none of the 7 asked for here
    assert rows[0] == before["0"]  # seed 0's row as the first run left it
    for row in rows:
        assert row["status"] == "completed" and steps <= int(row["steps"]) <= steps + 8, row
        assert float(row["final_score"]) > 0 and not row["error"]

    # Tune kept one trial per seed; seed 0 was not trained again; seed 1 went on from its last checkpoint: its
    # rows reported before it stay, and only those after that checkpoint (at most the one Ctrl-C came at) are
    # reported again, under the same report number (a row once it passes 200, 400, 600, 800 steps).
    assert len(list(experiment.glob("*/result.json"))) == 3
    assert trial_files(experiment, "*_seed=0_*") == seed_0_files
    after = trial_rows(experiment, key=lambda row: row["config"]["seed"])
    assert after[0] == rows_before[0]
    assert after[1][: len(rows_before[1])] == rows_before[1]
    for seed in (1, 2):
        trained = {r["training_iteration"]: int(r["step"]) for r in after[seed] if not r.get("final")}
        assert list(trained) == [1, 2, 3, 4] and [step // 200 for step in trained.values()] == [1, 2, 3, 4], after
        assert [r["training_iteration"] for r in after[seed] if r.get("final")] == [5]
    assert len(after[1]) - len(rows_before[1]) in (2, 3)  # seed 1 reported rows 4 and final, maybe row 3 again
    assert len(after[2]) == 5
    # seed 1's rows in seeds.csv and curve.png
    curve = ray_jobs.continued_rows([r for r in after[1] if not r.get("final")])
    assert [r["training_iteration"] for r in curve] == [1, 2, 3, 4]  # a row reported again counts once

    summary = json.loads((out / "summary.json").read_text())
    assert (summary["n_seeds"], summary["n_failed"], summary["n_unfinished"], summary["steps"]) == (3, 0, 0, steps)
    assert summary["mean"] == pytest.approx(sum(float(r["final_score"]) for r in rows) / 3)
    # the first call's target (not CartPole's 475) still decides what counts as solved
    assert summary["solved_at"] == 30.0
    assert summary["fraction_solved"] == pytest.approx(sum(float(r["final_score"]) >= 30 for r in rows) / 3)

    # What there is to resume is the experiment and the job file beside it: without the job file, one clear error.
    shutil.copytree(experiment, tmp_path / "copy" / "seeds")
    with pytest.raises(ValueError, match=r"nothing to resume: .*seeds-job\.json is missing"):
        seed_studies.seeds("CartPole-v1", resume=True, out=tmp_path / "copy")
    with pytest.raises(ValueError, match=r"nothing to resume: .*tune holds no Tune experiment"):
        sweeps.sweep("CartPole-v1", resume=True, out=out)  # a seed study's folder holds no sweep


def test_an_interrupted_sweep_resumes(tmp_path, capsys, monkeypatch, no_ray_left):
    """Ctrl-C while the second of three trials trains (one CPU: one at a time); resume=True runs that one on and
    the third, with the settings sampled before (none sampled again), and leaves the first as it was."""
    out, steps = tmp_path / "sweep", 600
    experiment = out / "tune"
    space = {"agent": {"learning_rate": {"loguniform": [3e-4, 3e-3]}},
             "train": {**QUICK, "eval_every": 200, "eval_episodes": 2}}  # fmt: skip
    started = []

    def second_trials_second_row(config, results):
        if config not in started:
            started.append(config)
        return len(started) == 2 and config == started[1] and len(results) == 2

    with monkeypatch.context() as patch:
        pressed = ctrl_c_when(patch, second_trials_second_row)
        first = sweeps.sweep("CartPole-v1", space=space, samples=3, steps=steps, grace_rows=3, num_cpus=1, out=out,
                         status_every=3600)  # fmt: skip
    assert pressed, "the sweep finished without its Ctrl-C"
    assert not ray.is_initialized()
    assert first["interrupted"] and "continue it with resume=True" in capsys.readouterr().out
    before = read_csv(out / "results.csv")
    assert sorted(row["status"] for row in before) == ["completed", "unfinished", "unfinished"]
    assert sorted(int(row["steps"]) // 200 for row in before) == [0, 2, 3]  # 600+ steps; 400+ (2 rows); none
    rates = sorted(float(row["agent.learning_rate"]) for row in before)  # the one not started has its sample too
    assert len(set(rates)) == 3 and all(3e-4 <= rate <= 3e-3 for rate in rates)
    rows_before = trial_rows(experiment, key=lambda row: row["trial_id"])
    (done,) = [trial for trial, rows in rows_before.items() if rows[-1]["step"] >= steps]
    done_files = trial_files(experiment, f"*_{done}_*")

    result = sweeps.sweep("CartPole-v1", resume=True, out=out, samples=99, steps=10)  # the first call's settings run
    assert not ray.is_initialized() and not result["interrupted"]
    printed = capsys.readouterr().out
    assert "resuming the tune run" in printed and printed.count(" completed: ") == 2

    rows = read_csv(out / "results.csv")
    assert sorted(float(row["agent.learning_rate"]) for row in rows) == rates  # each trial once, none new
    for row in rows:
        assert row["status"] == "completed" and steps <= int(row["steps"]) <= steps + 8 and not row["error"], row
    best = json.loads((out / "best_config.json").read_text())
    assert best["agent"]["learning_rate"] == pytest.approx(float(rows[0]["agent.learning_rate"]))
    assert (out / "best.h5").stat().st_size > 0
    assert len(list(experiment.glob("*/result.json"))) == 3
    assert trial_files(experiment, f"*_{done}_*") == done_files  # the finished trial did not train again
    after = trial_rows(experiment, key=lambda row: row["trial_id"])
    assert after[done] == rows_before[done] and len(after) == 3
    for trial, trial_rows_after in after.items():
        trained = {r["training_iteration"]: int(r["step"]) for r in trial_rows_after}
        assert list(trained) == [1, 2, 3] and [step // 200 for step in trained.values()] == [1, 2, 3], trial


def test_resume_with_nothing_to_resume(tmp_path, capsys, no_ray_left):
    """--resume on an empty, missing or file --out: one line, before any Ray starts, and no folder made."""
    (tmp_path / "empty").mkdir()
    (tmp_path / "file").write_text("")
    for out in ("empty", "missing"):
        with pytest.raises(ValueError, match=f"nothing to resume: .*{out}/tune holds no Tune experiment"):
            sweeps.sweep("CartPole-v1", resume=True, out=tmp_path / out)
        for command in ("tune", "seeds"):
            assert cli.main([command, "CartPole-v1", "--resume", "--out", str(tmp_path / out)]) == 2
            err = capsys.readouterr().err.strip()
            assert err.startswith(f"keras-dqn {command}: nothing to resume: ") and "\n" not in err, err
    with pytest.raises(ValueError, match="is a file, not a folder"):
        seed_studies.seeds("CartPole-v1", resume=True, out=tmp_path / "file")
    assert not ray.is_initialized() and not (tmp_path / "missing").exists() and not any((tmp_path / "empty").iterdir())


def test_a_trial_summary_keeps_a_short_trials_wall_time():
    # a 500-step CartPole row on a worker with the step already compiled takes ~0.04 s: not 0
    rows = [{"eval_mean": 9.5, "step": 507, "wall_s": 0.036}, {"eval_mean": 9.0, "step": 1002, "wall_s": 0.0712}]
    summary = ray_jobs.summarize_rows(rows)
    assert summary["wall_s"] == 0.071 and summary["best_eval"] == 9.5 and summary["steps"] == 1002

"""keras_dqn.tune on Ray: a sweep on a two-node cluster on this machine, a seed study on a local Ray, bad input.

Every Ray here runs on this machine (its temp files under /tmp/ray, its results under tmp_path)
and is shut down by a fixture, even when a test fails.
"""

import csv
import json
import os
import subprocess
import sys
import time

import pytest

ray = pytest.importorskip("ray", reason='the ray extra: pip install -e ".[ray]"')

from ray.cluster_utils import Cluster  # noqa: E402

import keras_dqn  # noqa: E402
from keras_dqn import cli  # noqa: E402
from keras_dqn import tune as kt  # noqa: E402
from keras_dqn.recipes import RECIPES, check_search_space, get_recipe  # noqa: E402

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
    result = kt.sweep("CartPole-v1", space=space, samples=4, steps=1500, address=two_nodes.address, out=out,
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
    recipe, given = cli._config(get_recipe("cartpole-target"), str(out / "best_config.json"))  # as train --config
    assert given == best and recipe.train_kwargs["batch_size"] == best["train"]["batch_size"]
    agent = keras_dqn.load_agent(out / "best.h5")
    assert agent.learning_rate == pytest.approx(best["agent"]["learning_rate"])
    assert (out / "curves.png").stat().st_size > 0
    printed = capsys.readouterr().out
    assert printed.count("trial ") >= 4 and "best: trial" in printed and "--config" in printed

    with pytest.raises(ValueError, match="already holds an experiment: pass resume=True"):
        kt.sweep("CartPole-v1", space=space, out=out)


def test_three_seeds_on_a_local_ray(tmp_path, capsys, no_ray_left):
    out = tmp_path / "seeds"
    result = kt.seeds("CartPole-v1", n_seeds=3, steps=2000, config={"train": QUICK}, num_cpus=2, out=out,
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
    ],
)  # fmt: skip
def test_bad_sweeps_fail_before_ray_starts(call, message, tmp_path, no_ray_left):
    call = {"env_id": "CartPole-v1", "space": {"agent": {"learning_rate": {"choice": [1e-3]}}}, **call}
    if not message:  # a valid space: only the space is checked here (a bad address stops the sweep after it)
        with pytest.raises(ConnectionError):
            kt.sweep(**call, out=tmp_path / "out", address="127.0.0.1:1")
        return
    with pytest.raises(ValueError, match=message):
        kt.sweep(**call, out=tmp_path / "out")
    assert not ray.is_initialized() and not (tmp_path / "out").exists()


def test_bad_seed_studies_and_addresses(tmp_path, no_ray_left):
    with pytest.raises(ValueError, match="n_seeds must be a positive integer, got 0"):
        kt.seeds("CartPole-v1", n_seeds=0, out=tmp_path / "a")
    with pytest.raises(ValueError, match=r"unknown TargetDQNAgent settings: lr"):
        kt.seeds("CartPole-v1", config={"agent": {"lr": 0.1}}, out=tmp_path / "b")
    with pytest.raises(ValueError, match="nothing to resume"):
        kt.seeds("CartPole-v1", resume=True, out=tmp_path / "c")
    start = time.monotonic()
    with pytest.raises(ConnectionError, match="cannot reach a Ray cluster at 127.0.0.1:1"):
        kt.seeds("CartPole-v1", n_seeds=2, address="127.0.0.1:1", out=tmp_path / "d")
    assert time.monotonic() - start < 30  # at once, not after ray.init's retries
    with pytest.raises(ValueError, match="HOST:PORT"):
        kt.sweep("CartPole-v1", address="nowhere", out=tmp_path / "e")


def test_space_files_json_and_yaml(tmp_path):
    space = {"agent": {"learning_rate": {"loguniform": [0.0001, 0.003]}}, "train": {"batch_size": {"grid": [32, 64]}}}
    (tmp_path / "space.json").write_text(json.dumps(space))
    (tmp_path / "space.yaml").write_text("agent:\n  learning_rate: {loguniform: [0.0001, 0.003]}\n"
                                         "train:\n  batch_size: {grid: [32, 64]}\n")  # fmt: skip
    assert kt.load_space(tmp_path / "space.json") == kt.load_space(tmp_path / "space.yaml") == space
    (tmp_path / "broken.json").write_text("{agent:")
    with pytest.raises(ValueError, match="cannot read search space .*broken.json"):
        kt.load_space(tmp_path / "broken.json")
    with pytest.raises(ValueError, match="cannot read search space"):
        kt.load_space(tmp_path / "missing.json")


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
    """``import keras_dqn`` never imports Ray; without it, keras_dqn.tune and the commands say what to install."""
    code = (
        "import sys\n"
        "import keras_dqn, keras_dqn.cli\n"
        "assert 'ray' not in sys.modules, 'import keras_dqn imported ray'\n"
        "sys.modules['ray'] = None\n"
        "try:\n"
        "    import keras_dqn.tune\n"
        "except ImportError as error:\n"
        "    print('IMPORT:', error)\n"
        "print('EXIT:', keras_dqn.cli.main(['tune', 'CartPole-v1']))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert 'IMPORT: keras_dqn.tune needs Ray Tune: pip install -e ".[ray]"' in result.stdout
    assert "EXIT: 2" in result.stdout and 'keras-dqn tune: keras_dqn.tune needs Ray Tune: pip install -e ".[ray]"' in (
        result.stderr)  # fmt: skip

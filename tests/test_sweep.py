"""nnscratch.sweep: specs, trial expansion, results files, and sweeps on an in-process Executor.

Trials train on MNIST-1D (generated offline by the mnist1d package, no files needed), which every
process, local or a Dask worker, can load without the test's help."""

import csv
import json
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from nnscratch import data, sweep
from nnscratch.cli import main
from nnscratch.sweep.executors import blas_threads_per_worker
from nnscratch.sweep.results import heatmap, mean_metric
from nnscratch.sweep.spec import load_spec, points, trial_id, trials

pytest.importorskip("mnist1d")

BASE = {"dataset": "mnist1d", "model": "mlp:16", "epochs": 1, "batch_size": 256, "lr": 0.05}


@pytest.fixture(scope="module", autouse=True)
def mnist1d_generated():
    data.load("mnist1d")  # generated once in this process (and inherited by forked workers)


def test_grid_with_seeds_expands_to_every_combination_in_the_spec_order():
    spec = load_spec({"base": BASE, "grid": {"init": ["xavier", "kaiming"], "activation": ["relu", "tanh", "sigmoid"]},
                      "seeds": [0, 1]})
    got = points(spec)
    assert len(got) == 2 * 3 * 2
    assert got[0] == {"init": "xavier", "activation": "relu", "seed": 0}
    assert got[1] == {"init": "xavier", "activation": "relu", "seed": 1}
    assert got[-1] == {"init": "kaiming", "activation": "sigmoid", "seed": 1}
    assert spec.swept == ["init", "activation", "seed"]


def test_random_search_draws_are_reproducible_and_inside_their_ranges():
    spec = {"base": BASE, "random": {"trials": 50, "seed": 3, "lr": {"low": 1e-3, "high": 1e-1, "log": True},
                                     "dropout": {"low": 0.0, "high": 0.5}, "batch_size": [32, 64]}}
    first, again = points(load_spec(spec)), points(load_spec(spec))
    assert first == again and len(first) == 50
    lrs = np.array([p["lr"] for p in first])
    assert lrs.min() >= 1e-3 and lrs.max() <= 1e-1
    # log-uniform: about half the draws fall below the geometric middle 1e-2 (uniform would put ~9% there)
    assert 0.3 < np.mean(lrs < 1e-2) < 0.7
    assert all(0 <= p["dropout"] <= 0.5 for p in first) and {p["batch_size"] for p in first} == {32, 64}
    other_seed = points(load_spec({**spec, "random": {**spec["random"], "seed": 4}}))
    assert other_seed != first


def test_integer_range_draws_integers():
    spec = load_spec({"base": BASE, "random": {"trials": 20, "epochs": {"low": 1, "high": 3}}})
    assert {p["epochs"] for p in points(spec)} <= {1, 2, 3}
    assert all(isinstance(p["epochs"], int) for p in points(spec))


def test_toml_and_json_specs_give_the_same_trials(tmp_path):
    (tmp_path / "a.toml").write_text('seeds = [0, 1]\n[base]\ndataset = "mnist1d"\nmodel = "mlp:16"\n'
                                     '[grid]\nlr = [0.01, 0.1]\n')
    (tmp_path / "a.json").write_text(json.dumps({"seeds": [0, 1], "base": {"dataset": "mnist1d", "model": "mlp:16"},
                                                 "grid": {"lr": [0.01, 0.1]}}))
    toml, js = trials(load_spec(tmp_path / "a.toml")), trials(load_spec(tmp_path / "a.json"))
    assert [t.id for t in toml] == [t.id for t in js] and len(toml) == 4
    assert load_spec(tmp_path / "a.toml").name == "a"  # the file's stem names the sweep


@pytest.mark.parametrize("spec, message", [
    ({"base": BASE, "grid": {"learning_rate": [0.1]}}, "unknown option(s) learning_rate"),
    ({"base": {**BASE, "colour": 1}}, "[base] has unknown option(s) colour"),
    ({"base": BASE, "grid": {"lr": []}}, "[grid] lr must be a non-empty list"),
    ({"base": BASE, "random": {"lr": {"low": 0.1, "high": 1}}}, "[random] needs trials = N"),
    ({"base": BASE, "random": {"trials": 2, "lr": {"low": 0.0, "high": 1, "log": True}}}, "log = true needs A > 0"),
    ({"base": BASE, "grids": {}}, "unknown key(s) grids"),
])
def test_a_bad_spec_is_rejected_naming_the_problem(spec, message):
    with pytest.raises(ValueError) as error:
        load_spec(spec)
    assert message in str(error.value)


def test_a_trial_that_is_not_a_valid_run_is_rejected_before_anything_runs():
    with pytest.raises(ValueError, match=r"the trial \{'activation': 'swish'\} is not a valid run: activation: unknown value 'swish'"):
        trials(load_spec({"base": BASE, "grid": {"activation": ["relu", "swish"]}}))


def test_trial_folders_are_named_by_their_values_and_change_with_the_base_options():
    ids = [t.id for t in trials(load_spec({"base": BASE, "grid": {"activation": ["relu", "tanh"]}}))]
    assert ids[0].startswith("activation-relu-") and ids[1].startswith("activation-tanh-")
    longer = [t.id for t in trials(load_spec({"base": {**BASE, "epochs": 2}, "grid": {"activation": ["relu", "tanh"]}}))]
    assert set(ids).isdisjoint(longer)  # a finished 1-epoch trial is not taken for a 2-epoch one
    assert trial_id({"model": "mlp:8,8"}, {"x": 1}).startswith("model-mlp-8-8-")  # no ':' or ',' in folder names


def test_blas_threads_are_cores_divided_by_workers():
    assert blas_threads_per_worker(2, cores=16) == 8
    assert blas_threads_per_worker(3, cores=16) == 5
    assert blas_threads_per_worker(32, cores=16) == 1


ROWS = [{"a": 1, "b": "x", "test_accuracy": 0.5}, {"a": 1, "b": "x", "test_accuracy": 0.7},
        {"a": 1, "b": "y", "test_accuracy": 0.2}, {"a": 2, "b": "x", "test_accuracy": None},
        {"a": 2, "b": "y", "test_accuracy": 0.9}]


def test_heatmap_cells_are_the_mean_metric_of_the_finished_trials():
    means = mean_metric(ROWS, "test_accuracy", "a", "b")
    assert means == {(1, "x"): pytest.approx(0.6), (1, "y"): 0.2, (2, "y"): 0.9}  # (2, "x") never finished
    page = heatmap(ROWS, "test_accuracy", "a", "b")
    assert 'data-value="0.6' in page and "<td>-</td>" in page and "a=2" in page and "b=y" in page


def test_sweep_on_any_executor_writes_run_folders_and_results_and_rerun_skips_finished_trials(tmp_path):
    spec = {"name": "t", "base": BASE, "grid": {"activation": ["relu", "tanh"]}, "seeds": [0]}
    # one thread: until grad mode is thread-local (the engine's contract), two training threads would
    # see each other's no_grad()
    with ThreadPoolExecutor(1) as pool:
        rows = sweep.run(spec, pool, out=tmp_path / "s", progress=False, echo=lambda m: None)
    assert [r["status"] for r in rows] == ["done", "done"]
    for r in rows:
        folder = tmp_path / "s" / "trials" / r["id"]
        summary = json.loads((folder / "summary.json").read_text())
        assert r["test_accuracy"] == summary["test_accuracy"] and 0 <= r["test_accuracy"] <= 1
        assert json.loads((folder / "config.json").read_text())["activation"] == r["activation"]
        assert {"model.npz", "metrics.jsonl", "report.html"} <= {p.name for p in folder.iterdir()}
    with open(tmp_path / "s" / "sweep.csv") as f:
        table = list(csv.DictReader(f))
    assert [t["activation"] for t in table] == ["relu", "tanh"]
    assert float(table[0]["test_accuracy"]) == pytest.approx(rows[0]["test_accuracy"])
    document = json.loads((tmp_path / "s" / "sweep.json").read_text())
    assert document["swept"] == ["activation", "seed"] and document["counts"] == {"done": 2}
    page = (tmp_path / "s" / "sweep.html").read_text()
    assert "test_accuracy by activation" in page and 'id="trials"' in page

    stamps = {r["id"]: os.stat(tmp_path / "s" / "trials" / r["id"] / "summary.json").st_mtime_ns for r in rows}
    again = sweep.run(spec, ThreadPoolExecutor(1), out=tmp_path / "s", progress=False, echo=lambda m: None)
    assert [r["status"] for r in again] == ["finished-before", "finished-before"]
    assert [r["test_accuracy"] for r in again] == [r["test_accuracy"] for r in rows]
    assert stamps == {r["id"]: os.stat(tmp_path / "s" / "trials" / r["id"] / "summary.json").st_mtime_ns for r in rows}


def test_a_failed_trial_is_recorded_with_its_error_and_the_others_finish(tmp_path):
    spec = {"base": {**BASE, "schedule": "constant"}, "grid": {"lr": [0.05, 1e6]}}  # 1e6 diverges to nan
    with ThreadPoolExecutor(1) as pool:
        rows = sweep.run(spec, pool, out=tmp_path / "s", progress=False, echo=lambda m: None)
    ok, bad = rows
    assert ok["status"] == "done" and bad["status"] == "failed"
    assert bad["error"].startswith("FloatingPointError: ") and "(lr=1e+06). Lower the learning rate" in bad["error"]
    recorded = json.loads((tmp_path / "s" / "trials" / bad["id"] / "error.json").read_text())
    assert recorded["error"] == bad["error"] and "Traceback" in recorded["traceback"]
    assert json.loads((tmp_path / "s" / "sweep.json").read_text())["counts"] == {"done": 1, "failed": 1}
    with open(tmp_path / "s" / "sweep.csv") as f:
        assert [row["test_accuracy"] for row in csv.DictReader(f)][1] == ""  # no metric for the failed one


def test_sweep_command_runs_a_spec_on_local_worker_processes(tmp_path, capsys):
    spec = tmp_path / "tiny.toml"
    spec.write_text('[base]\ndataset = "mnist1d"\nmodel = "mlp:16"\nepochs = 1\nbatch_size = 256\n'
                    '[grid]\ninit = ["xavier", "kaiming"]\n')
    assert main(["sweep", str(spec), "--workers", "2", "--out", str(tmp_path / "out"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "2 trials: 2 done" in out and f"results: {tmp_path / 'out' / 'sweep.html'}" in out
    pids = {json.loads((f / "trial.json").read_text())["pid"] for f in (tmp_path / "out" / "trials").iterdir()}
    assert os.getpid() not in pids  # the trials ran in worker processes


def test_sweep_command_rejects_bad_options_in_the_users_terms(tmp_path, capsys):
    spec = tmp_path / "s.json"
    spec.write_text(json.dumps({"base": BASE}))
    assert main(["sweep", str(spec), "--workers", "0"]) == 1
    assert "--workers must be a positive integer, got 0" in capsys.readouterr().err
    assert main(["sweep", str(tmp_path / "missing.toml")]) == 1
    err = capsys.readouterr().err
    assert f"sweep spec {tmp_path / 'missing.toml'} not found; give a .toml or .json file" in err
    (tmp_path / "specs").mkdir()  # a folder exists: "not found" would be false
    assert main(["sweep", str(tmp_path / "specs")]) == 1
    err = capsys.readouterr().err
    assert f"sweep spec {tmp_path / 'specs'} is a folder; give the .toml or .json file in it" in err
    assert "not found" not in err


def test_the_shipped_init_x_activation_spec_is_valid_and_crosses_every_init_with_every_activation():
    from pathlib import Path

    spec = load_spec(Path(__file__).resolve().parents[1] / "examples" / "init-x-activation.toml")
    planned = trials(spec)
    assert len(planned) == 4 * 3 * 3 and spec.swept == ["init", "activation", "seed"]
    assert {(t.options["init"], t.options["activation"]) for t in planned} == {
        (i, a) for i in ("small", "large", "xavier", "kaiming") for a in ("sigmoid", "tanh", "relu")}
    assert {t.config["model"] for t in planned} == {"mlp:128,128,128,128,128"}


@pytest.mark.parametrize("spec, message", [
    ({"base": [1, 2]}, "base must be a table of options ([base]), got [1, 2]"),
    ({"base": BASE, "grid": 3}, "grid must be a table of option = [values] ([grid]), got 3"),
    ({"base": BASE, "random": "lr"}, "random must be a table ([random]), got 'lr'"),
    ({"base": BASE, "name": 5}, "name must be a non-empty string, got 5"),
    ({"base": BASE, "out": 3}, "out must be a folder path (a string), got 3"),
    ({"base": BASE, "metric": "accuracy"}, "metric must be one of test_accuracy, test_loss, val_accuracy"),
    ({"base": BASE, "offline": "yes"}, "offline must be true or false, got 'yes'"),
    ({"base": BASE, "seeds": "0"}, "seeds must be an integer or a list of integers, got '0'"),
    ({"base": BASE, "random": {"trials": True, "lr": [0.1, 0.2]}}, "[random] needs trials = N (a positive integer), got True"),
    ({"base": BASE, "random": {"trials": 2, "seed": "x", "lr": [0.1]}}, "[random] seed must be an integer >= 0, got 'x'"),
    ({"base": BASE, "random": {"trials": 2, "lr": {"low": "a", "high": 1}}}, "[random] lr must be a non-empty list"),
    ({"base": BASE, "random": {"trials": 2, "lr": {"low": 0.1, "high": 1, "log": "no"}}}, "[random] lr must be"),
])
def test_a_spec_whose_values_have_the_wrong_kind_is_rejected_naming_the_key(spec, message):
    with pytest.raises(ValueError) as error:
        load_spec(spec)
    assert message in str(error.value)


@pytest.mark.parametrize("name, content", [("list.json", b"[1, 2]"), ("text.json", b'"spec"'),
                                           ("binary.toml", b"\xff\xfe\x00 not text")])
def test_a_spec_file_that_is_not_a_table_of_keys_is_refused_at_the_cli_with_one_line(name, content, tmp_path, capsys):
    path = tmp_path / name
    path.write_bytes(content)
    assert main(["sweep", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("nnscratch sweep: error:") and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "a sweep spec is a .toml or .json text file" in err or "the spec must be a table of keys" in err

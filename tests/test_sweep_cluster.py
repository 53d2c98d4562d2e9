"""Sweeps with the real thing: a Dask LocalCluster on 127.0.0.1 whose worker is killed mid-sweep,
and `nnscratch sweep` interrupted with Ctrl-C (SIGINT) in a subprocess, then resumed."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from nnscratch import sweep

pytest.importorskip("mnist1d")
distributed = pytest.importorskip("distributed")

SRC = str(Path(__file__).resolve().parents[1] / "src")
# long enough to catch mid-training: 6 epochs of batch 32 on MNIST-1D's 3,600 training signals
BASE = {"dataset": "mnist1d", "model": "mlp:64,64", "epochs": 6, "batch_size": 32, "lr": 0.05}
TIMEOUT = 600


def epochs_logged(folder):
    """The epoch numbers in a run folder's metrics.jsonl, in order (a repeated epoch shows twice)."""
    lines = (Path(folder) / "metrics.jsonl").read_text().splitlines()
    return [json.loads(line)["epoch"] for line in lines if json.loads(line)["type"] == "epoch"]


def attempts(folder):
    return json.loads((Path(folder) / "trial.json").read_text())["attempt"]


def wait_for_training_trial(trials_dir, deadline):
    """A trial folder past its first epoch (checkpoint written) and not finished, with its trial.json."""
    while time.monotonic() < deadline:
        for folder in sorted(Path(trials_dir).glob("*")):
            if (folder / "checkpoint.npz").is_file() and not (folder / "summary.json").is_file() \
                    and (folder / "trial.json").is_file():
                return folder
        time.sleep(0.05)
    raise AssertionError("no trial reached its first checkpoint in time")


def assert_every_trial_done_once(out, n_trials, epochs):
    rows = json.loads((out / "sweep.json").read_text())["trials"]
    assert len(rows) == n_trials and {r["status"] for r in rows} <= {"done", "finished-before"}
    for r in rows:
        folder = out / "trials" / r["id"]
        assert (folder / "summary.json").is_file()
        assert epochs_logged(folder) == list(range(1, epochs + 1))  # no epoch trained twice, none skipped


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None, worker_dashboard_address=None) as local:
        with distributed.Client(local) as client:
            yield client


def test_sweep_on_a_local_dask_cluster_survives_a_killed_worker(cluster, tmp_path):
    spec = {"name": "dask", "base": BASE, "grid": {"activation": ["relu", "tanh"], "init": ["xavier", "kaiming"]}}
    out = tmp_path / "dask"
    worker_pids = set(cluster.run(os.getpid).values())
    outcome = {}

    def sweep_in_background():
        try:
            outcome["rows"] = sweep.run(spec, cluster.get_executor(retries=2, pure=False), out=out, progress=False,
                                        echo=lambda m: None)
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            outcome["error"] = error

    runner = threading.Thread(target=sweep_in_background)
    runner.start()
    deadline = time.monotonic() + TIMEOUT
    while True:
        victim = wait_for_training_trial(out / "trials", deadline)
        pid = json.loads((victim / "trial.json").read_text())["pid"]
        assert pid in worker_pids  # the trial runs on a Dask worker process, not here
        if not (victim / "summary.json").is_file():  # still mid-trial: kill its worker now
            os.kill(pid, signal.SIGKILL)
            break
    runner.join(TIMEOUT)
    assert not runner.is_alive() and "error" not in outcome, outcome.get("error")
    assert [r["status"] for r in outcome["rows"]] == ["done"] * 4
    assert_every_trial_done_once(out, 4, BASE["epochs"])
    assert attempts(victim) == 2  # the killed trial ran again on a worker, resuming from its checkpoint
    others = [out / "trials" / r["id"] for r in outcome["rows"] if out / "trials" / r["id"] != victim]
    assert [attempts(f) for f in others] == [1, 1, 1]

    again = sweep.run(spec, cluster.get_executor(), out=out, progress=False, echo=lambda m: None)
    assert [r["status"] for r in again] == ["finished-before"] * 4


def test_a_sweep_interrupted_with_ctrl_c_resumes_and_completes(tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text('[base]\ndataset = "mnist1d"\nmodel = "mlp:64,64"\nepochs = 6\nbatch_size = 32\nlr = 0.05\n'
                    '[grid]\nactivation = ["relu", "tanh", "sigmoid"]\n')
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": SRC, "HOME": str(tmp_path / "home")}
    command = [sys.executable, "-m", "nnscratch", "sweep", str(spec), "--workers", "2", "--out", str(out), "--quiet"]
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_training_trial(out / "trials", time.monotonic() + TIMEOUT)
        first.send_signal(signal.SIGINT)
        _, err = first.communicate(timeout=TIMEOUT)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 130, err
    assert "sweep interrupted" in err and "run the same command again to continue" in err
    finished = {f.name for f in (out / "trials").iterdir() if (f / "summary.json").is_file()}
    started = {f.name for f in (out / "trials").iterdir() if (f / "trial.json").is_file()} - finished
    assert len(finished) < 3 and started  # stopped before the end, with a trial cut short
    for name in started:
        assert (out / "trials" / name / "checkpoint.npz").is_file()  # kept for the resume

    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    assert second.returncode == 0, second.stderr
    counts = second.stdout.split("3 trials: ")[1].splitlines()[0].split(", ")
    assert sorted(counts) == sorted([f"{3 - len(finished)} done"] + ([f"{len(finished)} finished-before"] if finished else []))
    assert_every_trial_done_once(out, 3, 6)
    for folder in (out / "trials").iterdir():
        assert attempts(folder) == (2 if folder.name in started else 1)  # the cut-short ones resumed once


def test_sweep_command_sends_trials_to_the_scheduler_given(cluster, tmp_path, capsys):
    from nnscratch.cli import main

    spec = tmp_path / "small.json"
    spec.write_text(json.dumps({"base": {**BASE, "epochs": 1, "model": "mlp:16"}, "grid": {"init": ["xavier", "kaiming"]}}))
    address = cluster.scheduler.address
    assert main(["sweep", str(spec), "--scheduler", address, "--out", str(tmp_path / "out"), "--quiet"]) == 0
    assert "2 trials: 2 done" in capsys.readouterr().out
    worker_pids = set(cluster.run(os.getpid).values())
    ran_on = {json.loads((f / "trial.json").read_text())["pid"] for f in (tmp_path / "out" / "trials").iterdir()}
    assert ran_on <= worker_pids


def test_an_unreachable_scheduler_is_named_with_how_to_start_one(tmp_path, capsys):
    from nnscratch.cli import main

    spec = tmp_path / "s.json"
    spec.write_text(json.dumps({"base": BASE}))
    assert main(["sweep", str(spec), "--scheduler", "tcp://127.0.0.1:9", "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in err and "dask scheduler" in err

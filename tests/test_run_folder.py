"""A run folder is dependable: one writer, derived files rebuilt, damaged source files named,
a full disk and Ctrl-C at any stage say what is kept and the command that finishes the job,
and --resume extends with --epochs but refuses other changed options."""

import errno
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from nnscratch import runs
from nnscratch.cli import main

from test_cli import fake_fashion, fashion_env  # noqa: F401  (fixtures)

HELPER = Path(__file__).parent / "cli_with_tiny_data.py"
TINY = ["--model", "linear", "--offline", "--quiet", "--batch-size", "64"]


def ignore_sigint():
    """What a shell without job control does to a background job (`nnscratch train &` in a script)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def child(data_dir, argv, *own, wait=True, env=None, preexec_fn=None):
    command = [sys.executable, str(HELPER), str(data_dir), *own, "--", *argv]
    env = {**os.environ, "PYTHONPATH": str(Path(runs.__file__).parents[2]), "HOME": str(data_dir), **(env or {})}
    if not wait:
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                preexec_fn=preexec_fn)
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300, preexec_fn=preexec_fn)


def one_line(err):
    """The one error line of stderr (progress lines aside); no traceback, no raw errno."""
    lines = [line for line in err.strip().splitlines() if not line.startswith(("epoch ", "resuming "))]
    assert len(lines) == 1 and "Traceback" not in err and "Errno" not in err, err
    return lines[0]


@pytest.fixture
def finished(fashion_env, tmp_path, capsys):
    """A 2-epoch linear run, finished."""
    run = tmp_path / "run"
    assert main(["train", *TINY, "--epochs", "2", "--out", str(run)]) == 0
    capsys.readouterr()
    return run


def epochs_in_metrics(run):
    return [json.loads(line)["epoch"] for line in (run / "metrics.jsonl").read_text().splitlines()
            if json.loads(line)["type"] == "epoch"]


# ----- one writer per run folder ------------------------------------------------------------------
@pytest.fixture
def holder(tmp_path):
    """A second, real process holding tmp_path/run's lock."""
    process = child(tmp_path, [], "--hold-lock", str(tmp_path / "run"), wait=False)
    assert process.stdout.readline().strip() == "locked"
    yield process
    process.kill()
    process.wait()


@pytest.mark.parametrize("extra", [[], ["--resume"]], ids=["train", "resume"])
def test_a_second_writer_is_refused_at_once_naming_folder_and_pid(holder, tmp_path, extra):
    run = tmp_path / "run"
    if extra:
        (run / "config.json").write_text(json.dumps(runs.RunConfig(model="linear").to_dict()))
    result = subprocess.run([sys.executable, "-m", "nnscratch", "train", *TINY, "--out", str(run), *extra],
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(Path(runs.__file__).parents[2])})
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert f"{run} is being written by another nnscratch process (pid {holder.pid})" in line


def test_kill_9_leaves_no_stale_lock(holder, tmp_path):
    with pytest.raises(runs.RunFolderBusy):
        with runs.locked(tmp_path / "run"):
            pass
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    with runs.locked(tmp_path / "run"):  # the OS released it with its holder
        pass


def test_the_lock_is_re_entrant_in_one_thread_and_exclusive_across_threads(tmp_path):
    import threading

    refused = []

    def second_writer():
        try:
            with runs.locked(tmp_path / "run"):
                pass
        except runs.RunFolderBusy as error:
            refused.append(str(error))

    with runs.locked(tmp_path / "run"), runs.locked(tmp_path / "run"):  # nested: the same writer
        thread = threading.Thread(target=second_writer)
        thread.start()
        thread.join()
    assert len(refused) == 1 and f"(pid {os.getpid()})" in refused[0]
    second_writer()  # released: now it may write
    assert len(refused) == 1


# ----- derived files never block a resume ---------------------------------------------------------
@pytest.mark.parametrize("damage", ["delete", "empty", "garbage"])
def test_a_damaged_metrics_log_is_rebuilt_on_resume_with_one_warning(finished, damage, capsys):
    metrics = finished / "metrics.jsonl"
    {"delete": metrics.unlink, "empty": lambda: metrics.write_text(""),
     "garbage": lambda: metrics.write_bytes(b"\x00\xff{not json\n" * 40)}[damage]()
    assert main(["train", "--out", str(finished), "--resume", "--epochs", "3", "--quiet"]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert len(warnings) == 1 and str(metrics) in warnings[0] and "rebuilt" in warnings[0]
    assert epochs_in_metrics(finished) == [1, 2, 3]


def test_missing_summary_and_report_are_rewritten_by_a_resume(finished):
    for name in ("summary.json", "report.html", "evaluation.npz"):
        (finished / name).unlink()
    assert main(["train", "--out", str(finished), "--resume", "--quiet"]) == 0
    assert json.loads((finished / "summary.json").read_text())["epochs_run"] == 2
    assert (finished / "report.html").is_file()


# ----- damaged source files: one line naming the file ---------------------------------------------
def test_a_damaged_checkpoint_is_one_line_naming_it(finished, capsys):
    (finished / "checkpoint.npz").write_bytes(b"PK\x03\x04 not really")
    assert main(["train", "--out", str(finished), "--resume", "--quiet"]) == 1
    assert str(finished / "checkpoint.npz") in one_line(capsys.readouterr().err)


def test_a_damaged_model_file_is_one_line_naming_it(finished, capsys):
    (finished / "model.npz").write_bytes(b"")
    assert main(["evaluate", str(finished), "--offline"]) == 1
    assert str(finished / "model.npz") in one_line(capsys.readouterr().err)


@pytest.mark.parametrize("make", ["nothing", "empty folder", "file"])
def test_report_on_something_that_is_not_a_run_is_one_line(tmp_path, make, capsys):
    target = tmp_path / "x"
    if make == "empty folder":
        target.mkdir()
    elif make == "file":
        target.write_text("hello")
    assert main(["report", str(target)]) == 1
    assert f"{target} is not a run folder" in one_line(capsys.readouterr().err)


def test_report_on_an_unfinished_run_says_how_to_finish_it(finished, capsys):
    (finished / "summary.json").unlink()
    assert main(["report", str(finished)]) == 1
    assert f"nnscratch train --out {finished} --resume" in one_line(capsys.readouterr().err)


# ----- --resume with other options ----------------------------------------------------------------
def test_resume_with_more_epochs_extends_the_run(finished, capsys):
    assert main(["train", "--out", str(finished), "--resume", "--epochs", "4", "--quiet"]) == 0
    assert json.loads((finished / "summary.json").read_text())["epochs_run"] == 4
    assert epochs_in_metrics(finished) == [1, 2, 3, 4]
    assert json.loads((finished / "config.json").read_text())["epochs"] == 4


def test_resume_refuses_to_shorten_a_run(finished, capsys):
    assert main(["train", "--out", str(finished), "--resume", "--epochs", "1", "--quiet"]) == 1
    line = one_line(capsys.readouterr().err)
    assert "argument --epochs: this run has already done 2 epochs" in line and "give 2 or more" in line


@pytest.mark.parametrize("argv, named", [(["--lr", "0.5"], "argument --lr: 0.5 differs from this run's saved value "
                                                            "0.01"),
                                         (["--seed", "4"], "argument --seed: 4 differs from this run's saved value 0")])
def test_resume_refuses_a_typed_option_that_differs_naming_its_saved_value(finished, argv, named, capsys):
    assert main(["train", "--out", str(finished), "--resume", *argv, "--quiet"]) == 1
    line = one_line(capsys.readouterr().err)
    assert named in line and "leave --" in line


def test_resume_accepts_typed_options_equal_to_the_saved_ones(finished):
    assert main(["train", *TINY, "--out", str(finished), "--resume", "--epochs", "2"]) == 0


# ----- a full disk --------------------------------------------------------------------------------
@pytest.mark.parametrize("full_at", ["model.npz", "summary.json"])
def test_a_full_disk_after_training_names_the_file_and_the_checkpoint_kept(fashion_env, tmp_path, monkeypatch,
                                                                           capsys, full_at):
    import nnscratch.atomic

    real = nnscratch.atomic.atomic_path
    monkeypatch.setattr(nnscratch.atomic, "atomic_path", lambda path: _raising_atomic(real, path, full_at))
    run = tmp_path / "run"
    assert main(["train", *TINY, "--epochs", "1", "--out", str(run)]) == 1
    line = one_line(capsys.readouterr().err)
    assert f"no space left on the device to write {full_at} in {run}" in line
    assert f"the last good checkpoint is still there ({run / 'checkpoint.npz'})" in line
    assert f"nnscratch train --out {run} --resume" in line
    monkeypatch.setattr(nnscratch.atomic, "atomic_path", real)  # space freed
    assert main(["train", "--out", str(run), "--resume", "--quiet"]) == 0, capsys.readouterr().err  # it finishes


def _raising_atomic(real, path, full_at):
    """atomic_path whose write of `full_at` finds the disk full (a real ENOSPC from inside the block)."""
    import contextlib

    @contextlib.contextmanager
    def opened():
        with real(path) as tmp:
            if Path(path).name == full_at:
                raise OSError(errno.ENOSPC, "No space left on device")
            yield tmp

    return opened()


# ----- Ctrl-C at every stage ----------------------------------------------------------------------
@pytest.mark.parametrize("stage, says, finishes", [
    ("data", "interrupted while loading the data; saved: config.json only; nothing is trained yet",
     ["train", "--out", "{run}", "--resume"]),
    ("train", "interrupted while training (epoch 1, after 1 batches); saved: the checkpoint",
     ["train", "--out", "{run}", "--resume"]),
    ("evaluate", "interrupted while evaluating on the test set; saved: training is finished",
     ["train", "--out", "{run}", "--resume"]),
    ("report", "interrupted while writing report.html; saved: the model, the evaluation and summary.json",
     ["report", "{run}"]),
])
def test_ctrl_c_after_training_says_what_is_saved_and_the_command_that_finishes(tmp_path, stage, says, finishes):
    run = tmp_path / "run"
    result = child(tmp_path, ["train", *TINY, "--epochs", "1", "--out", str(run)], "--sigint-at", stage)
    assert result.returncode == 130, result.stderr
    command = " ".join(finishes).format(run=run)
    assert says in result.stderr and f"Finish with `nnscratch {command}`" in result.stderr
    assert "fit(" not in result.stderr  # the command's terms, not Python's
    assert child(tmp_path, finishes[:1] + [a.format(run=run) for a in finishes[1:]] + (
        ["--quiet", "--offline"] if finishes[0] == "train" else [])).returncode == 0
    assert (run / "report.html").is_file() and (run / "summary.json").is_file()


@pytest.mark.parametrize("stage, says", [
    ("data", "interrupted while loading the data"),
    ("evaluate", "interrupted while evaluating on the test set"),
])
def test_ctrl_c_stops_a_background_job_that_started_with_sigint_ignored(tmp_path, stage, says):
    # Before the fit loop installs its handler, a SIGINT to a job started with SIGINT ignored was lost.
    result = child(tmp_path, ["train", *TINY, "--epochs", "1", "--out", str(tmp_path / "run")], "--sigint-at", stage,
                   preexec_fn=ignore_sigint)
    assert result.returncode == 130, result.stderr
    assert says in result.stderr

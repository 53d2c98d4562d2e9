"""One trial, run where the executor puts it (a local process, a Dask worker): a normal run folder.

`run_trial` is what is submitted. It is safe to call again on the same folder, as often as a
retry, a restarted worker or a re-run sweep does: a folder with summary.json is finished and
left alone; one with a checkpoint continues from it (`train_run(resume=True)`); anything else
starts afresh. A failure is written to the folder as error.json and returned, never raised,
so one bad trial does not stop the others.
"""

from __future__ import annotations

import json
import os
import socket
import time
import traceback
from pathlib import Path

from ..atomic import write_bytes_atomic

ERROR_NAME = "error.json"
TRIAL_NAME = "trial.json"
SUMMARY_NAME = "summary.json"


def is_finished(folder):
    """A trial is finished when its summary.json exists (train_run writes it last but the report)."""
    return (Path(folder) / SUMMARY_NAME).is_file()


def run_trial(folder, config, offline=False, blas_threads=None):
    """Train `config` (a dict of RunConfig fields) into `folder`; returns a result dict:
    {"status": "done" | "finished-before" | "failed", "summary" or "error", "seconds", "host", "pid"}.

    blas_threads: when given, BLAS runs with that many threads during the trial (threadpoolctl)."""
    from ..runs import RunConfig
    from ..train import CHECKPOINT_NAME

    folder = Path(folder)
    where = {"host": socket.gethostname(), "pid": os.getpid()}
    if is_finished(folder):
        return {"status": "finished-before", "summary": _summary(folder), "seconds": 0.0, **where}
    folder.mkdir(parents=True, exist_ok=True)
    attempt = _attempts(folder) + 1
    _write_json(folder / TRIAL_NAME, {"attempt": attempt, "started": time.time(), **where})
    (folder / ERROR_NAME).unlink(missing_ok=True)
    resume = (folder / CHECKPOINT_NAME).is_file() and (folder / "config.json").is_file()
    started = time.perf_counter()
    try:
        with _blas_limited(blas_threads):
            summary = _train(RunConfig.from_dict(config), folder, resume, offline)
    except Exception as error:  # noqa: BLE001 - a failed trial is recorded, not raised
        message = f"{type(error).__name__}: {error}"
        _write_json(folder / ERROR_NAME,
                    {"error": message, "traceback": traceback.format_exc(), "attempt": attempt})
        return {"status": "failed", "error": message, "seconds": time.perf_counter() - started, **where}
    summary.pop("report", None)
    return {"status": "done", "summary": summary, "seconds": time.perf_counter() - started,
            "resumed": resume, **where}


def _train(config, folder, resume, offline):
    from ..runs import train_run

    def quiet(message):
        pass

    return train_run(config, folder, resume=resume, offline=offline, progress=False, echo=quiet)


def _summary(folder):
    return json.loads((Path(folder) / SUMMARY_NAME).read_text())


def _attempts(folder):
    try:
        return int(json.loads((Path(folder) / TRIAL_NAME).read_text())["attempt"])
    except (OSError, ValueError, KeyError):
        return 0


def _write_json(path, obj):
    write_bytes_atomic(path, (json.dumps(obj, indent=2) + "\n").encode())


class _blas_limited:
    """threadpoolctl's limit on BLAS threads for the block (a no-op without a limit or threadpoolctl)."""

    def __init__(self, threads):
        self.threads, self.limiter = threads, None

    def __enter__(self):
        if self.threads:
            try:
                from threadpoolctl import threadpool_limits
            except ImportError:
                return self
            self.limiter = threadpool_limits(limits=self.threads, user_api="blas")
        return self

    def __exit__(self, *exc):
        if self.limiter is not None:
            self.limiter.restore_original_limits()

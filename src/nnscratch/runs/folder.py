"""The run folder as files: one writer at a time (an OS lock), its source files read back with
errors that name the file, and the exact command that finishes an unfinished run.

Source files (config.json, checkpoint.npz, model.npz) are what a run cannot be rebuilt without: a
damaged one is an error naming it. Derived files (metrics.jsonl, summary.json, evaluation.npz,
report.html, feature caches) are rebuilt when a run is resumed.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from pathlib import Path

from ..atomic import write_bytes_atomic
from .config import ConfigError, RunConfig

LOCK_NAME = ".lock"
CONFIG_NAME = "config.json"
SUMMARY_NAME = "summary.json"

try:
    import fcntl
except ImportError:  # Windows: no flock; one writer per folder is then up to the user
    fcntl = None


class RunFolderBusy(RuntimeError):
    """Another process is writing this run folder (it holds the folder's lock)."""


_held = {}  # (resolved folder, thread) -> [open lock file, depth]: re-entrant within one thread
_held_guard = threading.Lock()


@contextlib.contextmanager
def locked(folder):
    """Hold `folder`'s write lock (fcntl.flock on folder/.lock) while the block runs.

    The OS releases the lock when the holder exits, however it exits (kill -9 too), so a
    stale lock cannot outlive its process. Raises RunFolderBusy naming the folder and the
    holder's pid when another process (or another thread of this one) holds it; re-entrant
    within one thread."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    key = (folder.resolve(), threading.get_ident())
    with _held_guard:
        if key in _held:
            _held[key][1] += 1
        else:
            _held[key] = [_acquire(folder), 1]
    try:
        yield folder
    finally:
        with _held_guard:
            _held[key][1] -= 1
            if not _held[key][1]:
                handle = _held.pop(key)[0]
                handle.close()  # closing the file releases the flock


def _acquire(folder):
    handle = open(folder / LOCK_NAME, "a+")
    if fcntl is None:
        return handle
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise RunFolderBusy(f"{folder} is being written by another nnscratch process (pid {holder}); "
                            f"wait for it to finish, or stop it, then try again") from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def write_json(path, obj):
    """Write `obj` as indented JSON to `path`, atomically."""
    write_bytes_atomic(path, (json.dumps(obj, indent=2) + "\n").encode())


def read_config(folder):
    """The RunConfig saved in folder/config.json, validated. Raises FileNotFoundError or
    ConfigError (a ValueError) naming the file, what is wrong and what to do."""
    path = Path(folder) / CONFIG_NAME
    if not Path(folder).is_dir():
        raise FileNotFoundError(f"{folder} is not a folder: give the run folder that nnscratch train wrote")
    if not path.is_file():
        raise FileNotFoundError(f"{folder} is not a run folder: it has no {CONFIG_NAME} "
                                f"(give the folder nnscratch train wrote)")
    try:
        saved = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is damaged: it is not valid JSON ({error}); fix it by hand, or start the run "
                         f"over without resuming") from None
    try:
        return RunConfig.from_dict(saved, where=path).validate()
    except ConfigError as error:
        raise ConfigError(error.problems, where=f"{path} has bad settings (fix them in the file)") from None


def finish_command(folder):
    """The command that finishes a run in `folder` from its checkpoint."""
    return f"nnscratch train --out {folder} --resume"


def default_out(config):
    """runs/DATE-TIME-DATASET-MODEL, the folder of a run given no --out."""
    model = config.model.replace(":", "").replace(",", "-")
    return Path(f"runs/{time.strftime('%Y%m%d-%H%M%S')}-{config.dataset}-{model}")

"""Writing files so that a crash never leaves a half-written file under the final name.

Everything nnscratch writes that a user may rely on (downloads, parsed-array caches,
checkpoints, models, reports) goes to a temporary file in the same folder first and is
renamed into place only when complete: `os.replace` is atomic on POSIX and Windows.
A full disk is reported as `DiskFullError`, naming the file that could not be written and its
folder; the previous file under the final name is left as it was.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path

import numpy as np


def _default_file_mode():
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


FILE_MODE = _default_file_mode()  # what open() would give; mkstemp's 0600 is for secrets


DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


class DiskFullError(OSError):
    """No space (or quota) left to write `.path`; `.folder` is where it was going."""

    def __init__(self, path, cause=None, effect="the file was not changed"):
        self.path, self.folder = Path(path), Path(path).parent
        self.advice = []  # sentences a caller adds: what is still saved, what finishes the job
        super().__init__(cause.errno if cause is not None else errno.ENOSPC,
                         f"no space left on the device to write {self.path.name} in {self.folder}; "
                         f"free some space there ({effect})")

    def __str__(self):
        return "; ".join([self.strerror, *self.advice])


class RunFileWarning(UserWarning):
    """A derived file of a run folder (metrics.jsonl, a feature cache, ...) was missing or damaged
    and is being rebuilt or skipped."""


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`; on success it replaces `path`, on error it is removed.

    Raises DiskFullError (an OSError with errno ENOSPC) naming `path` when the disk is full."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as error:
        raise (DiskFullError(path, error) if error.errno in DISK_FULL else error) from None
    os.close(fd)
    os.chmod(tmp, FILE_MODE)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException as error:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(error, OSError) and error.errno in DISK_FULL and not isinstance(error, DiskFullError):
            raise DiskFullError(path, error) from None
        raise


def write_bytes_atomic(path, data: bytes):
    """Write `data` to `path` atomically (see atomic_path)."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_npz(path, arrays):
    """Write {name: array} as one .npz file, atomically (np.savez on the temporary file)."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)

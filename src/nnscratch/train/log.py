"""metrics.jsonl: one JSON object per line, appended as training goes (a derived file).

On resume the file is first cut back to its length at the checkpoint, so lines written after the
checkpoint by the interrupted run are not repeated. When it is missing, shorter than that, or
damaged, it is rebuilt from the history the checkpoint holds (one line per finished epoch; the
per-step lines before the checkpoint cannot be recovered), with one RunFileWarning.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

from ..atomic import DISK_FULL, DiskFullError, RunFileWarning

METRICS_NAME = "metrics.jsonl"
EPOCH_KEYS = ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "seconds")


def epoch_records(history):
    """The {"type": "epoch", ...} lines of every epoch in `history`."""
    return [{"type": "epoch", **{k: getattr(history, k)[i] for k in EPOCH_KEYS}} for i in range(len(history))]


def _problem(path, keep_bytes, n_epochs):
    """What is wrong with the first keep_bytes of the log, or None when they are sound."""
    if not path.is_file():
        return "is missing"
    content = path.read_bytes()
    if len(content) < keep_bytes:
        return "is shorter than at the checkpoint (emptied or cut)"
    try:
        records = [json.loads(line) for line in content[:keep_bytes].decode().splitlines()]
    except (ValueError, UnicodeDecodeError):
        return "is damaged (not JSON lines)"
    if sum(isinstance(r, dict) and r.get("type") == "epoch" for r in records) != n_epochs:
        return "does not match the checkpoint's history"
    return None


class MetricsLog:
    """Appends one JSON object per line to out_dir/metrics.jsonl (a no-op without out_dir)."""

    def __init__(self, out_dir, keep_bytes=0, history=None):
        self.path = None if out_dir is None else Path(out_dir) / METRICS_NAME
        self.keep_bytes, self.history = keep_bytes, history
        self.file = None

    def __enter__(self):
        if self.path is None:
            return self
        problem = _problem(self.path, self.keep_bytes, len(self.history)) if self.keep_bytes else None
        self.file = open(self.path, "a+b")
        if problem is not None:
            warnings.warn(f"{self.path} {problem}: rebuilt from the checkpoint (its epoch lines; the per-step "
                          f"lines before the checkpoint are lost)", RunFileWarning, stacklevel=3)
            self.file.truncate(0)
            for record in epoch_records(self.history):
                self.write(record)
        else:
            self.file.truncate(self.keep_bytes)  # 0 for a fresh run: an old folder's log starts afresh
            self.file.seek(0, 2)
        return self

    def write(self, record):
        """Append `record` as one line, flushed."""
        if self.file is None:
            return
        try:
            self.file.write((json.dumps(record) + "\n").encode())
            self.file.flush()
        except OSError as error:
            if error.errno in DISK_FULL:
                raise DiskFullError(self.path, error, effect="it may end with a partial line, which a resume "
                                                             "cuts off") from None
            raise

    def tell(self):
        """Bytes written so far (what a checkpoint records, to cut the log back on resume)."""
        return self.file.tell() if self.file is not None else 0

    def __exit__(self, *exc):
        if self.file is not None:
            self.file.close()

"""The fit loop: mini-batch training with progress, metrics, checkpoints, resume and early stopping.

    history = fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), 0.05, momentum=0.9),
                  train=(X, y), val=0.1, epochs=10, out_dir="runs/first")

With `out_dir`, every epoch appends to `metrics.jsonl` and rewrites `checkpoint.npz`
(atomically). `resume=True` continues from that checkpoint, whether it was written at the end
of an epoch or by Ctrl-C in the middle of one, and ends with bitwise the same weights as a run
that was never interrupted.
"""

from __future__ import annotations

import contextlib
import json
import math
import signal
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..data.loader import DataLoader, train_val_split
from ..optim import schedule as schedules
from ..tensor import Tensor
from .checkpoint import CHECKPOINT_NAME, load_checkpoint, random_generators, save_checkpoint
from .metrics import evaluate

METRICS_NAME = "metrics.jsonl"
POSTFIX_EVERY = 20


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during fit: the position was saved (with out_dir); the message says how to resume."""


@dataclass
class History:
    """Per-epoch figures of a run."""

    epoch: list = field(default_factory=list)
    train_loss: list = field(default_factory=list)
    train_accuracy: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_accuracy: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False

    def to_dict(self):
        return asdict(self)

    @classmethod
    def from_dict(cls, d):
        return cls(**d)

    def __len__(self):
        return len(self.epoch)


class EarlyStopping:
    """Stop when the validation loss has not improved by `min_delta` for `patience` epochs;
    the best weights are restored at the end."""

    def __init__(self, patience=5, min_delta=0.0):
        if patience < 1:
            raise ValueError(f"EarlyStopping: patience must be >= 1, got {patience}")
        self.patience, self.min_delta = int(patience), float(min_delta)
        self.best_loss, self.best_epoch, self.bad_epochs = math.inf, None, 0
        self.best_weights = None

    def update(self, val_loss, epoch, model):
        """Record this epoch; True when training should stop."""
        if val_loss < self.best_loss - self.min_delta:
            self.best_loss, self.best_epoch, self.bad_epochs = val_loss, epoch, 0
            self.best_weights = model.state_dict()
        else:
            self.bad_epochs += 1
        return self.bad_epochs >= self.patience

    def state(self):
        return {"best_loss": self.best_loss if math.isfinite(self.best_loss) else None,
                "best_epoch": self.best_epoch, "bad_epochs": self.bad_epochs}

    def restore(self, state, weights):
        self.best_loss = math.inf if state["best_loss"] is None else state["best_loss"]
        self.best_epoch, self.bad_epochs, self.best_weights = state["best_epoch"], state["bad_epochs"], weights


@dataclass
class _Position:
    """Where a run is: the epoch under way, the batches done in it, and its running sums."""

    epoch: int = 0
    batches_done: int = 0
    global_step: int = 0
    loss_sum: float = 0.0
    correct: int = 0
    seen: int = 0

    def next_epoch(self):
        self.epoch, self.batches_done, self.loss_sum, self.correct, self.seen = self.epoch + 1, 0, 0.0, 0, 0


class _InterruptFlag:
    """Turns the first Ctrl-C into a flag checked between steps (a step is never cut in half);
    a second Ctrl-C stops at once."""

    def __init__(self):
        self.raised = False

    def __call__(self, signum, frame):
        if self.raised:
            raise KeyboardInterrupt
        self.raised = True

    @contextlib.contextmanager
    def installed(self):
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = signal.signal(signal.SIGINT, self)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)


def fit(model, loss, optimizer, train, val=None, epochs=10, batch_size=128, schedule=None, augment=None,
        seed=0, out_dir=None, resume=False, early_stopping=None, callbacks=(), *, val_fraction=None,
        log_every=50, progress=None):
    """Train `model` on `train=(X, y)`; returns the `History`.

    val: (X_val, y_val), or a fraction of `train` to hold out (stratified, by `seed`), or None.
    schedule: a Schedule, or a preset name ("warmup-step", "cosine", ...), stepped every step.
    augment: a transform applied to each training batch's inputs (never to validation data).
    early_stopping: patience in epochs (an int) or an EarlyStopping.
    callbacks: objects with `on_step_end(info)` and/or `on_epoch_end(info)` methods.
    """
    X, y = train
    if val_fraction is not None or isinstance(val, float):
        (X, y), val = train_val_split(X, y, val_fraction if val_fraction is not None else val, seed=seed)
    if early_stopping is not None and not isinstance(early_stopping, EarlyStopping):
        early_stopping = EarlyStopping(patience=early_stopping)
    if early_stopping is not None and val is None:
        raise ValueError("early_stopping needs validation data: pass val=(X, y) or val=0.1")
    _check_epochs(epochs)
    loader = DataLoader(X, y, batch_size=batch_size, shuffle=True, seed=seed, transform=augment)
    if isinstance(schedule, str):
        schedule = schedules.get(schedule, total_steps=epochs * len(loader))
    if schedule is not None:
        schedule.bind(optimizer)

    out_dir = Path(out_dir) if out_dir is not None else None
    generators = random_generators(model, augment)
    history, position = History(), _Position()
    settings = {"epochs": epochs, "batch_size": batch_size, "seed": seed, "train_size": len(X)}
    metrics_bytes = 0
    if resume:
        history, position, metrics_bytes = _resume(out_dir, settings, model, optimizer, schedule, generators,
                                                   early_stopping)
    elif out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)

    interrupt = _InterruptFlag()
    with _MetricsLog(out_dir, metrics_bytes) as log, interrupt.installed():

        def checkpoint():
            if out_dir is None:
                return
            progress = {"position": asdict(position), "history": history.to_dict(), "settings": settings,
                        "metrics_bytes": log.tell(),
                        "early_stopping": early_stopping.state() if early_stopping else None}
            save_checkpoint(out_dir / CHECKPOINT_NAME, model=model, optimizer=optimizer, schedule=schedule,
                            generators=generators, progress=progress,
                            best_weights=early_stopping.best_weights if early_stopping else None)

        try:
            while position.epoch < epochs:
                started = time.perf_counter()
                model.train()
                loader.set_epoch(position.epoch)
                with _progress_bar(len(loader), position, epochs, progress) as bar:
                    for xb, yb in loader.batches(start=position.batches_done):
                        _train_step(model, loss, optimizer, schedule, xb, yb, position)
                        bar.update(1)
                        if position.global_step % POSTFIX_EVERY == 0:
                            bar.set_postfix(loss=f"{position.loss_sum / position.seen:.4f}",
                                            acc=f"{position.correct / position.seen:.4f}", lr=f"{optimizer.lr:.3g}")
                        if log_every and position.global_step % log_every == 0:
                            log.write({"type": "step", "step": position.global_step, "epoch": position.epoch + 1,
                                       "loss": position.loss_sum / position.seen, "lr": optimizer.lr})
                        _call(callbacks, "on_step_end", {"step": position.global_step, "model": model})
                        if interrupt.raised:
                            raise KeyboardInterrupt
                    stop = _end_epoch(model, loss, val, optimizer, position, history, early_stopping, started,
                                      log, bar)
                position.next_epoch()
                checkpoint()
                _call(callbacks, "on_epoch_end", {"epoch": position.epoch, "history": history, "model": model})
                if interrupt.raised:
                    raise KeyboardInterrupt
                if stop:
                    history.stopped_early = True
                    break
        except KeyboardInterrupt:
            checkpoint()
            raise TrainingInterrupted(_interrupted_message(out_dir, position)) from None

    if early_stopping is not None and early_stopping.best_weights is not None:
        model.load_state_dict(early_stopping.best_weights)
        history.best_epoch = early_stopping.best_epoch
    return history


def _check_epochs(epochs):
    if not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")


def _train_step(model, loss, optimizer, schedule, xb, yb, position):
    logits = model(Tensor(xb))
    value = loss(logits, yb)
    loss_value = float(value.data)
    if not math.isfinite(loss_value):
        raise FloatingPointError(
            f"loss became {loss_value} at epoch {position.epoch + 1}, step {position.batches_done + 1} "
            f"(lr={optimizer.lr:.4g}). Lower the learning rate, or standardise the inputs "
            f"(data.preprocess.Standardize); the last good checkpoint is kept"
        )
    optimizer.zero_grad()
    value.backward()
    optimizer.step()
    optimizer.zero_grad()  # a weight's gradient may hold this batch's arrays (tensor.LazyProduct): let them go
    if schedule is not None:
        schedule.step()
    position.batches_done += 1
    position.global_step += 1
    position.loss_sum += loss_value * len(yb)
    position.seen += len(yb)
    if logits.ndim == 2 and np.issubdtype(np.asarray(yb).dtype, np.integer):
        position.correct += int(np.count_nonzero(logits.data.argmax(axis=1) == yb))


def _end_epoch(model, loss, val, optimizer, position, history, early_stopping, started, log, bar):
    """Evaluate, record the epoch; True when early stopping says stop."""
    val_loss = val_accuracy = None
    if val is not None:
        result = evaluate(model, val[0], val[1], loss=loss)
        val_loss, val_accuracy = result.loss, result.accuracy
    epoch = position.epoch + 1
    record = {"epoch": epoch, "train_loss": position.loss_sum / max(position.seen, 1),
              "train_accuracy": position.correct / max(position.seen, 1), "val_loss": val_loss,
              "val_accuracy": val_accuracy, "lr": optimizer.lr, "seconds": time.perf_counter() - started}
    for key, value in record.items():
        getattr(history, key).append(value)
    log.write({"type": "epoch", **record})
    if val is not None:
        bar.set_postfix(loss=f"{record['train_loss']:.4f}", acc=f"{record['train_accuracy']:.4f}",
                        val_acc=f"{val_accuracy:.4f}")
    return early_stopping is not None and early_stopping.update(val_loss, epoch, model)


def _resume(out_dir, settings, model, optimizer, schedule, generators, early_stopping):
    if out_dir is None:
        raise ValueError("resume=True needs out_dir, the run folder holding checkpoint.npz")
    path = out_dir / CHECKPOINT_NAME
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint to resume from at {path}; run without resume to start afresh")
    progress, best = load_checkpoint(path, model=model, optimizer=optimizer, schedule=schedule,
                                     generators=generators)
    saved = progress["settings"]
    changed = {k: (saved[k], v) for k, v in settings.items() if k != "epochs" and saved.get(k) != v}
    if changed:
        details = ", ".join(f"{k} {old!r} -> {new!r}" for k, (old, new) in changed.items())
        raise ValueError(f"cannot resume {path}: the run's settings changed ({details}); use the same ones")
    if early_stopping is not None and progress["early_stopping"] is not None:
        early_stopping.restore(progress["early_stopping"], best)
    return History.from_dict(progress["history"]), _Position(**progress["position"]), progress["metrics_bytes"]


def _interrupted_message(out_dir, position):
    where = f"epoch {position.epoch + 1}, after {position.batches_done} batches"
    if out_dir is None:
        return f"training interrupted at {where}; nothing was saved (pass out_dir to make it resumable)"
    return (f"training interrupted at {where}; the checkpoint is in {out_dir / CHECKPOINT_NAME}. "
            f"Resume with fit(..., out_dir={str(out_dir)!r}, resume=True) or `nnscratch train --out {out_dir} --resume`")


def _call(callbacks, method, info):
    for callback in callbacks:
        hook = getattr(callback, method, None)
        if hook is not None:
            hook(info)


def _progress_bar(total, position, epochs, progress):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=position.batches_done, desc=f"epoch {position.epoch + 1}/{epochs}",
                unit="batch", disable=None if progress is None else not progress, leave=True)


class _MetricsLog:
    """Appends one JSON object per line to out_dir/metrics.jsonl (a no-op without out_dir).

    On resume the file is first cut back to its length at the checkpoint, so lines written
    after the checkpoint by the interrupted run are not repeated."""

    def __init__(self, out_dir, keep_bytes):
        self.path = None if out_dir is None else Path(out_dir) / METRICS_NAME
        self.keep_bytes = keep_bytes
        self.file = None

    def __enter__(self):
        if self.path is not None:
            self.file = open(self.path, "a+b")
            if self.keep_bytes:
                self.file.truncate(self.keep_bytes)
            elif self.file.tell():
                self.file.truncate(0)  # a fresh run in an old folder starts a fresh log
        return self

    def write(self, record):
        if self.file is not None:
            self.file.write((json.dumps(record) + "\n").encode())
            self.file.flush()

    def tell(self):
        return self.file.tell() if self.file is not None else 0

    def __exit__(self, *exc):
        if self.file is not None:
            self.file.close()

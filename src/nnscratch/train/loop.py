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
import math
import signal
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..atomic import DiskFullError
from ..data.loader import DataLoader, train_val_split
from ..optim import schedule as schedules
from ..tensor import Tensor
from .checkpoint import CHECKPOINT_NAME, load_checkpoint, random_generators, save_checkpoint
from .finish import finish_fit_folder
from .guards import blamed_sample, check_training_data, divergence_error, parameters_finite
from .history import EarlyStopping, History
from .log import METRICS_NAME, MetricsLog  # noqa: F401  (METRICS_NAME: loop.METRICS_NAME stays importable)
from .metrics import evaluate
from ..progress import progress_bar

POSTFIX_EVERY = 20


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during fit: the position was saved (with out_dir); the message says how to resume.
    `.where` says where training stopped ("epoch 3, after 12 batches")."""

    def __init__(self, message, where=None):
        super().__init__(message)
        self.where = where


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
        """Move to the start of the next epoch (running sums reset)."""
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
        """Catch SIGINT with this flag while the block runs (main thread only)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = signal.signal(signal.SIGINT, self)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)


def fit(model, loss, optimizer, train, val=None, epochs=10, batch_size=128, schedule=None, augment=None,
        seed=0, out_dir=None, resume=False, early_stopping=None, callbacks=(), *, rng=None, val_fraction=None,
        log_every=50, progress=None, test=None, classes=None, dataset=None):
    """Train `model` on `train=(X, y)` with mini-batch gradient descent; returns the `History`.

    train: (X, y) with X: (N, ...) float inputs (or raw images when `augment` preprocesses them) and
        y: (N,) integer class labels. Empty data, X and y of different lengths, or nan/inf in X are a
        ValueError (naming the sample) before any step.
    val: (X_val, y_val), or a fraction of `train` to hold out (stratified, by the seed), or None.
    seed / rng: an int seed or a numpy Generator (`rng=` is the same argument under the library's
        one spelling of randomness); it orders the batches and draws the held-out split.
    schedule: a Schedule, or a preset name ("warmup-step", "cosine", ...), stepped every step.
    augment: a transform applied to each training batch's inputs (never to validation data).
    out_dir: with it, metrics.jsonl and checkpoint.npz (every epoch and on Ctrl-C) are written there.
    resume: continue from out_dir's checkpoint; `epochs` may be raised (the run is extended), not lowered.
    early_stopping: patience in epochs (an int) or an EarlyStopping.
    callbacks: objects with `on_step_end(info)` and/or `on_epoch_end(info)` methods.
    progress: True / False shows / hides the epoch progress bar; None (default) shows it on a terminal
        and in a Jupyter kernel (plain text there unless ipywidgets is installed).
    test: (X_test, y_test). With out_dir, the finished model is evaluated on it and the folder becomes a
        complete run (model.npz, evaluation.npz, summary.json, config.json: `nnscratch report`,
        `evaluate` and `graph` accept it, and nnscratch.report.write_report(out_dir) writes its report).
    classes / dataset: the class names and the registered dataset's name, recorded for those commands.

    After every step the loss and the parameters are checked (cheaply, see train.guards): when they
    leave the finite range, training stops with FloatingPointError naming the epoch, step and learning
    rate, or with ValueError naming the training sample when the data is the cause. Ctrl-C finishes
    the step under way, saves a checkpoint and raises TrainingInterrupted. A full disk raises
    atomic.DiskFullError naming the file and whether the last good checkpoint is still there.
    """
    seed = _one_seed(seed, rng)
    (X, y), val = _split(train, val, val_fraction, seed)
    early_stopping = _early_stopping(early_stopping, val)
    _check_epochs(epochs)
    loader = DataLoader(X, y, batch_size=batch_size, shuffle=True, seed=seed, transform=augment)
    run = _Fit(model, loss, optimizer, _bound_schedule(schedule, optimizer, epochs * len(loader)), loader, val,
               out_dir, early_stopping, callbacks, log_every, progress,
               settings={"epochs": epochs, "batch_size": batch_size, "seed": seed, "train_size": len(X)},
               generators=random_generators(model, augment))
    if test is not None:
        check_training_data(*test, name="test")
    if resume:
        run.resume()
    history = run.train()
    if out_dir is not None and test is not None:
        finish_fit_folder(Path(out_dir), model, loss, history, test, run.settings, classes=classes,
                          dataset=dataset, train_seconds=float(sum(history.seconds)))
    return history


def _one_seed(seed, rng):
    """The int seed of `seed=` or its synonym `rng=` (a Generator is drawn from once)."""
    if rng is not None:
        if seed not in (0, None):
            raise ValueError("fit: give the randomness once, as rng= (seed= is the same argument)")
        seed = rng
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(2**63))
    return 0 if seed is None else seed


def _split(train, val, val_fraction, seed):
    X, y = train
    check_training_data(X, y)
    if val_fraction is not None or isinstance(val, float):
        (X, y), val = train_val_split(X, y, val_fraction if val_fraction is not None else val, seed=seed)
        check_training_data(X, y)
    if val is not None:
        check_training_data(*val, name="val")
    return (X, y), val


def _early_stopping(early_stopping, val):
    if early_stopping is not None and not isinstance(early_stopping, EarlyStopping):
        early_stopping = EarlyStopping(patience=early_stopping)
    if early_stopping is not None and val is None:
        raise ValueError("early_stopping needs validation data: pass val=(X, y) or val=0.1")
    return early_stopping


def _bound_schedule(schedule, optimizer, total_steps):
    if isinstance(schedule, str):
        schedule = schedules.get(schedule, total_steps=total_steps)
    if schedule is not None:
        schedule.bind(optimizer)
    return schedule


def _check_epochs(epochs):
    if not isinstance(epochs, (int, np.integer)) or isinstance(epochs, bool) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")


class _Fit:
    """One call of `fit`: the objects it trains with and where it is, as named steps."""

    def __init__(self, model, loss, optimizer, schedule, loader, val, out_dir, early_stopping, callbacks,
                 log_every, progress, settings, generators):
        self.model, self.loss, self.optimizer, self.schedule = model, loss, optimizer, schedule
        self.loader, self.val, self.early_stopping, self.callbacks = loader, val, early_stopping, callbacks
        self.log_every, self.progress, self.settings, self.generators = log_every, progress, settings, generators
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.params = list(model.parameters())
        self.history, self.position = History(), _Position()
        self.metrics_bytes, self.checkpoint_saved, self.log = 0, False, None

    @property
    def checkpoint_path(self):
        """out_dir/checkpoint.npz."""
        return self.out_dir / CHECKPOINT_NAME

    def resume(self):
        """Restore the checkpoint in out_dir (refusing changed settings or fewer epochs than done)."""
        history, position, self.metrics_bytes = _resume(self.out_dir, self.settings, self.model, self.optimizer,
                                                        self.schedule, self.generators, self.early_stopping)
        self.history, self.position, self.checkpoint_saved = history, position, True

    def train(self):
        """Run the epochs left; returns the History (best weights restored with early stopping)."""
        if self.out_dir is not None:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        interrupt = _InterruptFlag()
        with MetricsLog(self.out_dir, self.metrics_bytes, self.history) as self.log, interrupt.installed():
            try:
                while self.position.epoch < self.settings["epochs"]:
                    stop = self.epoch(interrupt)
                    if stop:
                        self.history.stopped_early = True
                        break
            except KeyboardInterrupt:
                self.checkpoint()
                raise TrainingInterrupted(_interrupted_message(self.out_dir, self.position),
                                          where=_where(self.position)) from None
        if self.early_stopping is not None and self.early_stopping.best_weights is not None:
            self.model.load_state_dict(self.early_stopping.best_weights)
            self.history.best_epoch = self.early_stopping.best_epoch
        return self.history

    def epoch(self, interrupt):
        """One pass over the training data, then validation, the log line and the checkpoint."""
        started, position = time.perf_counter(), self.position
        self.model.train()
        self.loader.set_epoch(position.epoch)
        order = self.loader.order(position.epoch)
        size = self.loader.batch_size
        with progress_bar(len(self.loader), position, self.settings["epochs"], self.progress) as bar:
            for xb, yb in self.loader.batches(start=position.batches_done):
                first = position.batches_done * size
                self.step(xb, yb, order[first:first + len(yb)])
                bar.update(1)
                self.after_step(bar)
                if interrupt.raised:
                    raise KeyboardInterrupt
            stop = _end_epoch(self.model, self.loss, self.val, self.optimizer, position, self.history,
                              self.early_stopping, started, self.log, bar)
        position.next_epoch()
        self.checkpoint()
        _call(self.callbacks, "on_epoch_end", {"epoch": position.epoch, "history": self.history, "model": self.model})
        if interrupt.raised:
            raise KeyboardInterrupt
        return stop

    def step(self, xb, yb, indices):
        """One optimiser step on a batch; stops training when the loss or parameters leave the finite range."""
        logits = self.model(Tensor(xb))
        value = self.loss(logits, yb)
        loss_value = float(value.data)
        if not math.isfinite(loss_value):
            raise self.diverged(f"loss became {loss_value}", xb, indices)
        self.optimizer.zero_grad()
        value.backward()
        self.optimizer.step()
        self.optimizer.zero_grad()  # let the batch's gradient arrays go
        if not parameters_finite(self.params):
            raise self.diverged("the parameters left the finite range (nan, inf or overflowing values)", xb,
                                indices)
        if self.schedule is not None:
            self.schedule.step()
        position = self.position
        position.batches_done += 1
        position.global_step += 1
        position.loss_sum += loss_value * len(yb)
        position.seen += len(yb)
        if logits.ndim == 2 and np.issubdtype(np.asarray(yb).dtype, np.integer):
            position.correct += int(np.count_nonzero(logits.data.argmax(axis=1) == yb))

    def diverged(self, what, xb, indices):
        """The error for a blow-up at this step, blaming a sample when the data explains it."""
        if self.out_dir is None:
            note = ""
        elif self.checkpoint_saved:
            note = f"; the last good checkpoint is kept ({self.checkpoint_path})"
        else:
            note = "; no checkpoint was written yet"
        return divergence_error(what, self.position, self.optimizer.lr, blamed_sample(xb, indices), note)

    def after_step(self, bar):
        """The progress bar's figures, a step line in the log every log_every steps, the callbacks."""
        position = self.position
        if position.global_step % POSTFIX_EVERY == 0:
            bar.set_postfix(loss=f"{position.loss_sum / position.seen:.4f}",
                            acc=f"{position.correct / position.seen:.4f}", lr=f"{self.optimizer.lr:.3g}")
        if self.log_every and position.global_step % self.log_every == 0:
            self.log.write({"type": "step", "step": position.global_step, "epoch": position.epoch + 1,
                            "loss": position.loss_sum / position.seen, "lr": self.optimizer.lr})
        _call(self.callbacks, "on_step_end", {"step": position.global_step, "model": self.model})

    def checkpoint(self):
        """Write out_dir/checkpoint.npz (atomically); a full disk names what is still kept."""
        if self.out_dir is None:
            return
        es = self.early_stopping
        progress = {"position": asdict(self.position), "history": self.history.to_dict(), "settings": self.settings,
                    "metrics_bytes": self.log.tell(), "early_stopping": es.state() if es else None}
        try:
            save_checkpoint(self.checkpoint_path, model=self.model, optimizer=self.optimizer, schedule=self.schedule,
                            generators=self.generators, progress=progress,
                            best_weights=es.best_weights if es else None)
        except DiskFullError as error:
            error.advice.append(
                f"the last good checkpoint is still there ({self.checkpoint_path}): after freeing space, resume "
                f"with fit(..., out_dir={str(self.out_dir)!r}, resume=True)"
                if self.checkpoint_saved else "no checkpoint of this run was written yet")
            raise
        self.checkpoint_saved = True


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
    position = _Position(**progress["position"])
    done = position.epoch + (1 if position.batches_done else 0)
    if settings["epochs"] < done:
        raise ValueError(f"cannot resume {path} with epochs={settings['epochs']}: the run has already done {done} "
                         f"epochs; give epochs={done} or more (a run is extended, never shortened)")
    changed = {k: (saved[k], v) for k, v in settings.items() if k != "epochs" and saved.get(k) != v}
    if changed:
        details = ", ".join(f"{k} {old!r} -> {new!r}" for k, (old, new) in changed.items())
        raise ValueError(f"cannot resume {path}: the run's settings changed ({details}); use the same ones")
    if early_stopping is not None and progress["early_stopping"] is not None:
        early_stopping.restore(progress["early_stopping"], best)
    return History.from_dict(progress["history"]), position, progress["metrics_bytes"]


def _where(position):
    return f"epoch {position.epoch + 1}, after {position.batches_done} batches"


def _interrupted_message(out_dir, position):
    where = _where(position)
    if out_dir is None:
        return f"training interrupted at {where}; nothing was saved (pass out_dir to make it resumable)"
    return (f"training interrupted at {where}; the checkpoint is in {out_dir / CHECKPOINT_NAME}. "
            f"Resume with fit(..., out_dir={str(out_dir)!r}, resume=True) or `nnscratch train --out {out_dir} --resume`")


def _call(callbacks, method, info):
    for callback in callbacks:
        hook = getattr(callback, method, None)
        if hook is not None:
            hook(info)

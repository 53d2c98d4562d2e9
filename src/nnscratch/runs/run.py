"""`train_run`: one training run into a folder, as named steps.

From a `RunConfig` it loads and verifies the data, fits the preprocessing on the training
split only, builds the model, trains it (checkpointing every epoch), evaluates it on the test
split and writes the run folder:

    config.json  metrics.jsonl  checkpoint.npz  model.npz  evaluation.npz  summary.json  report.html

Each stage after the data is loaded says, when interrupted (Ctrl-C) or stopped by a full disk,
what is saved and the exact command that finishes the job.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np

from .. import data, nn, optim
from ..atomic import DiskFullError
from ..data import preprocess as preprocessing
from ..serialize import save
from ..train import CHECKPOINT_NAME, TrainingInterrupted, evaluate, fit
from ..train.finish import write_evaluation  # one writer of evaluation.npz, shared with fit(test=...)
from .config import ConfigError, Problem, literal
from .factory import ThenPreprocess, build_model, computed_features, make_augment, make_features, make_preprocess
from .folder import SUMMARY_NAME, finish_command, locked, read_config, write_json



class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during a stage of a run; the message says what is saved and how to finish."""


@dataclass
class PreparedData:
    """A run's data after loading, feature extraction and preprocessing."""

    info: object
    train: tuple
    val: tuple | None
    test: tuple
    test_images: np.ndarray
    preprocess: object  # the fitted preprocessing (features first, when any), saved with the model
    augment: object | None
    input_shape: tuple  # one sample's shape after preprocessing: what the model takes


def train_run(config, out_dir, *, resume=False, offline=False, progress=None, echo=print, callbacks=(),
              features_cache=None):
    """Train, evaluate and report one run into `out_dir`; returns the summary dict
    (test_accuracy, test_loss, val_accuracy, epochs_run, per_class_accuracy, timings, report, ...).

    config: a RunConfig. With resume=True, the run's saved config.json is used; `config` may be None,
    and where given it may differ from the saved one only in `epochs` (more epochs extend the run).
    Raises RunFolderBusy when another process writes `out_dir`, ConfigError naming every bad setting
    (before any data is loaded), RunInterrupted (a KeyboardInterrupt) on Ctrl-C and DiskFullError on
    a full disk, both saying what is saved and what finishes the job.
    """
    out_dir = Path(out_dir)
    with locked(out_dir):
        config = _settle_config(config, out_dir, resume, echo)
        resume = resume and _has_checkpoint(out_dir, echo)
        if not resume:
            (out_dir / CHECKPOINT_NAME).unlink(missing_ok=True)  # a new run: never resume an older one's
        write_json(out_dir / "config.json", config.to_dict())
        started = time.perf_counter()
        with _stage(out_dir, "loading the data", saved="config.json only; nothing is trained yet"):
            prepared = prepare_data(config, offline=offline, progress=progress, cache_dir=features_cache or out_dir)
        model = build_model(config, prepared.input_shape, len(prepared.info.classes))
        history = train_model(config, model, prepared, out_dir, resume=resume, progress=progress,
                              callbacks=callbacks)
        return finish_run(config, model, history, prepared, out_dir, started=started)


def _settle_config(config, out_dir, resume, echo):
    """The config to run: the given one validated, or on resume the saved one (+ more epochs)."""
    if not resume:
        return config.validate()
    saved = read_config(out_dir)
    merged = saved if config is None else resumed_config(saved, config)
    _check_not_shortened(out_dir, merged.epochs)
    echo(f"resuming {out_dir} with its saved configuration"
         + (f", to {merged.epochs} epochs" if merged.epochs != saved.epochs else ""))
    return merged


def resumed_config(saved, requested, compared=None):
    """`saved` with `requested`'s epochs; raises ConfigError naming each other field of `compared`
    (default: every field) whose requested value differs from the saved one."""
    compared = [f.name for f in fields(saved)] if compared is None else compared
    problems = [Problem(name, f"{literal(repr(getattr(requested, name)))} differs from this run's saved value "
                              f"{literal(repr(getattr(saved, name)))}; leave {{{name}}} out to resume with the saved "
                              f"configuration, or start a new run in another folder")
                for name in compared if name != "epochs" and getattr(requested, name) != getattr(saved, name)]
    if problems:
        raise ConfigError(problems)
    return replace(saved, epochs=requested.epochs).validate()


def _check_not_shortened(out_dir, epochs):
    done = epochs_done(out_dir / CHECKPOINT_NAME)
    if done is not None and epochs < done:
        raise ConfigError([Problem("epochs", f"this run has already done {done} epochs, so {{epochs}} cannot be "
                                             f"{epochs}; give {done} or more (a run is extended, never shortened)")])


def epochs_done(checkpoint):
    """Epochs the checkpoint has started (counting one cut short by Ctrl-C), or None when unreadable."""
    try:
        with np.load(checkpoint, allow_pickle=False) as archive:
            position = json.loads(str(archive["header"]))["progress"]["position"]
        return position["epoch"] + (1 if position["batches_done"] else 0)
    except Exception:  # noqa: BLE001  unreadable: load_checkpoint says what is wrong, in its own words
        return None


def _has_checkpoint(out_dir, echo):
    if (out_dir / CHECKPOINT_NAME).is_file():
        return True
    echo(f"no checkpoint in {out_dir} yet: training it from the beginning with its saved configuration")
    return False


@contextlib.contextmanager
def _stage(out_dir, doing, saved, command=None):
    """Turn Ctrl-C into RunInterrupted and a full disk into DiskFullError, each saying what is
    saved and the command that finishes the job."""
    command = command or finish_command(out_dir)
    try:
        yield
    except DiskFullError as error:
        checkpoint = out_dir / CHECKPOINT_NAME
        if checkpoint.is_file():  # fit's advice speaks Python; this is the command's
            error.advice[:] = [f"the last good checkpoint is still there ({checkpoint}): after freeing space, "
                               f"finish with `{command}`"]
        raise
    except TrainingInterrupted as interrupted:
        raise RunInterrupted(f"interrupted while {doing} ({interrupted.where}); saved: {saved}. "
                             f"Finish with `{command}`") from None
    except KeyboardInterrupt as interrupted:
        if isinstance(interrupted, RunInterrupted) or str(interrupted):
            raise  # already says where it stopped
        raise RunInterrupted(f"interrupted while {doing}; saved: {saved}. Finish with `{command}`") from None


def prepare_data(config, *, offline=False, progress=None, cache_dir=None):
    """Load the train and test splits, hold out validation data, compute features (cached in
    cache_dir) and fit the preprocessing on the training split only."""
    info = data.info(config.dataset)
    X, y = data.load(config.dataset, "train", download=not offline, progress=progress)
    X_test, y_test = data.load(config.dataset, "test", download=not offline, progress=progress)
    X_val = y_val = None
    if config.val_fraction:
        (X, y), (X_val, y_val) = data.train_val_split(X, y, config.val_fraction, seed=config.seed)
    test_images = X_test
    extractor = make_features(config.features, config.seed)
    if extractor is not None:
        key = {"features": config.features, "dataset": config.dataset, "seed": config.seed,
               "val_fraction": config.val_fraction, "sizes": [len(X), len(X_test)]}
        splits = [X, X_test] + ([X_val] if X_val is not None else [])
        extractor, computed = computed_features(extractor, cache_dir, key, splits)
        X, X_test = computed[0], computed[1]
        X_val = computed[2] if X_val is not None else None
        pre = preprocessing.Standardize().fit(X)  # per feature: features differ in scale and meaning
    else:
        pre = make_preprocess(config.preprocess).fit(X)
    augment = make_augment(config.augment, X.shape[1:], config.seed)
    saved_pre = pre if extractor is None else preprocessing.Pipeline([extractor, pre])
    saved_pre.sample_shape_ = tuple(info.sample_shape)
    return PreparedData(
        info=info, train=(X if augment is not None else pre.transform(X), y),
        val=(pre.transform(X_val), y_val) if X_val is not None else None,
        test=(pre.transform(X_test), y_test), test_images=test_images, preprocess=saved_pre,
        augment=ThenPreprocess(augment, pre) if augment is not None else None,
        input_shape=tuple(pre.transform(X[:2]).shape[1:]))


def make_optimizer(config, model):
    """The optimiser named by config.optimizer over the model's parameters."""
    kwargs = {"momentum": config.momentum} if config.optimizer == "sgd" else {}
    return optim.OPTIMIZERS[config.optimizer](model.parameters(), lr=config.lr, weight_decay=config.weight_decay,
                                              **kwargs)


def train_model(config, model, prepared, out_dir, *, resume=False, progress=None, callbacks=()):
    """`train.fit` with the run's settings, checkpointing into out_dir; returns the History."""
    with _stage(out_dir, "training", saved=f"the checkpoint {out_dir / CHECKPOINT_NAME}, at the last finished step"):
        loss = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
        return fit(model, loss, make_optimizer(config, model), prepared.train, val=prepared.val,
                   epochs=config.epochs, batch_size=config.batch_size, schedule=config.schedule,
                   augment=prepared.augment, seed=config.seed, out_dir=out_dir, resume=resume,
                   early_stopping=config.early_stopping or None, progress=progress, callbacks=callbacks)


def finish_run(config, model, history, prepared, out_dir, *, started):
    """Evaluate on the test split and write model.npz, evaluation.npz, summary.json, report.html."""
    trained = time.perf_counter()
    done = f"training is finished and saved in {out_dir / CHECKPOINT_NAME}"
    with _stage(out_dir, "evaluating on the test set", saved=done):
        result = evaluate(model, *prepared.test)
    with _stage(out_dir, "writing model.npz", saved=done):
        meta = {"dataset": config.dataset, "classes": list(prepared.info.classes),
                "sample_shape": list(prepared.info.sample_shape), "config": config.to_dict()}
        save(model, out_dir / "model.npz", preprocess=prepared.preprocess, meta=meta)
    with _stage(out_dir, "writing evaluation.npz and summary.json", saved=f"{done}, and model.npz"):
        write_evaluation(out_dir / "evaluation.npz", result, prepared.test[1], prepared.test_images)
        summary = make_summary(config, model, history, result, prepared.info,
                               timings={"train_seconds": trained - started,
                                        "seconds_per_epoch": float(np.median(history.seconds or [0.0])),
                                        "evaluate_seconds": time.perf_counter() - trained,
                                        "total_seconds": time.perf_counter() - started})
        write_json(out_dir / SUMMARY_NAME, summary)
    from ..report import write_report  # here, not at the top: matplotlib loads only when a report is made

    with _stage(out_dir, "writing report.html", saved="the model, the evaluation and summary.json",
                command=f"nnscratch report {out_dir}"):
        summary["report"] = str(write_report(out_dir))
    return summary


def make_summary(config, model, history, result, info, timings):
    """summary.json's content: test figures, per-class accuracy, epochs, parameters, timings."""
    return {
        "dataset": config.dataset,
        "test_loss": result.loss,
        "test_accuracy": result.accuracy,
        "per_class_accuracy": dict(zip(info.classes, result.summary()["per_class_accuracy"])),
        "val_accuracy": history.val_accuracy[-1] if history.val_accuracy else None,
        "epochs_run": len(history),
        "best_epoch": history.best_epoch,
        "parameters": int(sum(p.size for p in model.parameters())),
        "timings": timings,
    }

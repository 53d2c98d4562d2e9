"""What `fit(out_dir=..., test=(X, y))` leaves at the end so that its folder is a complete run:
model.npz (with the meta `nnscratch evaluate`, `graph` and the report read), evaluation.npz,
summary.json and config.json, the same files `nnscratch train` writes (see nnscratch.runs).

A run folder's summary and evaluation are about the test split, so they are written only when `fit`
is given one (`test=`); without it the folder keeps what training needs (checkpoint, metrics).
"""

from __future__ import annotations

import json
import warnings

import numpy as np

from ..atomic import write_bytes_atomic, write_npz
from ..serialize import save
from .metrics import evaluate

WRONG_EXAMPLES = 16
FIT_MODEL_NAME = "fit"  # config.json's "model" for a model built in Python (not a `nnscratch train` spec)


def write_evaluation(path, result, labels, images):
    """Test probabilities and labels, the most confidently wrong test images and one example image
    (the report draws a CNN's feature maps of it, and the model's graph on it), for the report.
    result: an Evaluation; labels: (N,) ints; images: (N, ...) the inputs as they were before preprocessing."""
    predicted = result.probabilities.argmax(axis=1)
    confidence = result.probabilities.max(axis=1)
    wrong = np.flatnonzero(predicted != labels)
    worst = wrong[np.argsort(-confidence[wrong])][:WRONG_EXAMPLES]
    write_npz(path, {"probabilities": result.probabilities.astype(np.float32), "labels": labels,
                     "confusion_matrix": result.confusion_matrix, "wrong_index": worst,
                     "wrong_images": images[worst], "example_image": images[:1]})


def _write_json(path, obj):
    write_bytes_atomic(path, (json.dumps(obj, indent=2) + "\n").encode())


def finish_fit_folder(out_dir, model, loss, history, test, settings, *, classes=None, dataset=None,
                      train_seconds=0.0):
    """Evaluate `model` on `test=(X, y)` and write model.npz, evaluation.npz, summary.json and
    config.json into `out_dir` (atomically each); returns the summary dict.

    classes: the class names (default "0", "1", ...); dataset: the name of a registered dataset the
    model was trained on (lets `nnscratch evaluate` and `graph` load it), or None. A model that cannot
    describe its architecture (a custom Module without config()) gets no model.npz: a RuntimeWarning
    says so, and the other files are still written."""
    X_test, y_test = test
    result = evaluate(model, X_test, y_test, loss=loss)
    n_classes = result.probabilities.shape[1]
    classes = [str(c) for c in (classes if classes is not None else range(n_classes))]
    meta = {"dataset": dataset, "classes": classes, "sample_shape": list(np.shape(X_test)[1:]),
            "config": {"model": FIT_MODEL_NAME, **settings}}
    try:
        save(model, out_dir / "model.npz", meta=meta)
    except TypeError as error:
        warnings.warn(f"{out_dir}: no model.npz written ({error})", RuntimeWarning, stacklevel=3)
    write_evaluation(out_dir / "evaluation.npz", result, np.asarray(y_test), np.asarray(X_test))
    summary = {"dataset": dataset, "test_loss": result.loss, "test_accuracy": result.accuracy,
               "per_class_accuracy": dict(zip(classes, result.summary()["per_class_accuracy"])),
               "val_accuracy": history.val_accuracy[-1] if history.val_accuracy else None,
               "epochs_run": len(history), "best_epoch": history.best_epoch,
               "parameters": int(sum(p.size for p in model.parameters())),
               "timings": {"train_seconds": train_seconds,
                           "seconds_per_epoch": float(np.median(history.seconds or [0.0]))}}
    _write_json(out_dir / "summary.json", summary)
    _write_json(out_dir / "config.json", {"model": FIT_MODEL_NAME, "dataset": dataset or "custom", **settings})
    return summary

"""Evaluating a classifier: loss, accuracy, per-class accuracy and the confusion matrix."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..functional.activations import softmax_array
from ..tensor import Tensor, no_grad

EVAL_BATCH = 2000


@dataclass
class Evaluation:
    """What `evaluate` measured: mean loss, accuracy in [0, 1], per-class accuracy (C,), the
    confusion matrix (C, C) and the softmax probabilities (N, C)."""

    loss: float
    accuracy: float
    per_class_accuracy: np.ndarray  # (C,), nan for a class absent from y
    confusion_matrix: np.ndarray  # (C, C): row = true class, column = predicted
    probabilities: np.ndarray  # (N, C) softmax of the model's outputs

    def summary(self):
        """The JSON-able figures: loss, accuracy and per-class accuracy (None for an absent class)."""
        return {"loss": self.loss, "accuracy": self.accuracy,
                "per_class_accuracy": [None if np.isnan(a) else float(a) for a in self.per_class_accuracy]}


def confusion_matrix(y_true, y_pred, n_classes):
    """counts[i, j] = how many samples of class i were predicted as class j.

    y_true, y_pred: (N,) integer labels in [0, n_classes). Returns (n_classes, n_classes) int64,
    as scikit-learn's confusion_matrix (rows true, columns predicted)."""
    return np.bincount(np.asarray(y_true) * n_classes + np.asarray(y_pred),
                       minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def evaluate(model, X, y, loss=None, batch_size=EVAL_BATCH, n_classes=None):
    """Evaluate `model` on (X, y) in eval mode without recording a graph; returns an Evaluation.

    X: (N, ...) inputs the model takes; y: (N,) integer labels. `loss(logits, y)` defaults to
    cross-entropy; the loss reported is the mean over samples. Works in batches of `batch_size`,
    so memory stays bounded; the model's training mode is restored afterwards.
    """
    from ..nn.functional import cross_entropy

    loss = loss or cross_entropy
    y = np.asarray(y)
    was_training = model.training
    model.eval()
    outputs, total = [], 0.0
    try:
        with no_grad():
            for start in range(0, len(X), batch_size):
                xb, yb = X[start:start + batch_size], y[start:start + batch_size]
                logits = model(Tensor(xb) if not isinstance(xb, Tensor) else xb)
                total += float(loss(logits, yb).data) * len(xb)
                outputs.append(logits.data)
    finally:
        model.train(was_training)
    logits = np.concatenate(outputs)
    n_classes = n_classes or logits.shape[1]
    predicted = logits.argmax(axis=1)
    matrix = confusion_matrix(y, predicted, n_classes)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.diag(matrix) / matrix.sum(axis=1)
    return Evaluation(loss=total / len(X), accuracy=float(np.mean(predicted == y)),
                      per_class_accuracy=per_class, confusion_matrix=matrix,
                      probabilities=softmax_array(logits, axis=1))

"""Per-class precision, recall and F1 from a confusion matrix, as scikit-learn's classification_report.

precision_k = TP_k / (TP_k + FP_k)  (of the images predicted k, the share that are k)
recall_k    = TP_k / (TP_k + FN_k)  (of the images that are k, the share predicted k)
F1_k        = 2 · precision_k · recall_k / (precision_k + recall_k)
A 0/0 is 0, as scikit-learn's zero_division=0. "macro avg" is the plain mean over classes, "weighted
avg" the mean weighted by each class's support (its number of true samples).
"""

from __future__ import annotations

import numpy as np

AVERAGES = ("macro avg", "weighted avg")


def _ratio(numerator, denominator):
    numerator, denominator = np.asarray(numerator, dtype=np.float64), np.asarray(denominator, dtype=np.float64)
    return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator > 0)


def classification_report(confusion, classes):
    """confusion: (C, C) counts, row = true class, column = predicted; classes: C names.

    Returns {class name: {"precision", "recall", "f1-score", "support"}, "accuracy": float,
    "macro avg": {...}, "weighted avg": {...}}: the keys and numbers of
    sklearn.metrics.classification_report(y_true, y_pred, output_dict=True, zero_division=0).
    Raises ValueError when the matrix is not square or does not match the class names.
    """
    confusion = np.asarray(confusion)
    if confusion.ndim != 2 or confusion.shape[0] != confusion.shape[1] or len(classes) != len(confusion):
        raise ValueError(f"classification_report: confusion must be (C, C) with C = {len(classes)} class names, "
                         f"got shape {confusion.shape}")
    true_positive = np.diag(confusion).astype(np.float64)
    support = confusion.sum(axis=1)
    precision = _ratio(true_positive, confusion.sum(axis=0))
    recall = _ratio(true_positive, support)
    f1 = _ratio(2 * precision * recall, precision + recall)
    report = {name: {"precision": float(p), "recall": float(r), "f1-score": float(f), "support": int(s)}
              for name, p, r, f, s in zip(classes, precision, recall, f1, support)}
    total = int(support.sum())
    report["accuracy"] = float(true_positive.sum() / total) if total else 0.0
    weights = support / total if total else np.zeros(len(support))
    for name, average in (("macro avg", np.mean), ("weighted avg", lambda v: float(np.sum(v * weights)))):
        report[name] = {"precision": float(average(precision)), "recall": float(average(recall)),
                        "f1-score": float(average(f1)), "support": total}
    return report


def report_rows(report, classes):
    """Table rows (label, precision, recall, F1, support) with 4 decimals, classes then the averages."""
    rows = []
    for name in list(classes) + list(AVERAGES):
        r = report[name]
        rows.append((name, f"{r['precision']:.4f}", f"{r['recall']:.4f}", f"{r['f1-score']:.4f}", r["support"]))
    return rows

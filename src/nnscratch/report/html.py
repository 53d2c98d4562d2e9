"""Assembling report.html from a run folder: every figure embedded, nothing fetched."""

from __future__ import annotations

import base64
import html
import json
import numbers
import warnings
from pathlib import Path

import numpy as np

from ..atomic import RunFileWarning, write_bytes_atomic
from . import plots

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }
h1 { margin-bottom: 0.2rem; } .sub { color: #666; margin-top: 0; }
.figures { display: flex; flex-wrap: wrap; gap: 1rem; }
.figures figure { margin: 0; } img { max-width: 100%; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; } td, th { padding: 0.25rem 0.8rem; border-bottom: 1px solid #ddd; text-align: left; }
.big { font-size: 2rem; font-weight: 600; }
"""


def _img(png_bytes, alt):
    data = base64.b64encode(png_bytes).decode()
    return f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}"></figure>'


def _table(rows, header=None):
    head = "<tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in header) + "</tr>" if header else ""
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table>{head}{body}</table>"


EPOCH_FIELDS = ("train_loss", "val_loss", "train_accuracy", "val_accuracy")
EVALUATION_ARRAYS = ("confusion_matrix", "wrong_index", "probabilities", "labels", "wrong_images")


class DamagedRunFile(ValueError):
    """A derived file the report is drawn from (summary.json, evaluation.npz) is damaged; the message
    names it and the command that rewrites it."""


def _is_number(value, none_ok=False):
    return (value is None and none_ok) or (isinstance(value, numbers.Real) and not isinstance(value, bool))


def _sound_record(record):
    if not isinstance(record, dict):
        return False
    if record.get("type") == "epoch":
        return all(_is_number(record.get(k), none_ok=True) for k in EPOCH_FIELDS)
    return record.get("type") == "step" and _is_number(record.get("step")) and _is_number(record.get("lr"))


def _read_metrics(run_dir):
    """(epoch records, step records) of RUN/metrics.jsonl; damaged lines are skipped with one RunFileWarning
    (it is a derived file: the report draws what is sound)."""
    epochs, steps, damaged = [], [], 0
    path = run_dir / "metrics.jsonl"
    if path.is_file():
        for line in path.read_bytes().decode("utf-8", errors="replace").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if not _sound_record(record):
                damaged += 1
                continue
            (epochs if record["type"] == "epoch" else steps).append(record)
    if damaged:
        warnings.warn(f"{path}: {damaged} damaged line(s) skipped in the curves; `nnscratch train --out {run_dir} "
                      f"--resume` rebuilds the file", RunFileWarning, stacklevel=3)
    return epochs, steps


def _damaged(path, problem):
    return DamagedRunFile(f"{path} is damaged ({problem}); `nnscratch train --out {path.parent} --resume` "
                          f"rewrites it and the report")


def _read_summary(run_dir):
    path = run_dir / "summary.json"
    try:
        summary = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError) as error:
        raise _damaged(path, f"not valid JSON: {error}") from None
    if not isinstance(summary, dict):
        raise _damaged(path, "not a JSON object")
    timings = summary.get("timings")
    bad = [k for k in ("test_accuracy", "test_loss", "epochs_run") if not _is_number(summary.get(k))]
    if not isinstance(timings, dict) or not _is_number(timings.get("train_seconds")):
        bad.append("timings.train_seconds")
    if not isinstance(summary.get("per_class_accuracy"), dict):
        bad.append("per_class_accuracy")
    if bad:
        raise _damaged(path, f"{', '.join(bad)} missing or not numbers")
    return summary


def _read_evaluation(run_dir, n_classes):
    path = run_dir / "evaluation.npz"
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [name for name in EVALUATION_ARRAYS if name not in archive.files]
            evaluation = {name: archive[name] for name in EVALUATION_ARRAYS if name not in missing}
    except Exception as error:  # noqa: BLE001  (np.load's many ways to fail on a damaged file)
        raise _damaged(path, "not an .npz archive of plain arrays" if "pickle" in str(error) else
                       f"{type(error).__name__}: {error}") from None
    if missing:
        raise _damaged(path, f"it lacks the array(s) {', '.join(missing)}")
    confusion, wrong = evaluation["confusion_matrix"], evaluation["wrong_index"]
    probabilities, labels = evaluation["probabilities"], evaluation["labels"]
    if (confusion.shape != (n_classes, n_classes) or wrong.ndim != 1 or wrong.dtype.kind not in "iu"
            or probabilities.ndim != 2 or probabilities.shape[1] != n_classes or labels.dtype.kind not in "iu"
            or labels.shape != probabilities.shape[:1] or (len(wrong) and not (0 <= wrong.min() and wrong.max() < len(labels)))
            or (len(labels) and not (0 <= labels.min() and labels.max() < n_classes))):
        raise _damaged(path, "its arrays do not fit together or do not match the model's classes")
    return evaluation


def write_report(run_dir):
    """Write RUN/report.html from the run folder's files; returns its path."""
    from ..serialize import load

    run_dir = Path(run_dir)
    config = json.loads((run_dir / "config.json").read_text())
    summary = _read_summary(run_dir)
    epochs, steps = _read_metrics(run_dir)
    model = load(run_dir / "model.npz")
    classes = model.meta["classes"]
    sample_shape = tuple(model.meta["sample_shape"])
    evaluation = _read_evaluation(run_dir, len(classes))

    sections = [f"<h1>nnscratch run: {html.escape(run_dir.name)}</h1>",
                f'<p class="sub">{html.escape(config["model"])} on {html.escape(config["dataset"])}, '
                f'{summary["epochs_run"]} epochs</p>',
                f'<p>Test accuracy <span class="big">{summary["test_accuracy"]:.4f}</span> '
                f'&nbsp; test loss {summary["test_loss"]:.4f} &nbsp; '
                f'training time {summary["timings"]["train_seconds"]:.1f} s</p>']

    series = {k: [e[k] for e in epochs] for k in ("train_loss", "val_loss", "train_accuracy", "val_accuracy")}
    rate_points = [(s["step"], s["lr"]) for s in steps]
    figures = [
        _img(plots.curves({"train": series["train_loss"], "validation": series["val_loss"]}, "Loss", "loss"),
             "loss curves"),
        _img(plots.curves({"train": series["train_accuracy"], "validation": series["val_accuracy"]},
                          "Accuracy", "accuracy"), "accuracy curves"),
    ]
    if rate_points:
        figures.append(_img(plots.learning_rate(*zip(*rate_points)), "learning rate"))
    sections.append('<h2>Training</h2><div class="figures">' + "".join(figures) + "</div>")

    per_class = [summary["per_class_accuracy"].get(c) for c in classes]
    per_class = [a if _is_number(a) else None for a in per_class]
    sections.append('<h2>Test results</h2><div class="figures">'
                    + _img(plots.confusion(evaluation["confusion_matrix"], classes), "confusion matrix")
                    + _img(plots.per_class([a or 0 for a in per_class], classes), "per-class accuracy") + "</div>")
    sections.append(_table([(c, "n/a" if a is None else f"{a:.4f}") for c, a in zip(classes, per_class)],
                           header=("class", "accuracy")))

    first = next((m for m in model.modules() if hasattr(m, "weight") and m.weight.ndim == 2), None)
    if first is not None and first.weight.shape[0] == int(np.prod(sample_shape)) and len(sample_shape) >= 2:
        sections.append("<h2>What the first layer looks for</h2>"
                        + _img(plots.templates(first.weight.data, sample_shape, classes), "templates"))
    else:
        sections.append("<h2>What the first layer looks for</h2><p>Not drawn: the first layer does not "
                        "read raw pixels (its inputs are features or PCA components).</p>")

    wrong = evaluation["wrong_index"]
    if len(wrong):
        probabilities, labels = evaluation["probabilities"], evaluation["labels"]
        titles = [f"true {classes[labels[i]]}\npred {classes[probabilities[i].argmax()]} "
                  f"{probabilities[i].max():.2f}" for i in wrong]
        images = evaluation["wrong_images"]
        if images.ndim == 4 or images.ndim == 3:
            sections.append("<h2>Most confidently wrong test images</h2>"
                            + _img(plots.image_grid(images, titles, "Confidently wrong"), "confidently wrong"))

    sections.append("<h2>Configuration</h2>" + _table(sorted(config.items()), header=("setting", "value")))
    sections.append("<h2>Summary</h2><pre>" + html.escape(json.dumps(summary, indent=2)) + "</pre>")
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>nnscratch report: "
            f"{html.escape(run_dir.name)}</title><style>{STYLE}</style></head><body>"
            + "\n".join(sections) + "</body></html>")
    path = run_dir / "report.html"
    write_bytes_atomic(path, page.encode())
    return path

"""Assembling report.html from a run folder: every figure embedded, nothing fetched.

`write_report(run)` reads the folder (`read_run`), builds one section per question a reader asks
(how did training go, how good is it per class, what is the model, what does it look for, where is
it wrong, how was it configured) and writes the page atomically. The run's *source* files
(config.json, model.npz) must be readable; a missing or damaged *derived* file (metrics.jsonl,
summary.json, evaluation.npz) only skips the sections built from it, with a one-line warning.
"""

from __future__ import annotations

import base64
import html
import json
import numbers
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..atomic import write_bytes_atomic
from . import plots
from .classification import classification_report, report_rows
from .model_summary import input_features, model_summary

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }
h1 { margin-bottom: 0.2rem; } .sub { color: #666; margin-top: 0; }
.figures { display: flex; flex-wrap: wrap; gap: 1rem; }
.figures figure { margin: 0; } img { max-width: 100%; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; } td, th { padding: 0.25rem 0.8rem; border-bottom: 1px solid #ddd; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.big { font-size: 2rem; font-weight: 600; } .skipped { color: #9a6700; }
"""
EVALUATION_KEYS = ("probabilities", "labels", "confusion_matrix", "wrong_index", "wrong_images")
OPTIONAL_EVALUATION_KEYS = ("example_image",)  # the first test image, as loaded (runs from before it lack it)


def _warn_on_stderr(message):
    print(f"warning: {message}", file=sys.stderr)


@dataclass
class RunFiles:
    """What a report is made of: the source files (always there) and the derived ones (None when unusable)."""

    folder: Path
    config: dict
    model: object
    summary: dict | None = None
    epochs: list | None = None
    steps: list | None = None
    evaluation: dict | None = None
    warnings: list = field(default_factory=list)

    @property
    def classes(self):
        return list(self.model.meta["classes"])


# ----- reading the run folder ------------------------------------------------------------------------
def read_run(run_dir, warn=_warn_on_stderr):
    """Read a run folder for the report. Raises FileNotFoundError / ValueError, each one sentence naming
    the folder or file, when it is not a run or a source file is missing or damaged; calls `warn` once
    per derived file that is missing or damaged (its sections are then skipped)."""
    folder = Path(run_dir)
    if not folder.exists():
        raise FileNotFoundError(f"{folder} does not exist; give the folder a training run wrote "
                                f"(`nnscratch train --out FOLDER`)")
    if not folder.is_dir():
        raise ValueError(f"{folder} is a file, not a run folder; give the folder `nnscratch train --out` wrote")
    if not (folder / "config.json").is_file() and not (folder / "model.npz").is_file():
        raise ValueError(f"{folder} is not a run folder: it has neither config.json nor model.npz "
                         f"(a run folder is what `nnscratch train --out FOLDER` writes)")
    model = _read_model(folder)
    run = RunFiles(folder, _read_config(folder, model, warn), model)

    def skip(message):
        run.warnings.append(message)
        warn(message)

    run.summary = _read_derived(folder / "summary.json", _read_summary, skip)
    metrics = _read_derived(folder / "metrics.jsonl", lambda p: _read_metrics(p, skip), skip)
    if metrics is not None:
        run.epochs, run.steps = metrics
    run.evaluation = _read_derived(folder / "evaluation.npz", lambda p: _read_evaluation(p, len(run.classes)), skip)
    return run


def _read_model(folder):
    from ..serialize import load

    path = folder / "model.npz"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: the run has not finished; finish it with "
                                f"`nnscratch train --out {folder} --resume`")
    try:
        return load(path)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as error:
        raise ValueError(f"{path} cannot be read as a model ({error}); restore it or train the run again") from None


def _read_config(folder, model, warn):
    path = folder / "config.json"
    if not path.is_file():
        warn(f"{path} is missing; the report uses the configuration saved inside model.npz")
        return dict(model.meta.get("config", {}))
    try:
        config = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path} is damaged (not valid JSON: {error}); restore it, or delete it to let the "
                         f"report use the copy inside model.npz") from None
    if not isinstance(config, dict):
        raise ValueError(f"{path} is damaged (a JSON object of settings was expected); restore it")
    return config


def _read_derived(path, reader, skip):
    """reader(path), or None after one warning when the derived file is missing or damaged."""
    if not path.is_file():
        skip(f"{path.name} is missing in {path.parent}; the sections built from it are skipped")
        return None
    try:
        return reader(path)
    except (OSError, KeyError, ValueError, TypeError, zipfile.BadZipFile) as error:
        skip(f"{path.name} in {path.parent} is damaged ({error}); the sections built from it are skipped")
        return None


EPOCH_FIELDS = ("train_loss", "val_loss", "train_accuracy", "val_accuracy")


def _is_number(value, none_ok=False):
    return (value is None and none_ok) or (isinstance(value, numbers.Real) and not isinstance(value, bool))


def _sound_record(record):
    """A metrics record the plots can draw: an epoch's numbers, or a step with its number and rate."""
    if not isinstance(record, dict):
        return False
    if record.get("type") == "epoch":
        return all(_is_number(record.get(k), none_ok=True) for k in EPOCH_FIELDS)
    return record.get("type") == "step" and _is_number(record.get("step")) and _is_number(record.get("lr"))


def _read_metrics(path, skip):
    """(epoch records, step records) of metrics.jsonl. A damaged line after good ones ends the log there,
    with a warning (a run killed mid-write leaves half a line); a log with no good line is damaged."""
    epochs, steps = [], []
    for number, line in enumerate(path.read_bytes().decode("utf-8", errors="replace").splitlines(), start=1):
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if not _sound_record(record):
            if not epochs and not steps:
                raise ValueError(f"line {number} is not a metrics record")
            skip(f"{path.name} line {number} is damaged; the curves stop at the line before it")
            break
        (epochs if record["type"] == "epoch" else steps).append(record)
    if not epochs and not steps:
        raise ValueError("it holds no metrics")
    return epochs, steps


def _read_summary(path):
    """summary.json's numbers; ValueError naming what is missing or not a number."""
    summary = json.loads(path.read_bytes())
    if not isinstance(summary, dict):
        raise ValueError("not a JSON object")
    bad = [k for k in ("test_accuracy", "test_loss", "epochs_run") if not _is_number(summary.get(k))]
    timings = summary.get("timings")
    if not isinstance(timings, dict) or not _is_number(timings.get("train_seconds")):
        bad.append("timings.train_seconds")
    if bad:
        raise ValueError(f"{', '.join(bad)} missing or not numbers")
    return summary


def _read_evaluation(path, n_classes):
    """evaluation.npz's arrays, checked against each other and the model's classes; ValueError otherwise."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [key for key in EVALUATION_KEYS if key not in archive.files]
            if missing:
                raise ValueError(f"it lacks the array(s) {', '.join(missing)}")
            optional = [key for key in OPTIONAL_EVALUATION_KEYS if key in archive.files]
            evaluation = {key: archive[key] for key in EVALUATION_KEYS + tuple(optional)}
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        if "pickle" in str(error) or isinstance(error, (OSError, zipfile.BadZipFile)):
            raise ValueError("not an .npz archive of plain arrays") from None  # never NumPy's allow_pickle hint
        raise
    confusion, wrong = evaluation["confusion_matrix"], evaluation["wrong_index"]
    probabilities, labels = evaluation["probabilities"], evaluation["labels"]
    if (confusion.shape != (n_classes, n_classes) or wrong.ndim != 1 or wrong.dtype.kind not in "iu"
            or probabilities.ndim != 2 or probabilities.shape[1] != n_classes or labels.dtype.kind not in "iu"
            or labels.shape != probabilities.shape[:1]
            or (len(wrong) and not (0 <= wrong.min() and wrong.max() < len(labels)))
            or (len(labels) and not (0 <= labels.min() and labels.max() < n_classes))):
        raise ValueError("its arrays do not fit together or do not match the model's classes")
    return evaluation


# ----- the sections ----------------------------------------------------------------------------------
def _img(png_bytes, alt):
    data = base64.b64encode(png_bytes).decode()
    return f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}"></figure>'


def _table(rows, header=None, numeric_from=None):
    def cell(i, c):
        klass = ' class="num"' if numeric_from is not None and i >= numeric_from else ""
        return f"<td{klass}>{html.escape(str(c))}</td>"

    head = "<tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in header) + "</tr>" if header else ""
    body = "".join("<tr>" + "".join(cell(i, c) for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table>{head}{body}</table>"


def _section(key, heading, body):
    return f'<section id="{key}"><h2>{html.escape(heading)}</h2>{body}</section>'


def _skipped(what, filename):
    return f'<p class="skipped">Skipped: {html.escape(filename)} is missing or damaged, so {what} cannot be shown.</p>'


def header_section(run):
    config, summary = run.config, run.summary
    lines = [f"<h1>nnscratch run: {html.escape(run.folder.name)}</h1>",
             f'<p class="sub">{html.escape(str(config.get("model", "?")))} on '
             f'{html.escape(str(config.get("dataset", "?")))}'
             + (f', {summary["epochs_run"]} epochs' if summary else "") + "</p>"]
    if summary:
        lines.append(f'<p>Test accuracy <span class="big">{summary["test_accuracy"]:.4f}</span> &nbsp; test loss '
                     f'{summary["test_loss"]:.4f} &nbsp; training time {summary["timings"]["train_seconds"]:.1f} s</p>')
    else:
        lines.append(_skipped("the headline numbers", "summary.json"))
    return "\n".join(lines)


def best_epoch(run):
    """The epoch whose weights the run kept (early stopping), else the lowest validation loss; None without validation."""
    if run.summary and run.summary.get("best_epoch"):
        return int(run.summary["best_epoch"])
    losses = [e.get("val_loss") for e in run.epochs or []]
    if losses and all(v is not None for v in losses):
        return int(np.argmin(losses)) + 1
    return None


def training_section(run):
    if run.epochs is None:
        return _section("training", "Training", _skipped("the training curves", "metrics.jsonl"))
    series = {k: [e.get(k) for e in run.epochs] for k in ("train_loss", "val_loss", "train_accuracy", "val_accuracy")}
    best = best_epoch(run)
    figures = []
    if run.steps:
        figures.append(_img(plots.step_losses([s["step"] for s in run.steps],
                                              [s.get("batch_loss", s["loss"]) for s in run.steps]), "loss per step"))
    figures += [_img(plots.curves({"train": series["train_loss"], "validation": series["val_loss"]},
                                  "Loss per epoch", "loss (cross-entropy)", best), "loss curves"),
                _img(plots.curves({"train": series["train_accuracy"], "validation": series["val_accuracy"]},
                                  "Accuracy per epoch", "accuracy (share of images)", best), "accuracy curves")]
    if run.steps:
        figures.append(_img(plots.learning_rate([s["step"] for s in run.steps], [s["lr"] for s in run.steps]),
                            "learning rate"))
    note = f"<p>Best epoch: {best} (marked by the dotted green line).</p>" if best else ""
    return _section("training", "Training", note + '<div class="figures">' + "".join(figures) + "</div>")


def results_section(run):
    if run.evaluation is None:
        return _section("test-results", "Test results", _skipped("the test results", "evaluation.npz"))
    matrix, classes = run.evaluation["confusion_matrix"], run.classes
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.diag(matrix) / matrix.sum(axis=1)
    report = classification_report(matrix, classes)
    table = _table(report_rows(report, classes), header=("class", "precision", "recall", "F1", "support"),
                   numeric_from=1)
    return _section("test-results", "Test results",
                    '<div class="figures">' + _img(plots.confusion(matrix, classes), "confusion matrix")
                    + _img(plots.per_class(np.nan_to_num(per_class), classes), "per-class accuracy") + "</div>"
                    + f"<h3>Precision, recall and F1 per class</h3><p>Accuracy {report['accuracy']:.4f} on "
                    f"{report['macro avg']['support']} test images.</p>" + table)


def model_section(run):
    rows, total = model_summary(run.model, example_input(run))
    return _section("model", "Model", _table(rows + [("total", "", total)], header=("layer", "output shape", "parameters"),
                                             numeric_from=2))


def example_input(run):
    """One input batch (1, ...) the model takes: the first test image through the saved preprocessing
    (evaluation.npz keeps it), else zeros as wide as the first weight layer reads."""
    if run.evaluation is not None and "example_image" in run.evaluation:
        image = run.evaluation["example_image"]
        return run.model.preprocess.transform(image) if run.model.preprocess is not None else image
    return np.zeros((1, input_features(run.model)), dtype=np.float32)


def graph_section(run):
    """THE PLACE FOR THE MODEL'S COMPUTATIONAL GRAPH: `nnscratch.viz.model_graph_html(model, sample)`
    (the viz package) draws it; until that package is installed the section is left out."""
    try:
        from ..viz import model_graph_html
    except ImportError:
        return "<!-- computational graph: nnscratch.viz.model_graph_html(model, sample) goes here -->"
    return _section("graph", "Computational graph", model_graph_html(run.model, example_input(run)))


def templates_section(run):
    sample_shape = tuple(run.model.meta["sample_shape"])
    first = next((m for m in run.model.modules() if getattr(m, "weight", None) is not None and m.weight.ndim == 2), None)
    if first is not None and first.weight.shape[0] == int(np.prod(sample_shape)) and len(sample_shape) >= 2:
        body = _img(plots.templates(first.weight.data, sample_shape, run.classes), "templates")
    else:
        body = ("<p>Not drawn: the first layer does not read raw pixels (its inputs are features or PCA "
                "components).</p>")
    return _section("templates", "What the first layer looks for", body)


def wrong_section(run):
    if run.evaluation is None:
        return _section("wrong", "Most confidently wrong test images", _skipped("the wrong images", "evaluation.npz"))
    evaluation, classes = run.evaluation, run.classes
    wrong, probabilities, labels = evaluation["wrong_index"], evaluation["probabilities"], evaluation["labels"]
    images = evaluation["wrong_images"]
    if not len(wrong):
        return _section("wrong", "Most confidently wrong test images", "<p>No test image was misclassified.</p>")
    if images.ndim not in (3, 4):
        return _section("wrong", "Most confidently wrong test images", "<p>Not drawn: the inputs are not images.</p>")
    titles = [f"true: {classes[labels[i]]}\npred: {classes[probabilities[i].argmax()]}\n"
              f"p(pred) = {probabilities[i].max():.3f}\np(true) = {probabilities[i][labels[i]]:.3f}" for i in wrong]
    return _section("wrong", "Most confidently wrong test images", _img(plots.image_grid(images, titles), "confidently wrong"))


def convolution_section(run):
    """For a CNN: the first conv layer's filters, and the maps its block (conv, BN, activation) makes of
    the first test image. Empty for a model without convolutions."""
    from .. import nn, no_grad

    layers = list(getattr(run.model, "layers", ()))
    first = next((i for i, m in enumerate(layers) if isinstance(m, (nn.Conv2d, nn.Conv1d))), None)
    if first is None:
        return ""
    figures = [_img(plots.conv_filters(layers[first].weight.data), "first-layer filters")]
    if run.evaluation is not None and "example_image" in run.evaluation:
        x = example_input(run)
        run.model.eval()
        with no_grad():
            for i, layer in enumerate(layers):  # up to the first block's pooling: conv, BN, activation
                if i > first and isinstance(layer, (nn.MaxPool2d, nn.AvgPool2d, nn.MaxPool1d)):
                    break
                x = layer(x)
        figures.append(_img(plots.feature_maps(run.evaluation["example_image"][0], x.numpy()[0]),
                            "feature maps of a test image"))
    return _section("convolutions", "What the convolutions see", '<div class="figures">' + "".join(figures) + "</div>")


def configuration_section(run):
    body = _table(sorted(run.config.items()), header=("setting", "value"))
    if run.summary:
        body += "<h3>Summary</h3><pre>" + html.escape(json.dumps(run.summary, indent=2)) + "</pre>"
    return _section("configuration", "Configuration", body)


SECTIONS = (header_section, training_section, results_section, model_section, graph_section, templates_section,
            convolution_section, wrong_section, configuration_section)


def render_page(run, sections):
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>nnscratch report: "
            f"{html.escape(run.folder.name)}</title><style>{STYLE}</style></head><body>"
            + "\n".join(sections) + "</body></html>")


def write_report(run_dir, *, warn=_warn_on_stderr):
    """Write RUN/report.html from the run folder's files; returns its path.

    Raises FileNotFoundError / ValueError (one sentence naming the folder or file) when `run_dir` is
    not a run folder or its config.json / model.npz is missing or damaged. A missing or damaged
    metrics.jsonl, summary.json or evaluation.npz skips its sections and calls `warn(message)` once
    (default: one "warning: ..." line on stderr).
    """
    run = read_run(run_dir, warn)
    path = run.folder / "report.html"
    write_bytes_atomic(path, render_page(run, [section(run) for section in SECTIONS]).encode())
    return path

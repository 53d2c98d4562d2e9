"""A run folder written by `fit(out_dir=..., test=...)` is a complete run: `nnscratch report`,
`evaluate` and `graph` accept it, and nnscratch.report.write_report writes its report."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from nnscratch import data, nn, optim
from nnscratch.cli import main
from nnscratch.report import write_report
from nnscratch.train import evaluate, fit
from test_cli import fake_fashion, fashion_env  # noqa: F401  (fixtures: a tiny Fashion-MNIST look-alike)


def _model():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 16, rng=0), nn.ReLU(), nn.Linear(16, 10, rng=1))


@pytest.fixture
def fitted(fashion_env, tmp_path):
    X, y = data.load("fashion-mnist", "train", download=False)
    Xt, yt = data.load("fashion-mnist", "test", download=False)
    X, Xt = X.astype(np.float32), Xt.astype(np.float32)  # unscaled: what `evaluate` and `graph` feed it
    model, run = _model(), tmp_path / "fit-run"
    fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=1e-4, momentum=0.9), train=(X, y), val=0.2,
        epochs=2, batch_size=64, rng=0, out_dir=run, progress=False, test=(Xt, yt),
        classes=data.info("fashion-mnist").classes, dataset="fashion-mnist")
    return model, run, (Xt, yt)


def test_fit_with_test_data_leaves_every_file_the_report_needs_with_the_test_figures(fitted):
    model, run, (Xt, yt) = fitted
    assert {"config.json", "model.npz", "summary.json", "evaluation.npz", "checkpoint.npz",
            "metrics.jsonl"} <= {p.name for p in run.iterdir()}
    summary = json.loads((run / "summary.json").read_text())
    expected = evaluate(model, Xt, yt)
    assert summary["test_accuracy"] == pytest.approx(expected.accuracy)
    assert summary["test_loss"] == pytest.approx(expected.loss, rel=1e-6)
    assert summary["epochs_run"] == 2 and summary["parameters"] == 784 * 16 + 16 + 16 * 10 + 10
    assert list(summary["per_class_accuracy"]) == list(data.info("fashion-mnist").classes)
    config = json.loads((run / "config.json").read_text())
    assert config["dataset"] == "fashion-mnist" and config["epochs"] == 2 and config["batch_size"] == 64
    assert np.array_equal(np.load(run / "evaluation.npz")["labels"], yt)


def test_nnscratch_report_and_write_report_work_on_a_fit_folder(fitted, capsys):
    _, run, _ = fitted
    assert main(["report", str(run)]) in (0, None)
    page = (run / "report.html").read_text()
    summary = json.loads((run / "summary.json").read_text())
    assert f"{summary['test_accuracy']:.4f}" in page
    (run / "report.html").unlink()
    assert write_report(run) == run / "report.html" and (run / "report.html").is_file()


def test_nnscratch_evaluate_on_a_fit_folder_gives_the_summarys_test_accuracy(fitted, capsys):
    _, run, _ = fitted
    assert main(["evaluate", str(run), "--offline"]) in (0, None)
    printed = float(re.search(r"accuracy (\d\.\d{4})", capsys.readouterr().out)[1])
    assert printed == pytest.approx(json.loads((run / "summary.json").read_text())["test_accuracy"], abs=5e-5)


def test_nnscratch_graph_draws_a_fit_folders_model(fitted, tmp_path, capsys):
    _, run, _ = fitted
    out = tmp_path / "model.svg"
    assert main(["graph", str(run), "--out", str(out), "--offline"]) in (0, None)
    assert out.read_text().lstrip().startswith("<svg") or "<svg" in out.read_text()


def test_fit_without_test_data_keeps_only_what_training_needs(tmp_path):
    X, y = data.toy.xor(64, rng=0)
    model = nn.Linear(2, 2, rng=0)
    fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), train=(X, y), epochs=1,
        out_dir=tmp_path / "r", progress=False)
    assert {p.name for p in (tmp_path / "r").iterdir()} == {"checkpoint.npz", "metrics.jsonl"}


def test_bad_test_data_is_refused_before_training_naming_the_split(tmp_path):
    X, y = data.toy.xor(64, rng=0)
    model = nn.Linear(2, 2, rng=0)
    with pytest.raises(ValueError, match="test"):
        fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), train=(X, y), epochs=1,
            out_dir=tmp_path / "r", progress=False, test=(X[:10], y[:9]))
    assert not (tmp_path / "r" / "checkpoint.npz").exists()


def test_a_model_that_cannot_be_saved_still_gets_summary_and_evaluation_with_a_warning(tmp_path):
    class Custom(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(2, 2, rng=0)

        def forward(self, x):
            return self.layer(x)

    X, y = data.toy.xor(64, rng=0)
    model = Custom()
    with pytest.warns(RuntimeWarning, match="no model.npz"):
        fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), train=(X, y), epochs=1,
            out_dir=tmp_path / "r", progress=False, test=(X, y))
    names = {p.name for p in (tmp_path / "r").iterdir()}
    assert "model.npz" not in names and {"summary.json", "evaluation.npz", "config.json"} <= names

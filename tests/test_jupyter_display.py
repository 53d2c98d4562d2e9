"""Jupyter displays: the HTML of Module, Tensor and History parses and holds the right numbers;
History.plot draws the recorded curves; fit in a real kernel without ipywidgets prints text progress
and no TqdmWarning."""

from __future__ import annotations

import sys
from html.parser import HTMLParser

import numpy as np
import pytest

import nnscratch as ns
from nnscratch import nn
from nnscratch.train import History


class _Cells(HTMLParser):
    """Rows of the first table (lists of cell texts), its caption and the data-testid, checking nesting."""

    def __init__(self):
        super().__init__()
        self.rows, self.caption, self.testid, self.stack, self._text = [], "", None, [], None

    def handle_starttag(self, tag, attrs):
        self.stack.append(tag)
        if tag == "table":
            self.testid = dict(attrs).get("data-testid")
        elif tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th", "caption"):
            self._text = ""

    def handle_endtag(self, tag):
        assert self.stack and self.stack.pop() == tag, f"</{tag}> does not close the open tag"
        if tag in ("td", "th"):
            self.rows[-1].append(self._text)
        elif tag == "caption":
            self.caption = self._text
        self._text = None if tag in ("td", "th", "caption") else self._text

    def handle_data(self, data):
        if self._text is not None:
            self._text += data


def parse(markup):
    parser = _Cells()
    parser.feed(markup)
    parser.close()
    assert not parser.stack, f"unclosed tags: {parser.stack}"
    return parser


def test_module_html_is_a_keras_style_summary_with_each_layers_shape_and_parameter_count():
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 32, rng=0), nn.ReLU(), nn.Linear(32, 10, rng=1))
    table = parse(model._repr_html_())
    assert table.testid == "module-summary" and table.caption == "Sequential"
    assert table.rows[0] == ["layer", "output shape", "parameters"]
    assert table.rows[1:] == [["0 (Flatten)", "?", "0"], ["1 (Linear)", "(N, 32)", "25,120"],
                              ["2 (ReLU)", "(N, 32)", "0"], ["3 (Linear)", "(N, 10)", "330"],
                              ["Total", "", "25,450"]]


def test_module_html_counts_a_shared_parameter_once_in_the_total_and_names_nested_layers():
    shared = nn.Linear(4, 4, rng=0)

    class Twice(nn.Module):
        def __init__(self):
            self.first, self.second, self.head = shared, shared, nn.Sequential(nn.Tanh(), nn.Linear(4, 3, rng=1))

        def forward(self, x):
            return self.head(self.second(self.first(x)))

    rows = parse(Twice()._repr_html_()).rows
    assert [r[0] for r in rows[1:-1]] == ["first (Linear)", "second (Linear)", "head.0 (Tanh)", "head.1 (Linear)"]
    assert rows[3][1] == "(N, 4)" and rows[4][1] == "(N, 3)"
    assert rows[-1] == ["Total", "", f"{4 * 4 + 4 + 4 * 3 + 3}"]


def test_tensor_html_shows_shape_dtype_values_and_the_gradient():
    x = ns.Tensor([1.0, -2.0, 3.0], requires_grad=True, name="x")
    (x * x).sum().backward()
    rows = dict(parse(x._repr_html_()).rows[1:])
    assert rows["name"] == "x" and rows["shape"] == "(3,)" and rows["dtype"] == "float32"
    assert rows["requires_grad"] == "True"
    assert np.array_equal(np.array(eval(rows["values"])), [1.0, -2.0, 3.0])
    assert np.array_equal(np.array(eval(rows["grad"])), [2.0, -4.0, 6.0])


def test_large_tensor_html_shows_statistics_equal_to_numpys_and_no_grad():
    data = np.random.default_rng(0).standard_normal((50, 40))
    rows = dict(parse(ns.Tensor(data, dtype=np.float64)._repr_html_()).rows[1:])
    assert rows["shape"] == "(50, 40)" and rows["dtype"] == "float64" and rows["grad"] == "None"
    for key, value in (("mean", data.mean()), ("std", data.std()), ("min", data.min()), ("max", data.max())):
        assert float(rows[f"values {key}"]) == pytest.approx(value, rel=1e-5)
    assert "values" not in rows


def _history():
    h = History()
    for e, (tl, ta, vl, va) in enumerate([(1.2, 0.5, 1.0, 0.6), (0.8, 0.7, 0.9, 0.65), (0.6, 0.8, 0.95, 0.64)], 1):
        for key, value in zip(("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "seconds"),
                              (e, tl, ta, vl, va, 0.05, 1.0)):
            getattr(h, key).append(value)
    h.best_epoch = 2
    return h


def test_history_html_holds_every_epochs_numbers_and_the_best_epoch():
    table = parse(_history()._repr_html_())
    assert table.testid == "history" and "3 epochs, best epoch 2" in table.caption
    assert table.rows[0] == ["epoch", "train loss", "train acc", "val loss", "val acc", "lr"]
    assert table.rows[2] == ["2", "0.8000", "0.7000", "0.9000", "0.6500", "0.05"]


def test_history_html_of_a_run_without_validation_leaves_those_cells_empty():
    h = History(epoch=[1], train_loss=[0.25], train_accuracy=[0.9], val_loss=[None], val_accuracy=[None], lr=[0.1],
                seconds=[0.1])
    assert parse(h._repr_html_()).rows[1] == ["1", "0.2500", "0.9000", "", "", "0.1"]


def test_history_plot_draws_the_loss_and_accuracy_curves_it_recorded():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = _history().plot()
    loss_ax, acc_ax = fig.axes
    assert [l.get_label() for l in loss_ax.get_lines()] == ["train", "validation"]
    assert list(loss_ax.get_lines()[1].get_ydata()) == [1.0, 0.9, 0.95]
    assert list(acc_ax.get_lines()[0].get_ydata()) == [0.5, 0.7, 0.8]
    assert list(acc_ax.get_lines()[0].get_xdata()) == [1, 2, 3]
    plt.close(fig)


def test_progress_bar_is_plain_tqdm_without_ipywidgets(monkeypatch):
    import tqdm
    from nnscratch import progress

    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import ipywidgets now raises ImportError
    assert progress.tqdm_class() is tqdm.tqdm


def test_progress_bar_is_the_notebook_widget_when_ipywidgets_is_importable(monkeypatch):
    import types

    import tqdm.auto
    from nnscratch import progress

    monkeypatch.setitem(sys.modules, "ipywidgets", types.ModuleType("ipywidgets"))
    assert progress.tqdm_class() is tqdm.auto.tqdm


def test_fit_in_a_real_kernel_without_ipywidgets_prints_text_progress_and_no_warning():
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("nbclient")
    import importlib.util
    from pathlib import Path

    if importlib.util.find_spec("ipywidgets") is not None:
        pytest.skip("ipywidgets is installed here; this test is about a kernel without it")
    spec = importlib.util.spec_from_file_location("nb_build", Path(__file__).resolve().parent.parent / "notebooks/build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    code = ("import warnings, numpy as np\nwarnings.simplefilter('always')\n"
            "from nnscratch import nn, optim\nfrom nnscratch.train import fit\n"
            "X = np.random.default_rng(0).standard_normal((64, 3)).astype(np.float32)\ny = (X[:, 0] > 0).astype(np.int64)\n"
            "m = nn.Linear(3, 2, rng=0)\n"
            "h = fit(m, nn.CrossEntropyLoss(), optim.SGD(m.parameters(), lr=0.1), train=(X, y), epochs=2, batch_size=16)\n"
            "print('epochs run', len(h))")
    nb = build.execute(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)]))
    outputs = nb.cells[0].outputs
    stderr = "".join(o.get("text", "") for o in outputs if o.get("name") == "stderr")
    stdout = "".join(o.get("text", "") for o in outputs if o.get("name") == "stdout")
    assert "epoch 1/2" in stderr and "epoch 2/2" in stderr and "4/4" in stderr
    assert "TqdmWarning" not in stderr + stdout and "IProgress" not in stderr + stdout
    assert not [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert "epochs run 2" in stdout

"""`nnscratch graph` and the lab's `backprop` experiment."""

import json
import xml.etree.ElementTree as ET

import pytest

import nnscratch as ns
from nnscratch import lab, nn
from nnscratch.cli import main
from nnscratch.viz.examples import EXAMPLES

from test_cli import fake_fashion, fashion_env  # noqa: F401  (a small Fashion-MNIST look-alike)


def test_graph_has_help():
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "nnscratch", "graph", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("usage: nnscratch graph")
    assert "--sample" in result.stdout and "--list" in result.stdout


def test_graph_list_names_every_example(capsys):
    assert main(["graph", "--list"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == list(EXAMPLES)


def test_graph_example_writes_a_step_through_page_or_an_svg(tmp_path, capsys):
    out = tmp_path / "add-mul.html"
    assert main(["graph", "add-mul", "--out", str(out)]) == 0
    page = out.read_text()
    assert 'data-testid="step-slider"' in page and "df/dx = df/dq · dq/dx = -4 · 1 = -4" in page
    assert f"graph: {out}" in capsys.readouterr().out
    svg = tmp_path / "neuron.svg"
    assert main(["graph", "sigmoid-neuron", "--out", str(svg)]) == 0
    grads = [t.text for t in ET.parse(svg).iter("{http://www.w3.org/2000/svg}text") if t.get("class") == "grad"]
    assert "grad -0.3932" in grads and "grad -0.5898" in grads  # dw1 and dx1 of the lecture


def test_graph_of_a_saved_model_on_one_test_sample(fashion_env, tmp_path):  # noqa: F811
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 16, rng=0), nn.ReLU(), nn.Linear(16, 10, rng=1))
    ns.save(model, tmp_path / "model.npz", meta={"dataset": "fashion-mnist"})
    out = tmp_path / "graph.html"
    assert main(["graph", str(tmp_path / "model.npz"), "--sample", "3", "--out", str(out), "--offline"]) == 0
    page = out.read_text()
    assert page.count('data-testid="module-node"') >= 5 and "CrossEntropyLoss" in page
    assert 'data-initial-view="collapsed"' in page


@pytest.mark.parametrize("argv, message", [
    (["graph"], "name an example"),
    (["graph", "no-such-thing"], "neither a built-in example (add-mul"),
])
def test_graph_errors_say_what_to_do(argv, message, capsys):
    assert main(argv) == 1
    assert message in capsys.readouterr().err


def test_graph_sample_out_of_range_names_the_range(fashion_env, tmp_path, capsys):  # noqa: F811
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10, rng=0))
    ns.save(model, tmp_path / "m.npz", meta={"dataset": "fashion-mnist"})
    assert main(["graph", str(tmp_path / "m.npz"), "--sample", "5000", "--offline"]) == 1
    assert "--sample 5000 is out of range" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["graph", "add-mul", "--sample", "-1"])
    assert "--sample must be >= 0" in capsys.readouterr().err


def test_lab_backprop_checks_the_engine_against_the_hand_derived_numbers(tmp_path):
    result = lab.run("backprop", quick=True, out=tmp_path)
    assert result["verdict"] == "supported", result["reason"]
    assert "dw = [-0.20, -0.39, 0.20], dx = [0.39, -0.59]" in result["reason"]
    saved = json.loads((tmp_path / "backprop" / "result.json").read_text())
    assert saved["measured"]["add-mul"]["engine"] == {"output": -12.0, "x": -4.0, "y": -4.0, "z": 3.0}
    for name in EXAMPLES:
        ET.parse(tmp_path / "backprop" / f"{name}.svg")
        assert (tmp_path / "backprop" / f"{name}.html").stat().st_size > 1000


def test_lab_backprop_verdict_follows_the_numbers(tmp_path, monkeypatch):
    broken = dict(EXAMPLES["fan-out"].expected, x=-4.0)  # as if the copy's gradients were not summed
    monkeypatch.setattr(EXAMPLES["fan-out"], "expected", broken)
    result = lab.run("backprop", quick=True, out=tmp_path)
    # one part per example: the fan-out part fails, the others hold, so the claim is "mixed"
    assert result["verdict"] == "mixed"
    held = {part["claim"]: part["holds"] for part in result["parts"]}
    assert held.pop("the engine's gradients on fan-out equal the hand-derived ones") is False
    assert all(held.values()) and "where the lecture derives" in result["reason"]


@pytest.mark.parametrize("out", ["graph.png", "notes.txt", "."])
def test_graph_out_that_is_not_svg_or_html_is_refused_in_cli_terms(out, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["graph", "add-mul", "--out", out]) == 1
    err = capsys.readouterr().err
    assert f"--out {out} is not an .svg or .html file name" in err and "Graph.save" not in err
    assert list(tmp_path.iterdir()) == []

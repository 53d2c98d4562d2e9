"""The lecture's notebooks run top to bottom, in a real kernel, and their committed outputs are not stale.

Every notebooks/NN_*.ipynb is executed once per session (NNSCRATCH_QUICK=1, so all of them fit the CI
budget); each test then reads that result. A notebook's key numbers are its `RESULT name=value`
lines, printed by cells whose output does not depend on quick mode; the committed outputs must hold
the same lines as the fresh run (re-run `python notebooks/build.py` after changing a notebook).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")
pytest.importorskip("jupytext")
pytest.importorskip("ipykernel")

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
EXPECTED = ["01_linear_classifiers", "02_image_features", "03_perceptron_to_mlp", "04_activations",
            "05_backprop_graph", "06_weight_init", "07_learning_rates", "08_preprocessing_augmentation",
            "09_space_warping", "10_fashion_mnist_end_to_end", "11_convolutional_networks"]
FASHION = Path("/usr/share/datasets/fashion-mnist")


def _build():
    spec = importlib.util.spec_from_file_location("notebooks_build", NOTEBOOKS / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _build()


def _committed(name):
    return nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)


@pytest.fixture(scope="module")
def executed():
    """{name: the committed notebook executed afresh in quick mode} (or the exception it raised)."""
    import os

    if not FASHION.is_dir() and not os.environ.get("NNSCRATCH_DATA"):
        pytest.skip("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
    runs = {}
    for name in EXPECTED:
        nb = _committed(name)
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        try:
            runs[name] = build.execute(nb, quick=True)
        except Exception as error:  # reported by the test of that notebook, with the cell that failed
            runs[name] = error
    return runs


def test_the_notebooks_are_there_in_the_lectures_order_each_paired_with_its_script():
    assert [p.stem for p in build.scripts()] == EXPECTED
    for name in EXPECTED:
        script = build.read_script(NOTEBOOKS / f"{name}.py")
        committed = _committed(name)
        code = lambda nb: [(c.cell_type, c.source.strip()) for c in nb.cells]
        assert code(committed) == code(script), f"{name}.ipynb differs from {name}.py: run notebooks/build.py {name[:2]}"


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_opens_with_what_it_shows_and_ends_with_exercises(name):
    cells = _committed(name).cells
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith(f"# {name[:2]} ·")
    assert cells[-1].cell_type == "markdown" and "## Exercises" in cells[-1].source
    assert cells[-1].source.count("\n1. ") == 1 and "\n3. " in cells[-1].source


@pytest.mark.parametrize("name", EXPECTED)
def test_committed_notebook_was_executed_top_to_bottom_without_errors(name):
    code = [c for c in _committed(name).cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_executes_top_to_bottom_in_a_kernel(executed, name):
    result = executed[name]
    if isinstance(result, Exception):
        pytest.fail(f"{name}.ipynb failed:\n{result}")
    assert all(c.execution_count for c in result.cells if c.cell_type == "code")


@pytest.mark.parametrize("name", EXPECTED)
def test_committed_outputs_are_not_stale_in_their_key_numbers(executed, name):
    if isinstance(executed[name], Exception):
        pytest.skip("the notebook failed to execute (its own test reports why)")
    committed, fresh = build.results(_committed(name)), build.results(executed[name])
    assert committed, f"{name} prints no RESULT lines"
    assert fresh == committed, f"{name}.ipynb's committed outputs are stale: re-run notebooks/build.py {name[:2]}"


def test_results_reads_result_lines_from_stdout_only():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x")])
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="RESULT a=1.50\nother\n"),
                           nbformat.v4.new_output("stream", name="stderr", text="RESULT b=2\n"),
                           nbformat.v4.new_output("stream", name="stdout", text="RESULT c=True\n")]
    assert build.results(nb) == {"a": "1.50", "c": "True"}


def test_notebooks_are_committed_without_local_paths_or_huge_outputs():
    for name in EXPECTED:
        text = (NOTEBOOKS / f"{name}.ipynb").read_text()
        assert "/work/" not in text, f"{name}.ipynb holds a local path"
        assert len(text) < 2_000_000, f"{name}.ipynb is {len(text)} bytes"
        json.loads(text)

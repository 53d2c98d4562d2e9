"""Pair and execute the notebooks: each notebooks/NN_*.py (a Jupytext percent script, the reviewable
form) becomes NN_*.ipynb, executed top to bottom in a fresh kernel with its outputs saved.

    python notebooks/build.py            # every notebook, quick mode (NNSCRATCH_QUICK=1)
    python notebooks/build.py --full 03  # one notebook, full size

Needs the `notebooks` extra (jupytext, nbclient, ipykernel). tests/test_notebooks.py uses the same
functions to check that the committed notebooks run and that their RESULT lines are not stale.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
RESULT = re.compile(r"^RESULT (\w+)=(.*)$", re.M)
CELL_TIMEOUT = 600


def scripts(names=()):
    """The notebooks' percent scripts (NN_*.py), all or those whose file names start with one of `names`."""
    found = sorted(HERE.glob("[0-9][0-9]_*.py"))
    return [p for p in found if not names or any(p.name.startswith(n) for n in names)]


def read_script(path):
    """The notebook (an nbformat NotebookNode, no outputs) that the percent script at `path` describes."""
    import jupytext

    nb = jupytext.read(path)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["jupytext"] = {"formats": "ipynb,py:percent"}
    return nb


def execute(nb, quick=True, timeout=CELL_TIMEOUT):
    """Run every cell of `nb` in a fresh python3 kernel (the current interpreter's), in notebooks/, with
    NNSCRATCH_QUICK=1 when `quick`; returns nb with its outputs. Raises nbclient's CellExecutionError
    naming the cell and the error when a cell fails."""
    from nbclient import NotebookClient

    saved = {k: os.environ.get(k) for k in ("NNSCRATCH_QUICK", "PYTHONPATH")}
    os.environ["NNSCRATCH_QUICK"] = "1" if quick else "0"
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), saved["PYTHONPATH"]]))
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(HERE)}}).execute()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return nb


def stream_text(nb):
    """Everything the notebook's cells printed to stdout, in order (one string)."""
    return "".join(out.get("text", "") for cell in nb.cells if cell.cell_type == "code"
                   for out in cell.get("outputs", []) if out.get("output_type") == "stream"
                   and out.get("name") == "stdout")


def results(nb):
    """{name: value} of the `RESULT name=value` lines the notebook printed (its key numbers)."""
    return dict(RESULT.findall(stream_text(nb)))


def main(argv=None):
    """Pair and execute the notebooks named in argv (all by default) and write each NN_*.ipynb; returns 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebook number prefixes (default: all)")
    parser.add_argument("--full", action="store_true", help="full size (NNSCRATCH_QUICK unset)")
    args = parser.parse_args(argv)
    import nbformat

    for script in scripts(args.names):
        print(f"executing {script.name} ...", flush=True)
        nb = execute(read_script(script), quick=not args.full)
        nbformat.write(nb, script.with_suffix(".ipynb"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

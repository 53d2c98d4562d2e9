"""`nnscratch graph`: a worked example's step-through, or a trained model's graph on one test sample.

    nnscratch graph --list
    nnscratch graph add-mul --out add-mul.html
    nnscratch graph runs/my-run --sample 3 --out graph.html
"""

from __future__ import annotations

from pathlib import Path


def add_graph_arguments(parser):
    """The options of `nnscratch graph` on `parser` (an argparse parser)."""
    parser.add_argument("target", metavar="EXAMPLE_OR_RUN", nargs="?",
                        help="a built-in example (see --list), a run folder or a model .npz file")
    parser.add_argument("--list", action="store_true", help="list the built-in examples")
    parser.add_argument("--out", default="graph.html",
                        help="where to write: .html (a page; examples step through) or .svg (default %(default)s)")
    parser.add_argument("--sample", type=_sample_index, default=0, metavar="N",
                        help="for a model: which test sample to run it on (default %(default)s)")
    parser.add_argument("--offline", action="store_true", help="for a model: never download the dataset")
    return parser


def _sample_index(text):
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer; --sample takes a test-sample index") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"--sample must be >= 0, got {value}")
    return value


def run_graph(args, echo=print):
    """What `nnscratch graph` does; returns the path written (None for --list)."""
    from .examples import EXAMPLES

    if args.list:
        for name, example in EXAMPLES.items():
            echo(f"{name:<16} {example.title}")
        return None
    if not args.target:
        raise ValueError("name an example (nnscratch graph --list shows them), a run folder or a model .npz file")
    out = Path(args.out)
    if out.suffix.lower() not in (".svg", ".html", ".htm") or out.is_dir():
        raise ValueError(f"--out {args.out} is not an .svg or .html file name; give e.g. --out graph.html or --out graph.svg")
    if args.target in EXAMPLES:
        graph = EXAMPLES[args.target].run()
    elif Path(args.target).exists():
        graph = _model_on_sample(args.target, args.sample, offline=args.offline)
    else:
        raise ValueError(f"{args.target!r} is neither a built-in example ({', '.join(EXAMPLES)}) nor an existing "
                         f"run folder or model file")
    path = graph.save(out, step_through=out.suffix.lower() in (".html", ".htm") and graph.step_through_default)
    echo(f"graph: {path}")
    return path


def _model_on_sample(target, index, offline=False):
    from .. import data
    from ..serialize import load
    from .walkthrough import model_graph

    path = Path(target)
    model = load(path / "model.npz" if path.is_dir() else path)
    name = model.meta.get("dataset")
    if name is None:
        raise ValueError(f"{path} does not say which dataset it was trained on, so there is no test sample to show")
    X, y = data.load(name, "test", download=not offline)
    if index >= len(X):
        raise ValueError(f"--sample {index} is out of range: the {name} test split has {len(X)} samples (0..{len(X) - 1})")
    x = X[index:index + 1]
    inputs = model.preprocess.transform(x) if model.preprocess is not None else x
    model.eval()
    return model_graph(model, inputs, int(y[index]))

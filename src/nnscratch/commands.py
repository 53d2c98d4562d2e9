"""What each `nnscratch` verb does, given its parsed arguments (see cli.py for the options)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from . import data
from .cli import default_out, run_config
from .runs import train_run
from .serialize import load
from .tensor import Tensor, no_grad
from .train import evaluate as evaluate_model


def _echo(message):
    print(message, file=sys.stderr)


class _EpochLines:
    """One line per epoch when no progress bar is shown (output is not a terminal)."""

    def on_epoch_end(self, info):
        h, i = info["history"], -1
        val = f", val acc {h.val_accuracy[i]:.4f}" if h.val_accuracy and h.val_accuracy[i] is not None else ""
        _echo(f"epoch {h.epoch[i]}: train loss {h.train_loss[i]:.4f}, acc {h.train_accuracy[i]:.4f}{val} "
              f"({h.seconds[i]:.1f} s)")


def train(args):
    if args.resume and not args.out:
        raise ValueError("--resume needs --out, the run folder to continue")
    out = Path(args.out or default_out(args))
    progress = False if args.quiet else None
    summary = train_run(run_config(args), out, resume=args.resume, offline=args.offline, progress=progress,
                        echo=_echo, callbacks=() if sys.stderr.isatty() and not args.quiet else (_EpochLines(),))
    print(f"test accuracy {summary['test_accuracy']:.4f} (test loss {summary['test_loss']:.4f}) "
          f"after {summary['epochs_run']} epochs, {summary['timings']['train_seconds']:.0f} s")
    print(f"report: {summary['report']}")


def _model_path(target):
    path = Path(target)
    return path / "model.npz" if path.is_dir() else path


def evaluate(args):
    model = load(_model_path(args.target))
    name = args.dataset or model.meta.get("dataset")
    if name is None:
        raise ValueError("this model does not say which dataset it was trained on; pass --dataset")
    X, y = data.load(name, args.split, download=not args.offline)
    inputs = model.preprocess.transform(X) if model.preprocess is not None else X
    result = evaluate_model(model, inputs, y)
    classes = model.meta.get("classes") or data.info(name).classes
    print(f"{name} {args.split}: accuracy {result.accuracy:.4f}, loss {result.loss:.4f} ({len(y)} samples)")
    for cls, acc in zip(classes, result.per_class_accuracy):
        print(f"  {cls:<14} {acc:.4f}")


def read_image(path, sample_shape):
    """One image as an array of `sample_shape`: .npy as saved, PNG/JPEG through Pillow."""
    path = Path(path)
    if path.suffix.lower() == ".npy":
        image = np.load(path, allow_pickle=False)
    else:
        try:
            from PIL import Image
        except ImportError:
            raise ImportError("reading PNG/JPEG needs Pillow: pip install 'nnscratch[images]'") from None
        with Image.open(path) as img:
            img = img.convert("RGB" if len(sample_shape) == 3 else "L")
            image = np.asarray(img.resize((sample_shape[1], sample_shape[0])))
    if image.shape != tuple(sample_shape):
        raise ValueError(f"{path}: image of shape {image.shape}, the model takes {tuple(sample_shape)}")
    return image


def predict(args):
    model = load(_model_path(args.model))
    sample_shape, classes = model.meta["sample_shape"], model.meta["classes"]
    images = np.stack([read_image(p, sample_shape) for p in args.images])
    inputs = model.preprocess.transform(images) if model.preprocess is not None else images
    model.eval()
    with no_grad():
        from .functional.activations import softmax_array

        probabilities = softmax_array(model(Tensor(inputs)).data, axis=1)
    for path, p in zip(args.images, probabilities):
        best = np.argsort(-p)[: args.top]
        ranked = ", ".join(f"{classes[i]} {p[i]:.3f}" for i in best)
        print(f"{path}: {classes[best[0]]} ({ranked})")


def report(args):
    from .report import write_report

    print(f"report: {write_report(args.run)}")


def compare(args):
    from .comparison import compare as run_comparison
    from .comparison import table

    rows = run_comparison(args.out, dataset=args.dataset, epochs=args.epochs, seed=args.seed, offline=args.offline,
                          progress=False if args.quiet else None, echo=_echo)
    print(table(rows))
    print(f"written: {Path(args.out) / 'comparison.md'}")


def lab(args):
    from . import lab as experiments

    if args.lab_verb == "list":
        for name, exp in experiments.EXPERIMENTS.items():
            print(f"{name:<28} {exp.claim}")
        return
    if args.name == "all":
        results = experiments.run_all(quick=args.quick, seed=args.seed, out=args.out, echo=_echo)
    else:
        results = [experiments.run(args.name, quick=args.quick, seed=args.seed, out=args.out)]
        experiments.write_index(args.out)
    for result in results:
        print(f"{result['name']}: {result['verdict']} ({result['reason']})")
    print(f"index: {Path(args.out) / 'index.html'}")


def sweep(args):
    from .sweep import command

    return command(args)

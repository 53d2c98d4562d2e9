"""What each `nnscratch` verb does, given its parsed arguments, and each verb's options
(`add_<verb>_arguments`, called by cli.build_parser). Errors reach the user in the command line's
terms: option names (`--val-fraction`), not Python's (`val_fraction`); see `describe_error`."""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from . import data
from .atomic import DiskFullError, RunFileWarning  # noqa: F401  (cli shows RunFileWarning as one line)
from .runs import (ACTIVATION_NAMES, AUGMENTATIONS, LINEAR_LR, PREPROCESSING, ConfigError, RunConfig, RunFolderBusy,
                   default_out, locked, read_config, resumed_config, train_run, typed_settings)
from .data.images import input_spec, read_images
from .serialize import load
from .tensor import Tensor, no_grad
from .train import CHECKPOINT_NAME
from .train import evaluate as evaluate_model

class UsageError(ValueError):
    """A bad option or combination of options: the CLI prints it as a usage error (exit 2)."""


EXPECTED_ERRORS = (ValueError, OSError, FloatingPointError, ImportError, RunFolderBusy)


def _echo(message):
    print(message, file=sys.stderr)


# ----- errors in the command line's terms ---------------------------------------------------------
def option(field):
    """The command-line option of a RunConfig field: val_fraction -> --val-fraction."""
    return "--" + field.replace("_", "-")


def describe_error(error):
    """One line for `error`, in the command line's terms."""
    if isinstance(error, ConfigError) and error.where is None:
        return error.describe(label=lambda f: f"argument {option(f)}", name=option)
    if isinstance(error, OSError) and not isinstance(error, DiskFullError) and error.filename and error.strerror:
        return f"{error.strerror}: {error.filename}"  # never a raw "[Errno 2]"
    text = str(error)
    text = re.sub(r"run with download=True(?: \([^)]*\))?", "run without --offline (nnscratch then downloads it)",
                  text)
    return text.replace("download=True", "without --offline")


def _number(kind, noun):
    def parse(text):
        """`text` as a number, or an argparse error in the option's words."""
        try:
            return kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {noun}") from None

    return parse


number, integer = _number(float, "a number"), _number(int, "an integer")


# ----- train --------------------------------------------------------------------------------------
def add_train_arguments(train):
    """train's options. Every RunConfig option defaults to None, so that what the user typed is
    known (a resumed run refuses a typed option that differs from its saved configuration); the
    defaults shown are RunConfig's. Ranges are checked once, by RunConfig.validate."""
    from . import optim

    d = RunConfig()
    add = train.add_argument
    add("--dataset", choices=list(data.DATASETS), help=f"(default {d.dataset})")
    add("--model", help=f"'linear', 'mlp:W1,W2,...', 'cnn:C1,C2[,fcH]' or 'cnn1d:C1,C2' (default {d.model})")
    add("--activation", choices=list(ACTIVATION_NAMES), help=f"(default {d.activation})")
    add("--init", help=f"normal, small, large, xavier, glorot, kaiming or normal:STD (default {d.init})")
    add("--dropout", type=number, help=f"dropout after each hidden layer, in [0, 1) (default {d.dropout})")
    add("--optimizer", choices=list(optim.OPTIMIZERS), help=f"(default {d.optimizer})")
    add("--lr", type=number, help=f"learning rate (default {d.lr}; {LINEAR_LR} for --model linear)")
    add("--momentum", type=number, help=f"SGD momentum, in [0, 1) (default {d.momentum})")
    add("--weight-decay", type=number, help=f"(default {d.weight_decay})")
    add("--label-smoothing", type=number, help="train towards (1 - e)*onehot + e/classes instead of the one-hot "
                                               f"label, e in [0, 1] (default {d.label_smoothing}; 0.1 is usual)")
    add("--schedule", choices=list(optim.schedule.PRESETS), help=f"(default {d.schedule})")
    add("--epochs", type=integer, help=f"(default {d.epochs}; with --resume: train the run up to this many)")
    add("--batch-size", type=integer, help=f"(default {d.batch_size})")
    add("--preprocess", help=f"{' | '.join(PREPROCESSING)} (default {d.preprocess})")
    add("--features", help="hand-made features instead of pixels, comma-separated: hog (hog:CELL), color, "
                           "bow:WORDS, pixels (default none)")
    add("--augment", help=f"comma-separated, from {','.join(AUGMENTATIONS)} (default none)")
    add("--val-fraction", type=number, help=f"held-out share of the training data (default {d.val_fraction})")
    add("--early-stopping", type=integer, metavar="PATIENCE",
        help="stop after PATIENCE epochs without a better validation loss (default 0: off)")
    add("--seed", type=integer, help=f"(default {d.seed})")
    add("--out", help="run folder (default runs/DATE-TIME-DATASET-MODEL)")
    add("--resume", action="store_true", help="continue the run in --out from its checkpoint; --epochs N extends it")
    add("--offline", action="store_true", help="never download; use local files only")
    add("--quiet", action="store_true", help="no progress bars")


class _EpochLines:
    """One line per epoch when no progress bar is shown (output is not a terminal)."""

    def on_epoch_end(self, info):
        """Print the epoch's figures as one line on stderr."""
        h, i = info["history"], -1
        val = f", val acc {h.val_accuracy[i]:.4f}" if h.val_accuracy and h.val_accuracy[i] is not None else ""
        _echo(f"epoch {h.epoch[i]}: train loss {h.train_loss[i]:.4f}, acc {h.train_accuracy[i]:.4f}{val} "
              f"({h.seconds[i]:.1f} s)")


def train_config(args):
    """The RunConfig of a new run, from the typed options; UsageError naming each bad option."""
    try:
        return RunConfig.from_args(args).validate()
    except ConfigError as error:
        raise UsageError(describe_error(error)) from None


def resume_config(args, out):
    """The saved config of the run in `out`, with --epochs if typed; any other typed option that
    differs from the saved value is refused, naming it and the saved value."""
    saved = read_config(out)
    typed = typed_settings(args)
    return resumed_config(saved, replace(saved, **typed), compared=list(typed))


def train(args):
    """nnscratch train: validate the options, hold the run folder, train, print the result."""
    if args.resume and not args.out:
        raise UsageError("--resume needs --out, the run folder to continue")
    config = None if args.resume else train_config(args)
    out = Path(args.out) if args.out else default_out(config)
    if args.resume:
        read_config(out)  # a folder that is not a run is named before anything is created
    with locked(out):
        if args.resume:
            config = resume_config(args, out)
        callbacks = () if sys.stderr.isatty() and not args.quiet else (_EpochLines(),)
        summary = train_run(config, out, resume=args.resume, offline=args.offline,
                            progress=False if args.quiet else None, echo=_echo, callbacks=callbacks)
    print(f"test accuracy {summary['test_accuracy']:.4f} (test loss {summary['test_loss']:.4f}) "
          f"after {_count(summary['epochs_run'], 'epoch')}, {summary['timings']['train_seconds']:.0f} s")
    print(f"report: {summary['report']}")


def _count(n, noun):
    """'1 epoch', '3 epochs': a count with its noun in the right number."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


# ----- evaluate, predict, report ------------------------------------------------------------------
def add_evaluate_arguments(evaluate):
    """evaluate's arguments."""
    evaluate.add_argument("target", metavar="RUN_OR_MODEL", help="a run folder or a model .npz file")
    evaluate.add_argument("--dataset", choices=list(data.DATASETS), help="default: the one it was trained on")
    evaluate.add_argument("--split", default="test", choices=["train", "test"])
    evaluate.add_argument("--offline", action="store_true")


def _model_path(target):
    path = Path(target)
    if not path.is_dir():
        return path
    if not (path / "model.npz").is_file() and (path / CHECKPOINT_NAME).is_file():
        raise FileNotFoundError(f"{path} has no model.npz yet (its run did not finish); finish it with "
                                f"`nnscratch train --out {path} --resume`")
    return path / "model.npz"


def evaluate(args):
    """nnscratch evaluate: accuracy, loss and per-class accuracy of a saved model on a split."""
    model = load(_model_path(args.target))
    name = args.dataset or model.meta.get("dataset")
    if name is None:
        raise UsageError("this model does not say which dataset it was trained on; pass --dataset")
    X, y = data.load(name, args.split, download=not args.offline)
    _check_sample_shape(model.meta, name, X)
    inputs = model.preprocess.transform(X) if model.preprocess is not None else X
    result = evaluate_model(model, inputs, y)
    classes = model.meta.get("classes") or data.info(name).classes
    print(f"{name} {args.split}: accuracy {result.accuracy:.4f}, loss {result.loss:.4f} ({len(y)} samples)")
    for cls, acc in zip(classes, result.per_class_accuracy):
        print(f"  {cls:<14} {acc:.4f}")


def _check_sample_shape(meta, name, X):
    """A UsageError when `name`'s samples are not the shape the model was trained on (evaluate --dataset)."""
    shape = meta.get("sample_shape")
    if isinstance(shape, list) and tuple(X.shape[1:]) != tuple(shape):
        trained = meta.get("dataset", "another dataset")
        raise UsageError(f"--dataset {name}: its samples have shape {tuple(X.shape[1:])}, but this model takes "
                         f"{tuple(shape)} (it was trained on {trained}); give --dataset {trained} or leave it out")


def add_predict_arguments(predict):
    """predict's arguments."""
    predict.add_argument("model", metavar="MODEL", help="a run folder or a model .npz file")
    predict.add_argument("images", metavar="IMAGE", nargs="+")
    predict.add_argument("--top", type=integer, default=3, help="how many classes to list per image")


def predict(args):
    """Print the top classes of each image (PNG/JPEG/any Pillow mode, or .npy) under a saved model.

    Each image is converted to the model's input with its true range (data.images.read_images),
    with one line on stderr per change. Raises ModelFileError for a bad model file, ValueError for
    an unreadable image."""
    model = load(_model_path(args.model))
    classes = model.meta["classes"]
    images = read_images(args.images, input_spec(model.meta, model.preprocess), echo=_echo)
    inputs = model.preprocess.transform(images) if model.preprocess is not None else images
    model.eval()
    with no_grad():
        from .functional.activations import softmax_array

        probabilities = softmax_array(model(Tensor(inputs)).data, axis=1)
    for path, p in zip(args.images, probabilities):
        best = np.argsort(-p)[: args.top]
        ranked = ", ".join(f"{classes[i]} {p[i]:.3f}" for i in best)
        print(f"{path}: {classes[best[0]]} ({ranked})")


def add_report_arguments(report):
    """report's argument."""
    report.add_argument("run", metavar="RUN")


REPORT_SOURCES = ("config.json", "model.npz", "summary.json", "evaluation.npz")


def report(args):
    """nnscratch report: (re)write RUN/report.html from the run folder's files."""
    from .report import write_report

    run = Path(args.run)
    if not run.is_dir() or not (run / "config.json").is_file():
        raise FileNotFoundError(f"{run} is not a run folder (no config.json there); give a folder that "
                                f"`nnscratch train --out` wrote")
    missing = [name for name in REPORT_SOURCES if not (run / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{run} has no {' or '.join(missing)} (its run did not finish, or they were "
                                f"deleted): `nnscratch train --out {run} --resume` writes them and the report")
    # write_report reads config.json loosely (a folder from fit(out_dir=...) has its own settings) and
    # refuses a damaged one in one line naming it
    print(f"report: {write_report(run)}")


# ----- compare, lab -------------------------------------------------------------------------------
def add_compare_arguments(compare):
    """compare's options."""
    compare.add_argument("--dataset", default="fashion-mnist", choices=list(data.DATASETS))
    compare.add_argument("--epochs", type=integer, default=10)
    compare.add_argument("--seed", type=integer, default=0)
    compare.add_argument("--out", default="runs/compare")
    compare.add_argument("--offline", action="store_true")
    compare.add_argument("--quiet", action="store_true")


def compare(args):
    """nnscratch compare: six runs (features vs end-to-end), one table."""
    from .comparison import compare as run_comparison
    from .comparison import table

    rows = run_comparison(args.out, dataset=args.dataset, epochs=args.epochs, seed=args.seed, offline=args.offline,
                          progress=False if args.quiet else None, echo=_echo)
    print(table(rows))
    print(f"written: {Path(args.out) / 'comparison.md'}")


def add_lab_arguments(lab):
    """lab's sub-verbs: list, run NAME|all."""
    lab_verbs = lab.add_subparsers(dest="lab_verb", metavar="list|run", parser_class=type(lab), required=True)
    lab_verbs.add_parser("list", help="the experiments and their claims")
    lab_run = lab_verbs.add_parser("run", help="run one experiment (or all): DIR/NAME/result.json, figures, "
                                               "DIR/index.html")
    lab_run.add_argument("name", metavar="NAME", help="an experiment from `nnscratch lab list`, or all")
    lab_run.add_argument("--quick", action="store_true", help="small versions, each under 30 s (what the tests run)")
    lab_run.add_argument("--seed", type=integer, default=0)
    lab_run.add_argument("--out", default="lab", help="the lab folder (default %(default)s)")


def lab(args):
    """nnscratch lab: list the experiments, or run one (or all)."""
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


def add_playground_arguments(parser):
    """playground's arguments (they live beside the server, in nnscratch.playground.launch)."""
    from .playground.launch import add_playground_arguments as add

    add(parser)


def playground(args):
    """Serve the live playground until Ctrl-C."""
    from .playground import serve

    serve(host=args.host, port=args.port, open_browser=not args.no_browser, echo=_echo)


def add_graph_arguments(parser):
    """graph's arguments (they live beside the drawing code, in nnscratch.viz.command)."""
    from .viz.command import add_graph_arguments as add

    add(parser)


def graph(args):
    """Draw a worked example's or a trained model's computational graph."""
    from .viz.command import run_graph

    run_graph(args)


def add_sweep_arguments(parser):
    """sweep's arguments (they live beside the sweep code, in nnscratch.sweep)."""
    from .sweep import add_sweep_arguments as add

    add(parser)


def sweep(args):
    """Run (or finish) a sweep of training runs."""
    from .sweep import command

    return command(args)

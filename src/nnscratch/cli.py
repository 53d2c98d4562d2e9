"""The `nnscratch` command: one verb per job. Argument parsing only; the work is elsewhere.

    nnscratch train [options]          train a classifier, write a run folder with a report
    nnscratch evaluate RUN_OR_MODEL    accuracy, loss and per-class accuracy on a dataset split
    nnscratch predict MODEL IMAGE...   class probabilities for PNG/JPEG/NPY images
    nnscratch report RUN               (re)write RUN/report.html
    nnscratch compare                  hand-made features vs end-to-end, as one table
    nnscratch lab list | run NAME|all  the lecture's claims, measured
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import fields

from .runs import ACTIVATIONS, AUGMENTATIONS, LINEAR_LR, PREPROCESSING, RunConfig, default_lr

EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130


class Parser(argparse.ArgumentParser):
    """Usage errors are one line naming the problem, and exit 2."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _number(kind, check, requirement):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {kind.__name__}; it must be {requirement}") from None
        if not check(value):
            raise argparse.ArgumentTypeError(f"it must be {requirement}, got {text}")
        return value

    return parse


positive_float = _number(float, lambda v: v > 0 and math.isfinite(v), "a positive number")
non_negative_float = _number(float, lambda v: v >= 0 and math.isfinite(v), "a number >= 0")
fraction = _number(float, lambda v: 0 <= v < 1, "a number in [0, 1)")
positive_int = _number(int, lambda v: v >= 1, "a positive integer")
non_negative_int = _number(int, lambda v: v >= 0, "an integer >= 0")


def build_parser():
    from . import data, optim

    defaults = RunConfig()
    parser = Parser(prog="nnscratch", description="Neural networks from first principles, in NumPy.")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=Parser, required=True)

    train = verbs.add_parser("train", help="train a classifier and write a run folder with its report",
                             description="Train a classifier; writes config.json, metrics.jsonl, checkpoint.npz, "
                                         "model.npz, summary.json and report.html into the run folder.")
    train.add_argument("--dataset", default=defaults.dataset, choices=list(data.DATASETS))
    train.add_argument("--model", default=defaults.model,
                       help="'linear', 'mlp:W1,W2,...', 'cnn:C1,C2[,fcH]' or 'cnn1d:C1,C2' (default %(default)s)")
    train.add_argument("--activation", default=defaults.activation, choices=list(ACTIVATIONS))
    train.add_argument("--init", default=defaults.init,
                       help=f"{', '.join(['normal', 'small', 'large', 'xavier', 'glorot', 'kaiming'])} or "
                            f"normal:STD (default %(default)s)")
    train.add_argument("--dropout", type=fraction, default=defaults.dropout, help="dropout after each hidden layer")
    train.add_argument("--optimizer", default=defaults.optimizer, choices=list(optim.OPTIMIZERS))
    train.add_argument("--lr", type=positive_float, default=None,
                       help=f"learning rate (default {defaults.lr}; {LINEAR_LR} for --model linear)")
    train.add_argument("--momentum", type=fraction, default=defaults.momentum, help="SGD momentum")
    train.add_argument("--weight-decay", type=non_negative_float, default=defaults.weight_decay)
    train.add_argument("--schedule", default=defaults.schedule, choices=list(optim.schedule.PRESETS))
    train.add_argument("--epochs", type=positive_int, default=defaults.epochs)
    train.add_argument("--batch-size", type=positive_int, default=defaults.batch_size)
    train.add_argument("--preprocess", default=defaults.preprocess, help=f"{' | '.join(PREPROCESSING)}")
    train.add_argument("--features", default=defaults.features,
                       help="hand-made features instead of pixels, comma-separated: hog (hog:CELL), color, "
                            "bow:WORDS, pixels (default none)")
    train.add_argument("--augment", default=defaults.augment,
                       help=f"comma-separated, from {','.join(AUGMENTATIONS)} (default none)")
    train.add_argument("--val-fraction", type=fraction, default=defaults.val_fraction)
    train.add_argument("--early-stopping", type=non_negative_int, default=defaults.early_stopping,
                       metavar="PATIENCE", help="stop after PATIENCE epochs without a better validation loss")
    train.add_argument("--seed", type=non_negative_int, default=defaults.seed)
    train.add_argument("--out", help="run folder (default runs/DATE-TIME-DATASET-MODEL)")
    train.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    train.add_argument("--offline", action="store_true", help="never download; use local files only")
    train.add_argument("--quiet", action="store_true", help="no progress bars")

    evaluate = verbs.add_parser("evaluate", help="evaluate a run or a saved model on a dataset split")
    evaluate.add_argument("target", metavar="RUN_OR_MODEL", help="a run folder or a model .npz file")
    evaluate.add_argument("--dataset", choices=list(data.DATASETS), help="default: the one it was trained on")
    evaluate.add_argument("--split", default="test", choices=["train", "test"])
    evaluate.add_argument("--offline", action="store_true")

    predict = verbs.add_parser("predict", help="classify image files (PNG/JPEG need Pillow; NPY does not)")
    predict.add_argument("model", metavar="MODEL", help="a run folder or a model .npz file")
    predict.add_argument("images", metavar="IMAGE", nargs="+")
    predict.add_argument("--top", type=positive_int, default=3, help="how many classes to list per image")

    report = verbs.add_parser("report", help="(re)write RUN/report.html from the run folder")
    report.add_argument("run", metavar="RUN")

    compare = verbs.add_parser("compare", help="hand-made features vs end-to-end: six runs, one table",
                               description="Linear classifier on pixels, HoG, BoW and HoG + BoW; MLP on pixels "
                                           "and on HoG; prints the table and writes OUT/comparison.md and .json.")
    compare.add_argument("--dataset", default="fashion-mnist", choices=list(data.DATASETS))
    compare.add_argument("--epochs", type=positive_int, default=10)
    compare.add_argument("--seed", type=non_negative_int, default=0)
    compare.add_argument("--out", default="runs/compare")
    compare.add_argument("--offline", action="store_true")
    compare.add_argument("--quiet", action="store_true")

    lab = verbs.add_parser("lab", help="the lecture's claims as experiments: lab list, lab run NAME|all")
    lab_verbs = lab.add_subparsers(dest="lab_verb", metavar="list|run", parser_class=Parser, required=True)
    lab_verbs.add_parser("list", help="the experiments and their claims")
    lab_run = lab_verbs.add_parser("run", help="run one experiment (or all): DIR/NAME/result.json, figures, DIR/index.html")
    lab_run.add_argument("name", metavar="NAME", help="an experiment from `nnscratch lab list`, or all")
    lab_run.add_argument("--quick", action="store_true", help="small versions, each under 30 s (what the tests run)")
    lab_run.add_argument("--seed", type=non_negative_int, default=0)
    lab_run.add_argument("--out", default="lab", help="the lab folder (default %(default)s)")
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.verb == "train" and not args.resume:
        try:
            run_config(args).validate()
        except ValueError as error:
            parser.error(str(error))
    from . import commands

    handler = getattr(commands, args.verb)
    try:
        return handler(args) or 0
    except KeyboardInterrupt as interrupted:
        print(f"\n{interrupted}" if str(interrupted) else "\ninterrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (FileNotFoundError, ValueError, OSError, FloatingPointError, ImportError) as error:
        print(f"nnscratch {args.verb}: error: {error}", file=sys.stderr)
        return EXIT_FAILED


def run_config(args):
    """The RunConfig named by `train`'s options."""
    names = {f.name for f in fields(RunConfig)}
    settings = {k: v for k, v in vars(args).items() if k in names and v is not None}
    settings.setdefault("lr", default_lr(args.model))
    return RunConfig(**settings)


def default_out(args):
    return f"runs/{time.strftime('%Y%m%d-%H%M%S')}-{args.dataset}-{args.model.replace(':', '').replace(',', '-')}"


if __name__ == "__main__":
    sys.exit(main())

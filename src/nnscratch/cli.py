"""The `nnscratch` command: one verb per job. Argument parsing only; the work is in commands.py.

    nnscratch train [options]          train a classifier, write a run folder with a report
    nnscratch evaluate RUN_OR_MODEL    accuracy, loss and per-class accuracy on a dataset split
    nnscratch predict MODEL IMAGE...   class probabilities for PNG/JPEG/NPY images
    nnscratch report RUN               (re)write RUN/report.html
    nnscratch compare                  hand-made features vs end-to-end, as one table
    nnscratch lab list | run NAME|all  the lecture's claims, measured
    nnscratch graph EXAMPLE|RUN        see backprop happen: the graph with values and gradients
    nnscratch sweep SPEC               a grid or random search of runs (local processes or a Dask cluster)
    nnscratch playground               train a network live in the browser (http://127.0.0.1:8000)

Exit status: 0 done, 1 failed (one line on stderr saying what and what to do), 2 usage error,
130 interrupted (Ctrl-C; the message says what was saved and the command that finishes the job).
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
import warnings

from . import commands

EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130

VERBS = (  # (verb, help, description): a new verb is one line here, add_<verb>_arguments and <verb> in commands
    ("train", "train a classifier and write a run folder with its report",
     "Train a classifier; writes config.json, metrics.jsonl, checkpoint.npz, model.npz, summary.json and "
     "report.html into the run folder. One process at a time writes a run folder."),
    ("evaluate", "evaluate a run or a saved model on a dataset split", None),
    ("predict", "classify image files (PNG/JPEG need Pillow; NPY does not)", None),
    ("report", "(re)write RUN/report.html from the run folder", None),
    ("compare", "hand-made features vs end-to-end: six runs, one table",
     "Linear classifier on pixels, HoG, BoW and HoG + BoW; MLP on pixels and on HoG; prints the table and "
     "writes OUT/comparison.md and .json."),
    ("lab", "the lecture's claims as experiments: lab list, lab run NAME|all", None),
    ("graph", "draw a computational graph: a worked example stepped through, or a trained model on one "
              "test sample", None),
    ("sweep", "a grid or random search of runs, on local processes or Dask", None),
    ("playground", "train a network live in the browser", None),
)


class Parser(argparse.ArgumentParser):
    """Usage errors are one line naming the problem, and exit 2."""

    def error(self, message):
        """Print `prog: error: message (see prog --help)` and exit 2."""
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser():
    """The parser of every verb; each verb's options come from commands.add_<verb>_arguments."""
    parser = Parser(prog="nnscratch", description="Neural networks from first principles, in NumPy.")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=Parser, required=True)
    parser.verb_parsers = {}
    for verb, help_text, description in VERBS:
        sub = verbs.add_parser(verb, help=help_text, description=description or help_text)
        getattr(commands, f"add_{verb}_arguments")(sub)
        parser.verb_parsers[verb] = sub
    return parser


@contextlib.contextmanager
def interrupts_honoured():
    """Let SIGINT (Ctrl-C, `kill -INT`) interrupt the command even when it started with SIGINT ignored.

    A shell without job control starts a background job (`nnscratch playground &` in a script) with
    SIGINT ignored, and Python then leaves it ignored. Each long-running part installs its own handler
    later (the fit loop's checkpointing one, uvicorn's), so a SIGINT that came before that - while the
    data loads or the server starts - was silently lost and the job ran on. Honouring it from here makes
    the command stop whenever the signal comes. The previous disposition is restored on return.
    """
    in_main_thread = threading.current_thread() is threading.main_thread()
    if not in_main_thread or signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        yield
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def main(argv=None):
    """Run one `nnscratch` command line; returns the exit status."""
    with interrupts_honoured():
        try:
            return _run(argv)
        except KeyboardInterrupt as interrupted:
            print(f"\n{interrupted}" if str(interrupted) else "\ninterrupted", file=sys.stderr)
            return EXIT_INTERRUPTED


def _run(argv):
    parser = build_parser()
    args = parser.parse_args(argv)
    verb = args.verb
    with warnings.catch_warnings():
        warnings.simplefilter("always", commands.RunFileWarning)
        warnings.showwarning = lambda message, *_, **__: print(f"nnscratch {verb}: warning: {message}",
                                                               file=sys.stderr)
        try:
            return getattr(commands, verb)(args) or 0
        except commands.UsageError as error:
            parser.verb_parsers[verb].error(str(error))
        except commands.EXPECTED_ERRORS as error:
            print(f"nnscratch {verb}: error: {commands.describe_error(error)}", file=sys.stderr)
            return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())

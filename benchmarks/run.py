"""nnscratch against JAX jit, PyTorch eager, scikit-learn and a hand-written NumPy MLP, on this machine.

    python benchmarks/run.py [--quick] [--rounds N] [--workload mlp|cnn|all] [--json OUT]

Every measurement runs in a fresh process, interleaved round by round (A B C D, A B C D, ...),
so a slow minute on a shared machine hits every contender alike. Before each round the driver
waits (at most --max-wait seconds) until other processes use fewer than 0.3 cores, and it sleeps
--gap seconds between contenders so that the BLAS worker threads of the last one are asleep. A
round is *disturbed*, and left out of every figure, when that wait gave up or when other
processes used 0.3 cores or more during any of its measurements (`quiet.py` says how this is
measured); the report says how many rounds were discarded and why. Ratios are taken pair by pair
within a round; the tables give medians and interquartile ranges (IQR) over the quiet rounds.

What is measured (MLP 784-512-256-10, ReLU, softmax cross-entropy, SGD momentum 0.9,
batch 128, float32, on Fashion-MNIST, or same-shape random data when the files are absent):
training throughput; the time of the step's matrix products alone (the limit); inference
throughput at batch 10,000; nnscratch against JAX while a second process keeps one core busy;
epoch time as the width and the batch size grow; peak memory of a full `nnscratch train`; and
accuracy after the same number of epochs, so that speed is never bought with worse learning.
JAX, PyTorch and scikit-learn come from the `bench` extra (pip install -e ".[bench]"); a
contender that is not installed is reported as skipped. Each target is printed met / not met.

The CNN workload (issue 18 item 5; `--workload cnn`, or after the MLP with the default `all`):
`cnn:32,64` at batch 128, float32, against PyTorch eager with the same layers and the step's GEMMs
alone (benchmarks/cnn.py builds the three steps), `--cnn-steps` training steps per measurement, in
the same interleaved, quiet-checked rounds; target nnscratch >= 1.0x PyTorch.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

from contenders import BATCH, CORES, MOMENTUM, SIZES, TRAINING, dataset, run_inference
from quiet import QUIET_CORES, OthersLoad, wait_until_quiet
from stats import caveat, counted, iqr, pair_ratios, summary  # noqa: F401  (run.summary ... are tested)

TARGETS = {  # nnscratch / peer, medians of pair-by-pair ratios over quiet rounds; higher is better
    "jax": 1.15,
    "torch": 1.5,
    "numpy": 1.1,
    "sklearn": 1.5,
    "inference_torch": 1.2,
    "inference_jax": 1.0,
    "contention_jax": 1.0,  # a second process busy on one core: the lead over JAX is not a loss
    "matmul_limit": 1.12,  # the step's time / its matrix products' time: lower is better
    "rss_multiple": 2.5,  # peak RSS / the float32 dataset: lower is better
    "cnn_torch": 1.0,  # the CNN workload's training steps
}
CNN_CONTENDERS = ("nnscratch", "torch", "gemm")
BUSY_LOOP = "while True: pass"  # the second process of the contention check: one core, no memory traffic


# ----- the worker: one measurement in a fresh process -----------------------------------------------
def worker(args):
    if args.what == "cnn":
        print(json.dumps(cnn_worker(args.contender, args.steps)))
        return
    X, y, Xt, yt, source = dataset(args.n_train)
    sizes = tuple(int(s) for s in args.sizes.split(","))
    if args.what == "inference":
        result = {"samples_per_s": run_inference(args.contender, Xt, sizes, args.repeats)}
    else:
        cpu_started = time.process_time()
        seconds, accuracy = TRAINING[args.contender](X, y, Xt, yt, args.epochs, sizes, args.batch)
        steps = args.epochs * (len(X) // args.batch)
        result = {"seconds": seconds, "samples_per_s": steps * args.batch / seconds, "accuracy": accuracy,
                  "cpu_seconds": time.process_time() - cpu_started}  # all threads; includes untimed gathers
    result["source"] = source
    print(json.dumps(result))


def cnn_worker(contender, steps):
    """Seconds per training step of benchmarks/cnn.py's `contender` step (after one warm-up step), and
    the images per second that makes. Exits naming what is missing when the contender cannot run."""
    import cnn

    step = {"nnscratch": cnn.nnscratch_step, "torch": cnn.torch_step, "gemm": cnn.gemm_step}[contender]()
    if step is None:
        sys.exit(f"{contender} is not installed (pip install -e \".[bench]\")")
    step()
    seconds, cpu_seconds = cnn.seconds(step, steps)
    return {"seconds": seconds, "samples_per_s": cnn.BATCH / seconds, "cpu_seconds": cpu_seconds,
            "source": "random images, 28x28"}


def measure(contender, what="train", epochs=1, n_train=60000, sizes=SIZES, batch=BATCH, repeats=5, steps=10,
            extra_pids=()):
    """One measurement in a fresh process: its result dict, plus `others_cores` (the cores other
    processes used meanwhile), or {"skipped": why}."""
    command = [sys.executable, __file__, "--worker", contender, "--what", what, "--epochs", str(epochs),
               "--n-train", str(n_train), "--sizes", ",".join(map(str, sizes)), "--batch", str(batch),
               "--repeats", str(repeats), "--steps", str(steps)]
    with OthersLoad(extra_pids) as load:
        done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        return {"skipped": (done.stderr.strip().splitlines() or ["failed"])[-1]}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["others_cores"] = load.others_cores
    return result


def available(module):
    try:
        __import__(module)
        return True
    except ImportError:
        return False


# ----- rounds (stats.counted says which of them count) -------------------------------------------
def interleaved(contenders, rounds, max_wait, gap, extra_pids=(), **kwargs):
    """A list of rounds, each {"results": {contender: result}, "disturbed": reason or None}.

    Before each round: wait until quiet (bounded); between contenders: an idle gap."""
    done = []
    for number in range(1, rounds + 1):
        quiet, others, waited = wait_until_quiet(max_wait, extra_pids=extra_pids)
        results, reasons, loaded = {}, [], {}
        if not quiet:
            reasons.append(f"others used {others:.2f} cores after waiting {waited:.0f} s")
        for contender in contenders:
            time.sleep(gap)
            results[contender] = measure(contender, extra_pids=extra_pids, **kwargs)
            busy = results[contender].get("others_cores")
            if busy is not None and busy >= QUIET_CORES:
                loaded[contender] = busy
        if loaded:
            reasons.append(f"others used up to {max(loaded.values()):.2f} cores during {', '.join(loaded)}")
        done.append({"round": number, "results": results, "disturbed": "; ".join(reasons) or None})
    return done


# ----- the parts of the report ------------------------------------------------------------------------
def training_table(rounds, verdicts):
    use, note = counted(rounds)
    print(f"rounds: {note}\n")
    print(f"{'contender':<11}{'samples/s, median (IQR)':>34}{'accuracy':>10}   nnscratch ÷ it, median (IQR)")
    rows = {}
    for contender in rounds[0]["results"]:
        results = [r["results"][contender] for r in use]
        if "skipped" in results[0]:
            print(f"{contender:<11} skipped: {results[0]['skipped']}")
            continue
        speed, ratio = summary(r["samples_per_s"] for r in results), summary(pair_ratios(use, "nnscratch", contender))
        accuracy = results[0]["accuracy"]
        rows[contender] = {"samples_per_s": speed, "nnscratch_ratio": ratio, "accuracy": accuracy}
        acc = "" if accuracy is None else f"{accuracy:.4f}"
        print(f"{contender:<11}{iqr(speed, '{:,.0f}'):>34}{acc:>10}   {iqr(ratio)}")
    for peer in ("jax", "torch", "numpy", "sklearn"):
        if peer in rows:
            ratio = rows[peer]["nnscratch_ratio"]["median"]
            verdicts.append((f"training >= {TARGETS[peer]}x {peer}{caveat(note)}", ratio, TARGETS[peer], True))
    if "matmul" in rows:
        multiple = summary(pair_ratios(use, "matmul", "nnscratch"))
        rows["step_over_matmul"] = multiple
        print(f"\nthe limit: nnscratch's step takes {iqr(multiple)}x the time of its matrix products alone")
        verdicts.append((f"step <= {TARGETS['matmul_limit']}x its matrix products{caveat(note)}", multiple["median"],
                         TARGETS["matmul_limit"], False))
    return {"rounds_note": note, "rows": rows}


def inference_table(rounds, verdicts):
    use, note = counted(rounds)
    peers = [c for c in rounds[0]["results"] if c != "nnscratch" and "skipped" not in rounds[0]["results"][c]]
    report = {"rounds_note": note}
    print(f"\ninference at batch 10,000 ({note}):")
    for contender in rounds[0]["results"]:
        if "skipped" not in rounds[0]["results"][contender]:
            speed = summary(r["results"][contender]["samples_per_s"] for r in use)
            report[contender] = speed
            print(f"  {contender:<10} {iqr(speed, '{:,.0f}')} samples/s")
    for peer in peers:
        ratio = summary(pair_ratios(use, "nnscratch", peer))
        report[f"nnscratch_over_{peer}"] = ratio
        print(f"  nnscratch ÷ {peer}: {iqr(ratio)}")
        target = TARGETS["inference_" + peer]
        verdicts.append((f"inference >= {target}x {peer}{caveat(note)}", ratio["median"], target, True))
    return report


def contention_check(rounds_n, n_train, max_wait, gap, verdicts):
    """nnscratch against JAX while a busy-loop process keeps one core busy (others beyond it count
    as disturbance)."""
    hog = subprocess.Popen([sys.executable, "-c", BUSY_LOOP])
    try:
        rounds = interleaved(["nnscratch", "jax"], rounds_n, max_wait, gap, extra_pids=(hog.pid,), n_train=n_train)
    finally:
        hog.kill()
        hog.wait()
    use, note = counted(rounds)
    ratio = summary(pair_ratios(use, "nnscratch", "jax"))
    print(f"\nwith a second process busy on one core ({note}): nnscratch ÷ jax {iqr(ratio)}")
    target = TARGETS["contention_jax"]
    verdicts.append((f"under contention >= {target}x jax{caveat(note)}", ratio["median"], target, True))
    return {"rounds_note": note, "nnscratch_over_jax": ratio}


def cnn_table(rounds, verdicts):
    """The CNN workload's images/s per contender, nnscratch ÷ PyTorch and the step ÷ its GEMMs."""
    use, note = counted(rounds)
    print(f"\nCNN cnn:32,64, batch 128, float32, training steps ({note}):")
    report = {"rounds_note": note}
    for contender in CNN_CONTENDERS:
        results = [r["results"][contender] for r in use]
        if "skipped" in results[0]:
            print(f"  {contender:<10} skipped: {results[0]['skipped']}")
            continue
        report[contender] = summary(r["samples_per_s"] for r in results)
        print(f"  {contender:<10} {iqr(report[contender], '{:,.0f}')} images/s")
    if "torch" in report and "nnscratch" in report:
        ratio = report["nnscratch_over_torch"] = summary(pair_ratios(use, "nnscratch", "torch"))
        print(f"  nnscratch ÷ torch: {iqr(ratio)}")
        verdicts.append((f"CNN training >= {TARGETS['cnn_torch']}x torch{caveat(note)}", ratio["median"],
                         TARGETS["cnn_torch"], True))
    if "gemm" in report and "nnscratch" in report:
        multiple = report["step_over_gemms"] = summary(pair_ratios(use, "gemm", "nnscratch"))
        print(f"  the limit: nnscratch's CNN step takes {iqr(multiple)}x the time of its GEMMs alone")
    return report


def epoch_seconds(quick, with_torch, n_train):
    """Seconds per epoch of nnscratch (and torch) as the width, then the batch size, grow."""
    peers = ["nnscratch"] + (["torch"] if with_torch else [])
    n_train = min(n_train, 20000) if quick else n_train
    report = {"by_width": {}, "by_batch": {}}
    print("\nseconds per epoch (" + ", ".join(peers) + "):")
    for width in (256, 512) if quick else (256, 512, 1024, 2048):
        row = {c: measure(c, sizes=(784, width, width // 2, 10), n_train=n_train).get("seconds") for c in peers}
        report["by_width"][width] = row
        print(f"  width {width:>5}: " + ", ".join(f"{c} {s:.2f} s" for c, s in row.items() if s))
    for size in (32, 256) if quick else (32, 64, 128, 256, 512, 1024):
        row = {c: measure(c, batch=size, n_train=n_train).get("seconds") for c in peers}
        report["by_batch"][size] = row
        print(f"  batch {size:>5}: " + ", ".join(f"{c} {s:.2f} s" for c, s in row.items() if s))
    return report


RSS_PROBE = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print((done.stderr.strip().splitlines() or [''])[-1])
"""


def peak_rss_of_train(epochs):
    """Peak resident memory (bytes) of `nnscratch train` on Fashion-MNIST, and the dataset's float32 size.

    A fresh probe process runs the command as its only child, so its children's peak is the command's."""
    out = f"/tmp/nnscratch-bench-{os.getpid()}"
    command = [sys.executable, "-m", "nnscratch", "train", "--epochs", str(epochs), "--quiet", "--out", out,
               "--offline"]
    probe = subprocess.run([sys.executable, "-c", RSS_PROBE, *command], capture_output=True, text=True)
    first, last = (probe.stdout.splitlines() + ["", ""])[:2]
    if probe.returncode or not first:
        return None, None, (probe.stderr.strip().splitlines() or ["probe failed"])[-1]
    code, kilobytes = map(int, first.split())
    if code:
        return None, None, last or "nnscratch train failed"
    return kilobytes * 1024, 70_000 * 784 * 4, None


def memory_check(verdicts):
    peak, dataset_bytes, problem = peak_rss_of_train(1)
    if not peak:
        print(f"\npeak RSS not measured: {problem}")
        return None
    multiple = peak / dataset_bytes
    print(f"\npeak RSS of `nnscratch train --epochs 1`: {peak / 2**20:.0f} MiB = {multiple:.2f}x the float32 "
          f"dataset ({dataset_bytes / 2**20:.0f} MiB)")
    verdicts.append((f"peak RSS <= {TARGETS['rss_multiple']}x the float32 dataset", multiple,
                     TARGETS["rss_multiple"], False))
    return {"bytes": peak, "dataset_float32_bytes": dataset_bytes, "multiple": multiple}


def print_verdicts(verdicts):
    """Each target met / not met; returns them as dicts for the JSON report."""
    print("\ntargets (medians of pair-by-pair ratios over the quiet rounds):")
    out = []
    for name, value, target, higher_is_better in verdicts:
        met = value >= target if higher_is_better else value <= target
        print(f"  {'met    ' if met else 'NOT met'}  {name}: {value:.2f}")
        out.append({"target": name, "value": value, "met": met})
    return out


# ----- the orchestra ----------------------------------------------------------------------------------
def orchestrate(args):
    rounds = args.rounds or (3 if args.quick else 7)
    epochs = 1 if args.quick else 3
    pace = {"max_wait": args.max_wait, "gap": args.gap}
    optional = [c for c, module in (("jax", "jax"), ("torch", "torch"), ("sklearn", "sklearn")) if available(module)]
    report = {"machine": machine(), "quick": args.quick, "rounds": rounds, "epochs": epochs, "targets": TARGETS}
    print(f"machine: {report['machine']}")
    print(f"{rounds} interleaved rounds, fresh process each; quiet = others < {QUIET_CORES} cores (wait up to "
          f"{args.max_wait:.0f} s), {args.gap} s idle gap between contenders")
    verdicts = []
    if args.workload != "cnn":
        mlp_sections(args, report, rounds, epochs, pace, optional, verdicts)
    if args.workload != "mlp":
        cnn = interleaved(CNN_CONTENDERS, rounds, what="cnn", steps=args.cnn_steps, **pace)
        report["cnn"] = cnn_table(cnn, verdicts)
        report["cnn"]["rounds"] = cnn
    report["verdicts"] = print_verdicts(verdicts)
    if args.json:
        with open(args.json + ".tmp", "w") as f:
            json.dump(report, f, indent=2)
        os.replace(args.json + ".tmp", args.json)
        print(f"\nwritten: {args.json}")


def mlp_sections(args, report, rounds, epochs, pace, optional, verdicts):
    """The MLP workload: training, inference, contention, epoch sweeps and peak memory, into `report`."""
    print(f"training: MLP {'-'.join(map(str, SIZES))}, batch {BATCH}, SGD momentum {MOMENTUM}, float32, "
          f"{epochs} epoch(s)")
    train = interleaved(["nnscratch", "numpy", "matmul"] + optional, rounds, epochs=epochs, n_train=args.n_train,
                        **pace)
    report["source"] = train[0]["results"]["nnscratch"].get("source")
    print(f"data: {report['source']}")
    report["training"] = training_table(train, verdicts)
    report["training"]["rounds"] = train
    peers = [c for c in ("torch", "jax") if c in optional]
    if peers:
        inference = interleaved(["nnscratch"] + peers, rounds, what="inference", repeats=3 if args.quick else 10,
                                **pace)
        report["inference"] = inference_table(inference, verdicts)
    if "jax" in optional:
        report["contention"] = contention_check(min(rounds, 5), args.n_train, verdicts=verdicts, **pace)
    if not args.no_epoch_sweep:
        report["epoch_seconds"] = epoch_seconds(args.quick, "torch" in optional, args.n_train)
    report["train_peak_rss"] = memory_check(verdicts)


def machine():
    import platform

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    from nnscratch import blas

    versions = ", ".join(f"{m} {__import__(m).__version__}" for m in ("jax", "torch", "sklearn") if available(m))
    return (f"{cpu}, {CORES} cores, Python {platform.python_version()}, NumPy {np.__version__}, {versions}; "
            f"nnscratch's sums: {blas.BACKEND}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 epoch, 3 rounds, fewer sizes: a smoke check")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 7; 3 with --quick)")
    parser.add_argument("--max-wait", type=float, default=20.0,
                        help="seconds to wait for a quiet machine before a round (default 20); then it is disturbed")
    parser.add_argument("--gap", type=float, default=0.5, help="idle seconds between contenders (default 0.5)")
    parser.add_argument("--no-epoch-sweep", action="store_true",
                        help="skip the seconds-per-epoch sweeps over width and batch size")
    parser.add_argument("--workload", choices=("mlp", "cnn", "all"), default="all",
                        help="the MLP's sections, the CNN's (cnn:32,64, batch 128), or both (default)")
    parser.add_argument("--cnn-steps", type=int, default=10,
                        help="CNN training steps per measurement (default 10; 2 for a smoke check)")
    parser.add_argument("--json", metavar="OUT", help="also write the results as JSON")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--what", default="train", help=argparse.SUPPRESS)
    parser.add_argument("--epochs", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--n-train", type=int, default=60000,
                        help="training samples per epoch (default 60000; fewer for a smoke check)")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=BATCH, help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=5, help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=10, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        args.contender = args.worker
        worker(args)
    else:
        orchestrate(args)


if __name__ == "__main__":
    main()

"""Interleaved A/B of one contender under different environment settings, in fresh processes.

    python benchmarks/ab.py --variant one:NNSCRATCH_BLAS_THREADS=1 --variant two:NNSCRATCH_BLAS_THREADS=2 \
        [--contender nnscratch] [--pairs 5] [--n-train 12800] [--hog]

A variant is `name:KEY=VALUE,...` (environment variables; `name:` alone changes nothing), and the
key `contender` picks another contender for that variant: `--variant jax:contender=jax`.

Each round runs every variant once (A B, A B, ...; the order alternates between rounds so that
neither always runs first) as run.py's training worker, one epoch, with a short idle gap between
them. `--hog` keeps a busy-loop process on one core for the whole comparison (run.py's contention
check). Prints, per variant, the median samples/s over the rounds, the median ratio of each
variant to the first one pair by pair, the CPU seconds the worker used per wall second, and the
cores other processes used meanwhile (`quiet.py`): on a shared machine, read the ratios, not the
absolute figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from quiet import OthersLoad

RUN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "run.py")


def parse_variant(text):
    """"name:KEY=VALUE,KEY=VALUE" -> (name, {KEY: VALUE}); "name:" alone is the unchanged environment."""
    name, _, settings = text.partition(":")
    env = dict(item.split("=", 1) for item in settings.split(",") if item)
    return name, env


def measure(contender, env, n_train, extra_pids):
    env = dict(env)
    contender = env.pop("contender", contender)
    command = [sys.executable, RUN, "--worker", contender, "--n-train", str(n_train)]
    with OthersLoad(extra_pids) as load:
        done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **env})
    if done.returncode:
        raise SystemExit(f"{contender} {env} failed:\n{done.stderr}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["others_cores"] = load.others_cores
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variant", action="append", required=True, help="name:KEY=VALUE,... (at least two)")
    parser.add_argument("--contender", default="nnscratch")
    parser.add_argument("--pairs", type=int, default=5, help="rounds (default 5)")
    parser.add_argument("--n-train", type=int, default=12800)
    parser.add_argument("--gap", type=float, default=0.5)
    parser.add_argument("--hog", action="store_true", help="keep a busy-loop process on one core meanwhile")
    args = parser.parse_args()
    variants = [parse_variant(v) for v in args.variant]
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if args.hog else None
    results = {name: [] for name, _ in variants}
    try:
        for round_number in range(args.pairs):
            order = variants if round_number % 2 == 0 else variants[::-1]
            for name, env in order:
                time.sleep(args.gap)
                results[name].append(measure(args.contender, env, args.n_train, (hog.pid,) if hog else ()))
            print(" ".join(f"{n} {results[n][-1]['samples_per_s']:,.0f}" for n, _ in variants), flush=True)
    finally:
        if hog:
            hog.kill()
            hog.wait()
    first = variants[0][0]
    for name, _ in variants:
        rows = results[name]
        speed = statistics.median(r["samples_per_s"] for r in rows)
        ratio = statistics.median(r["samples_per_s"] / f["samples_per_s"] for r, f in zip(rows, results[first]))
        cpu = statistics.median(r.get("cpu_seconds", float("nan")) / r["seconds"] for r in rows)
        others = [r["others_cores"] for r in rows if r["others_cores"] is not None]
        print(f"{name:<12} {speed:9,.0f} samples/s  ÷ {first} {ratio:.2f} (pairs "
              f"{min(r['samples_per_s'] / f['samples_per_s'] for r, f in zip(rows, results[first])):.2f}-"
              f"{max(r['samples_per_s'] / f['samples_per_s'] for r, f in zip(rows, results[first])):.2f})  "
              f"cpu/wall {cpu:.2f}  others {min(others, default=0):.2f}-{max(others, default=0):.2f} cores")


if __name__ == "__main__":
    main()

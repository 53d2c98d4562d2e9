"""Hand-made features against end-to-end learning: the comparison behind `nnscratch compare`.

The lecture's claim: a linear classifier on raw pixels learns one template per class and
draws straight boundaries; features (HoG, bags of visual words) move the data to where a
linear classifier does much better; a neural network learns its own features. Six runs on the
same data measure it: linear on pixels, HoG, BoW and HoG + BoW; an MLP on pixels and on HoG.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from .atomic import write_bytes_atomic
from .runs import RunConfig, default_lr, train_run, write_json

MLP = "mlp:512,256"
RUNS = (
    ("linear on pixels", {"model": "linear"}),
    ("linear on HoG", {"model": "linear", "features": "hog"}),
    ("linear on BoW", {"model": "linear", "features": "bow:256"}),
    ("linear on HoG + BoW", {"model": "linear", "features": "hog,bow:256"}),
    ("MLP on pixels", {"model": MLP}),
    ("MLP on HoG", {"model": MLP, "features": "hog"}),
)


def compare(out_dir, *, dataset="fashion-mnist", epochs=10, seed=0, offline=False, progress=None, echo=print,
            runs=None):
    """Train each configuration of `runs` (default RUNS) into out_dir/<slug>; write comparison.json and
    comparison.md; return the rows."""
    out_dir = Path(out_dir)
    runs = RUNS if runs is None else runs
    rows = []
    for name, settings in runs:
        config = replace(RunConfig(dataset=dataset, epochs=epochs, seed=seed, lr=default_lr(settings["model"])),
                         **settings)
        echo(f"{name} ...")
        started = time.perf_counter()
        summary = train_run(config, out_dir / _slug(name), offline=offline, progress=progress, echo=echo,
                            features_cache=out_dir)
        rows.append({"run": name, "model": config.model, "features": config.features or "pixels",
                     "test_accuracy": summary["test_accuracy"], "seconds": time.perf_counter() - started})
        echo(f"{name}: test accuracy {summary['test_accuracy']:.4f}")
    write_json(out_dir / "comparison.json", {"dataset": dataset, "epochs": epochs, "seed": seed, "rows": rows})
    write_bytes_atomic(out_dir / "comparison.md", (table(rows) + "\n").encode())
    return rows


def table(rows):
    """The rows as a Markdown table: run, test accuracy, seconds."""
    lines = ["| run | test accuracy | seconds (features, training, evaluation, report) |", "| --- | --- | --- |"]
    lines += [f"| {r['run']} | {r['test_accuracy']:.4f} | {r['seconds']:.0f} |" for r in rows]
    return "\n".join(lines)


def _slug(name):
    return name.lower().replace(" + ", "-").replace(" ", "-")


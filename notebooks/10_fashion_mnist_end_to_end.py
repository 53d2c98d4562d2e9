# %% [markdown]
# # 10 · A real classifier on Fashion-MNIST, end to end, with a report
#
# Everything together: a `RunConfig` (the same settings `nnscratch train` takes), the data prepared
# as a run prepares it (preprocessing fitted on the training split only), the one model factory,
# `fit` with a validation split and checkpoints, the test evaluation, and the HTML report, written
# into a run folder that `nnscratch report`, `nnscratch evaluate` and `nnscratch graph` accept.
#
# In quick mode (`NNSCRATCH_QUICK=1`) it trains on a few thousand images for one epoch; unset it
# for the full run.

# %%
import dataclasses
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from nnscratch import nn, runs
from nnscratch.report import write_report
from nnscratch.train import confusion_matrix, fit

QUICK = os.environ.get("NNSCRATCH_QUICK") == "1"

# %%
config = runs.RunConfig(model="mlp:256" if QUICK else "mlp:512,256", epochs=1 if QUICK else 10,
                        schedule="constant" if QUICK else "warmup-step", lr=0.05).validate()
config

# %%
prepared = runs.prepare_data(config, offline=True)
if QUICK:
    (X, y), (X_val, y_val) = prepared.train, prepared.val
    prepared = dataclasses.replace(prepared, train=(X[:3000], y[:3000]), val=(X_val[:1000], y_val[:1000]))
classes = prepared.info.classes
print("training samples:", len(prepared.train[1]), " validation:", len(prepared.val[1]),
      " test:", len(prepared.test[1]))

# %%
model = runs.build_model(config, prepared.input_shape, len(classes))
model

# %%
run_dir = Path(tempfile.mkdtemp(prefix="nnscratch-notebook-")) / "fashion-mnist-mlp"
started = time.perf_counter()
history = fit(model, nn.CrossEntropyLoss(), runs.make_optimizer(config, model), prepared.train,
              val=prepared.val, epochs=config.epochs, batch_size=config.batch_size, schedule=config.schedule,
              rng=config.seed, out_dir=run_dir)
history

# %%
history.plot();

# %% [markdown]
# ## Test evaluation and the report
# `runs.finish_run` evaluates on the test split and writes model.npz, evaluation.npz, summary.json and
# report.html; config.json records the settings, so the folder is a complete run.

# %%
runs.write_json(run_dir / runs.CONFIG_NAME, config.to_dict())
summary = runs.finish_run(config, model, history, prepared, run_dir, started=started)
print(f"test accuracy {summary['test_accuracy']:.4f}, test loss {summary['test_loss']:.4f}")
print("run folder:", sorted(p.name for p in run_dir.iterdir() if not p.name.startswith(".")))

# %%
for name, accuracy in sorted(summary["per_class_accuracy"].items(), key=lambda kv: kv[1]):
    print(f"{name:>12}: {accuracy:.3f}")

# %% [markdown]
# The classes at the top of that list are the hardest for this model; the confusion matrix in the
# report shows which classes they are mistaken for.
#
# `write_report(run_dir)` rewrites the report from the folder's files at any time (so does
# `nnscratch report RUN` on the command line):

# %%
report = write_report(run_dir)
print(report.name, f"{report.stat().st_size / 1024:.0f} KiB")

# %% [markdown]
# A deterministic check of the metrics this notebook relies on (independent of the training):

# %%
cm = confusion_matrix(np.array([0, 1, 2, 2]), np.array([0, 2, 2, 1]), 3)
print(f"RESULT confusion_trace={int(np.trace(cm))}")

# %% [markdown]
# ## Exercises
# 1. Open report.html in a browser. Which test images is the model most confidently wrong about?
# 2. Run `nnscratch evaluate RUN --split train` on the folder and compare with the test accuracy.
# 3. Train with `augment="flip,crop"` in the `RunConfig`. Does the gap between train and test close?

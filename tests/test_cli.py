"""The `nnscratch` command end to end, on a small Fashion-MNIST look-alike the test writes."""

import json
import re
import subprocess
import sys

import numpy as np
import pytest

from nnscratch import data
from nnscratch.cli import main
from nnscratch.data import registry
from nnscratch.data.parsers import write_idx

from data_helpers import with_files

VERBS = ["train", "evaluate", "predict", "report"]


def tiny_fashion(folder, n_train=600, n_test=200, seed=0):
    """28x28 images whose class sets which horizontal band is bright, plus noise."""
    rng = np.random.default_rng(seed)
    files = {}
    for split, n, prefix in (("train", n_train, "train"), ("test", n_test, "t10k")):
        y = rng.integers(0, 10, n).astype(np.uint8)
        X = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
        for i, label in enumerate(y):
            X[i, 2 + 2 * label: 4 + 2 * label, :] = 200
        files[split] = [folder / f"{prefix}-images-idx3-ubyte.gz", folder / f"{prefix}-labels-idx1-ubyte.gz"]
        write_idx(files[split][0], X)
        write_idx(files[split][1], y)
    return files


@pytest.fixture(scope="module")
def fake_fashion(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data") / "fashion-mnist"
    folder.mkdir()
    return folder, with_files(registry.DATASETS["fashion-mnist"], tiny_fashion(folder))


@pytest.fixture
def fashion_env(fake_fashion, monkeypatch, tmp_path):
    folder, entry = fake_fashion
    monkeypatch.setitem(data.DATASETS, "fashion-mnist", entry)
    monkeypatch.setenv("NNSCRATCH_DATA", str(folder.parent))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return folder


@pytest.fixture(scope="module")
def trained_run(fake_fashion, tmp_path_factory):
    folder, entry = fake_fashion
    run = tmp_path_factory.mktemp("runs") / "tiny"
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(data.DATASETS, "fashion-mnist", entry)
        mp.setenv("NNSCRATCH_DATA", str(folder.parent))
        mp.setenv("HOME", str(run.parent / "home"))
        code = main(["train", "--model", "mlp:32", "--epochs", "3", "--augment", "flip,crop,scale,jitter",
                     "--out", str(run), "--offline", "--quiet", "--lr", "0.05"])
    assert code == 0
    return run


def test_train_writes_the_whole_run_folder(trained_run):
    names = {p.name for p in trained_run.iterdir()}
    assert {"config.json", "metrics.jsonl", "summary.json", "model.npz", "checkpoint.npz", "report.html"} <= names
    summary = json.loads((trained_run / "summary.json").read_text())
    assert summary["test_accuracy"] > 0.5  # ten bright bands are easy to tell apart
    assert set(summary) >= {"test_loss", "test_accuracy", "timings"}
    config = json.loads((trained_run / "config.json").read_text())
    assert config["model"] == "mlp:32" and config["augment"] == "flip,crop,scale,jitter"


def test_train_prints_the_test_accuracy_and_the_report(fashion_env, tmp_path, capsys):
    assert main(["train", "--model", "linear", "--epochs", "1", "--out", str(tmp_path / "r"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"test accuracy [01]\.\d{4} \(test loss", out) and f"report: {tmp_path / 'r' / 'report.html'}" in out
    assert re.search(r"\) after 1 epoch, \d+ s\n", out)  # not "1 epochs"


def test_resume_continues_a_finished_run_with_its_saved_configuration(trained_run, fashion_env, capsys):
    before = json.loads((trained_run / "summary.json").read_text())["test_accuracy"]
    assert main(["train", "--out", str(trained_run), "--resume", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "resuming" in captured.err
    assert re.search(r"\) after 3 epochs, \d+ s\n", captured.out)
    assert json.loads((trained_run / "summary.json").read_text())["test_accuracy"] == before


def test_evaluate_predict_and_report_verbs(trained_run, fashion_env, tmp_path, capsys):
    assert main(["evaluate", str(trained_run), "--offline"]) == 0
    out = capsys.readouterr().out
    summary = json.loads((trained_run / "summary.json").read_text())
    assert f"accuracy {summary['test_accuracy']:.4f}" in out and "Ankle boot" in out

    X, y = data.load("fashion-mnist", "test")
    np.save(tmp_path / "one.npy", X[0])
    from PIL import Image

    Image.fromarray(X[1]).save(tmp_path / "two.png")
    assert main(["predict", str(trained_run / "model.npz"), str(tmp_path / "one.npy"), str(tmp_path / "two.png")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{tmp_path / 'one.npy'}: ") and lines[1].startswith(f"{tmp_path / 'two.png'}: ")
    classes = data.info("fashion-mnist").classes
    assert all(any(f": {c} (" in line for c in classes) for line in lines)

    (trained_run / "report.html").unlink()
    assert main(["report", str(trained_run)]) == 0
    assert (trained_run / "report.html").stat().st_size > 10_000


@pytest.mark.parametrize("argv, message", [
    (["train", "--lr", "-1"], "argument --lr: it must be a positive number, got -1"),
    (["train", "--activation", "swish"], "invalid choice: 'swish'"),
    (["train", "--model", "rnn:3"], "unknown model 'rnn:3'; use 'linear', 'mlp:W1,W2,...'"),
    (["train", "--model", "cnn:3,x"], "unknown model 'cnn:3,x'; a CNN is 'cnn:C1,C2,...'"),
    (["train", "--preprocess", "pca:x"], "unknown preprocessing 'pca:x'; choose one of standardize, pca:N"),
    (["train", "--augment", "rotate"], "unknown augmentation 'rotate'; choose from flip, crop, scale, jitter"),
    (["train", "--augment", "flip:2"], "unknown augmentation 'flip:2'"),
    (["train", "--init", "uniform"], "unknown init 'uniform'"),
    (["train", "--label-smoothing", "1.5"], "argument --label-smoothing: it must be a number in [0, 1]"),
    (["train", "--label-smoothing", "-0.1"], "argument --label-smoothing: it must be a number in [0, 1]"),
    (["predict", "model.npz"], "the following arguments are required: IMAGE"),
])
def test_usage_errors_exit_2_with_one_clear_line(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_missing_data_offline_says_where_it_looked_and_how_to_get_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NNSCRATCH_DATA", str(tmp_path / "empty"))
    monkeypatch.setitem(data.DATASETS, "mnist", registry.DATASETS["mnist"])
    assert main(["train", "--dataset", "mnist", "--offline", "--out", str(tmp_path / "r"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "not found in" in err and str(tmp_path / "empty" / "mnist") in err and "run without --offline" in err and "download=True" not in err


def test_a_model_file_that_is_not_ours_is_an_error_not_a_traceback(tmp_path, capsys):
    (tmp_path / "bad.npz").write_bytes(b"nonsense")
    assert main(["evaluate", str(tmp_path / "bad.npz")]) == 1
    assert "bad.npz is not an nnscratch model file (.npz written by nnscratch.save)" in capsys.readouterr().err


@pytest.mark.parametrize("verb", VERBS)
def test_every_verb_has_help(verb):
    result = subprocess.run([sys.executable, "-m", "nnscratch", verb, "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith(f"usage: nnscratch {verb}")


def test_the_console_script_is_installed():
    import shutil

    script = shutil.which("nnscratch", path=str(__import__("pathlib").Path(sys.executable).parent))
    assert script, "pip install -e . should install the nnscratch command beside this Python"
    result = subprocess.run([script, "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "train" in result.stdout


def test_training_on_features_caches_them_and_predicts_from_images(fashion_env, tmp_path, capsys):
    run = tmp_path / "hog"
    assert main(["train", "--model", "linear", "--features", "hog,bow:16", "--epochs", "2", "--out", str(run),
                 "--quiet"]) == 0
    assert len(list(run.glob("features-*.npz"))) == 1  # computed once, keyed by the settings
    summary = json.loads((run / "summary.json").read_text())
    assert summary["test_accuracy"] > 0.5
    X, _ = data.load("fashion-mnist", "test")
    np.save(tmp_path / "img.npy", X[0])
    capsys.readouterr()
    assert main(["predict", str(run), str(tmp_path / "img.npy")]) == 0  # images in: the extractor is saved too
    assert capsys.readouterr().out.startswith(f"{tmp_path / 'img.npy'}: ")
    assert "does not read raw pixels" in (run / "report.html").read_text()


def test_features_and_augmentation_do_not_combine(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--features", "hog", "--augment", "flip"])
    assert exit_.value.code == 2 and "--features and --augment do not combine" in capsys.readouterr().err


def test_compare_runs_the_six_configurations_into_one_table(fashion_env, tmp_path, capsys, monkeypatch):
    from nnscratch import comparison

    small = tuple((name, {k: v.replace("bow:256", "bow:16") for k, v in settings.items()})
                  for name, settings in comparison.RUNS)  # the same six runs, with a smaller codebook
    monkeypatch.setattr(comparison, "RUNS", small)
    assert main(["compare", "--epochs", "1", "--out", str(tmp_path / "cmp"), "--offline", "--quiet"]) == 0
    out = capsys.readouterr().out
    for run in ("linear on pixels", "linear on HoG", "linear on BoW", "linear on HoG + BoW", "MLP on pixels",
                "MLP on HoG"):
        assert f"| {run} | " in out
    rows = json.loads((tmp_path / "cmp" / "comparison.json").read_text())["rows"]
    assert len(rows) == 6 and all(0 <= r["test_accuracy"] <= 1 for r in rows)


def test_ctrl_c_saves_a_checkpoint_says_how_to_resume_and_resume_finishes(tmp_path):
    import os
    import signal

    from test_datasets import DEBIAN_FASHION

    if not DEBIAN_FASHION.is_dir():
        if os.environ.get("CI"):
            pytest.fail("apt-get install dataset-fashion-mnist")
        pytest.skip("needs Debian's dataset-fashion-mnist")
    run = tmp_path / "run"
    env = {**os.environ, "HOME": str(tmp_path), "NNSCRATCH_DATA": str(tmp_path / "none")}
    # 6 epochs: the signal lands in epoch 3, so the resume has epochs 3-6 to finish
    command = [sys.executable, "-m", "nnscratch", "train", "--model", "linear", "--epochs", "6", "--offline",
               "--out", str(run)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    for line in process.stderr:  # not a terminal: one line per epoch
        if line.startswith("epoch 2:"):
            process.send_signal(signal.SIGINT)
            break
    err = process.stderr.read()
    assert process.wait(timeout=120) == 130
    assert f"--out {run} --resume" in err and (run / "checkpoint.npz").is_file()
    resumed = subprocess.run(command + ["--resume"], capture_output=True, text=True, env=env, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    epochs = [json.loads(line)["epoch"] for line in (run / "metrics.jsonl").read_text().splitlines()
              if json.loads(line)["type"] == "epoch"]
    assert epochs == list(range(1, 7))  # every epoch once: none lost, none repeated
    assert json.loads((run / "summary.json").read_text())["test_accuracy"] > 0.8


@pytest.mark.parametrize("sample_shape, trained_on", [([8, 8], "mnist"), ([40], "mnist1d")])
def test_evaluate_on_a_dataset_of_another_sample_shape_names_the_option(fashion_env, tmp_path, capsys,  # noqa: F811
                                                                         sample_shape, trained_on):
    import nnscratch
    from nnscratch import nn

    width = int(np.prod(sample_shape))
    path = tmp_path / "m.npz"
    nnscratch.save(nn.Sequential(nn.Flatten(), nn.Linear(width, 10, rng=0)), path,
                   meta={"dataset": trained_on, "sample_shape": sample_shape, "classes": list("abcdefghij")})
    with pytest.raises(SystemExit) as exited:
        main(["evaluate", str(path), "--dataset", "fashion-mnist", "--offline"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert (f"--dataset fashion-mnist: its samples have shape (28, 28), but this model takes {tuple(sample_shape)} "
            f"(it was trained on {trained_on})") in err
    assert "Standardize" not in err and "matmul" not in err and "Traceback" not in err


def test_label_smoothing_trains_with_the_smoothed_loss_and_is_saved(fashion_env, tmp_path, monkeypatch):
    from nnscratch.runs import run as run_module

    losses = []
    real_fit = run_module.fit
    monkeypatch.setattr(run_module, "fit", lambda model, loss, *a, **k: losses.append(loss) or real_fit(model, loss,
                                                                                                        *a, **k))
    out = tmp_path / "smoothed"
    assert main(["train", "--model", "mlp:16", "--epochs", "1", "--label-smoothing", "0.2", "--out", str(out),
                 "--offline", "--quiet"]) == 0
    assert json.loads((out / "config.json").read_text())["label_smoothing"] == 0.2
    assert [loss.label_smoothing for loss in losses] == [0.2]

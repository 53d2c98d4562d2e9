"""The run report: scikit-learn's per-class numbers, a model summary, curves that show the best epoch,
figures without overlapping text, damaged derived files skipped with a warning, a clear error for a
folder that is not a run, and a page that renders with all its sections in a real browser (headless
Chromium from Debian's `chromium`)."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from nnscratch import runs
from nnscratch.cli import main
from nnscratch.report import html as report_html
from nnscratch.report import plots, write_report
from nnscratch.report.classification import classification_report
from nnscratch.report.model_summary import model_summary
from test_cli import fake_fashion, trained_run  # noqa: F401  (the fixtures that make a run folder)

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SECTION_IDS = ("training", "test-results", "model", "templates", "wrong", "configuration")
HEADINGS = ("Training", "Test results", "Model", "What the first layer looks for", "Most confidently wrong test images",
            "Configuration")


def chromium():
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run must `apt-get install chromium`")
        pytest.skip("apt-get install chromium to run the browser check")
    return path


@pytest.fixture
def run_copy(trained_run, tmp_path):  # noqa: F811
    """A copy of the trained run folder that a test may damage."""
    copy = tmp_path / "run"
    shutil.copytree(trained_run, copy)
    (copy / "report.html").unlink()
    return copy


def sklearn_report(y_true, y_pred, classes):
    metrics = pytest.importorskip("sklearn.metrics")
    return metrics.classification_report(y_true, y_pred, labels=range(len(classes)), target_names=classes,
                                         output_dict=True, zero_division=0)


def assert_same_report(ours, theirs):
    assert set(ours) == set(theirs)
    for key, row in theirs.items():
        if key == "accuracy":
            assert ours[key] == pytest.approx(row, abs=1e-12)
        else:
            assert {k: ours[key][k] for k in row} == pytest.approx(row, abs=1e-12), key


def test_classification_report_equals_scikit_learns():
    y_true = np.array([0, 0, 1, 1, 1, 2, 2, 2, 2, 0])
    y_pred = np.array([0, 1, 1, 1, 2, 2, 2, 0, 2, 0])
    classes = ["cat", "dog", "fox"]
    confusion = np.zeros((3, 3), int)
    np.add.at(confusion, (y_true, y_pred), 1)
    assert_same_report(classification_report(confusion, classes), sklearn_report(y_true, y_pred, classes))


def test_classification_report_with_a_never_predicted_and_an_absent_class_equals_scikit_learns():
    rng = np.random.default_rng(3)
    y_true = rng.integers(0, 4, 200)  # class 4 never occurs
    y_pred = np.where(rng.random(200) < 0.7, y_true, rng.integers(0, 3, 200))  # class 3 is never predicted
    y_pred[y_pred == 3] = 2
    classes = [f"c{k}" for k in range(5)]
    confusion = np.zeros((5, 5), int)
    np.add.at(confusion, (y_true, y_pred), 1)
    assert_same_report(classification_report(confusion, classes), sklearn_report(y_true, y_pred, classes))
    with pytest.raises(ValueError, match="confusion must be"):
        classification_report(confusion[:4], classes)


def test_the_report_table_holds_scikit_learns_numbers_for_the_run(run_copy):
    page = write_report(run_copy).read_text()
    evaluation = np.load(run_copy / "evaluation.npz")
    classes = json.loads((run_copy / "summary.json").read_text())["per_class_accuracy"].keys()
    theirs = sklearn_report(evaluation["labels"], evaluation["probabilities"].argmax(axis=1), list(classes))
    for name in ("macro avg", "weighted avg", *classes):
        row = theirs[name]
        assert (f"<td>{name}</td><td class=\"num\">{row['precision']:.4f}</td><td class=\"num\">{row['recall']:.4f}"
                f"</td><td class=\"num\">{row['f1-score']:.4f}</td>") in page


def test_model_summary_counts_every_layers_parameters():
    model = runs.build_model(runs.RunConfig(model="mlp:32", seed=0), 784, 10)
    rows, total = model_summary(model)
    assert rows == [("Flatten()", "(N, 784)", 0), ("Linear(784 -> 32)", "(N, 32)", 784 * 32 + 32),
                    ("ReLU()", "(N, 32)", 0), ("Linear(32 -> 10)", "(N, 10)", 32 * 10 + 10)]
    assert total == 25450


def test_model_summary_of_a_maxout_net_with_dropout():
    model = runs.build_model(runs.RunConfig(model="mlp:6,4", activation="maxout", dropout=0.5, seed=0), 20, 3)
    rows, total = model_summary(model)
    assert [shape for _, shape, _ in rows] == ["(N, 20)", "(N, 6)", "(N, 6)", "(N, 4)", "(N, 4)", "(N, 3)"]
    assert total == 2 * (20 * 6 + 6) + 2 * (6 * 4 + 4) + 4 * 3 + 3 == sum(count for _, _, count in rows)


def test_best_epoch_is_the_lowest_validation_loss_or_the_kept_one():
    run = report_html.RunFiles(Path("r"), {}, None, epochs=[{"val_loss": 1.0}, {"val_loss": 0.4}, {"val_loss": 0.6}])
    assert report_html.best_epoch(run) == 2
    run.summary = {"best_epoch": 3}
    assert report_html.best_epoch(run) == 3
    assert report_html.best_epoch(report_html.RunFiles(Path("r"), {}, None, epochs=[{"val_loss": None}])) is None


def add_step_records(run):
    """Step lines as fit logs them every 50 steps (the tiny run is too short to have any)."""
    with open(run / "metrics.jsonl", "a") as log:
        for step in range(50, 1001, 50):
            log.write(json.dumps({"type": "step", "step": step, "epoch": 1 + step // 400,
                                  "loss": 2.3 / (1 + step / 200), "lr": 0.05 if step < 500 else 0.005}) + "\n")


def test_training_shows_the_loss_per_logged_step_and_the_best_epoch(run_copy):
    add_step_records(run_copy)
    page = write_report(run_copy).read_text()
    assert 'alt="loss per step"' in page and 'alt="learning rate"' in page
    epochs = [json.loads(line) for line in (run_copy / "metrics.jsonl").read_text().splitlines()
              if json.loads(line)["type"] == "epoch"]
    best = int(np.argmin([e["val_loss"] for e in epochs])) + 1
    assert f"Best epoch: {best} (marked" in page


def test_smoothing_is_tensorboards_debiased_moving_average():
    np.testing.assert_allclose(plots.smoothed([1.0, 0.0, 0.0], weight=0.5), [1.0, 1 / 3, 1 / 7])


def test_no_text_overlaps_in_any_report_figure(run_copy, monkeypatch):
    add_step_records(run_copy)
    overlaps, drawn = [], []
    original = plots.png

    def checked(fig):
        drawn.append(fig)
        overlaps.extend(plots.text_overlaps(fig))
        return original(fig)

    monkeypatch.setattr(plots, "png", checked)
    write_report(run_copy)
    assert len(drawn) >= 8 and not overlaps, overlaps


def test_wrong_images_show_probabilities_to_three_digits(run_copy, monkeypatch):
    titles = []
    monkeypatch.setattr(plots, "image_grid", lambda images, t, **kw: titles.extend(t) or plots.png(plots.pyplot().figure()))
    write_report(run_copy)
    evaluation = np.load(run_copy / "evaluation.npz")
    first = evaluation["wrong_index"][0]
    p = evaluation["probabilities"][first]
    assert f"p(pred) = {p.max():.3f}" in titles[-len(evaluation["wrong_index"])]
    assert f"p(true) = {p[evaluation['labels'][first]]:.3f}" in titles[-len(evaluation["wrong_index"])]


def test_report_is_self_contained(trained_run):  # noqa: F811
    page = (trained_run / "report.html").read_text()
    assert page.count("data:image/png;base64,") >= 6
    # nothing to fetch: the only URLs allowed are the inline SVG's namespace names, which are never loaded
    names = ('xmlns="http://www.w3.org/2000/svg"', 'xmlns:xlink="http://www.w3.org/1999/xlink"')
    for name in names:
        page = page.replace(name, "")
    assert "http://" not in page and "https://" not in page
    for heading in HEADINGS:
        assert f"<h2>{heading}</h2>" in page
    assert "computational graph" in page.lower()  # the place the viz package's graph goes
    assert 'data-testid="graph-svg"' in page  # and the graph itself, collapsed by module


@pytest.mark.parametrize("damage", ["delete", "garbage"])
@pytest.mark.parametrize("filename, skipped", [("metrics.jsonl", "training"), ("summary.json", None),
                                               ("evaluation.npz", "test-results")])
def test_a_missing_or_damaged_derived_file_skips_its_sections_with_one_warning(run_copy, filename, skipped, damage):
    path = run_copy / filename
    path.unlink() if damage == "delete" else path.write_bytes(b"{oops")
    warnings = []
    page = write_report(run_copy, warn=warnings.append).read_text()
    assert len(warnings) == 1 and filename in warnings[0] and "\n" not in warnings[0]
    assert "Skipped:" in page and f"{filename} is missing or damaged" in page
    if skipped:
        assert f'<section id="{skipped}"><h2>' in page
    assert '<section id="model">' in page  # everything else is still there


def test_a_metrics_log_cut_mid_line_keeps_its_good_lines(run_copy):
    path = run_copy / "metrics.jsonl"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-1]) + "\n" + lines[-1][: len(lines[-1]) // 2])
    warnings = []
    page = write_report(run_copy, warn=warnings.append).read_text()
    assert warnings == [f"metrics.jsonl line {len(lines)} is damaged; the curves stop at the line before it"]
    assert 'alt="loss curves"' in page


def test_a_folder_that_is_not_a_run_gets_one_clear_error(tmp_path, capsys):
    with pytest.raises(FileNotFoundError, match="does not exist") as missing:
        write_report(tmp_path / "nowhere")
    assert str(tmp_path / "nowhere") in str(missing.value) and "Errno" not in str(missing.value)
    with pytest.raises(ValueError, match="is not a run folder") as empty:
        write_report(tmp_path)
    assert str(tmp_path) in str(empty.value)
    assert main(["report", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not a run folder" in err and "Errno" not in err and "Traceback" not in err


def test_a_damaged_source_file_names_itself(run_copy):
    (run_copy / "config.json").write_text("{oops")
    with pytest.raises(ValueError, match=r"config\.json is damaged \(not valid JSON"):
        write_report(run_copy)
    (run_copy / "config.json").unlink()
    (run_copy / "model.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match=r"model\.npz cannot be read as a model"):
        write_report(run_copy)


def test_report_renders_in_headless_chromium_with_every_section(trained_run, tmp_path):  # noqa: F811
    shot = tmp_path / "report.png"
    flags = [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    subprocess.run([*flags, "--window-size=1200,2400", f"--screenshot={shot}", (trained_run / "report.html").as_uri()],
                   check=True, capture_output=True, timeout=120)
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)[..., :3]
    not_white = np.mean(pixels.min(axis=2) < 0.9)
    assert pixels.std() > 0.05 and not_white > 0.02, "the screenshot is blank"
    coloured = np.mean(np.ptp(pixels, axis=2) > 0.2)  # the plots' blues and oranges
    assert coloured > 0.005
    dom = subprocess.run([*flags, "--dump-dom", (trained_run / "report.html").as_uri()], check=True,
                         capture_output=True, timeout=120, text=True).stdout
    for key, heading in zip(SECTION_IDS, HEADINGS):
        assert f'<section id="{key}"><h2>{heading}</h2>' in dom
    assert dom.count("<img") >= 6 and "Precision, recall and F1 per class" in dom


# ----- damaged derived files of other kinds (issue 13 item 2): skipped with one warning naming the file -----
def damaged_copy(trained_run, tmp_path, name, content):
    from pathlib import Path

    run = Path(shutil.copytree(trained_run, tmp_path / "run"))
    (run / "report.html").unlink()
    (run / name).write_bytes(content)
    return run


@pytest.mark.parametrize("name, content, problem", [
    ("summary.json", b"[1, 2]", "summary.json in {run} is damaged (not a JSON object)"),
    ("summary.json", b'{"test_accuracy": "high"}', "summary.json in {run} is damaged (test_accuracy, test_loss, epochs_run"),
    ("evaluation.npz", b"not an archive", "evaluation.npz in {run} is damaged (not an .npz archive of plain arrays)"),
    ("metrics.jsonl", b'{"type": "epoch", "train_loss": "x"}\n', "metrics.jsonl in {run} is damaged (line 1 is not"),
])
def test_a_derived_file_of_the_wrong_kind_is_skipped_with_one_warning(trained_run, tmp_path, capsys, name, content,  # noqa: F811
                                                                      problem):
    from nnscratch.cli import main

    run = damaged_copy(trained_run, tmp_path, name, content)
    assert main(["report", str(run)]) == 0
    err = capsys.readouterr().err
    assert problem.format(run=run) in err and "Traceback" not in err and "allow_pickle" not in err
    assert len(err.strip().splitlines()) == 1 and (run / "report.html").is_file()


def test_evaluation_whose_labels_do_not_match_the_classes_is_skipped(trained_run, tmp_path, capsys):  # noqa: F811
    import io

    from nnscratch.cli import main

    evaluation = dict(np.load(trained_run / "evaluation.npz"))
    evaluation["labels"] = evaluation["labels"] + 10
    buffer = io.BytesIO()
    np.savez(buffer, **evaluation)
    run = damaged_copy(trained_run, tmp_path, "evaluation.npz", buffer.getvalue())
    assert main(["report", str(run)]) == 0
    assert "its arrays do not fit together" in capsys.readouterr().err
    assert "Skipped: evaluation.npz" in (run / "report.html").read_text()


def test_a_config_json_of_the_wrong_kind_is_one_line_naming_it(trained_run, tmp_path, capsys):  # noqa: F811
    from nnscratch.cli import main

    run = damaged_copy(trained_run, tmp_path, "config.json", b'["a list"]')
    assert main(["report", str(run)]) == 1
    err = capsys.readouterr().err
    assert "config.json" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1

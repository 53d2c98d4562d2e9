"""The run report renders in a real browser (headless Chromium from Debian's `chromium`)."""

import os
import shutil
import subprocess

import numpy as np
import pytest

from test_cli import fake_fashion, trained_run  # noqa: F401  (the fixtures that make a run folder)

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium():
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run must `apt-get install chromium`")
        pytest.skip("apt-get install chromium to run the browser check")
    return path


def test_report_is_self_contained(trained_run):  # noqa: F811
    page = (trained_run / "report.html").read_text()
    assert page.count("data:image/png;base64,") >= 5
    assert "http://" not in page and "https://" not in page  # nothing to fetch
    for heading in ("Training", "Test results", "What the first layer looks for",
                    "Most confidently wrong test images", "Configuration"):
        assert f"<h2>{heading}</h2>" in page


def test_report_renders_in_headless_chromium(trained_run, tmp_path):  # noqa: F811
    shot = tmp_path / "report.png"
    subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,2400",
                    f"--screenshot={shot}", (trained_run / "report.html").as_uri()],
                   check=True, capture_output=True, timeout=120)
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)[..., :3]
    not_white = np.mean(pixels.min(axis=2) < 0.9)
    assert pixels.std() > 0.05 and not_white > 0.02, "the screenshot is blank"
    coloured = np.mean(np.ptp(pixels, axis=2) > 0.2)  # the plots' blues and oranges
    assert coloured > 0.005


# ----- damaged derived files (issue 13 item 2): one line naming the file, or skipped with a warning -----
def damaged_copy(trained_run, tmp_path, name, content):
    from pathlib import Path

    run = Path(shutil.copytree(trained_run, tmp_path / "run"))
    (run / "report.html").unlink()
    (run / name).write_bytes(content)
    return run


@pytest.mark.parametrize("name, content, problem", [
    ("summary.json", b"[1, 2]", "summary.json is damaged (not a JSON object)"),
    ("summary.json", b'{"test_accuracy": "high"}', "summary.json is damaged (test_accuracy, test_loss, epochs_run"),
    ("evaluation.npz", b"not an archive", "evaluation.npz is damaged (not an .npz archive of plain arrays)"),
    ("config.json", b'["a list"]', "config.json has bad settings"),
])
def test_report_from_a_damaged_file_is_one_line_naming_it(trained_run, tmp_path, capsys, name, content,  # noqa: F811
                                                          problem):
    from nnscratch.cli import main

    run = damaged_copy(trained_run, tmp_path, name, content)
    assert main(["report", str(run)]) == 1
    err = capsys.readouterr().err
    assert problem in err and "Traceback" not in err and "allow_pickle" not in err
    assert len(err.strip().splitlines()) == 1 and not (run / "report.html").exists()


def test_evaluation_whose_labels_do_not_match_the_classes_is_refused(trained_run, tmp_path, capsys):  # noqa: F811
    import io

    from nnscratch.cli import main

    evaluation = dict(np.load(trained_run / "evaluation.npz"))
    evaluation["labels"] = evaluation["labels"] + 10
    buffer = io.BytesIO()
    np.savez(buffer, **evaluation)
    run = damaged_copy(trained_run, tmp_path, "evaluation.npz", buffer.getvalue())
    assert main(["report", str(run)]) == 1
    assert "its arrays do not fit together" in capsys.readouterr().err


def test_damaged_metrics_lines_are_skipped_with_one_warning_and_the_report_is_written(trained_run, tmp_path,  # noqa: F811
                                                                                      capsys):
    from nnscratch.cli import main

    good = (trained_run / "metrics.jsonl").read_bytes()
    run = damaged_copy(trained_run, tmp_path, "metrics.jsonl", good + b'5\n{"type": "epoch", "train_loss": "x"}\n{oops\n')
    assert main(["report", str(run)]) == 0
    err = capsys.readouterr().err
    assert "metrics.jsonl: 3 damaged line(s) skipped" in err and "Traceback" not in err
    assert (run / "report.html").is_file()

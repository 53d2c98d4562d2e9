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

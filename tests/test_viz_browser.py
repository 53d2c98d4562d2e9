"""The viz pages work in a real browser: headless Chromium (Debian's chromium + chromedriver) through
Selenium, from a file:// URL, with no console errors, a non-blank screenshot, and the step-through
ending on the engine's gradients."""

import io
import os
import shutil

import numpy as np
import pytest

from nnscratch import viz
from nnscratch.viz import examples
from nnscratch.viz import format as fmt


def _missing(what):
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing: .ci/run must `apt-get install chromium chromium-driver` and install "
                    f"the test extra (selenium)")
    pytest.skip(f"{what} is needed for the browser check")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    try:
        from selenium import webdriver
    except ImportError:
        _missing("selenium")
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver_path:
        _missing("chromium and chromedriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1400,900", f"--user-data-dir={tmp_path_factory.mktemp('profile')}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    yield driver
    driver.quit()


def open_page(browser, path):
    browser.get(path.as_uri())
    browser.get_log("browser")  # drop anything from before this page
    browser.refresh()
    return browser.find_element("css selector", ".nnscratch-viz[data-ready]")


def errors(browser):
    return [entry for entry in browser.get_log("browser") if entry["level"] in ("SEVERE", "WARNING")]


def not_blank(png_bytes):
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(png_bytes)).convert("RGB"), dtype=np.float64) / 255
    return pixels.std() > 0.05 and np.mean(pixels.min(axis=2) < 0.9) > 0.01


def grad_text(browser, node_id):
    node = browser.find_element("css selector", f'.nnscratch-stepper-view g[data-node="{node_id}"]')
    texts = node.find_elements("css selector", "text.grad")
    return texts[0].get_attribute("textContent"), texts[0].value_of_css_property("visibility")


def test_the_step_through_opens_steps_and_ends_on_the_engines_gradients(browser, tmp_path):
    from selenium.webdriver.common.keys import Keys

    example = examples.EXAMPLES["sigmoid-neuron"]
    graph = example.run()
    root = open_page(browser, graph.save(tmp_path / "steps.html", step_through=True))
    assert errors(browser) == []
    assert not_blank(browser.get_screenshot_as_png())
    slider = browser.find_element("css selector", "[data-testid=step-slider]")
    frames = graph.frames()
    assert slider.get_attribute("max") == str(len(frames) - 1)
    by_label = {v.label: vid for vid, v in graph.values.items() if v.label}
    assert grad_text(browser, by_label["w0"])[1] == "hidden"  # the first frame: no gradient yet
    root.send_keys(Keys.ARROW_RIGHT)
    assert root.get_attribute("data-frame") == "1"
    browser.find_element("css selector", "[data-testid=step-last]").click()
    assert root.get_attribute("data-frame") == str(len(frames) - 1)
    text = browser.find_element("css selector", "[data-testid=step-text]").text
    assert text.splitlines() == frames[-1]["text"]
    for name in ("w0", "w1", "w2", "x0", "x1"):  # the last frame shows exactly backward's result
        shown, visibility = grad_text(browser, by_label[name])
        assert visibility == "visible"
        assert shown == "grad " + fmt.array(graph.tensors[name].grad)
    root.send_keys(Keys.HOME)
    assert root.get_attribute("data-frame") == "0" and grad_text(browser, by_label["w0"])[1] == "hidden"
    assert errors(browser) == []


def test_a_collapsed_model_graph_opens_a_module_on_click(browser, tmp_path):
    from nnscratch import nn

    model = nn.Sequential(nn.Linear(4, 6, rng=0), nn.ReLU(), nn.Linear(6, 3, rng=1))
    graph = viz.model_graph(model, np.ones((1, 4), np.float32), 1)
    root = open_page(browser, graph.save(tmp_path / "model.html"))
    assert errors(browser) == []
    assert root.get_attribute("data-current-view") == "collapsed"
    assert not_blank(browser.get_screenshot_as_png())
    box = browser.find_element("css selector", '[data-view="collapsed"] g.module')
    scope = box.get_attribute("data-scope")
    box.click()
    assert root.get_attribute("data-current-view") == f"expand-{scope}"
    opened = browser.find_element("css selector", f'[data-view="expand-{scope}"]')
    assert opened.find_elements("css selector", "g.op")  # the Linear's gate is drawn inside
    assert errors(browser) == []


def test_the_console_check_would_see_an_error(browser, tmp_path):
    page = tmp_path / "broken.html"
    page.write_text('<!DOCTYPE html><div class="nnscratch-viz" data-ready="true">x</div>'
                    '<script>console.error("deliberate"); undefinedFunction();</script>')
    browser.get(page.as_uri())
    assert len(errors(browser)) >= 2

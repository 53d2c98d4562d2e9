"""The playground page in real headless Chromium (Debian's chromium + chromedriver, via Selenium),
against a server this module starts on 127.0.0.1 and stops."""

import io
import shutil
import time
from urllib.parse import parse_qsl

import numpy as np
import pytest

pytest.importorskip("starlette")
webdriver = pytest.importorskip("selenium.webdriver")
from PIL import Image  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

from nnscratch.playground import launch, server  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
    pytest.skip("needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)",
                allow_module_level=True)

CIRCLE = "dataset=circle&noise=0&layers=4,4&activation=tanh&init=xavier&lr=0.03&seed=1"


@pytest.fixture(scope="module")
def url():
    with launch.running() as address:
        yield address


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(arg)
    options.binary_location = CHROMIUM
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


@pytest.fixture
def page(url, browser):
    """Open a hash on a fresh page; afterwards assert the page logged no console error."""
    def open_(hash_):
        browser.get("about:blank")
        browser.get_log("browser")  # drop what earlier pages logged
        browser.get(f"{url}#{hash_}")
        wait_for(lambda: browser.execute_script("return window.playgroundStats && window.playgroundStats.frames > 0"))
        return browser
    yield open_
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []


def wait_for(condition, timeout=60, poll=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"not true within {timeout} s: {condition}")


def by_testid(driver, name):
    return driver.find_element(By.CSS_SELECTOR, f'[data-testid="{name}"]')


def number(driver, name):
    try:
        return float(by_testid(driver, name).text)
    except ValueError:
        return None


def hash_of(driver):
    return dict(parse_qsl(driver.execute_script("return location.hash").lstrip("#"), keep_blank_values=True))


def test_the_circle_run_from_a_url_reaches_test_loss_below_005(page):
    driver = page(CIRCLE + "&play=1")
    start_loss = number(driver, "test-loss")
    assert start_loss is None or start_loss > 0.05
    wait_for(lambda: (number(driver, "test-loss") or 1) < 0.05, timeout=60)
    assert number(driver, "epoch") >= 1 and number(driver, "train-loss") < 0.2
    assert hash_of(driver)["play"] == "1"


def playing_pages():
    return sum(connection.playing for connection in list(server.Connection.open))


def test_a_page_left_for_another_stops_training_on_the_server(page):
    # Three pages opened one after the other in one tab: each one left must stop its training, or
    # the page in front gets a third of the CPU (the redraw rate fell 21 -> 11 -> 8 per second).
    for seed in (1, 2, 3):
        page(CIRCLE.replace("seed=1", f"seed={seed}") + "&play=1")
        wait_for(lambda: playing_pages() == 1, timeout=10)
    page("dataset=xor&seed=4")
    wait_for(lambda: playing_pages() == 0, timeout=10)


def test_the_hash_round_trips_every_setting(page):
    given = {"dataset": "spiral", "classes": "3", "noise": "25", "ratio": "70", "batch": "17",
             "features": "x1,x2,x1sq,sinx2", "preprocess": "standardize", "layers": "5,2,3", "activation": "relu",
             "acts": "elu,tanh,maxout", "init": "kaiming", "optimizer": "adam", "lr": "0.003",
             "schedule": "warmup-step", "steps": "500", "reg": "l1", "rate": "0.001", "dropout": "0.1", "seed": "42",
             "discretize": "1", "test": "1"}
    driver = page("&".join(f"{k}={v}" for k, v in given.items()))
    assert hash_of(driver) == given
    for key in ("dataset", "classes", "preprocess", "activation", "init", "optimizer", "schedule", "reg"):
        assert Select(driver.find_element(By.ID, f"set-{key}")).first_selected_option.get_attribute("value") == given[key]
    for key in ("noise", "ratio", "batch", "lr", "steps", "rate", "dropout", "seed"):
        assert driver.find_element(By.ID, f"set-{key}").get_attribute("value") == given[key]
    layer_selects = driver.find_elements(By.CSS_SELECTOR, "select[data-layer]")
    assert [Select(s).first_selected_option.text for s in layer_selects] == ["elu", "tanh", "maxout"]
    assert len(driver.find_elements(By.CSS_SELECTOR, '[data-testid="neuron"]')) == 4 + 5 + 2 + 3
    Select(driver.find_element(By.ID, "set-init")).select_by_value("small")
    changed = hash_of(driver)
    assert changed == {**given, "init": "small"}
    by_testid(driver, "play").click()
    assert wait_for(lambda: hash_of(driver).get("play")) == "1"
    by_testid(driver, "play").click()
    wait_for(lambda: "play" not in hash_of(driver))


def test_step_once_advances_one_step_and_shows_gradients(page):
    driver = page(CIRCLE)
    by_testid(driver, "step").click()
    wait_for(lambda: "gradients" in driver.find_element(By.ID, "links-legend").text)
    paths = driver.find_elements(By.CSS_SELECTOR, "#links path")
    assert len(paths) == 2 * 4 + 4 * 4 + 4 * 2 and paths[0].get_attribute("stroke-dasharray")
    by_testid(driver, "reset").click()
    wait_for(lambda: "weights" in driver.find_element(By.ID, "links-legend").text)


def test_the_space_view_appears_for_a_2_unit_layer(page):
    driver = page("dataset=xor&layers=4,2&seed=2&play=1")
    view = by_testid(driver, "space-view")
    wait_for(view.is_displayed)
    pixels = canvas_pixels(driver, "space-view")
    assert (pixels[..., 3] > 0).mean() > 0.01  # lines and points were drawn
    driver = page("dataset=xor&layers=4,3&seed=2")
    assert not by_testid(driver, "space-view").is_displayed()


def canvas_pixels(driver, test_id):
    data = driver.execute_script(
        "const c = document.querySelector(`[data-testid='${arguments[0]}']`);"
        "return [c.width, c.height, Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)];",
        test_id)
    return np.array(data[2], np.uint8).reshape(data[1], data[0], 4)


def test_a_screenshot_is_not_blank(page, tmp_path):
    driver = page(CIRCLE + "&play=1")
    wait_for(lambda: (number(driver, "test-loss") or 1) < 0.1)
    image = np.asarray(Image.open(io.BytesIO(driver.get_screenshot_as_png())).convert("RGB"))
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 500
    output = canvas_pixels(driver, "output")[..., :3].astype(int)
    orange = (output[..., 0] > output[..., 2] + 40).mean()
    blue = (output[..., 2] > output[..., 0] + 40).mean()
    assert orange > 0.05 and blue > 0.05  # the boundary: both classes' colours fill the heatmap


def test_a_bad_csv_shows_its_message(browser, url, tmp_path):
    browser.get(f"{url}#{CIRCLE}")
    wait_for(lambda: browser.execute_script("return window.playgroundStats.frames > 0"))
    for text, says in [("x1,x2,label\n1,2,cat\n3,4,cat\n", "every row has the label 'cat'"),
                       ("1,2\n3,4\n", "row 1 has 2 columns"),
                       ("1,2,0\n3,four,1\n", "row 2: x1 and x2 must be numbers")]:
        path = tmp_path / "bad.csv"
        path.write_text(text)
        browser.find_element(By.ID, "csv").send_keys(str(path))
        wait_for(lambda: says in by_testid(browser, "message").text, timeout=30)
        assert "bad.csv" in by_testid(browser, "message").text
    good = tmp_path / "good.csv"
    good.write_text("".join(f"{x},{y},{int(x > y)}\n" for x in range(-4, 5) for y in range(-4, 5)))
    browser.find_element(By.ID, "csv").send_keys(str(good))
    wait_for(lambda: "81 rows" in by_testid(browser, "message").text, timeout=30)
    assert hash_of(browser)["dataset"] == "csv"


@pytest.mark.parametrize("content, says", [("1,2,caf\u00e9\n3,4,th\u00e9\n", "not UTF-8"),
                                           ("x1,x2,label\n\u00bd,1,a\n2,2,b\n", "not UTF-8")])
def test_a_csv_that_is_not_utf8_is_refused_not_altered(browser, url, tmp_path, content, says):
    # the page sent file.text(): Latin-1 bytes became U+FFFD, so the server's UTF-8 check never ran and
    # "caf\ufffd" became a class name (or "\ufffd" a number the message could not show)
    browser.get(f"{url}#{CIRCLE}")
    wait_for(lambda: browser.execute_script("return window.playgroundStats.frames > 0"))
    path = tmp_path / "latin1.csv"
    path.write_bytes(content.encode("latin-1"))
    browser.find_element(By.ID, "csv").send_keys(str(path))
    wait_for(lambda: says in by_testid(browser, "message").text, timeout=30)
    assert "latin1.csv" in by_testid(browser, "message").text and hash_of(browser)["dataset"] == "circle"


def test_an_upload_to_a_stopped_server_says_so(browser, tmp_path):
    # fetch() rejected: an uncaught promise rejection in the console and no message in the page
    with launch.running() as address:
        browser.get(f"{address}#{CIRCLE}")
        browser.get_log("browser")
        wait_for(lambda: browser.execute_script("return window.playgroundStats.frames > 0"))
    path = tmp_path / "good.csv"
    path.write_text("0,0,a\n1,1,b\n")
    browser.find_element(By.ID, "csv").send_keys(str(path))
    wait_for(lambda: "good.csv: the upload failed" in by_testid(browser, "message").text, timeout=30)
    assert "check that nnscratch playground still runs" in by_testid(browser, "message").text
    errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not [e for e in errors if "Uncaught" in e], errors

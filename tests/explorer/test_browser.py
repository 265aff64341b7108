"""The explorer page in a real browser: headless Chromium (Debian's chromium + chromium-driver)
driven by selenium, on a small page made once per module from a short learning-rate sweep.

The page is checked against the Python it mirrors: its forward pass against
``jaxdigits.predict``, its backpropagation against ``jax.grad`` of ``jaxdigits.mse_cost``, its
drawing preprocessing against ``jaxdigits.data.mnist_style``, its frames against the runs'
parameters. Skipped, saying how to install a browser, where none is present; nothing here
downloads one.
"""

import base64
import dataclasses
import io
import json
import os
import shutil
import time

import jax
import numpy as np
import pytest

import jaxdigits as jd
from jaxdigits import explorer, training
from jaxdigits.data import mnist_style
from jaxdigits.training import steps_per_epoch

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
INSTALL = "install a browser with `apt-get install chromium chromium-driver` (Debian) and `pip install selenium`"


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver", reason=f"selenium is missing: {INSTALL}")
    chromium = shutil.which("chromium") or (CHROMIUM if os.path.exists(CHROMIUM) else None)
    driver_path = shutil.which("chromedriver") or (CHROMEDRIVER if os.path.exists(CHROMEDRIVER) else None)
    if not chromium or not driver_path:
        pytest.skip(f"no headless Chromium found: {INSTALL}")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--use-angle=swiftshader",  # software rendering: no GPU in CI
        "--enable-unsafe-swiftshader",
        "--window-size=1400,2200",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    yield driver
    driver.quit()


def upsampled_digits(digits):
    """scikit-learn's 8x8 digits drawn as 28x28 images (each pixel a 3x3 block, 2 pixels of border)."""
    grow = lambda x: np.pad(np.kron(x.reshape(-1, 8, 8), np.ones((3, 3), np.float32)), ((0, 0), (2, 2), (2, 2)))
    return digits._replace(
        train_images=grow(digits.train_images).reshape(-1, 784),
        test_images=grow(digits.test_images).reshape(-1, 784),
        image_shape=(28, 28),
    )


RATES = (0.05, 1.5, 100.0)  # too small, the video's, far too large


@pytest.fixture(scope="module")
def run(digits, tmp_path_factory):
    """Three learning rates for two epochs on 400 28x28 images, as one population, 20 snapshots in
    epoch 1, a 9x9 landscape: the page and its inputs."""
    dataset = upsampled_digits(digits)
    config = dataclasses.replace(jd.PRESETS["video"], sizes=(784, 16, 16, 10), epochs=2)
    train = (dataset.train_images[:400], dataset.train_labels[:400])
    test = (dataset.test_images[:200], dataset.test_labels[:200])
    per_epoch = steps_per_epoch(400, config.batch_size)
    every = training.snapshot_every(per_epoch, 20)
    initial = jd.init_params(jax.random.split(jax.random.key(config.seed))[0], config.sizes)
    result = jd.train_population(config, train, {"test": test}, learning_rates=RATES, snapshot_every=every)
    steps, runs = explorer.runs_from_population(result, initial, per_epoch, every)
    surface = explorer.trajectory_landscape([r.frames for r in runs], *test, center=1, grid=9)
    meta = {
        "dataset": "digits (28x28)", "image_shape": [28, 28], "num_train": 400, "num_test": 200, "source": "a test",
        "epochs": 2, "steps_per_epoch": per_epoch, "preset": "video", "seconds_train": 1.0, "batch_size": 10,
        "test_accuracy": result.histories[1][-1]["test_accuracy"],
    }  # fmt: skip
    data = explorer.page_data(steps, runs, *test, meta=meta, surface=surface, default_run=1)
    page = tmp_path_factory.mktemp("explorer") / "explorer.html"
    page.write_text(explorer.render_page(data), encoding="utf-8")
    frames = [explorer.frames_of(data, r) for r in range(len(RATES))]  # what the page computes with
    return {"page": page, "frames": frames[1], "runs": frames, "test": test, "data": data}


@pytest.fixture(scope="module")
def loaded(browser, run):
    browser.get_log("browser"), browser.get_log("performance")  # start from empty logs
    browser.get(run["page"].as_uri())
    browser.execute_script("return window.explorer.frameCount")
    return browser


def js(browser, script, *args):
    return browser.execute_script(script, *args)


def test_page_loads_from_file_with_no_request_and_no_error(loaded, run):
    events = [json.loads(e["message"])["message"] for e in loaded.get_log("performance")]
    requested = [e["params"]["request"]["url"] for e in events if e["method"] == "Network.requestWillBeSent"]
    assert requested == [run["page"].as_uri()]  # the page itself, nothing else
    assert js(loaded, "return performance.getEntriesByType('resource').length") == 0
    errors = [e for e in loaded.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert errors == []
    assert js(loaded, "return window.explorer.frameCount") == len(run["frames"]) >= 22  # 20+ in epoch 1
    loaded.refresh()  # the first page a fresh browser draws on also pays its canvas and fonts' start-up
    load = js(loaded, "const n = performance.getEntriesByType('navigation')[0]; return n.loadEventEnd - n.startTime")
    assert 0 < load < 2000  # milliseconds, from the request to every panel drawn
    loaded.get_log("performance")  # the reload's own request


def test_javascript_forward_pass_equals_predict(loaded, run):
    data, images = run["data"], run["test"][0]
    last = len(run["frames"]) - 1
    for frame in (last, 5):
        outputs = js(
            loaded,
            "const e = window.explorer; return Array.from({length: arguments[1]}, "
            "(_, k) => e.forward(arguments[0], e.examplePixels(k)).at(-1));",
            frame,
            len(data["examples"]["index"]),
        )
        expected = jd.predict(run["frames"][frame], images[data["examples"]["index"]])
        assert len(outputs) >= 20
        np.testing.assert_allclose(outputs, expected, atol=1e-5, rtol=0)


def draw(browser, points):
    """Press, move through ``points`` (fractions of the pad), release: real pointer events."""
    from selenium.webdriver.common.action_chains import ActionChains

    pad = browser.find_element("id", "pad")
    size = pad.size["width"]
    offsets = [(round((x - 0.5) * size), round((y - 0.5) * size)) for x, y in points]
    chain = ActionChains(browser, duration=0).move_to_element_with_offset(pad, *offsets[0]).click_and_hold()
    for (x0, y0), (x1, y1) in zip(offsets, offsets[1:]):
        chain.move_by_offset(x1 - x0, y1 - y0)
    chain.release().perform()


@pytest.mark.parametrize(
    "name, points",
    [
        ("one", [(0.5, 0.15), (0.5, 0.5), (0.52, 0.85)]),
        ("zero", [(0.5 + 0.25 * np.sin(t), 0.5 - 0.33 * np.cos(t)) for t in np.linspace(0, 2 * np.pi, 25)]),
    ],
)
def test_a_drawn_digit_is_preprocessed_as_specified_and_classified(loaded, run, name, points):
    js(loaded, "document.getElementById('clear').click()")
    draw(loaded, points)
    ink = js(loaded, "return window.explorer.ink()")
    values = np.array(ink["values"]).reshape(ink["rows"], ink["cols"])
    assert values.max() == 1.0 and (values > 0).mean() > 0.01  # a stroke was drawn
    page_pixels = np.array(js(loaded, "return window.explorer.drawnPixels()"))
    np.testing.assert_allclose(page_pixels, mnist_style(values).ravel(), atol=1 / 255, rtol=0)
    shown = js(loaded, "return window.explorer.shownActivations()")  # the network panel shows the drawing
    np.testing.assert_allclose(shown[0], page_pixels)
    np.testing.assert_allclose(shown[-1], jd.predict(run["frames"][-1], page_pixels.astype(np.float32)), atol=1e-5)
    assert js(loaded, "return document.getElementById('example').value") == "draw"
    if name == "one":  # taller than wide: the 20-pixel side is the height
        rows = np.flatnonzero(page_pixels.reshape(28, 28).max(axis=1) > 0)
        assert rows[-1] - rows[0] + 1 == 20
    js(loaded, "window.explorer.setDrawingLabel(7)")  # the gradient of the drawing, taken as a 7
    assert js(loaded, "return window.explorer.exampleLabel('draw')") == 7
    assert "your drawing, taken as a 7" in loaded.find_element("id", "gradient-cost").text
    page = js(loaded, "return window.explorer.gradient('draw')")
    GAPS.append(assert_same_gradient(page, run["frames"][-1], page_pixels, 7))


GAPS = []  # every JavaScript-vs-jax.grad gap of this module, relative to the largest entry


def assert_same_gradient(page, params, images, labels):
    """The page's ``{cost, gradient}`` is the video's cost and its ``jax.grad``: to 1e-5 relative (to the
    largest entry) of float32's, and, since the page computes in float64, to 1e-10 of float64's.
    ``images`` as the page has them (a drawing's pixels are float64)."""
    got, narrow = np.array(page["gradient"]), np.asarray(images, np.float32)
    expected = explorer.flat_params(jax.grad(jd.mse_cost)(params, narrow, labels)).astype(np.float64)
    gap = float(np.max(np.abs(got - expected)) / np.max(np.abs(expected)))
    assert gap <= 1e-5
    assert page["cost"] == pytest.approx(float(jd.mse_cost(params, narrow, labels)), rel=1e-5)
    with jax.enable_x64(True):  # only inside this block: float32 rounding is most of the gap above
        wide = jax.tree.map(lambda x: np.asarray(x, np.float64), params)
        exact = jax.grad(jd.mse_cost)(wide, np.asarray(images, np.float64), labels)
        exact = np.concatenate([np.ravel(layer[k]) for layer in exact for k in ("w", "b")])
    assert np.max(np.abs(got - exact)) <= 1e-10 * np.max(np.abs(exact))
    return gap


def test_javascript_gradient_equals_jax_grad(loaded, run):
    """One test image at a time (the last one misclassified), and the mean over a mini-batch."""
    (images, labels), index = run["test"], np.array(run["data"]["examples"]["index"])
    for frame in (len(run["frames"]) - 1, 3):
        js(loaded, "window.explorer.setFrame(arguments[0])", frame)
        for k in (0, 5, 17, len(index) - 1):
            assert js(loaded, "return window.explorer.exampleLabel(arguments[0])", k) == labels[index[k]]
            page = js(loaded, "return window.explorer.gradient(arguments[0])", k)
            GAPS.append(assert_same_gradient(page, run["frames"][frame], images[index[k]], labels[index[k]]))
        batch = js(loaded, "return window.explorer.batch()")
        assert len(set(batch)) == len(batch) == 10  # the recipe's batch size
        page = js(loaded, "return window.explorer.gradient(window.explorer.batch())")
        GAPS.append(assert_same_gradient(page, run["frames"][frame], images[index[batch]], labels[index[batch]]))
    print(f"largest JavaScript-vs-jax.grad gap so far: {max(GAPS):.2e} of the largest entry")


def test_the_toggle_shows_the_mean_over_a_mini_batch(loaded):
    loaded.find_element("id", "mode-batch").click()
    assert "the mini-batch of 10 test images" in loaded.find_element("id", "gradient-cost").text
    shown, batch = js(loaded, "const e = window.explorer; return [e.gradient(), e.gradient(e.batch())]")
    assert shown == batch
    before = js(loaded, "return window.explorer.batch()")
    loaded.find_element("id", "new-batch").click()
    assert js(loaded, "return window.explorer.batch()") != before
    loaded.find_element("id", "mode-one").click()
    assert "mini-batch" not in loaded.find_element("id", "gradient-cost").text


def test_the_slider_moves_the_network_and_the_marker(loaded, run):
    from selenium.webdriver.common.keys import Keys

    js(loaded, "const s = document.getElementById('example'); s.value = '0'; s.onchange();")
    slider = loaded.find_element("id", "slider")
    slider.send_keys(Keys.END)
    end = (js(loaded, "return window.explorer.marker()"), js(loaded, "return window.explorer.shownActivations()"))
    slider.send_keys(Keys.HOME)  # a keyboard drag: fires the slider's input event
    assert js(loaded, "return window.explorer.frame()") == 0
    start = (js(loaded, "return window.explorer.marker()"), js(loaded, "return window.explorer.shownActivations()"))
    assert np.hypot(*np.subtract(start[0], end[0])) > 5
    assert not np.allclose(start[1][1], end[1][1])
    np.testing.assert_allclose(start[1][-1], jd.predict(run["frames"][0], run["test"][0][0]), atol=1e-5)
    slider.send_keys(Keys.END)
    last = np.array(js(loaded, "return window.explorer.frameParams(window.explorer.frame())"), np.float32)
    np.testing.assert_array_equal(last, explorer.flat_params(run["frames"][-1]))


def test_switching_run_moves_the_path_and_the_marker(loaded, run):
    from selenium.webdriver.common.keys import Keys

    runs = js(loaded, "return window.explorer.runs()")
    assert [r["learning_rate"] for r in runs] == list(RATES)
    assert runs[1]["blew_up"] is None and runs[2]["blew_up"] is not None  # η = 100 blows up
    assert "blew up" in loaded.find_element("id", "run-list").text
    js(loaded, "window.explorer.setRun(1); window.explorer.setFrame(12)")
    shown = "const e = window.explorer; return [e.marker(), e.path(), e.shownActivations(), e.frameParams(12)]"
    before = js(loaded, shown) + [loaded.find_element("id", "curves").screenshot_as_base64]
    loaded.find_element("id", "dial").send_keys(Keys.LEFT)  # a keyboard turn of the dial: its input event
    assert js(loaded, "return [window.explorer.run(), window.explorer.frame()]") == [0, 12]
    after = js(loaded, shown) + [loaded.find_element("id", "curves").screenshot_as_base64]
    assert np.hypot(*np.subtract(before[0], after[0])) > 2  # the marker moved
    assert before[1] != after[1] and len(after[1]) == 13  # so did the path, up to frame 12
    assert not np.allclose(before[2][1], after[2][1])  # the network panel replays the other run
    assert before[4] != after[4]  # and so do the cost curves
    np.testing.assert_array_equal(np.array(after[3], np.float32), explorer.flat_params(run["runs"][0][12]))
    js(loaded, "window.explorer.setRun(1)")


def test_one_step_with_a_small_learning_rate_lowers_the_example_cost(loaded, run):
    (images, labels), index = run["test"], run["data"]["examples"]["index"]
    js(loaded, "window.explorer.setRun(0); window.explorer.setFrame(5)")
    js(loaded, "const s = document.getElementById('example'); s.value = '3'; s.onchange();")
    start = np.array(js(loaded, "return window.explorer.frameParams(5)"), np.float64)
    gradient = np.array(js(loaded, "return window.explorer.gradient(3).gradient"))
    result = js(loaded, "return window.explorer.step()")
    assert result["learning_rate"] == RATES[0] and result["steps"] == 1
    assert result["cost_after"] < result["cost_before"]  # downhill, a small step
    moved = np.array(js(loaded, "return window.explorer.stepped()"))
    np.testing.assert_allclose(moved, start - RATES[0] * gradient, rtol=0, atol=1e-12)  # θ ← θ − η∇C
    params = unflatten(moved, run["data"]["meta"]["sizes"])
    x, y = images[index[3]].astype(np.float64), int(labels[index[3]])
    assert result["cost_after"] == pytest.approx(video_cost(params, x, y), rel=1e-9)
    assert "went" in loaded.find_element("id", "step-readout").text
    loaded.find_element("id", "unstep").click()
    assert js(loaded, "return window.explorer.stepped()") is None


def unflatten(vector, sizes):
    """The page's flat layout back to (w, b) pairs, in float64."""
    params, offset = [], 0
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        w = vector[offset : offset + n_in * n_out].reshape(n_in, n_out)
        params.append((w, vector[offset + n_in * n_out : offset + (n_in + 1) * n_out]))
        offset += (n_in + 1) * n_out
    return params


def video_cost(params, x, label):
    """Σ_j (a_j − y_j)² in float64 numpy: an independent reading of the cost."""
    for w, b in params:
        x = 1 / (1 + np.exp(-(x @ w + b)))
    return float(np.sum((x - np.eye(10)[label]) ** 2))


@pytest.mark.parametrize("panel", ["network-panel", "replay-panel", "gradient-panel", "landscape-panel"])
def test_every_panel_draws_something(loaded, panel):
    from matplotlib.image import imread

    shot = loaded.find_element("id", panel).screenshot_as_base64
    pixels = imread(io.BytesIO(base64.b64decode(shot)), format="png")[..., :3]
    for canvas in loaded.find_elements("css selector", f"#{panel} canvas"):
        if canvas.is_displayed():
            grey = imread(io.BytesIO(base64.b64decode(canvas.screenshot_as_base64)), format="png")[..., :3].mean(-1)
            assert grey.var() > 1e-3, canvas.get_attribute("id")
    assert pixels.var() > 1e-3


def test_no_console_error_and_no_request_after_all_the_interactions(loaded, run):
    events = [json.loads(e["message"])["message"] for e in loaded.get_log("performance")]
    assert [e for e in events if e["method"] == "Network.requestWillBeSent"] == []
    assert [e for e in loaded.get_log("browser") if e["level"] in ("SEVERE", "WARNING")] == []
    print(f"largest JavaScript-vs-jax.grad gap: {max(GAPS):.2e} of the largest entry, over {len(GAPS)} gradients")


def test_an_8x8_page_says_it_cannot_take_drawings(browser, digits, key, tmp_path):
    params = jd.init_params(key, (64, 16, 16, 10))
    meta = {"dataset": "digits", "image_shape": [8, 8], "num_train": 1, "num_test": 1, "source": "a test",
            "epochs": 0, "steps_per_epoch": 1, "test_accuracy": 0.1}  # fmt: skip
    one = [explorer.Run(1.5, [params], [])]
    data = explorer.page_data([0], one, digits.test_images[:40], digits.test_labels[:40], meta=meta)
    page = tmp_path / "small.html"
    page.write_text(explorer.render_page(data), encoding="utf-8")
    browser.get_log("browser")
    browser.get(page.as_uri())
    time.sleep(0.2)
    assert "8×8" in browser.find_element("id", "pad-note").text
    assert "No training trajectory" in browser.find_element("id", "landscape-note").text
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []

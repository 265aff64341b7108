"""An explorer page in headless Chromium: its size by part, how fast it loads and redraws, and how
closely its backpropagation matches ``jax.grad``.

    python experiments/explore.py --out runs/explore
    python -m benchmarks.explorer_page --page runs/explore/explorer.html

Load times are the page's own navigation timing (request to the end of the load event, every panel
drawn), in a fresh browser (``cold``: Chromium also starts its canvas and fonts) and on a reload
(``warm``). The gradient check asks the page for ``gradient(k)`` of every third test example and of
the mini-batch, at five frames of every run, and compares it with ``jax.grad`` of
``jaxdigits.mse_cost`` in float32 (the library's precision) and in float64 (the page computes in
float64), each gap as a share of the gradient's largest entry. Needs Debian's chromium and
chromium-driver and selenium, as ``tests/explorer/test_browser.py``.

``--screenshots DIR`` also writes the pictures of docs/explorer.md from the page: ``explorer.png``
(the whole page at epoch 0.5 of the page's default run), ``gradient.png`` (the gradient of the
first misclassified test image at frame 5, one step taken), ``learning_rates.png`` (every run's
path on the plane, the second-largest η shown, at the end), ``landscape.png`` (the valley at epoch
0.8, hovering over the contour map) and the network panel at the end: ``drawing.png`` (a 3 drawn on
the pad) for digits, ``network.png`` (the first misclassified image) for a page of named classes.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jax  # noqa: E402
import numpy as np  # noqa: E402

import jaxdigits as jd  # noqa: E402
from jaxdigits import explorer  # noqa: E402

FLAGS = ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--use-angle=swiftshader",
         "--enable-unsafe-swiftshader", "--window-size=1400,2200")  # fmt: skip
LOAD = "const n = performance.getEntriesByType('navigation')[0]; return n.loadEventEnd - n.startTime"


def browser():
    from selenium import webdriver  # only here: the library does not need a browser
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in FLAGS:
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def sizes(path, data):
    """Bytes of the page by part."""
    part = lambda x: len(json.dumps(x, separators=(",", ":")))
    params = sum(len(run["params"]) for run in data["runs"])
    return {
        "page": os.path.getsize(path),
        "parameters": params,
        "examples": part(data["examples"]),
        "landscape": part(data["landscape"]),
        "curves_and_histories": sum(part(run) for run in data["runs"]) - params,
    }


def timings(driver, uri):
    """Milliseconds: cold and warm loads, redraws."""
    driver.get(uri)
    cold = driver.execute_script(LOAD)
    driver.refresh()
    warm = driver.execute_script(LOAD)
    each = (
        "const e = window.explorer, out = [];"
        "for (let i = 0; i < arguments[0]; i++) {"
        "  const t = performance.now(); e[arguments[1]](i); out.push(performance.now() - t);"
        "}"
        "return out;"
    )
    per_frame = driver.execute_script(each, driver.execute_script("return window.explorer.frameCount"), "setFrame")
    per_run = driver.execute_script(each, driver.execute_script("return window.explorer.runs().length"), "setRun")
    step = driver.execute_script("const t = performance.now(); window.explorer.step(); return performance.now() - t;")
    return {
        "load_cold_ms": cold,
        "load_warm_ms": warm,
        "set_frame_median_ms": statistics.median(per_frame),
        "set_frame_slowest_ms": max(per_frame),
        "set_run_first_ms": max(per_run),
        "step_ms": step,
    }


def flat64(grads):
    return np.concatenate([np.ravel(layer[k]) for layer in grads for k in ("w", "b")]).astype(np.float64)


def gradient_gaps(driver, data):
    """Largest gaps between the page's gradients and jax.grad's, relative to the largest entry."""
    pixels = np.frombuffer(base64.b64decode(data["examples"]["pixels"]), np.float32).reshape(
        len(data["examples"]["labels"]), -1
    )
    labels = np.array(data["examples"]["labels"])
    worst = {"float32": (0.0, None), "float64": (0.0, None)}
    count = 0
    for r, run in enumerate(data["runs"]):
        frames = explorer.frames_of(data, r)
        driver.execute_script("window.explorer.setRun(arguments[0])", r)
        for f in sorted({0, 5, 10, 20, len(frames) - 1} & set(range(len(frames)))):
            driver.execute_script("window.explorer.setFrame(arguments[0])", f)
            for k in list(range(0, len(labels), 3)) + ["batch"]:
                which = driver.execute_script("return window.explorer.batch()") if k == "batch" else k
                got = np.array(driver.execute_script("return window.explorer.gradient(arguments[0]).gradient", which))
                narrow = flat64(jax.grad(jd.mse_cost)(frames[f], pixels[which], labels[which]))
                with jax.enable_x64(True):
                    wide = jax.tree.map(lambda x: np.asarray(x, np.float64), frames[f])
                    exact = flat64(jax.grad(jd.mse_cost)(wide, pixels[which].astype(np.float64), labels[which]))
                for name, reference in (("float32", narrow), ("float64", exact)):
                    gap = float(np.max(np.abs(got - reference)) / np.max(np.abs(reference)))
                    if gap > worst[name][0]:
                        worst[name] = (gap, {"learning_rate": run["learning_rate"], "frame": f, "example": k})
                count += 1
    return {"gradients": count, **{f"largest_gap_vs_{k}": v[0] for k, v in worst.items()},
            **{f"where_vs_{k}": v[1] for k, v in worst.items()}}  # fmt: skip


def select_example(driver, value):
    driver.execute_script(
        "const s = document.getElementById('example'); s.value = arguments[0];s.dispatchEvent(new Event('change'));",
        value,
    )


def draw_three(driver):
    """A 3 drawn on the pad with real pointer events: two bowls, top and bottom."""
    from selenium.webdriver.common.action_chains import ActionChains

    top = [(0.5 + 0.17 * np.sin(t), 0.33 - 0.15 * np.cos(t)) for t in np.linspace(-1.9, 3.1, 16)]
    bottom = [(0.5 + 0.2 * np.sin(t), 0.67 - 0.18 * np.cos(t)) for t in np.linspace(0.05, 4.6, 18)]
    pad = driver.find_element("id", "pad")
    size = pad.size["width"]
    offsets = [(round((x - 0.5) * size), round((y - 0.5) * size)) for x, y in top + bottom]
    chain = ActionChains(driver, duration=0).move_to_element_with_offset(pad, *offsets[0]).click_and_hold()
    for (x0, y0), (x1, y1) in zip(offsets, offsets[1:]):
        chain.move_by_offset(x1 - x0, y1 - y0)
    chain.release().perform()


def screenshots(driver, uri, data, folder):
    """The docs' pictures of the page, as PNG files in ``folder``; returns their names."""
    from selenium.webdriver.common.action_chains import ActionChains

    os.makedirs(folder, exist_ok=True)
    driver.get(uri)
    ex = "window.explorer"
    frames = driver.execute_script(f"return {ex}.frameCount")
    epochs = [s / data["meta"]["steps_per_epoch"] for s in data["frames"]["step"]]
    at = lambda e: min(range(frames), key=lambda f: abs(epochs[f] - e))  # the frame nearest epoch e
    default = driver.execute_script(f"return {ex}.run()")
    wrong = [k for k, (y, g) in enumerate(zip(data["examples"]["labels"], data["examples"]["guesses"])) if y != g]

    def shot(element, name):
        panel = driver.find_element("id", element)
        driver.execute_script(  # the panel whole in the window, below the sticky time bar
            "const bar = document.getElementById('timeline').getBoundingClientRect().height;"
            "window.scrollBy(0, arguments[0].getBoundingClientRect().top - bar - 8);",
            panel,
        )
        panel.screenshot(os.path.join(folder, name))

    written = []

    driver.execute_script(f"{ex}.setFrame(arguments[0])", at(0.5))
    driver.save_screenshot(os.path.join(folder, "explorer.png"))
    written.append("explorer.png")

    if wrong:
        select_example(driver, wrong[0])
    driver.execute_script(f"{ex}.setFrame(4)")
    driver.find_element("id", "step").click()
    shot("gradient-panel", "gradient.png")
    written.append("gradient.png")

    rates = [r["learning_rate"] for r in driver.execute_script(f"return {ex}.runs()")]
    second = sorted(range(len(rates)), key=lambda r: rates[r])[-2] if len(rates) > 1 else default
    driver.execute_script(f"{ex}.setRun(arguments[0]); {ex}.setFrame(arguments[1])", second, frames - 1)
    shot("landscape-panel", "learning_rates.png")
    written.append("learning_rates.png")

    driver.execute_script(f"{ex}.setRun(arguments[0]); {ex}.setFrame(arguments[1])", default, at(0.8))
    zoom = driver.find_element("id", "zoom")
    if zoom.is_displayed():
        zoom.click()
    contour = driver.find_element("id", "contour")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", contour)
    ActionChains(driver, duration=0).move_to_element_with_offset(contour, 30, -40).perform()
    shot("landscape-panel", "landscape.png")
    written.append("landscape.png")

    driver.execute_script(f"{ex}.setFrame(arguments[0])", frames - 1)
    digits = not data["meta"].get("classes") and driver.find_element("id", "draw-label-box").is_displayed()
    if digits:
        draw_three(driver)
    elif wrong:
        select_example(driver, wrong[0])
    name = "drawing.png" if digits else "network.png"
    shot("network-panel", name)
    written.append(name)
    return written


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--page", required=True, help="an explorer.html")
    p.add_argument("--no-gradients", action="store_true", help="skip the gradient check (the slow part)")
    p.add_argument("--screenshots", metavar="DIR", help="also write the docs' screenshots of the page into DIR")
    args = p.parse_args(argv)
    path = os.path.abspath(args.page)
    data = explorer.read_page(path)
    driver = browser()
    try:
        result = {**sizes(path, data), **timings(driver, f"file://{path}")}
        if not args.no_gradients:
            result.update(gradient_gaps(driver, data))
        if args.screenshots:
            result["screenshots"] = screenshots(driver, f"file://{path}", data, args.screenshots)
    finally:
        driver.quit()
    result["load_average"] = os.getloadavg()
    print(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()

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


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--page", required=True, help="an explorer.html")
    p.add_argument("--no-gradients", action="store_true", help="skip the gradient check (the slow part)")
    args = p.parse_args(argv)
    path = os.path.abspath(args.page)
    data = explorer.read_page(path)
    driver = browser()
    try:
        result = {**sizes(path, data), **timings(driver, f"file://{path}")}
        if not args.no_gradients:
            result.update(gradient_gaps(driver, data))
    finally:
        driver.quit()
    result["load_average"] = os.getloadavg()
    print(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()

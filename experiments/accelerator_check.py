"""One table of timings on whatever device JAX finds: GPU, TPU, or (without one) the CPU.

    python experiments/accelerator_check.py              # MNIST if available, else sklearn digits
    python experiments/accelerator_check.py --quick      # fewer repeats (a smoke run)

Install a JAX accelerator build first (e.g. ``pip install -U "jax[cuda12]"`` or
``"jax[tpu]"``); nothing in jaxdigits changes. It times, on ``jax.devices()[0]``:

- jaxdigits' compiled epoch (the video's network, SGD) at batch 10 and 128;
- a jitted step called from a Python loop (JAX's MNIST example style) at batch 128;
- 16 networks in one program (``jaxdigits.population``) at batch 128;
- a 51 × 51 loss surface over the 10,000 test images (``jaxdigits.landscape.surface``).

Each row: median seconds after a warm-up, compile seconds, and a derived rate. The table
is printed (Markdown, ready for the README) and written to ``--out`` as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def timed(fn, repeats):
    """(median seconds, first-call seconds) of ``fn()``, which must block until done."""
    tick = time.perf_counter()
    fn()
    first = time.perf_counter() - tick
    seconds = []
    for _ in range(repeats):
        tick = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - tick)
    return statistics.median(seconds), first


def timed_epochs(epoch, state, order, repeats):
    """(median seconds, first-epoch seconds) of ``state = epoch(state, order)``."""
    seconds = []
    for _ in range(repeats + 1):
        tick = time.perf_counter()
        state = epoch(state, order)
        seconds.append(time.perf_counter() - tick)
    return statistics.median(seconds[1:]), seconds[0]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--out", default="accelerator_check.json")
    args = p.parse_args(argv)
    repeats = 2 if args.quick else 5

    import jax
    import numpy as np

    from benchmarks import peers
    from jaxdigits import TrainConfig, init_params, load_dataset, pixels
    from jaxdigits.population import init_population, make_population_epoch
    from jaxdigits.train import optimizer_for

    dataset = load_dataset("mnist", fallback=True, allow_download=False)
    images, labels = dataset.train_images, dataset.train_labels
    sizes = (dataset.num_pixels, 16, 16, 10)
    params = jax.tree.map(np.asarray, init_params(jax.random.key(0), sizes))
    n = len(labels)
    rows = []

    for batch_size in (10, 128):
        epoch, state, _, compile_s = peers.make_jaxdigits(params, images, labels, 1.5, batch_size)
        median, _ = timed_epochs(epoch, state, None, repeats)
        rows.append((f"jaxdigits epoch, batch {batch_size}", median, compile_s, f"{n / median:,.0f} images/s"))

    epoch, state, _ = peers.make_jit_step(params, images, labels, 1.5)
    order = np.random.default_rng(0).permutation(n)[: n // 128 * 128].reshape(-1, 128)
    median, first = timed_epochs(epoch, state, order, max(1, repeats // 2))
    rows.append(("jitted step in a Python loop, batch 128", median, first - median, f"{n / median:,.0f} images/s"))

    k, config = 16, TrainConfig(sizes=sizes, batch_size=128)
    optimizer = optimizer_for(config, n)
    pop = init_population(config, optimizer, tuple(range(k)), (config.learning_rate,) * k)
    data = jax.device_put((pixels.resident(images), labels))  # as train_population keeps them
    tick = time.perf_counter()
    pop_epoch = make_population_epoch(config, optimizer, scale_updates=False).lower(pop, *data, {}).compile()
    compile_s = time.perf_counter() - tick
    median, _ = timed_epochs(lambda s, _: jax.block_until_ready(pop_epoch(s, *data, {})[0]), pop, None, repeats)
    rows.append((f"population of {k}, batch 128", median, compile_s, f"{k / median:,.1f} network-epochs/s"))

    median, first, points = surface_seconds(params, dataset, repeats)
    rows.append(
        (
            f"loss surface {points} points x {len(dataset.test_labels)} images",
            median,
            first - median,
            f"{points / median:,.0f} points/s",
        )
    )

    device = jax.devices()[0]
    print(f"\ndevice: {device.device_kind} ({jax.default_backend()}), jax {jax.__version__}, data {dataset.name}\n")
    print("| what | seconds | compile s | rate |\n|---|---:|---:|---:|")
    for name, seconds, compile_s, rate in rows:
        print(f"| {name} | {seconds:.4f} | {compile_s:.2f} | {rate} |")
    with open(args.out, "w") as f:
        json.dump(
            {
                "device": device.device_kind,
                "backend": jax.default_backend(),
                "dataset": dataset.name,
                "rows": [dict(zip(("what", "seconds", "compile_s", "rate"), r)) for r in rows],
            },
            f,
            indent=1,
        )
    print(f"\nwrote {args.out}")


def surface_seconds(params, dataset, repeats, num=51):
    """Median and first-call seconds of a num x num cost surface around ``params``."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    from jaxdigits import mse_cost

    images, labels = jax.device_put((dataset.test_images, dataset.test_labels))
    k1, k2 = jax.random.split(jax.random.key(1))
    try:  # the library's landscape, when present
        from jaxdigits import landscape
        from jaxdigits.directions import random_direction

        directions = [random_direction(params, key=k) for k in (k1, k2)]
        offsets = landscape.axis(1.0, num)

        def run():
            result = landscape.surface(params, directions, images, labels, offsets, offsets)
            return np.asarray(result.cost)
    except ImportError:  # a plain vmapped grid: cost at θ + α·d1 + β·d2
        directions = [jax.tree.map(lambda x, k=k: jax.random.normal(k, x.shape), params) for k in (k1, k2)]
        grid = jnp.stack(jnp.meshgrid(jnp.linspace(-1, 1, num), jnp.linspace(-1, 1, num)), -1).reshape(-1, 2)

        @jax.jit
        def costs(grid):
            def at(ab):
                shifted = jax.tree.map(lambda p, d1, d2: p + ab[0] * d1 + ab[1] * d2, params, *directions)
                return mse_cost(shifted, images, labels)

            return jax.lax.map(at, grid, batch_size=256)

        def run():
            return np.asarray(costs(grid))

    median, first = timed(run, repeats)
    return median, first, num * num


if __name__ == "__main__":
    main()

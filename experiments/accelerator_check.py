"""One table of timings on whatever device JAX finds: GPU, TPU, or (without one) the CPU.

    python experiments/accelerator_check.py              # MNIST if available, else sklearn digits
    python experiments/accelerator_check.py --quick      # fewer repeats, no time-to-96 % (a smoke run)

Install a JAX accelerator build first (e.g. ``pip install -U "jax[cuda13]"`` or
``"jax[tpu]"``); nothing in jaxdigits changes. Without TensorFlow (common on GPU images),
MNIST is read straight from the IDX files in ``$JAXDIGITS_MNIST_DIR``
(``load_dataset(reader="idx")``). It times, on ``jax.devices()[0]``, with the benchmark
harness (``benchmarks/run.py``, same peers, same network, data and learning rate):

- one epoch of the video's network (plain SGD) at batch 10 and 128: jaxdigits' compiled
  epoch beside a jitted step called from a Python loop, PyTorch eager (on the GPU when
  torch sees one) and NumPy on the host CPU;
- K networks in one program (``jaxdigits.training.train_population``) against one network's epoch;
- a 101 × 101 cost surface over the 10,000 test images (``jaxdigits.landscape.surface``),
  also at a few chunk sizes;
- seconds for the ``best`` preset to reach 96 % test accuracy (seeds 0–2);
- on an accelerator, agreement with the host CPU: one training epoch and a cost surface
  computed on both, with jaxdigits' true-float32 products (``jaxdigits.precision``) and with
  ``jax.default_matmul_precision("tensorfloat32")`` (JAX's speed-leaning kind of default).

Each section runs on its own: one that fails prints its error and the rest go on. The
table is printed (Markdown, ready for docs/performance.md) and written to ``--out`` as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import traceback
import types

from jaxdigits import cli


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="2 timed epochs, smaller surface, no time-to-96%%")
    p.add_argument("--population", type=int, nargs="+", default=[16, 64], help="population sizes K (default 16 64)")
    p.add_argument("--surface-chunks", type=int, nargs="*", default=[1, 16, 64, 256, 1024], help="points per chunk")
    p.add_argument("--no-time-to-96", action="store_true")
    p.add_argument("--out", default="accelerator_check.json")
    args = p.parse_args(argv)
    if os.path.isdir(args.out) or not os.path.isdir(os.path.dirname(os.path.abspath(args.out))):
        p.error(f"--out {args.out!r} must name a JSON file in a folder that exists")
    if args.quick:
        args.no_time_to_96 = True
    return args


def load_data():
    """MNIST through TFDS when TensorFlow is installed, else straight from the IDX folder."""
    from jaxdigits import load_dataset

    try:
        import tensorflow_datasets  # noqa: F401

        reader = "tfds"
    except ImportError:
        reader = "idx"
    dataset = load_dataset("mnist", fallback=True, allow_download=False, reader=reader)
    return dataset, reader


def epochs_section(dataset, params, args, rows):
    """Peers side by side at batch 10 and 128 (``benchmarks.run.time_peers``)."""
    import jax

    from benchmarks.run import time_peers

    names = ["numpy", torch_peer(), "jit_step", "jaxdigits"]
    names = [n for n in names if n]
    timing = types.SimpleNamespace(warmup=1, epochs=2 if args.quick else 3)
    n = len(dataset.train_labels)
    where = {"numpy": "host CPU", "torch": "host CPU", "torch_cuda": "GPU"}
    for batch_size in (10, 128):
        results = time_peers(names, batch_size, dataset.train_images, dataset.train_labels, params, timing)
        ours = results["jaxdigits"]["median_s"]
        for name, r in results.items():
            place = where.get(name, jax.default_backend())
            rows.append(
                {
                    "what": f"epoch, batch {batch_size}: {name} ({place})",
                    "seconds": r["median_s"],
                    "compile_s": r["compile_s"],
                    "rate": f"{n / r['median_s']:,.0f} images/s; {r['median_s'] / ours:.1f}× jaxdigits",
                }
            )


def torch_peer():
    """``torch_cuda`` when PyTorch sees a GPU, ``torch`` when it imports, else None."""
    try:
        import torch
    except ImportError:
        return None
    return "torch_cuda" if torch.cuda.is_available() else "torch"


def population_section(dataset, args, rows):
    """K networks in one program vs one network's epoch (``benchmarks.run.time_population``)."""
    from benchmarks.run import time_population

    timing = types.SimpleNamespace(warmup=1, epochs=2 if args.quick else 3)
    for k in args.population:
        r = time_population(k, 128, dataset.train_images, dataset.train_labels, timing)
        rows.append(
            {
                "what": f"population of {k}, batch 128 (one network: {r['single_epoch_s']:.4f} s)",
                "seconds": r["population_epoch_s"],
                "compile_s": None,
                "rate": f"{k / r['population_epoch_s']:,.1f} network-epochs/s; {r['speedup']:.1f}× one at a time",
            }
        )


def surface_section(dataset, params, args, rows):
    """A cost surface over the test images at the default chunk size and a few others."""
    import jax
    import numpy as np

    from jaxdigits import landscape
    from jaxdigits.network import VideoLoss

    num = 51 if args.quick else 101
    d1, d2 = (landscape.random_direction(params, key=jax.random.key(k)) for k in (1, 2))
    x, y = jax.device_put((dataset.test_images, dataset.test_labels))
    axis = landscape.axis(1.0, num)
    reference = None
    for chunk in [None, *args.surface_chunks]:
        runs = [
            landscape.surface(VideoLoss(), params, (x, y), (d1, d2), axis, axis, chunk_size=chunk)
            for _ in range(1 if args.quick else 3)
        ]
        seconds = statistics.median(r.seconds for r in runs)
        if reference is None:
            reference = runs[0].cost
        worst = float(np.max(np.abs(runs[0].cost - reference)))
        rows.append(
            {
                "what": f"surface {num}×{num} × {len(y)} images, chunk {chunk or 'default'}",
                "seconds": seconds,
                "compile_s": runs[0].seconds_compile,
                "rate": f"{num * num / seconds:,.0f} points/s; max |Δcost| vs default {worst:.1e}",
            }
        )


def agreement_section(dataset, params, rows):
    """Accelerator vs host CPU: the same epoch and surface, true float32 and TF32 products."""
    import contextlib

    import jax
    import numpy as np

    from jaxdigits import TrainConfig, landscape, train
    from jaxdigits.network import VideoLoss

    accelerator, cpu = jax.devices()[0], jax.devices("cpu")[0]
    config = TrainConfig(sizes=(dataset.num_pixels, 16, 16, 10), batch_size=128, epochs=1)
    d1, d2 = (landscape.random_direction(params, key=jax.random.key(k)) for k in (1, 2))
    axis = landscape.axis(1.0, 51)

    def on(device):
        with jax.default_device(device):
            data = (dataset.train_images, dataset.train_labels)
            tick = time.perf_counter()
            result = train(config, data, {"test": (dataset.test_images, dataset.test_labels)}, progress=False)
            seconds = time.perf_counter() - tick
            x, y = jax.device_put((dataset.test_images, dataset.test_labels), device)
            cost = landscape.surface(VideoLoss(), params, (x, y), (d1, d2), axis, axis, devices=[device]).cost
        flat = np.concatenate([np.ravel(leaf) for leaf in jax.tree.leaves(result.state.params)])
        return flat, result.history[-1]["test_cost"], cost, seconds

    reference = on(cpu)
    for label, context in (
        ("true float32 (jaxdigits' default)", contextlib.nullcontext()),
        ("TF32 (jax.default_matmul_precision('tensorfloat32'))", jax.default_matmul_precision("tensorfloat32")),
    ):
        with context:
            flat, test_cost, cost, seconds = on(accelerator)
        rows.append(
            {
                "what": f"vs host CPU, {label}: 1 epoch (batch 128) + 51×51 surface",
                "seconds": seconds,
                "compile_s": None,
                "rate": f"max |Δθ| {np.max(np.abs(flat - reference[0])):.1e}, "
                f"Δ test cost {abs(test_cost - reference[1]):.1e}, "
                f"max |Δ surface| {np.max(np.abs(cost - reference[2])):.1e}",
            }
        )


def time_to_96_section(dataset, rows):
    from benchmarks.run import time_to_accuracy

    result = time_to_accuracy(dataset)
    for r in result["runs"]:
        rows.append(
            {
                "what": f"best preset to 96 % test accuracy, seed {r['seed']}",
                "seconds": r["seconds"],
                "compile_s": None,
                "rate": f"epoch {r['epoch']}" if r["epoch"] else f"not reached ({r['last_test_accuracy']:.2%} last)",
            }
        )


def table_row(r):
    """One Markdown table row of a result."""
    seconds = "—" if r["seconds"] is None else f"{r['seconds']:.4f}"
    compile_s = "—" if r["compile_s"] is None else f"{r['compile_s']:.2f}"
    return f"| {r['what']} | {seconds} | {compile_s} | {r['rate']} |"


def main(argv=None):
    args = parse_args(argv)
    import jax
    import numpy as np

    from jaxdigits import init_params

    device = jax.devices()[0]
    print(f"jax {jax.__version__}, backend {jax.default_backend()}, devices {jax.devices()}", flush=True)
    dataset, reader = load_data()
    print(f"data: {dataset.name} via {reader} ({dataset.source}), {len(dataset.train_labels)} training images")
    sizes = (dataset.num_pixels, 16, 16, 10)
    params = jax.tree.map(np.asarray, init_params(jax.random.key(0), sizes))
    rows, errors = [], {}
    sections = {
        "epochs": lambda: epochs_section(dataset, params, args, rows),
        "population": lambda: population_section(dataset, args, rows),
        "surface": lambda: surface_section(dataset, params, args, rows),
    }
    if jax.default_backend() != "cpu":
        sections["agreement"] = lambda: agreement_section(dataset, params, rows)
    if not args.no_time_to_96:
        sections["time_to_96"] = lambda: time_to_96_section(dataset, rows)
    for name, run in sections.items():
        tick, done = time.perf_counter(), len(rows)
        try:
            run()
        except Exception as e:  # report and go on: one broken section must not cost the others
            errors[name] = f"{type(e).__name__}: {e}"
            traceback.print_exc()
        print(f"[{name}: {time.perf_counter() - tick:.1f} s]", *map(table_row, rows[done:]), sep="\n", flush=True)

    print(f"\ndevice: {device.device_kind} ({jax.default_backend()}), jax {jax.__version__}, data {dataset.name}\n")
    print("| what | seconds | compile s | rate |\n|---|---:|---:|---:|")
    print(*map(table_row, rows), sep="\n")
    for name, error in errors.items():
        print(f"\nsection {name} FAILED: {error}")
    with open(args.out, "w") as f:
        json.dump(
            {
                "device": device.device_kind,
                "backend": jax.default_backend(),
                "jax": jax.__version__,
                "dataset": dataset.name,
                "reader": reader,
                "rows": rows,
                "errors": errors,
            },
            f,
            indent=1,
        )
    print(f"\nwrote {args.out}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(cli.run(main))

"""Speed of a cost surface of any model (the zoo's Flax NNX CNN) against per-point loops, and its memory.

    python benchmarks/landscape_any_model.py                  # 21x21 surface, 1,000 MNIST test images
    python benchmarks/landscape_any_model.py --devices 1      # one CPU device instead of one per core

The model is ``experiments/landscape_zoo.py``'s CNN (two 3×3 convolutions of 8 and 16 filters,
2×2 average pooling after each, a dense layer: 9,098 parameters for 28×28 images), written in
Flax NNX and reached only through ``loss(params, batch)``. The surface is its cross-entropy on
two filter-normalised directions. Three ways, on the same CPU:

- ``jaxdigits``: ``jaxdigits.landscape.surface``: every point in one compiled program, points
  vmapped in chunks and sharded over the CPU devices (the generic path: no fast path for a CNN);
- ``jax_loop``: a Python loop over points, each shifting the parameters and calling the same
  jitted loss (how a surface is usually written in JAX);
- ``torch_loop``: the same CNN in PyTorch eager mode (``torch.nn.functional``, the same weights),
  a Python loop over points under ``no_grad`` (how loss-landscape and PyHessian evaluate a grid).

The loops are timed on ``--subset`` points spread over the grid and extrapolated (median seconds
per point × points); their values are checked against the surface. Then the peak resident memory
of the surface for several ``chunk_size`` (points per vmapped chunk) and ``batch_size`` (images
per scanned step) shows that memory is bounded by the chunk sizes. PyTorch is a peer here only,
never a dependency. Results go to ``benchmarks/results/landscape_any_model-*.json``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--grid", type=int, default=21, help="points per axis (default 21, the zoo's)")
    p.add_argument("--images", type=int, default=1000, help="test images (default 1000, the zoo's)")
    p.add_argument("--subset", type=int, default=40, help="points timed for the loops (default 40)")
    p.add_argument("--repeats", type=int, default=2, help="timed runs of the surface (default 2)")
    p.add_argument("--devices", type=int, default=2, help="CPU devices to shard points over (default 2)")
    p.add_argument("--chunks", type=int, nargs="*", default=[1, 4, 16], help="chunk sizes for the memory table")
    p.add_argument("--batches", type=int, nargs="*", default=[0, 500], help="batch sizes (0: all) for the memory table")
    p.add_argument("--dataset", default="mnist", help="dataset (default mnist; 'digits' for a quick try)")
    p.add_argument("--no-torch", action="store_true", help="skip the PyTorch peer")
    return p.parse_args(argv)


def flax_cnn(image_shape):
    """The zoo's CNN, its loss and parameters (as ``experiments/landscape_zoo.py`` builds them)."""
    import optax
    from flax import nnx

    class CNN(nnx.Module):
        def __init__(self, *, rngs):
            self.conv1 = nnx.Conv(1, 8, kernel_size=(3, 3), rngs=rngs)
            self.conv2 = nnx.Conv(8, 16, kernel_size=(3, 3), rngs=rngs)
            self.out = nnx.Linear(16 * (image_shape[0] // 4) * (image_shape[1] // 4), 10, rngs=rngs)

        def __call__(self, x):
            x = nnx.avg_pool(nnx.relu(self.conv1(x)), (2, 2), strides=(2, 2))
            x = nnx.avg_pool(nnx.relu(self.conv2(x)), (2, 2), strides=(2, 2))
            return self.out(x.reshape(x.shape[0], -1))

    graphdef, params = nnx.split(CNN(rngs=nnx.Rngs(0)))

    def loss(params, batch):
        images, labels = batch
        logits = nnx.merge(graphdef, params)(images.reshape(-1, *image_shape, 1))
        return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()

    return loss, params


def torch_point(params, d1, d2, images, labels, image_shape):
    """``point(alpha, beta)``: the same CNN's cost in PyTorch eager mode, weights moved per point."""
    import torch
    import torch.nn.functional as F

    def tensors(tree):  # Flax layouts -> PyTorch layouts: HWIO kernels to OIHW, (in, out) to (out, in)
        leaf = lambda layer, name: np.array(tree[layer][name][...])  # a copy of the Param's value
        hwio = lambda layer: np.transpose(leaf(layer, "kernel"), (3, 2, 0, 1))
        arrays = {
            "c1w": hwio("conv1"),
            "c1b": leaf("conv1", "bias"),
            "c2w": hwio("conv2"),
            "c2b": leaf("conv2", "bias"),
            "ow": leaf("out", "kernel").T,
            "ob": leaf("out", "bias"),
        }
        return {k: torch.from_numpy(np.array(v)) for k, v in arrays.items()}

    p, u, v = tensors(params), tensors(d1), tensors(d2)
    x = torch.from_numpy(np.asarray(images).reshape(-1, 1, *image_shape).copy())
    y = torch.from_numpy(np.asarray(labels).astype(np.int64))

    @torch.no_grad()
    def point(alpha, beta):
        w = {k: p[k] + alpha * u[k] + beta * v[k] for k in p}
        h = F.avg_pool2d(F.relu(F.conv2d(x, w["c1w"], w["c1b"], padding=1)), 2)
        h = F.avg_pool2d(F.relu(F.conv2d(h, w["c2w"], w["c2b"], padding=1)), 2)
        h = h.permute(0, 2, 3, 1).reshape(h.shape[0], -1)  # NHWC order, as Flax flattens
        return float(F.cross_entropy(F.linear(h, w["ow"], w["ob"]), y))

    return point


def main(argv=None):
    args = parse_args(argv)
    from jaxdigits import devices

    devices.configure(args.devices, defer_to_user=True)
    import jax

    from benchmarks.landscape_surface import PeakRSS, time_loop
    from jaxdigits import landscape, load_dataset
    from jaxdigits.devices import environment

    dataset = load_dataset(args.dataset, allow_download=False)
    x, y = dataset.test_images[: args.images], dataset.test_labels[: args.images]
    loss, params = flax_cnn(dataset.image_shape)
    d1, d2 = (landscape.random_direction(params, key=jax.random.key(k)) for k in (1, 2))
    axis = landscape.axis(1.0, args.grid)
    data = jax.device_put((x, y))
    n_points = args.grid**2
    print(
        f"{args.grid}x{args.grid} = {n_points} points, {len(y)} {dataset.name} test images, "
        f"{jax.device_count()} device(s), load {os.getloadavg()}"
    )

    runs, cpu = [], []
    for _ in range(args.repeats + 1):  # the first call compiles
        tick = time.process_time()
        runs.append(landscape.surface(loss, params, data, (d1, d2), axis, axis))
        cpu.append(time.process_time() - tick)
    surface = runs[-1].cost
    ours = statistics.median(r.seconds for r in runs[1:])
    print(
        f"jaxdigits   {ours:8.3f} s for the surface ({statistics.median(cpu[1:]):.2f} CPU s; "
        f"compile {runs[0].seconds_compile:.2f} s; chunk default)"
    )

    rng = np.random.default_rng(0)
    index = [divmod(int(i), args.grid) for i in rng.choice(n_points, min(args.subset, n_points), replace=False)]
    pairs = [(axis[i], axis[j]) for i, j in index]
    reference = np.array([surface[i, j] for i, j in index])
    jitted = jax.jit(loss)
    shift = jax.jit(lambda p, a, b: landscape.shift(p, [d1, d2], jax.numpy.stack([a, b])))
    jitted(shift(params, 0.0, 0.0), data).block_until_ready()  # compile both
    peers = {"jax_loop": time_loop(lambda a, b: float(jitted(shift(params, a, b), data)), pairs)}
    if not args.no_torch:
        try:
            import torch

            torch.set_num_threads(os.cpu_count())
            point = torch_point(params, d1, d2, x, y, dataset.image_shape)
            peers["torch_loop"] = time_loop(point, pairs)
            peers["torch_loop"] = (*peers["torch_loop"], torch.__version__)
        except ImportError:
            print("torch is not installed: skipping the PyTorch peer")

    results = {
        "grid": args.grid,
        "points": n_points,
        "images": len(y),
        "dataset": dataset.name,
        "devices": jax.device_count(),
        "load_average": os.getloadavg(),
        "jaxdigits": {
            "seconds_surface": ours,
            "seconds_runs": [r.seconds for r in runs[1:]],
            "cpu_seconds_surface": statistics.median(cpu[1:]),
            "seconds_compile": runs[0].seconds_compile,
        },
        "peers": {},
        "memory": [],
        **environment(),
    }
    for name, (per_point, cpu_per_point, values, memory, *version) in peers.items():
        extrapolated = per_point * n_points
        diff = float(np.max(np.abs(values - reference) / np.abs(reference)))
        results["peers"][name] = {
            "seconds_per_point": per_point,
            "cpu_seconds_per_point": cpu_per_point,
            "seconds_surface_extrapolated": extrapolated,
            "points_timed": len(values),
            "speedup_of_jaxdigits": extrapolated / ours,
            "max_rel_difference": diff,
            "peak_rss_bytes": memory,
            "version": version[0] if version else None,
        }
        print(
            f"{name:11s} {per_point * 1e3:8.2f} ms/point -> {extrapolated:8.1f} s for the surface, "
            f"jaxdigits {extrapolated / ours:5.1f}x faster; max rel. difference {diff:.1e}"
        )

    for chunk in args.chunks:
        for batch in args.batches:
            options = dict(chunk_size=chunk, batch_size=batch or None)
            landscape.surface(loss, params, data, (d1, d2), axis, axis, **options)  # compile outside the peak
            with PeakRSS() as peak:
                r = landscape.surface(loss, params, data, (d1, d2), axis, axis, **options)
            same = float(np.max(np.abs(r.cost - surface)))
            results["memory"].append(
                {
                    "chunk_size": chunk,
                    "batch_size": batch or None,
                    "peak_rss_bytes": peak.bytes,
                    "seconds": r.seconds,
                    "max_abs_difference": same,
                }
            )
            print(
                f"chunk {chunk:3d} points, batch {batch or len(y):5d} images: peak +{peak.bytes / 2**20:7.1f} MiB, "
                f"{r.seconds:7.2f} s, max |Δcost| {same:.1e}"
            )

    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"landscape_any_model-{stamp}.json")
    with open(path, "w") as f:
        json.dump(results, f, indent=2, default=float)
    print(f"wrote {path}")
    return results


if __name__ == "__main__":
    main()

"""Speed of a whole cost surface against the per-point loop existing landscape tools use.

    python benchmarks/landscape_surface.py                      # 101x101 surface, MNIST test set
    python benchmarks/landscape_surface.py --devices 2          # points sharded over 2 CPU devices

The surface is the MNIST-trained video network's cost C(θ + α·d₁ + β·d₂) on the 10,000 test
images over a 101 × 101 grid (two filter-normalised Gaussian directions, span ±1). Peers:

- ``jaxdigits``: ``jaxdigits.landscape.surface`` — every point in one compiled program,
  first layer computed once (the linear-first-layer identity), points vmapped in chunks.
- ``jax_generic``: the same program evaluating the whole network at every point
  (``method="generic"``, what any model gets): what the identity saves, on a subset of points.
- ``numpy_loop`` and ``torch_loop``: what tomgoldstein/loss-landscape, loss-landscapes
  and PyHessian do — a Python loop over points, each setting θ + α·d₁ + β·d₂ and running
  the network over the data (NumPy float32; PyTorch eager under ``no_grad``; both batch
  all 10,000 images in one pass, which is kinder to them than a data loader). They are
  timed on ``--subset`` points spread over the grid and extrapolated per point (median
  seconds per point × 10,201); their values are checked against the compiled surface.

Peak memory is the largest resident set size above the level before each peer started,
sampled every 2 ms. Like the peers, the compiled surfaces compute the cost only (no metrics).
Results go to ``benchmarks/results/landscape_surface-*.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import statistics
import sys
import threading
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--grid", type=int, default=101, help="points per axis (default 101)")
    p.add_argument("--subset", type=int, default=200, help="points timed for the per-point loops (default 200)")
    p.add_argument("--direct-subset", type=int, default=400, help="points timed for jax_generic (default 400)")
    p.add_argument("--repeats", type=int, default=2, help="timed runs of the compiled surface (default 2)")
    p.add_argument("--chunk-size", type=int, help="points per chunk of the compiled surface (default: auto)")
    p.add_argument("--devices", type=int, default=1, help="simulated CPU devices to shard points over (default 1)")
    p.add_argument("--epochs", type=int, default=1, help="epochs of the video recipe to train first (default 1)")
    p.add_argument("--params", help="params.npz of a trained 784-16-16-10 network instead of training")
    p.add_argument("--dataset", default="mnist", help="dataset (default mnist; 'digits' for a quick try)")
    p.add_argument("--no-torch", action="store_true", help="skip the PyTorch peer even if torch imports")
    return p.parse_args(argv)


class PeakRSS:
    """Largest resident set size above the starting level while the block runs, in bytes."""

    def __enter__(self):
        self.start = self.peak = _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, _rss())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())
        self.bytes = self.peak - self.start


def _rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def numpy_point(params, d1, d2, alpha, beta, images, desired):
    """One grid point the per-point way: move every weight, run the whole network."""
    a = images
    np.seterr(over="ignore")  # far-out points saturate the sigmoid: exp overflows to inf, σ to 0
    for p, u, v in zip(params, d1, d2):
        w = p["w"] + np.float32(alpha) * u["w"] + np.float32(beta) * v["w"]
        b = p["b"] + np.float32(alpha) * u["b"] + np.float32(beta) * v["b"]
        a = 1.0 / (1.0 + np.exp(-(a @ w + b)))
    return float(np.mean(np.sum((a - desired) ** 2, axis=1)))


def make_torch_point(params, d1, d2, images, desired):
    import torch

    t = lambda tree: [{k: torch.from_numpy(np.array(v)) for k, v in layer.items()} for layer in tree]
    params, d1, d2 = t(params), t(d1), t(d2)
    x, y = torch.from_numpy(np.array(images)), torch.from_numpy(desired)

    @torch.no_grad()
    def point(alpha, beta):
        a = x
        for p, u, v in zip(params, d1, d2):
            a = torch.sigmoid(a @ (p["w"] + alpha * u["w"] + beta * v["w"]) + (p["b"] + alpha * u["b"] + beta * v["b"]))
        return float(((a - y) ** 2).sum(dim=1).mean())

    return point


def time_loop(point, pairs):
    """Wall seconds per point (median), CPU seconds per point (mean), values and peak memory."""
    seconds, values = [], []
    with PeakRSS() as memory:
        cpu = time.process_time()
        for alpha, beta in pairs:
            tick = time.perf_counter()
            values.append(point(alpha, beta))
            seconds.append(time.perf_counter() - tick)
        cpu = (time.process_time() - cpu) / len(pairs)
    return statistics.median(seconds), cpu, np.array(values), memory.bytes


def main(argv=None):
    args = parse_args(argv)
    import jax

    from jaxdigits import PRESETS, devices, landscape, load_dataset, load_params, train
    from jaxdigits.devices import environment
    from jaxdigits.network import VideoLoss

    devices.configure(args.devices, defer_to_user=True)  # N CPU devices, one worker thread each

    dataset = load_dataset(args.dataset)
    sizes = (dataset.num_pixels, 16, 16, 10)
    x, y = dataset.test_images, dataset.test_labels
    if args.params:
        params = load_params(args.params, sizes=sizes)
    else:
        config = dataclasses.replace(PRESETS["video"], sizes=sizes, epochs=args.epochs)
        params = train(config, (dataset.train_images, dataset.train_labels), progress=False).state.params
    params = jax.tree.map(np.asarray, params)
    d1, d2 = (landscape.random_direction(params, key=jax.random.key(k)) for k in (1, 2))
    d1, d2 = jax.tree.map(np.asarray, d1), jax.tree.map(np.asarray, d2)
    axis = landscape.axis(1.0, args.grid)
    n_points = args.grid**2
    device_x, device_y = jax.device_put((x, y))
    loss = VideoLoss()
    print(
        f"{args.grid}x{args.grid} = {n_points} points, {len(y)} {dataset.name} test images, "
        f"{jax.device_count()} device(s)"
    )

    runs, memory, cpu = [], [], []
    for _ in range(args.repeats + 1):  # the first call compiles
        with PeakRSS() as peak:
            tick = time.process_time()
            result = landscape.surface(
                loss, params, (device_x, device_y), (d1, d2), axis, axis, chunk_size=args.chunk_size
            )
            cpu.append(time.process_time() - tick)
        runs.append(result)
        memory.append(peak.bytes)
    jax_seconds = statistics.median(r.seconds for r in runs[1:])
    jax_cpu = statistics.median(cpu[1:])  # CPU seconds of all threads: steadier than wall time on a shared machine
    surface = runs[-1].cost
    print(
        f"jaxdigits   {jax_seconds:8.3f} s for the surface ({jax_cpu:.2f} CPU s; compile "
        f"{runs[0].seconds_compile:.2f} s), "
        f"peak +{max(memory) / 2**20:.0f} MiB"
    )

    rng = np.random.default_rng(0)
    chosen = rng.choice(n_points, size=min(args.subset, n_points), replace=False)
    index = [divmod(int(i), args.grid) for i in chosen]
    pairs = [(axis[i], axis[j]) for i, j in index]
    reference = np.array([surface[i, j] for i, j in index])
    peers = {}

    direct_index = [
        divmod(int(i), args.grid) for i in rng.choice(n_points, min(args.direct_subset, n_points), replace=False)
    ]
    offsets = np.array([(axis[i], axis[j]) for i, j in direct_index])
    landscape.evaluate(loss, params, (d1, d2), (device_x, device_y), offsets, method="generic")  # compile
    with PeakRSS() as peak:
        tick = time.process_time()
        direct = landscape.evaluate(loss, params, (d1, d2), (device_x, device_y), offsets, method="generic")
        direct_cpu = (time.process_time() - tick) / len(offsets)
    direct_reference = [surface[i, j] for i, j in direct_index]
    peers["jax_generic"] = _peer(direct.seconds / len(offsets), direct_cpu, direct.cost, peak.bytes, direct_reference)

    desired = np.eye(10, dtype=np.float32)[y]
    peers["numpy_loop"] = _peer(
        *time_loop(lambda a, b: numpy_point(params, d1, d2, a, b, x, desired), pairs), reference
    )
    if not args.no_torch:
        try:
            import torch

            torch.set_num_threads(os.cpu_count())
            point = make_torch_point(params, d1, d2, x, desired)
            peers["torch_loop"] = _peer(*time_loop(point, pairs), reference)
            peers["torch_loop"]["torch"] = torch.__version__
        except ImportError:
            print("torch is not installed: skipping the PyTorch peer")

    results = {
        "grid": args.grid,
        "points": n_points,
        "images": len(y),
        "dataset": dataset.name,
        "devices": jax.device_count(),
        "chunk_size": args.chunk_size,
        "jaxdigits": {
            "seconds_surface": jax_seconds,
            "seconds_runs": [r.seconds for r in runs[1:]],
            "cpu_seconds_surface": jax_cpu,
            "seconds_compile": runs[0].seconds_compile,
            "peak_rss_bytes": max(memory),
            "centre_cost": float(surface[args.grid // 2, args.grid // 2]),
        },
        "peers": {},
        **environment(),
    }
    for name, peer in peers.items():
        peer["seconds_surface_extrapolated"] = peer["seconds_per_point"] * n_points
        peer["speedup_of_jaxdigits"] = peer["seconds_surface_extrapolated"] / jax_seconds
        peer["cpu_speedup_of_jaxdigits"] = peer["cpu_seconds_per_point"] * n_points / jax_cpu
        results["peers"][name] = peer
        print(
            f"{name:11s} {peer['seconds_per_point'] * 1e3:8.3f} ms/point -> "
            f"{peer['seconds_surface_extrapolated']:8.1f} s for the surface (timed on {peer['points_timed']} points), "
            f"jaxdigits {peer['speedup_of_jaxdigits']:6.1f}x faster ({peer['cpu_speedup_of_jaxdigits']:.1f}x in CPU "
            f"time); max rel. difference "
            f"{peer['max_rel_difference']:.1e}, peak +{peer['peak_rss_bytes'] / 2**20:.0f} MiB"
        )
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"landscape_surface-{stamp}.json")
    with open(path, "w") as f:
        json.dump(results, f, indent=2, default=float)
    print(f"wrote {path}")
    return results


def _peer(seconds_per_point, cpu_per_point, values, memory, reference):
    values, reference = np.asarray(values, np.float64), np.asarray(reference, np.float64)
    return {
        "seconds_per_point": seconds_per_point,
        "cpu_seconds_per_point": cpu_per_point,
        "points_timed": len(values),
        "peak_rss_bytes": memory,
        "max_rel_difference": float(np.max(np.abs(values - reference) / np.abs(reference))),
    }


if __name__ == "__main__":
    main()

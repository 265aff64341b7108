"""What recording snapshots costs training: the video's epoch with and without them, interleaved.

    python -m benchmarks.snapshot_cost [--rounds 10] [--per-epoch 25]

Two compiled epochs of the video's recipe on MNIST — the plain one and the one that records
the parameters every k steps (``snapshot_every``, as ``experiments/explore.py`` does, k =
6000 / 25 = 240) — run in turn, one epoch each per round, from the same start, so that a
change in machine load hits both alike. Each epoch is timed as ``train`` times it: the
compiled call and the metrics (and snapshots) brought to the host. Prints the median seconds
per epoch of each, the ratio of the medians, the median of the per-round ratios (robust to
load that changes between rounds) and the ratio of the best epochs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jax  # noqa: E402
import numpy as np  # noqa: E402

import jaxdigits as jd  # noqa: E402
from jaxdigits import training
from jaxdigits.data import resident_pixels
from jaxdigits.training import init_state, make_train_epoch, optimizer_for, steps_per_epoch  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--per-epoch", type=int, default=25, help="snapshots per epoch")
    p.add_argument("--data-dir")
    args = p.parse_args(argv)
    jd.devices.configure("1", defer_to_user=True)  # one network: one device, one worker thread
    dataset = jd.load_dataset("mnist", args.data_dir)
    config = jd.PRESETS["video"]
    n = len(dataset.train_labels)
    every = training.snapshot_every(steps_per_epoch(n, config.batch_size), args.per_epoch)
    optimizer = optimizer_for(config, n)
    data = jax.device_put((resident_pixels(dataset.train_images), dataset.train_labels.astype(np.int32)))
    evals = jax.device_put({"test": (dataset.test_images, dataset.test_labels.astype(np.int32))})
    epochs = {
        "plain": make_train_epoch(config, optimizer),
        f"snapshots every {every} steps": make_train_epoch(config, optimizer, snapshot_every=every),
    }
    start = lambda: init_state(config, optimizer, key=jax.random.key(0))
    states = {name: start() for name in epochs}
    for name, epoch in epochs.items():  # compile and warm up
        states[name], metrics = epoch(states[name], *data, evals)
        jax.device_get(metrics)
    seconds = {name: [] for name in epochs}
    for r in range(args.rounds):
        for name in list(epochs)[:: 1 if r % 2 == 0 else -1]:  # alternate who goes first
            epoch = epochs[name]
            tick = time.perf_counter()
            states[name], metrics = epoch(states[name], *data, evals)
            jax.device_get(metrics)
            seconds[name].append(time.perf_counter() - tick)
    medians = {name: statistics.median(s) for name, s in seconds.items()}
    plain, recorded = medians.values()
    ratios = [b / a for a, b in zip(*seconds.values())]  # the two epochs of one round ran back to back
    for name, median in medians.items():
        print(f"{name:>28}: median {median:.4f} s per epoch over {args.rounds} epochs ({min(seconds[name]):.4f} best)")
    print(
        f"snapshots cost {100 * (recorded / plain - 1):+.1f} % (ratio of medians), "
        f"{100 * (statistics.median(ratios) - 1):+.1f} % (median of the rounds' ratios), "
        f"{100 * (min(seconds[list(epochs)[1]]) / min(seconds['plain']) - 1):+.1f} % (best epochs); "
        f"load {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()

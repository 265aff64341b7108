"""Seconds per epoch with shifted mini-batches: from the table of shifted copies, shifted as gathered, unshifted.

    python -m benchmarks.shift_table --rounds 9

One process, one CPU device, MNIST: for each batch size the three epoch programs of the
``best`` recipe (no evaluation inside the epoch) are compiled, then timed round by round,
one epoch of each per round, so that the machine's load falls on all three alike; the median
epoch of each is printed as one line of JSON, with the time to build and place the table and
the 1-minute load average before and after. ``--check`` also asserts that the two shifted
programs end their epochs with the same parameters, bit for bit.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import time


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 128])
    p.add_argument("--rounds", type=int, default=9, help="timed epochs of each program (median reported)")
    p.add_argument("--check", action="store_true", help="assert the table changes no number")
    args = p.parse_args(argv)

    import jax
    import numpy as np

    import jaxdigits as jd
    from jaxdigits import devices

    devices.configure("1", defer_to_user=True)
    from jaxdigits.data import resident_pixels, shift_table
    from jaxdigits.training import init_state, make_train_epoch, optimizer_for

    dataset = jd.load_dataset("mnist", allow_download=False)
    images, labels = dataset.train_images, np.asarray(dataset.train_labels, np.int32)
    load_before = os.getloadavg()[0]
    tick = time.perf_counter()
    table = jax.device_put(shift_table(images, 1))
    jax.block_until_ready(table)
    table_seconds = time.perf_counter() - tick
    plain, labels = jax.device_put((resident_pixels(images), labels))
    for batch in args.batch_sizes:
        config = dataclasses.replace(jd.PRESETS["best"], batch_size=batch)
        optimizer = optimizer_for(config, len(labels))
        variants = {
            "table": (config, table, True),
            "shift as gathered": (config, plain, False),
            "no shift": (dataclasses.replace(config, augment="none"), plain, False),
        }
        programs, states, seconds, compile_seconds = {}, {}, {}, {}
        for name, (c, data, from_table) in variants.items():
            states[name] = init_state(c, optimizer, key=jax.random.key(0))
            tick = time.perf_counter()
            epoch = make_train_epoch(c, optimizer, from_table=from_table)
            programs[name] = epoch.lower(states[name], data, labels, {}).compile()
            compile_seconds[name] = time.perf_counter() - tick
            seconds[name] = []
        for _ in range(args.rounds + 1):  # the first round warms up
            for name, (_, data, _) in variants.items():
                tick = time.perf_counter()
                states[name], metrics = programs[name](states[name], data, labels, {})
                jax.block_until_ready(metrics)
                seconds[name].append(time.perf_counter() - tick)
        if args.check:
            for a, b in zip(
                jax.tree.leaves(states["table"].params), jax.tree.leaves(states["shift as gathered"].params)
            ):
                np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
        medians = {name: statistics.median(s[1:]) for name, s in seconds.items()}
        print(
            json.dumps(
                {
                    "batch_size": batch,
                    "epoch_s": medians,
                    "epochs_s": {name: s[1:] for name, s in seconds.items()},
                    "compile_s": compile_seconds,
                    "table_gain": 1 - medians["table"] / medians["shift as gathered"],
                    "table_build_and_place_s": table_seconds,
                    "checked_equal": args.check,
                    "load_before": load_before,
                    "load_after": os.getloadavg()[0],
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()

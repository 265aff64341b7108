"""Seconds per epoch of K networks in one program, in a process of its own (``run.py`` starts it).

    JAXDIGITS_CPU_DEVICES=cores python -m benchmarks.population --k 16 --batch-size 128

A population runs fastest with one CPU device per core and a single network with one device
(``jaxdigits.devices``); the shape of JAX's CPU backend is fixed per process, so ``python -m
benchmarks`` times the population here, with the shape the population experiments use, and
prints one line of JSON. The K networks are spread over the devices as ``train_population``
spreads them (``devices_sharing``, ``place_population``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--k", type=int, default=16)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--epochs", type=int, default=3, help="timed epochs (median reported)")
    p.add_argument("--warmup", type=int, default=1)
    args = p.parse_args(argv)

    import jax
    import numpy as np
    from jax.sharding import Mesh

    import jaxdigits as jd
    from jaxdigits import devices

    devices.configure("cores", defer_to_user=True)  # populations: one device per core
    from jaxdigits.data import resident_pixels
    from jaxdigits.devices import devices_sharing
    from jaxdigits.training import init_population, make_population_epoch, optimizer_for, place_population

    dataset = jd.load_dataset("mnist", fallback=True, allow_download=False)
    config = jd.TrainConfig(batch_size=args.batch_size, sizes=(dataset.num_pixels, 16, 16, 10))
    optimizer = optimizer_for(config, len(dataset.train_labels))
    devices = devices_sharing(args.k)
    mesh = Mesh(np.asarray(devices), ("members",)) if len(devices) > 1 else None
    whole = None if mesh is None else jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec())
    put = lambda x: jax.device_put(x, whole)
    data = put((resident_pixels(dataset.train_images), np.asarray(dataset.train_labels, np.int32)))
    state = place_population(init_population(config, optimizer, tuple(range(args.k)), (1.5,) * args.k), mesh)
    epoch = make_population_epoch(config, optimizer, scale_updates=False, mesh=mesh).lower(state, *data, {}).compile()
    seconds = []
    for round_ in range(args.warmup + args.epochs):
        tick = time.perf_counter()
        state, metrics = epoch(state, *data, {})
        jax.block_until_ready(metrics)
        if round_ >= args.warmup:
            seconds.append(time.perf_counter() - tick)
    result = {"k": args.k, "devices": len(devices), "epoch_s": statistics.median(seconds), "epochs_s": seconds}
    print(json.dumps(result))


if __name__ == "__main__":
    main()

"""Data-parallel training across 2 processes (jax.distributed, CPU collectives), checked
against the same training in one process.

    python experiments/multiprocess_train.py                 # 2 processes, sklearn digits
    python experiments/multiprocess_train.py --dataset mnist --epochs 1 --batch-size 128

The launcher starts ``--processes`` copies of this script as workers. Each worker calls
``jax.distributed.initialize`` (process 0 is the coordinator, on localhost), sees every
process's CPU device in ``jax.devices()``, and runs ``jaxdigits.training.train_data_parallel``
over a mesh spanning the processes: each mini-batch is split between processes, and the
gradient is summed across them by gloo, XLA's CPU collectives. Worker 0 saves the final
parameters; the launcher then trains the same config in one plain process (``train``) and
prints the largest difference. Exit status 0 means they agree to float32 rounding.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import socket
import subprocess
import sys
import tempfile

from jaxdigits import cli


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--dataset", default="digits", help="digits (fast, default) or mnist")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tolerance", type=float, default=1e-4, help="largest allowed parameter difference")
    p.add_argument("--worker", type=int, help=argparse.SUPPRESS)  # set by the launcher
    p.add_argument("--coordinator", help=argparse.SUPPRESS)
    p.add_argument("--result", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.processes < 1:
        p.error(f"--processes must be at least 1, got {args.processes}")
    return args


def config_for(args, dataset):
    from jaxdigits import PRESETS

    return dataclasses.replace(
        PRESETS["video"],
        sizes=(dataset.num_pixels, 16, 16, 10),
        epochs=args.epochs,
        batch_size=args.batch_size,
        seed=args.seed,
    )


def worker(args):
    import jax

    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(args.coordinator, num_processes=args.processes, process_id=args.worker)
    import numpy as np

    from jaxdigits import load_dataset
    from jaxdigits.training import train_data_parallel

    dataset = load_dataset(args.dataset, allow_download=False)
    config = config_for(args, dataset)
    print(f"process {jax.process_index()}/{jax.process_count()}: devices {jax.devices()}", flush=True)
    result = train_data_parallel(
        config, (dataset.train_images, dataset.train_labels), {"test": (dataset.test_images, dataset.test_labels)}
    )
    if jax.process_index() == 0:
        params = [{k: np.asarray(v.addressable_data(0)) for k, v in layer.items()} for layer in result.state.params]
        np.savez(args.result, *[p[k] for p in params for k in ("w", "b")])
        print(f"process 0: test accuracy {result.history[-1]['test_accuracy']:.4f}", flush=True)
    jax.distributed.shutdown()


def launch(args):
    import numpy as np

    from jaxdigits import load_dataset, train

    dataset = load_dataset(args.dataset, allow_download=False)  # data and settings checked before workers start
    config = config_for(args, dataset)
    with socket.socket() as s:  # a free port for the coordinator
        s.bind(("localhost", 0))
        port = s.getsockname()[1]
    result = os.path.join(tempfile.mkdtemp(), "params.npz")
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    command = [sys.executable, os.path.abspath(__file__), "--coordinator", f"localhost:{port}", "--result", result]
    command += ["--processes", str(args.processes), "--dataset", args.dataset, "--epochs", str(args.epochs)]
    command += ["--batch-size", str(args.batch_size), "--seed", str(args.seed)]
    workers = [subprocess.Popen(command + ["--worker", str(i)], env=env) for i in range(args.processes)]
    if any(w.wait() for w in workers):
        sys.exit("a worker failed")

    single = train(
        config,
        (dataset.train_images, dataset.train_labels),
        {"test": (dataset.test_images, dataset.test_labels)},
        progress=False,
    )
    saved = np.load(result)
    multi = [saved[f"arr_{i}"] for i in range(len(saved.files))]
    ones = [np.asarray(layer[k]) for layer in single.state.params for k in ("w", "b")]
    diff = max(float(np.max(np.abs(a - b))) for a, b in zip(multi, ones))
    moved = max(float(np.max(np.abs(a - b))) for a, b in zip(ones, [np.asarray(x) for x in _initial(config)]))
    print(
        f"{args.processes} processes vs 1 process, {config.epochs} epochs of {dataset.name}: "
        f"largest parameter difference {diff:.2e} (training moved parameters by up to {moved:.2f}); "
        f"single-process test accuracy {single.history[-1]['test_accuracy']:.4f}"
    )
    if not diff <= args.tolerance:
        sys.exit(f"NOT equal: difference {diff:.2e} > tolerance {args.tolerance:.0e}")
    print("equal to float32 rounding: OK")


def _initial(config):
    import jax

    from jaxdigits.training import init_state, optimizer_for

    state = init_state(config, optimizer_for(config, 10**6), key=jax.random.key(config.seed))
    return [layer[k] for layer in state.params for k in ("w", "b")]


def main(argv=None):
    args = parse_args(argv)
    return worker(args) if args.worker is not None else launch(args)


if __name__ == "__main__":
    cli.run(main)

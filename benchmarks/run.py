"""Time jaxdigits' training epoch against NumPy, PyTorch and a jitted step, side by side.

    python -m benchmarks                      # everything, a few minutes: peers, population, 96 %
    python -m benchmarks --quick              # fewer epochs, no time-to-96 %
    python -m benchmarks --cores all          # do not pin to one core (see NOTES.md)

Every peer trains the video's network on the same MNIST images, with the same batch size,
learning rate and starting parameters (``benchmarks/peers.py``). Rounds interleave the peers
(one epoch each, in turn) so that a change in machine load hits them alike; the table shows
the median epoch after ``--warmup`` rounds, compilation separately, and each peer's time
as a multiple of jaxdigits'. Results go to ``benchmarks/results/<time>.json``.

By default the process is pinned to one CPU core and every library is told to use one
thread: on a small shared machine, worker threads of OpenBLAS and XLA wait on each other and
on other users, which cost NumPy 50x and XLA 2x here. ``--cores all`` measures without: every
library with its own default threads, jaxdigits in the shape a single network runs fastest in
(one CPU device with one worker thread, ``jaxdigits.devices.configure("1")``, which this
benchmark asks for as the experiment scripts do), and the population in a process
with one device per core (``benchmarks/population.py``). Compare the two runs' tables for what
the second core gives each peer.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time

TARGETS = {  # the goals: jaxdigits time / peer time at most this
    ("numpy", 128): 0.5,
    ("numpy", 10): 0.7,
    ("torch", 10): 0.2,
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[10, 128])
    p.add_argument("--peers", nargs="+", default=["numpy", "torch", "jit_step", "jaxdigits"])
    p.add_argument("--epochs", type=int, default=3, help="timed epochs per peer (median reported)")
    p.add_argument("--warmup", type=int, default=1, help="untimed epochs first")
    p.add_argument("--population", type=int, default=16, help="K networks for the population benchmark (0: skip)")
    p.add_argument("--no-time-to-96", action="store_true", help="skip training the best preset to 96%% test accuracy")
    p.add_argument("--quick", action="store_true", help="2 timed epochs, no time-to-96%%")
    p.add_argument("--cores", default="1", help="'1' (default): pin to one core, one thread per library; 'all'")
    p.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results"))
    args = p.parse_args(argv)
    if args.quick:
        args.epochs, args.no_time_to_96 = 2, True
    return args


def pin_to_one_core():
    """Run on one core with single-threaded libraries; call before numpy/jax/torch load."""
    core = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    return core


def describe_machine(cores):
    import jax  # imported here, not at the top: pin_to_one_core must run before they load
    import numpy as np

    import jaxdigits

    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    info = {
        "cpu": cpu,
        "cpus_online": os.cpu_count(),
        "cpus_used": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "pinned": cores == "1",
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "jax": jax.__version__,
        "jax_backend": jax.default_backend(),
        "jax_devices": [str(d) for d in jax.devices()],
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "cpu_backend": jaxdigits.devices.describe(),
    }
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    except ImportError:
        info["torch"] = None
    return info


def time_peers(names, batch_size, images, labels, params, args, learning_rate=1.5):
    """Median seconds per epoch (and compile seconds) of each peer, rounds interleaved."""
    import numpy as np

    from benchmarks import peers

    made, compile_s = {}, {}
    for name in names:
        if name == "jaxdigits":
            epoch, state, _, compile_s[name] = peers.make_jaxdigits(params, images, labels, learning_rate, batch_size)
        else:
            epoch, state, _ = getattr(peers, f"make_{name}")(params, images, labels, learning_rate)
        made[name] = [epoch, state, []]
    rng = np.random.default_rng(0)
    steps = len(labels) // batch_size
    for round_ in range(args.warmup + args.epochs):
        order = rng.permutation(len(labels))[: steps * batch_size].reshape(steps, batch_size)
        for name, entry in made.items():
            tick = time.perf_counter()
            entry[1] = entry[0](entry[1], order)
            seconds = time.perf_counter() - tick
            if round_ >= args.warmup:
                entry[2].append(seconds)
            elif name == "jit_step" and round_ == 0:
                compile_s[name] = seconds  # its first epoch includes the step's compilation
    for name, seconds in list(compile_s.items()):
        if name == "jit_step":  # first epoch minus a typical epoch
            compile_s[name] = max(0.0, seconds - statistics.median(made[name][2]))
    return {
        name: {"median_s": statistics.median(e[2]), "epochs_s": e[2], "compile_s": compile_s.get(name)}
        for name, e in made.items()
    }


def time_population(k, batch_size, images, labels, args):
    """Network-epochs per second: K networks in one program vs one network's epoch.

    The single network is timed here, in this process's CPU backend (one device, one
    thread: ``jaxdigits.devices``); the population in a process of its own
    (``benchmarks/population.py``) with one device per usable core, the shape the
    population experiments run in (with ``--cores 1`` that is one device: the pinning is
    inherited).
    """
    import jax

    from jaxdigits import TrainConfig
    from jaxdigits.data import resident_pixels
    from jaxdigits.training import init_state, make_train_epoch, optimizer_for

    config = TrainConfig(batch_size=batch_size)
    optimizer = optimizer_for(config, len(labels))
    data = jax.device_put((resident_pixels(images), labels))
    state = init_state(config, optimizer, key=jax.random.key(0))
    epoch = make_train_epoch(config, optimizer).lower(state, *data, {}).compile()
    seconds = []
    for round_ in range(args.warmup + max(2, args.epochs - 1)):
        tick = time.perf_counter()
        state, metrics = epoch(state, *data, {})
        jax.block_until_ready(metrics)
        if round_ >= args.warmup:
            seconds.append(time.perf_counter() - tick)
    command = [sys.executable, "-m", "benchmarks.population", "--k", str(k), "--batch-size", str(batch_size)]
    command += ["--epochs", str(max(2, args.epochs - 1)), "--warmup", str(args.warmup)]
    env = {**os.environ, "JAXDIGITS_CPU_DEVICES": "cores"}
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run(command, env=env, cwd=root, capture_output=True, text=True, check=True)
    population = json.loads(done.stdout.strip().splitlines()[-1])
    single_s = statistics.median(seconds)
    return {
        "k": k,
        "devices": population["devices"],
        "single_epoch_s": single_s,
        "population_epoch_s": population["epoch_s"],
        "speedup": k * single_s / population["epoch_s"],
    }


def time_to_accuracy(dataset, target=0.96, seeds=(0, 1, 2)):
    """Per seed: seconds (compile included) until the best preset's test accuracy first reaches ``target``.

    Several seeds, because whether one run crosses 96 % is itself a matter of the seed.
    """
    import dataclasses

    from jaxdigits.training import PRESETS, train

    class Reached(Exception):
        pass

    def one_seed(seed):
        config = dataclasses.replace(PRESETS["best"], seed=seed)
        reached = {"seed": seed, "epoch": None, "seconds": None, "last_test_accuracy": None}
        start = time.perf_counter()

        def on_epoch(state, history):
            reached["last_test_accuracy"] = history[-1]["test_accuracy"]
            if history[-1]["test_accuracy"] >= target:
                reached.update(epoch=history[-1]["epoch"], seconds=time.perf_counter() - start)
                raise Reached

        try:
            train(
                config,
                (dataset.train_images, dataset.train_labels),
                {"test": (dataset.test_images, dataset.test_labels)},
                on_epoch=on_epoch,
                progress=False,
            )
        except Reached:
            pass
        return reached

    runs = [one_seed(seed) for seed in seeds]
    return {"target": target, "config": repr(PRESETS["best"]), "runs": runs}


def main(argv=None):
    args = parse_args(argv)
    core = pin_to_one_core() if args.cores == "1" else None
    import jax
    import numpy as np

    from jaxdigits import devices, init_params, load_dataset

    devices.configure("1", defer_to_user=True)  # one network: one device, one worker thread

    try:
        import torch

        if core is not None:
            torch.set_num_threads(1)
    except ImportError:
        if "torch" in args.peers:
            print("torch is not installed: skipping the PyTorch peer (pip install torch to include it)")
            args.peers = [p for p in args.peers if p != "torch"]

    dataset = load_dataset("mnist", fallback=True, allow_download=False)
    images, labels = dataset.train_images, dataset.train_labels
    params = jax.tree.map(np.asarray, init_params(jax.random.key(0), (dataset.num_pixels, 16, 16, 10)))
    result = {
        "machine": describe_machine(args.cores),
        "dataset": dataset.name,
        "n_train": len(labels),
        "args": vars(args),
        "epochs": {},
        "ratios": {},
        "targets": {},
    }
    print(
        f"{dataset.name}: {len(labels)} training images; {result['machine']['cpu']}, "
        f"cores used {result['machine']['cpus_used']}, load {result['machine']['load_average'][0]:.1f}"
    )

    for batch_size in args.batch_sizes:
        timings = time_peers(args.peers, batch_size, images, labels, params, args)
        result["epochs"][batch_size] = timings
        base = timings.get("jaxdigits", {}).get("median_s")
        for name, t in timings.items():
            ratio = t["median_s"] / base if base else None
            result["ratios"][f"{name}/jaxdigits@{batch_size}"] = ratio
            compile_note = f"  (compile {t['compile_s']:.2f} s)" if t["compile_s"] else ""
            spread = f"{min(t['epochs_s']):.3f}-{max(t['epochs_s']):.3f}"
            print(
                f"batch {batch_size:4d}  {name:10s} {t['median_s']:7.3f} s/epoch [{spread}]  "
                f"{ratio:6.2f}x jaxdigits' time{compile_note}"
            )
        for (peer, bs), goal in TARGETS.items():
            if bs == batch_size and peer in timings and base:
                got = base / timings[peer]["median_s"]
                result["targets"][f"jaxdigits/{peer}@{bs}"] = {"goal_at_most": goal, "got": got, "met": got <= goal}
                print(f"  target jaxdigits/{peer} <= {goal}: got {got:.2f} -> {'met' if got <= goal else 'NOT met'}")

    if args.population:
        result["population"] = {}
        for batch_size in args.batch_sizes:
            pop = time_population(args.population, batch_size, images, labels, args)
            result["population"][batch_size] = pop
            print(
                f"population K={pop['k']} on {pop['devices']} device(s), batch {batch_size}: "
                f"{pop['population_epoch_s']:.3f} s per epoch of all K vs "
                f"{pop['single_epoch_s']:.3f} s for one network -> {pop['speedup']:.1f}x network-epochs per second"
            )
    if not args.no_time_to_96 and dataset.name == "mnist":
        result["time_to_96"] = t96 = time_to_accuracy(dataset)
        for run in t96["runs"]:
            print(
                f"best preset, seed {run['seed']}: 96% test accuracy after epoch {run['epoch']}, "
                f"{run['seconds']:.1f} s (compile included)"
                if run["seconds"]
                else f"best preset, seed {run['seed']}: never reached 96% (last epoch {run['last_test_accuracy']:.2%})"
            )

    result["machine"]["load_average_end"] = os.getloadavg()
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, datetime.datetime.now().strftime("%Y%m%d-%H%M%S") + ".json")
    with open(path, "w") as f:
        json.dump(result, f, indent=1, default=str)
    print(f"wrote {path}")
    return result


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    main()

"""Make the explorer page: one self-contained explorer.html that replays how networks learned.

    python experiments/explore.py                      # the video's recipe on MNIST at six learning
                                                       # rates (0.01 ... 100), then the page
    python experiments/explore.py --run runs/DIR       # the run of a train_digits.py folder (retrained
                                                       # with snapshots: same config, seed and data)
    python experiments/explore.py --params FILE        # one network: no replay, no landscape
    python experiments/explore.py --dataset fashion_mnist   # Fashion-MNIST (Debian's dataset-fashion-mnist)

The runs of the page's learning-rate dial start from one initial network and are trained
together as one population with snapshots (``train_population``); the recipe's own η is the
run the page opens with. The page (``jaxdigits.explorer``) opens by double-click, offline; its
size and the seconds each part took go to metrics.json beside it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
import warnings

import jax
import numpy as np

import jaxdigits as jd
from jaxdigits import cli, explorer, io, training
from jaxdigits.data import MNIST_DIR_ENV, split_validation
from jaxdigits.devices import environment
from jaxdigits.errors import InvalidArgument, MissingFile, OutputExists
from jaxdigits.training import read_config, steps_per_epoch

PAGE = "explorer.html"
DEBIAN_FASHION_MNIST = "/usr/share/datasets/fashion-mnist"  # Debian's dataset-fashion-mnist package
CLASS_NAMES = {
    "fashion_mnist": [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"
    ],
}  # fmt: skip


def parse_args(argv=None):
    p = cli.parser(__doc__)
    source = p.add_mutually_exclusive_group()
    source.add_argument("--run", metavar="DIR", help="a train_digits.py output folder to replay")
    source.add_argument("--params", metavar="FILE", help="a parameter file (.npz) to show alone")
    p.add_argument("--grid", type=int, help="landscape grid points per axis (default 41; --fast 15)")
    p.add_argument("--first-epoch-frames", type=int, default=20, help="snapshots per epoch, all kept for epoch 1")
    p.add_argument(
        "--later-frames", type=int, default=12, help="later epochs whose end is a frame (spaced geometrically)"
    )
    p.add_argument(
        "--learning-rates",
        type=float,
        nargs="+",
        metavar="ETA",
        help="the dial's runs (default: 0.01 0.1 0.5 1.5 5 100, scaled by the recipe's η / 1.5)",
    )
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    start = time.perf_counter()
    out = args.out or os.path.join("runs", f"explore-{time.strftime('%Y%m%d-%H%M%S')}")
    if os.path.isdir(out) and os.listdir(out) and not args.overwrite:
        raise OutputExists(f"output folder {out!r} already holds files; choose another --out or pass --overwrite")
    if args.grid is not None and args.grid < 3:
        raise InvalidArgument(f"--grid must be at least 3, got {args.grid}")
    if args.first_epoch_frames < 3:
        raise InvalidArgument(f"--first-epoch-frames must be at least 3, got {args.first_epoch_frames}")
    if args.later_frames < 1:
        raise InvalidArgument(f"--later-frames must be at least 1, got {args.later_frames}")
    config, dataset, saved_params, source = load_source(args)
    test = (dataset.test_images, dataset.test_labels)
    meta = {
        "dataset": dataset.name,
        "image_shape": list(dataset.image_shape),
        "num_train": len(dataset.train_labels),
        "num_test": len(dataset.test_labels),
        "source": source,
        "classes": CLASS_NAMES.get(dataset.name),
    }
    if config is None:  # one parameter set
        explorer.check_network(saved_params, dataset.num_pixels)
        eta = (args.learning_rates or [jd.PRESETS["video"].learning_rate])[0]  # for the page's "take one step"
        steps, runs, default, surface = [0], [explorer.Run(eta, [saved_params], [])], 0, None
        meta.update(epochs=0, steps_per_epoch=1, preset=None, seconds_train=None)
        meta["test_accuracy"] = float(jd.accuracy(saved_params, *test))
        activation, cost = "sigmoid", "mse"
    else:
        steps, runs, default, meta_run = train_runs(config, dataset, args)
        meta.update(meta_run, preset=preset_of(args))
        if saved_params is not None:
            meta["source"] += reproduced(saved_params, runs[default].frames[-1])
        grid = args.grid or (15 if args.fast else 41)
        tick = time.perf_counter()
        surface = explorer.trajectory_landscape(
            [run.frames for run in runs],
            *test,
            center=default,
            grid=grid,
            cost=config.cost,
            activation=config.activation,
        )
        meta["seconds_landscape"] = time.perf_counter() - tick
        activation, cost = config.activation, config.cost
    data = explorer.page_data(
        steps, runs, *test, meta=meta, surface=surface, default_run=default, activation=activation, cost=cost
    )
    rounding = float16_error(runs, (test[0][:2000], test[1][:2000]), activation, cost)
    html = explorer.render_page(data)
    path = os.path.join(out, PAGE)
    with io.atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        f.write(html)
    seconds = time.perf_counter() - start
    metrics = {
        "experiment": "explore",
        "fast": args.fast,
        "page": PAGE,
        "page_bytes": os.path.getsize(path),
        "frames": len(steps),
        "runs": [
            {k: run[k] for k in ("learning_rate", "status", "reason", "blew_up")}
            | {"final_test_accuracy": run["test_accuracy"][-1], "final_test_cost": run["test_cost"][-1]}
            for run in data["runs"]
        ],
        "seconds_total": seconds,
        "seconds_surface": surface and surface["seconds"],
        "explained_variance_ratio": surface and surface["explained"],
        **rounding,
        **{k: v for k, v in meta.items() if k != "image_shape"},
        **environment(),
    }
    io.write_json(os.path.join(out, "metrics.json"), metrics)
    print(
        f"{dataset.name}: {len(runs)} runs of {len(steps)} frames, final test accuracy {meta['test_accuracy']:.2%} "
        f"at η = {runs[default].learning_rate:g}; page {metrics['page_bytes'] / 1e6:.2f} MB in {seconds:.1f} s\n"
        f"wrote {path}"
    )
    return metrics


def load_source(args):
    """``(config or None, dataset, saved parameters or None, words for the page)``."""
    if args.params:
        params = jd.load_params(args.params)
        return None, load_data(args), params, f"parameters from {os.path.basename(args.params)}"
    if args.run:
        return load_run(args)
    dataset = load_data(args)
    epochs = 3 if args.fast else jd.PRESETS["video"].epochs
    config = dataclasses.replace(jd.PRESETS["video"], sizes=cli.sizes_for(dataset), seed=args.seed, epochs=epochs)
    return config, dataset, None, "the video's recipe, trained for this page"


def load_data(args):
    """The dataset the flags name (``--fast``: a small subset, as every experiment's).

    MNIST's IDX files, when ``--data-dir`` or ``$JAXDIGITS_MNIST_DIR`` names them, are read directly
    (checked against TFDS's sha256), without starting TensorFlow: seconds instead of half a minute.
    """
    name, data_dir = args.dataset or "mnist", args.data_dir
    if name == "fashion_mnist" and data_dir is None and os.path.isdir(DEBIAN_FASHION_MNIST):
        data_dir = DEBIAN_FASHION_MNIST
    folder = data_dir or (os.environ.get(MNIST_DIR_ENV) if name == "mnist" else None)
    dataset = jd.load_dataset(name, data_dir, fallback=args.dataset is None, reader="idx" if folder else "tfds")
    if args.fast:
        n, m = cli.FAST_TRAIN, cli.FAST_TEST
        dataset = dataset._replace(
            train_images=dataset.train_images[:n],
            train_labels=dataset.train_labels[:n],
            test_images=dataset.test_images[:m],
            test_labels=dataset.test_labels[:m],
        )
    return dataset


def load_run(args):
    """A finished ``train_digits.py`` folder: its config, data choice and parameters."""
    folder = args.run
    for name in ("config.json", "history.json", "params.npz"):
        if not os.path.isfile(os.path.join(folder, name)):
            raise MissingFile(f"--run {folder!r} has no {name}: give the folder of a finished train_digits.py run")
    config = read_config(folder)
    saved = {}
    if os.path.isfile(os.path.join(folder, "args.json")):
        with open(os.path.join(folder, "args.json")) as f:
            saved = json.load(f)
    dataset = jd.load_dataset(saved.get("dataset") or "mnist", args.data_dir, fallback=saved.get("dataset") is None)
    for split in ("train", "test"):
        limit = saved.get(f"{split}_limit")
        if limit:
            images, labels = getattr(dataset, f"{split}_images"), getattr(dataset, f"{split}_labels")
            dataset = dataset._replace(**{f"{split}_images": images[:limit], f"{split}_labels": labels[:limit]})
    if saved.get("validation"):
        dataset, _ = split_validation(dataset, saved["validation"])
    params = jd.load_params(os.path.join(folder, "params.npz"))
    explorer.check_network(params, dataset.num_pixels)
    return config, dataset, params, f"the run in {os.path.basename(os.path.normpath(folder))}, retrained with snapshots"


def train_runs(config, dataset, args):
    """The dial's runs, one population with snapshots: ``(steps, runs, default run, meta)``."""
    explorer.check_sizes(config.sizes, dataset.num_pixels)
    rates = tuple(args.learning_rates or explorer.dial_learning_rates(config.learning_rate))
    if len(set(rates)) > 1 and config.optimizer not in training.LINEAR_IN_LEARNING_RATE:
        raise InvalidArgument(
            f"the recipe's optimizer {config.optimizer!r} cannot train several learning rates as one population; "
            f"pass one value: --learning-rates {config.learning_rate:g}"
        )
    default = int(np.argmin([abs(np.log(eta / config.learning_rate)) for eta in rates]))  # the recipe's own η
    train = (dataset.train_images, dataset.train_labels)
    per_epoch = steps_per_epoch(len(train[1]), config.batch_size)
    every = training.snapshot_every(per_epoch, args.first_epoch_frames)
    initial = jd.init_params(jax.random.split(jax.random.key(config.seed))[0], config.sizes, config.init)  # as train
    evals = {"train": train, "test": (dataset.test_images, dataset.test_labels)}
    tick = time.perf_counter()
    with warnings.catch_warnings():  # a run that diverges is shown as such on the page
        warnings.simplefilter("ignore", RuntimeWarning)
        result = jd.train_population(
            config, train, evals, learning_rates=rates, snapshot_every=every, progress=not args.no_progress
        )
    seconds = time.perf_counter() - tick
    steps, runs = explorer.runs_from_population(result, initial, per_epoch, every, later=args.later_frames)
    meta = {
        "epochs": config.epochs,
        "steps_per_epoch": per_epoch,
        "snapshot_every": every,
        "seconds_train": seconds,
        "seconds_per_epoch": float(np.median(result.seconds_per_epoch)),
        "test_accuracy": result.histories[default][-1]["test_accuracy"],
        "seed": config.seed,
        "batch_size": config.batch_size,
    }
    return steps, runs, default, meta


def float16_error(runs, test, activation, cost):
    """How much carrying the frames in float16 changes what they compute (for metrics.json)."""
    if explorer.PAGE_DTYPE != "float16":
        return {}
    frames = [frame for run in runs for frame in run.frames]
    rounded = [jax.tree.map(lambda x: np.asarray(x, np.float16).astype(np.float32), f) for f in frames]
    exact, half = (explorer.frame_metrics(f, *test, cost=cost, activation=activation)[0] for f in (frames, rounded))
    outputs_of = jax.jit(jax.vmap(lambda params: jd.predict(params, test[0][:200], activation)))
    stacked = [jax.tree.map(lambda *xs: np.stack(xs), *f) for f in (frames, rounded)]
    outputs = float(np.max(np.abs(outputs_of(stacked[0]) - outputs_of(stacked[1]))))
    return {
        "float16_max_cost_change": float(np.max(np.abs(half - exact) / exact)),  # relative, on the images given
        "float16_max_output_change": outputs,  # absolute, on the first 200 of them
    }


def preset_of(args):
    """The recipe's name: "video" when trained here, the run's own when ``--run`` names one."""
    if not args.run:
        return "video"
    try:
        with open(os.path.join(args.run, "metrics.json")) as f:
            return json.load(f).get("preset")
    except (OSError, ValueError):
        return None


def reproduced(saved, final):
    """Words for the page: whether retraining gave the run's saved parameters back."""
    gap = max(
        float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
        for a, b in zip(jax.tree.leaves(saved), jax.tree.leaves(final))
    )
    if gap == 0:
        return " (bit for bit the saved parameters)"
    print(f"note: the retrained parameters differ from the run's params.npz by up to {gap:.3g}")
    return f" (differs from the saved parameters by up to {gap:.3g})"


if __name__ == "__main__":
    cli.run(main, cpu_devices="cores")  # a population and a grid: one device per core

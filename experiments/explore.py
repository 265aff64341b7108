"""Make the explorer page of a run: one self-contained explorer.html that replays how it learned.

    python experiments/explore.py                      # train the video's recipe on MNIST, then the page
    python experiments/explore.py --run runs/DIR       # the run of a train_digits.py folder (retrained
                                                       # with snapshots: same config, seed and data)
    python experiments/explore.py --params FILE        # one network: no replay, no landscape

The page (``jaxdigits.explorer``) opens by double-click, offline; its size and the seconds each
part took go to metrics.json beside it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time

import jax
import numpy as np

import jaxdigits as jd
from jaxdigits import cli, explorer, io, training
from jaxdigits.data import split_validation
from jaxdigits.devices import environment
from jaxdigits.errors import InvalidArgument, MissingFile, OutputExists
from jaxdigits.training import init_state, optimizer_for, read_config, steps_per_epoch

PAGE = "explorer.html"


def parse_args(argv=None):
    p = cli.parser(__doc__)
    source = p.add_mutually_exclusive_group()
    source.add_argument("--run", metavar="DIR", help="a train_digits.py output folder to replay")
    source.add_argument("--params", metavar="FILE", help="a parameter file (.npz) to show alone")
    p.add_argument("--grid", type=int, help="landscape grid points per axis (default 41; --fast 15)")
    p.add_argument("--first-epoch-frames", type=int, default=25, help="snapshots per epoch, all kept for epoch 1")
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
    config, dataset, saved_params, source = load_source(args)
    test = (dataset.test_images, dataset.test_labels)
    meta = {
        "dataset": dataset.name,
        "image_shape": list(dataset.image_shape),
        "num_train": len(dataset.train_labels),
        "num_test": len(dataset.test_labels),
        "source": source,
    }
    if config is None:  # one parameter set
        explorer.check_network(saved_params, dataset.num_pixels)
        steps, frames, history, surface = [0], [saved_params], [], None
        meta.update(epochs=0, steps_per_epoch=1, preset=None, seconds_train=None)
        meta["test_accuracy"] = float(jd.accuracy(saved_params, *test))
        activation, cost = "sigmoid", "mse"
    else:
        steps, frames, history, meta_run = train_with_snapshots(config, dataset, args)
        meta.update(meta_run, preset=preset_of(args))
        if saved_params is not None:
            meta["source"] += reproduced(saved_params, frames[-1])
        grid = args.grid or (15 if args.fast else 41)
        surface = explorer.trajectory_landscape(
            frames, *test, grid=grid, cost=config.cost, activation=config.activation
        )
        activation, cost = config.activation, config.cost
    data = explorer.page_data(
        steps, frames, *test, meta=meta, history=history, surface=surface, activation=activation, cost=cost
    )
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
        "frames": len(frames),
        "seconds_total": seconds,
        "seconds_landscape": surface and surface["seconds"],
        "explained_variance_ratio": surface and surface["explained"],
        **{k: v for k, v in meta.items() if k != "image_shape"},
        **environment(),
    }
    io.write_json(os.path.join(out, "metrics.json"), metrics)
    print(
        f"{dataset.name}: {len(frames)} frames, final test accuracy {meta['test_accuracy']:.2%}; "
        f"page {metrics['page_bytes'] / 1e6:.2f} MB in {seconds:.1f} s\nwrote {path}"
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
    """The dataset the flags name (``--fast``: a small subset, as every experiment's)."""
    dataset = jd.load_dataset(args.dataset or "mnist", args.data_dir, fallback=args.dataset is None)
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


def train_with_snapshots(config, dataset, args):
    """Train ``config`` recording snapshots; ``(steps, frames, history, meta)`` for the page."""
    explorer.check_sizes(config.sizes, dataset.num_pixels)
    train = (dataset.train_images, dataset.train_labels)
    per_epoch = steps_per_epoch(len(train[1]), config.batch_size)
    every = training.snapshot_every(per_epoch, args.first_epoch_frames)
    state = init_state(config, optimizer_for(config, len(train[1])), key=jax.random.key(config.seed))
    initial = jax.tree.map(np.array, state.params)  # a copy: training donates the state
    evals = {"train": train, "test": (dataset.test_images, dataset.test_labels)}
    tick = time.perf_counter()
    result = jd.train(config, train, evals, state=state, progress=not args.no_progress, snapshot_every=every)
    seconds = time.perf_counter() - tick
    steps, frames = explorer.frames_from_snapshots(initial, result.snapshots, result.state.params, per_epoch, every)
    meta = {
        "epochs": config.epochs,
        "steps_per_epoch": per_epoch,
        "snapshot_every": every,
        "seconds_train": seconds,
        "seconds_per_epoch": float(np.median(result.seconds_per_epoch)),
        "test_accuracy": result.history[-1]["test_accuracy"],
        "seed": config.seed,
    }
    return steps, frames, result.history, meta


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
    cli.run(main)

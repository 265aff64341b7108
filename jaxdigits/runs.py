"""One training run from start to finish, written to an output folder.

``train_and_evaluate`` is what ``experiments/train_digits.py`` calls: it trains a
``TrainConfig`` on a ``Dataset`` and writes, into ``out_dir``:

- ``config.json`` — the settings;
- ``metrics.json`` — dataset, settings, initial and final cost/accuracy, timings, versions;
- ``history.json`` — cost and accuracy on every split after every epoch;
- ``params.npz`` — the trained weights and biases (``jaxdigits.load_params`` reads them);
- ``cost.png`` and ``accuracy.png`` — the history as figures;
- ``checkpoint.npz`` — the training state, every ``checkpoint_every`` epochs, so that
  ``resume=True`` continues a killed run bit for bit.

Every file is written atomically, and an existing non-empty folder is refused unless
``overwrite=True`` (or ``resume=True``), so a crash never leaves half a result and a run never
clobbers another. If training diverges, the last good parameters are written to
``last_good_params.npz`` and ``TrainingDiverged`` is raised.
"""

from __future__ import annotations

import dataclasses
import glob
import json
import os
import platform
import statistics
import time

import jax

from jaxdigits import io, plots
from jaxdigits.checkpoint import load_checkpoint, save_checkpoint
from jaxdigits.data import split_validation
from jaxdigits.model import num_params
from jaxdigits.train import TrainConfig, TrainingDiverged, init_state, optimizer_for, train

CHECKPOINT = "checkpoint.npz"


def prepare_out_dir(out_dir, overwrite=False):
    """Create ``out_dir``; refuse a non-empty one unless ``overwrite``."""
    if os.path.isdir(out_dir) and os.listdir(out_dir) and not overwrite:
        raise FileExistsError(
            f"output folder {out_dir!r} already holds files; choose another --out or pass --overwrite"
        )
    os.makedirs(out_dir, exist_ok=True)
    return out_dir


def read_config(out_dir):
    """The ``TrainConfig`` saved in a run folder's ``config.json`` (for resuming)."""
    path = os.path.join(out_dir, "config.json")
    try:
        with open(path) as f:
            saved = json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(f"{out_dir!r} holds no config.json: it is not a jaxdigits run folder") from None
    return TrainConfig(**{**saved, "sizes": tuple(saved["sizes"])})


def environment():
    """Versions and device, recorded with every run."""
    import importlib.metadata as md

    def version(pkg):
        try:
            return md.version(pkg)
        except md.PackageNotFoundError:
            return None

    device = jax.devices()[0]
    return {
        "versions": {p: version(p) for p in ("jaxdigits", "jax", "jaxlib", "optax", "numpy", "tensorflow-datasets")},
        "device": {"platform": device.platform, "kind": device.device_kind, "count": jax.device_count()},
        "machine": {"processor": platform.machine(), "cpus": os.cpu_count(), "python": platform.python_version()},
    }


def train_and_evaluate(
    config,
    dataset,
    out_dir,
    *,
    validation=0,
    overwrite=False,
    resume=False,
    checkpoint_every=1,
    progress=True,
    extra=None,
):
    """Train ``config`` on ``dataset`` and write everything into ``out_dir``.

    Args:
      config: ``TrainConfig``; its first layer size must equal the dataset's pixel count.
      dataset: a ``jaxdigits.Dataset``.
      out_dir: output folder (created; must be empty unless ``overwrite``).
      validation: hold out this many training images as a ``validation`` split.
      resume: continue from ``out_dir/checkpoint.npz`` (same config required).
      checkpoint_every: write the checkpoint every this many epochs (0: never).
      extra: more entries for ``metrics.json`` (e.g. the preset name).

    Returns:
      ``(metrics, result)``: the dict written to ``metrics.json`` and the ``TrainResult``.
    """
    if config.sizes[0] != dataset.num_pixels:
        raise ValueError(
            f"layer sizes {config.sizes} start with {config.sizes[0]} inputs but {dataset.name} images have "
            f"{dataset.num_pixels} pixels; use sizes starting with {dataset.num_pixels}"
        )
    if resume:
        for stale in glob.glob(os.path.join(out_dir, ".tmp-*")):  # left by a killed write
            os.remove(stale)
    else:
        prepare_out_dir(out_dir, overwrite)
    start = time.perf_counter()
    eval_sets = {}
    if validation:
        dataset, eval_sets["validation"] = split_validation(dataset, validation)
    train_data = (dataset.train_images, dataset.train_labels)
    eval_sets = {"train": train_data, **eval_sets, "test": (dataset.test_images, dataset.test_labels)}
    state = history = None
    if resume:
        like = init_state(config, optimizer_for(config, len(train_data[1])), key=jax.random.key(config.seed))
        state, history = load_checkpoint(os.path.join(out_dir, CHECKPOINT), like, config)
    else:
        io.write_json(os.path.join(out_dir, "config.json"), dataclasses.asdict(config))

    def checkpoint(state, history):
        if checkpoint_every and (int(state.epoch) % checkpoint_every == 0 or int(state.epoch) == config.epochs):
            save_checkpoint(os.path.join(out_dir, CHECKPOINT), state, history, config)

    try:
        result = train(
            config, train_data, eval_sets, state=state, history=history, on_epoch=checkpoint, progress=progress
        )
    except TrainingDiverged as diverged:
        io.save_params(os.path.join(out_dir, "last_good_params.npz"), diverged.last_good_state.params)
        raise
    first, last = result.history[0], result.history[-1]
    metrics = {
        "dataset": dataset.name,
        "dataset_source": dataset.source,
        "dataset_checksums": dataset.checksums,
        "num_train": len(dataset.train_labels),
        "num_validation": validation,
        "num_test": len(dataset.test_labels),
        **dataclasses.asdict(config),
        "num_params": num_params(result.state.params),
        "resumed_from_epoch": history[-1]["epoch"] if history else None,
        **(extra or {}),
        **{f"initial_{k}": v for k, v in first.items() if k != "epoch"},
        **{k: v for k, v in last.items() if k not in ("epoch", "seconds")},
        "seconds_per_epoch": statistics.median(result.seconds_per_epoch),
        "seconds_compile": result.seconds_compile,
        "seconds_total": time.perf_counter() - start,
        **environment(),
    }
    io.write_json(os.path.join(out_dir, "history.json"), result.history)
    io.save_params(os.path.join(out_dir, "params.npz"), result.state.params)
    title = f"{dataset.name} {'-'.join(map(str, config.sizes))} {config.activation}/{config.cost}/{config.optimizer}"
    plots.plot_history(result.history, os.path.join(out_dir, "cost.png"), title, "cost")
    plots.plot_history(result.history, os.path.join(out_dir, "accuracy.png"), title, "accuracy")
    io.write_json(os.path.join(out_dir, "metrics.json"), metrics)  # last: its presence means the run finished
    return metrics, result

"""One training run from start to finish, written to an output folder.

``train_and_evaluate`` is what ``experiments/train_digits.py`` calls: it trains a
``TrainConfig`` on a ``Dataset`` and writes, into ``out_dir``:

- ``config.json`` — the settings;
- ``metrics.json`` — dataset, settings, initial and final cost/accuracy, timings, versions;
- ``history.json`` — cost and accuracy on every split after every epoch (with
  ``eval_every`` ≠ 1, after the evaluated epochs; the others record the mean mini-batch cost);
- ``params.npz`` — the trained weights and biases (``jaxdigits.load_params`` reads them);
- ``cost.png`` and ``accuracy.png`` — the history as figures;
- ``checkpoint.npz`` — the training state, every ``checkpoint_every`` epochs and after the
  last one, so that ``resume=True`` continues a killed run bit for bit.

Every file is written atomically, and an existing non-empty folder is refused unless
``overwrite=True`` (or ``resume=True``), so a crash never leaves half a result and a run never
clobbers another. If training diverges, the last good parameters are written to
``last_good_params.npz`` and ``TrainingDiverged`` is raised.

``resume=True`` finishes whatever a killed run left: it continues from the checkpoint if
there is one (from epoch 0 if the run was killed before its first), and a checkpoint of the
final epoch is finished without training — the outputs below are all computed from the
checkpoint's state and history, and written in the order of ``FINAL_OUTPUTS``, ``metrics.json``
last. So a kill at any moment after ``config.json`` leaves a folder that ``resume=True``
completes, and a folder holding every final output is complete: resuming it changes nothing.

After training the run is judged (``judge``): ``metrics.json`` records
``"status": "ok"`` or ``"failed_to_learn"`` with the reason.
"""

from __future__ import annotations

import dataclasses
import glob
import json
import os
import statistics
import time

import jax

from jaxdigits import _phases, io, plots
from jaxdigits.data import SHIFT_TABLE_BYTES, Dataset, split_validation
from jaxdigits.devices import environment
from jaxdigits.errors import InvalidArgument, MissingFile, OutputExists, TrainingDiverged
from jaxdigits.network import num_params
from jaxdigits.training._checkpoint import load_checkpoint, save_checkpoint
from jaxdigits.training._config import TrainConfig
from jaxdigits.training._epoch import init_state, optimizer_for
from jaxdigits.training._train import TrainResult, train
from jaxdigits.training._verdict import judge, saturated_fraction

__all__ = [
    "CHECKPOINT",
    "FINAL_OUTPUTS",
    "is_complete",
    "prepare_out_dir",
    "read_config",
    "run_metrics",
    "train_and_evaluate",
    "write_outputs",
]

CHECKPOINT = "checkpoint.npz"
FINAL_OUTPUTS = ("history.json", "params.npz", "cost.png", "accuracy.png", "metrics.json")  # in writing order


def prepare_out_dir(out_dir: str, overwrite: bool = False) -> str:
    """Create ``out_dir``; refuse a non-empty one unless ``overwrite``."""
    if os.path.isdir(out_dir) and os.listdir(out_dir) and not overwrite:
        raise OutputExists(f"output folder {out_dir!r} already holds files; choose another out_dir or set overwrite")
    os.makedirs(out_dir, exist_ok=True)
    return out_dir


def read_config(out_dir: str) -> TrainConfig:
    """The ``TrainConfig`` saved in a run folder's ``config.json`` (for resuming)."""
    path = os.path.join(out_dir, "config.json")
    try:
        with open(path) as f:
            saved = json.load(f)
    except FileNotFoundError:
        raise MissingFile(f"{out_dir!r} holds no config.json: it is not a jaxdigits run folder") from None
    return TrainConfig(**{**saved, "sizes": tuple(saved["sizes"])})


def is_complete(out_dir: str) -> bool:
    """Whether ``out_dir`` holds every final output of a run (``metrics.json`` is written last)."""
    return all(os.path.exists(os.path.join(out_dir, name)) for name in FINAL_OUTPUTS)


def train_and_evaluate(
    config: TrainConfig,
    dataset: Dataset,
    out_dir: str,
    *,
    validation: int = 0,
    overwrite: bool = False,
    resume: bool = False,
    checkpoint_every: int = 1,
    progress: bool = True,
    extra: dict | None = None,
    shift_table_bytes: int = SHIFT_TABLE_BYTES,
) -> tuple[dict, TrainResult | None]:
    """Train ``config`` on ``dataset`` and write everything into ``out_dir``.

    Args:
      config: ``TrainConfig``; its first layer size must equal the dataset's pixel count.
      dataset: a ``jaxdigits.Dataset``.
      out_dir: output folder (created; must be empty unless ``overwrite``).
      validation: hold out this many training images as a ``validation`` split.
      resume: finish the run in ``out_dir`` (same config required): continue from its
        checkpoint, or from epoch 0 without one; a complete folder is left as it is.
      checkpoint_every: write the checkpoint every this many epochs (0: never).
      extra: more entries for ``metrics.json`` (e.g. the preset name).
      shift_table_bytes: budget of the table of shifted copies (``train``); results do not depend on it.

    Returns:
      ``(metrics, result)``: the dict written to ``metrics.json`` and the ``TrainResult``;
      for a folder that was already complete, its ``metrics.json`` and None.
    """
    if config.sizes[0] != dataset.num_pixels:
        raise InvalidArgument(
            f"layer sizes {config.sizes} start with {config.sizes[0]} inputs but {dataset.name} images have "
            f"{dataset.num_pixels} pixels; use sizes starting with {dataset.num_pixels}"
        )
    if resume:
        for stale in glob.glob(os.path.join(out_dir, ".tmp-*")):  # left by a killed write
            os.remove(stale)
        if is_complete(out_dir):
            with open(os.path.join(out_dir, "metrics.json")) as f:
                return json.load(f), None
    else:
        prepare_out_dir(out_dir, overwrite)
    start = time.perf_counter()
    eval_sets = {}
    if validation:
        dataset, eval_sets["validation"] = split_validation(dataset, validation)
    train_data = (dataset.train_images, dataset.train_labels)
    eval_sets = {"train": train_data, **eval_sets, "test": (dataset.test_images, dataset.test_labels)}
    state = history = None
    checkpoint_path = os.path.join(out_dir, CHECKPOINT)
    if resume and os.path.exists(checkpoint_path):
        like = init_state(config, optimizer_for(config, len(train_data[1])), key=jax.random.key(config.seed))
        state, history = load_checkpoint(checkpoint_path, like, config)
    if not resume or not os.path.exists(os.path.join(out_dir, "config.json")):
        io.write_json(os.path.join(out_dir, "config.json"), dataclasses.asdict(config))

    def checkpoint(state, history):
        if checkpoint_every and (int(state.epoch) % checkpoint_every == 0 or int(state.epoch) == config.epochs):
            save_checkpoint(checkpoint_path, state, history, config)
        _phases.reached("epoch-end")

    _phases.reached("train")
    if state is not None and int(state.epoch) == config.epochs:  # killed after its last checkpoint
        result = TrainResult(state, history, None, [])
    else:
        try:
            result = train(
                config,
                train_data,
                eval_sets,
                state=state,
                history=history,
                on_epoch=checkpoint,
                progress=progress,
                shift_table_bytes=shift_table_bytes,
            )
        except TrainingDiverged as diverged:
            io.save_params(os.path.join(out_dir, "last_good_params.npz"), diverged.last_good_state.params)
            raise
    metrics = run_metrics(config, dataset, result, validation=validation, resumed=history, extra=extra)
    metrics["seconds_total"] = time.perf_counter() - start
    write_outputs(out_dir, config, dataset, result, metrics)
    return metrics, result


def run_metrics(
    config: TrainConfig,
    dataset: Dataset,
    result: TrainResult,
    *,
    validation: int = 0,
    resumed: list | None = None,
    extra: dict | None = None,
) -> dict:
    """The entries of ``metrics.json`` for a finished ``result`` (a ``TrainResult``).

    Statistics over epochs come from the history, which holds every epoch of the run, also
    those that ran before a resume. ``seconds_compile`` is None, with the reason in
    ``seconds_compile_null_reason``, when no epoch was compiled in this process.
    """
    first, last = result.history[0], result.history[-1]
    seconds = [record["seconds"] for record in result.history[1:] if "seconds" in record]
    judgement = judge(
        result.history,
        dataset.test_labels,
        learning_rate=config.learning_rate,
        saturated=saturated_fraction(result.state.params, dataset.train_images, config.activation),
    )
    metrics = {
        "dataset": dataset.name,
        "dataset_source": dataset.source,
        "dataset_checksums": dataset.checksums,
        "num_train": len(dataset.train_labels),
        "num_validation": validation,
        "num_test": len(dataset.test_labels),
        **dataclasses.asdict(config),
        "num_params": num_params(result.state.params),
        "resumed_from_epoch": resumed[-1]["epoch"] if resumed else None,
        **(extra or {}),
        **judgement.record(),
        **{f"initial_{k}": v for k, v in first.items() if k != "epoch"},
        **{k: v for k, v in last.items() if k not in ("epoch", "seconds")},
        "seconds_per_epoch": statistics.median(seconds) if seconds else None,
        "seconds_compile": result.seconds_compile,
        **environment(),
    }
    if not seconds:
        metrics["seconds_per_epoch_null_reason"] = "the history records no epoch's time"
    if result.seconds_compile is None:
        metrics["seconds_compile_null_reason"] = (
            "no epoch ran in this process: the run was resumed from the checkpoint of its last epoch"
        )
    return metrics


def write_outputs(out_dir: str, config: TrainConfig, dataset: Dataset, result: TrainResult, metrics: dict) -> None:
    """Write ``FINAL_OUTPUTS`` in their order; ``metrics.json`` last marks the run complete."""
    io.write_json(os.path.join(out_dir, "history.json"), result.history)
    io.save_params(os.path.join(out_dir, "params.npz"), result.state.params)
    title = f"{dataset.name} {'-'.join(map(str, config.sizes))} {config.activation}/{config.cost}/{config.optimizer}"
    plots.plot_history(result.history, os.path.join(out_dir, "cost.png"), title, "cost")
    plots.plot_history(result.history, os.path.join(out_dir, "accuracy.png"), title, "accuracy")
    io.write_json(os.path.join(out_dir, "metrics.json"), metrics)
    _phases.reached("done")

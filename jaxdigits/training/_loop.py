"""The epoch loop: the one Python loop over epochs, shared by one network and by many.

``train`` (one network) and ``train_population`` (K networks side by side) each build a
compiled epoch — an XLA program that takes a state and the device-resident data and returns
the next state and the epoch's metrics. Everything
around that program is the same for both and lives here:

- start-up: the default evaluation sets, the data checks (``evaluation_sets``), what to
  keep of the training images (``training_images``: their bytes, or the table of their
  shifted copies) and placing the data on the device (``place_data``), lowering and
  compiling the epoch and timing it (``compile_epoch``);
- the loop (``run_epochs``): per-epoch records, the progress bar, the ``on_epoch`` hook
  (checkpoints), and the divergence judgement.

The metrics of one network are scalars; those of a population have a leading axis of K
members. The driver keeps one history per member (one history for one network) and judges
each member after every epoch: an epoch whose cost is NaN or infinite has diverged. What
then happens is the caller's ``on_diverged``: ``"raise"`` raises ``TrainingDiverged``
carrying the state before the epoch; ``"freeze"`` (populations) restores that member's
state from before the epoch, stops its updates through ``freeze`` and ends its history
with the record of the failed epoch, so the others go on; ``"continue"`` keeps training it
as NaN.

Resuming a run is handing back a state and its histories: the next epoch is the same
compiled program with the same PRNG key inside the state, so the numbers are bit for bit
those of an uninterrupted run.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import numpy as np

from jaxdigits import _checks
from jaxdigits.data import SHIFT_TABLE_BYTES, resident_pixels, shift_table, uses_shift_table
from jaxdigits.errors import InvalidArgument, InvalidArgumentType, TrainingDiverged
from jaxdigits.typing import ArrayLike

__all__ = [
    "ON_DIVERGED",
    "Epochs",
    "check_data",
    "compile_epoch",
    "evaluation_sets",
    "key_as_data",
    "key_from_data",
    "place_data",
    "records",
    "run_epochs",
    "training_images",
]

ON_DIVERGED = ("raise", "freeze", "continue")


class Epochs(NamedTuple):
    """What ``run_epochs`` returns.

    ``histories[k]``: member k's records (one list for one network); ``diverged_at[k]``: the
    epoch in which member k diverged, or None; ``snapshots``: per epoch, the ``"snapshots"``
    metric when the epoch returns one (else None).
    """

    state: object
    histories: list
    seconds_per_epoch: list
    diverged_at: list
    snapshots: list | None


def check_data(images: ArrayLike, labels: ArrayLike, num_inputs: int, num_outputs: int, what: str) -> None:
    """Shape, dtype and value checks of a split before any long work starts."""
    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim != 2 or images.shape[1] != num_inputs:
        raise InvalidArgument(
            f"{what} images must have shape (N, {num_inputs}) to fit layer sizes starting at {num_inputs}, "
            f"got {images.shape}"
        )
    if not np.issubdtype(images.dtype, np.floating):
        raise InvalidArgumentType(f"{what} images must be floating point pixels in [0, 1], got dtype {images.dtype}")
    _checks.pixels(images, f"{what} images")
    _checks.labels(labels, images, num_outputs)


def evaluation_sets(config: Any, train_data: tuple[ArrayLike, ArrayLike], eval_sets: dict | None) -> dict:
    """The splits to evaluate (default: the training data as ``"train"``), every split checked."""
    eval_sets = dict(eval_sets) if eval_sets is not None else {"train": train_data}
    for split, (x, y) in {"train": train_data, **eval_sets}.items():
        check_data(x, y, config.sizes[0], config.sizes[-1], split)
    return eval_sets


def training_images(
    config: Any, images: ArrayLike, *, budget: int = SHIFT_TABLE_BYTES, copies: int = 1
) -> tuple[np.ndarray, bool]:
    """``(resident, from_table)``: what to keep on the device of the training images.

    With ``augment="shift"`` the table of shifted copies (``shift_table``), when the
    ``copies`` the devices hold of it fit in ``budget`` bytes; otherwise (and without that
    augmentation) ``resident_pixels(images)``. ``from_table`` tells the epoch which it got.
    """
    if uses_shift_table(config) and budget > 0:
        table = shift_table(images, config.augment_shift, budget=budget // max(copies, 1))
        if table is not None:
            return table, True
    return resident_pixels(images), False


def place_data(
    train_data: tuple[ArrayLike, ArrayLike],
    eval_sets: dict,
    put: Callable = jax.device_put,
    *,
    images: np.ndarray | None = None,
) -> tuple[tuple, dict]:
    """``(images, labels), evals`` on the device: training images as bytes when that is exact.

    ``images``: what to keep of the training images instead (``training_images``).
    """
    labels = train_data[1]
    images = resident_pixels(train_data[0]) if images is None else images
    data = put((images, np.asarray(labels, np.int32)))
    evals = put({k: (np.asarray(x, np.float32), np.asarray(y, np.int32)) for k, (x, y) in eval_sets.items()})
    return data, evals


def compile_epoch(epoch: Callable, state: Any, data: tuple, evals: dict) -> tuple[Callable, float]:
    """``(compiled, seconds)``: ``epoch`` lowered for these arguments and compiled, and how long it took."""
    start = time.perf_counter()
    compiled = epoch.lower(state, *data, evals).compile()
    return compiled, time.perf_counter() - start


def key_as_data(state: Any) -> Any:
    """The state with its typed PRNG key as raw uint32 data (which moves like any array)."""
    return state._replace(key=jax.random.key_data(state.key))


def key_from_data(state: Any) -> Any:
    """Inverse of ``key_as_data``."""
    return state._replace(key=jax.random.wrap_key_data(state.key))


def records(epoch: int, metrics: dict, seconds: float | None, members: int | None) -> list[dict]:
    """One record per member: ``{"epoch": …, "<metric>": float, "seconds": …}``.

    ``members`` is None for one network (scalar metrics) or K (metrics of shape (K,)).
    """
    rows = []
    for i in range(1 if members is None else members):
        row = {"epoch": epoch, **{k: float(v if members is None else np.asarray(v)[i]) for k, v in metrics.items()}}
        if seconds is not None:
            row["seconds"] = seconds
        rows.append(row)
    return rows


def _finite(record):
    return all(np.isfinite(v) for k, v in record.items() if k.endswith("cost"))


def _diverged_message(record, batch_costs, learning_rate, member):
    who = "" if member is None else f"network {member} "
    where = ""
    if batch_costs is not None:
        costs = np.asarray(batch_costs)
        costs = costs if member is None else costs[:, member]
        where = f" (first non-finite mini-batch cost at step {int(np.argmin(np.isfinite(costs)))} of {len(costs)})"
    return (
        f"training {who}diverged in epoch {record['epoch']}: cost {record['batch_cost']}{where} "
        f"with learning_rate {learning_rate}; lower the learning rate"
    )


def run_epochs(
    epoch: Callable,
    state: Any,
    data: tuple,
    evals: dict,
    *,
    total_epochs: int,
    histories: list,
    members: int | None = None,
    learning_rates: float | Sequence[float] | None = None,
    on_epoch: Callable | None = None,
    on_diverged: str = "raise",
    freeze: Callable | None = None,
    progress: bool = False,
    to_host: Callable = jax.device_get,
) -> Epochs:
    """Run ``epoch`` from ``state.epoch`` to ``total_epochs``; the only Python loop over epochs.

    Args:
      epoch: the compiled ``epoch(state, images, labels, evals) -> (state, metrics)``; it
        donates its state. ``metrics`` may hold ``"batch_costs"`` (per step, to locate a
        divergence) and ``"snapshots"``: both leave the records; and ``"evaluated"``
        (``evaluate_when_due``): when False the epoch skipped its evaluation, and its
        records keep only ``batch_cost`` (with ``seconds``), which is always measured.
      state: the state to start from (its ``epoch`` field counts finished epochs; a
        population's ``active`` field marks the networks frozen before).
      data, evals: the device-resident arguments of ``epoch``.
      total_epochs: the epoch count to reach.
      histories: the records so far, one list per member (``[history]`` for one network).
      members: None for one network, else K (metrics have a leading K axis).
      learning_rates: η of each member (one value for one network), named in messages.
      on_epoch: called as ``on_epoch(state, histories)`` after each epoch.
      on_diverged: ``"raise"``, ``"freeze"`` (needs ``freeze``) or ``"continue"``.
      freeze: ``freeze(state, last_good, k) -> state`` with member k restored from
        ``last_good`` (a host copy of the state before the epoch) and its updates stopped.
      progress: show a tqdm bar over epochs.
      to_host: device-to-host transfer (``jaxdigits.devices.to_host`` for a mesh).

    Warns:
      RuntimeWarning: when a network diverges and training goes on (``"freeze"``, ``"continue"``).

    Raises:
      TrainingDiverged: with ``on_diverged="raise"``, when an epoch ends with a non-finite
        cost; it carries the state before that epoch.
    """
    if on_diverged not in ON_DIVERGED:
        raise InvalidArgument(f"on_diverged must be one of {ON_DIVERGED}, got {on_diverged!r}")
    if on_diverged == "freeze" and freeze is None:
        raise InvalidArgument('on_diverged="freeze" needs a population (a freeze function)')
    histories = [list(h) for h in histories]
    n = len(histories)
    rates = [learning_rates] if members is None else list(learning_rates)
    frozen = np.asarray(getattr(state, "active", np.ones(n, bool))) == 0  # frozen before a resume
    diverged_at = [h[-1]["epoch"] if stopped else None for h, stopped in zip(histories, frozen)]
    seconds, snapshots = [], None
    first = int(state.epoch)
    epochs = range(first, total_epochs)
    if progress:
        from tqdm.auto import tqdm  # here, not at the top: it keeps ``import jaxdigits`` light

        epochs = tqdm(epochs, desc="epochs", unit="epoch", initial=first, total=total_epochs)
    for _ in epochs:
        last_good = to_host(key_as_data(state))  # the state itself is donated to the epoch
        tick = time.perf_counter()
        state, metrics = epoch(state, *data, evals)
        metrics = to_host(metrics)  # the one device->host transfer of the epoch
        seconds.append(time.perf_counter() - tick)
        batch_costs = metrics.pop("batch_costs", None)
        if "snapshots" in metrics:
            snapshots = (snapshots or []) + [metrics.pop("snapshots")]
        if not np.all(metrics.pop("evaluated", True)):  # the placeholders of a skipped evaluation
            metrics = {"batch_cost": metrics["batch_cost"]}
        rows = records(int(state.epoch), metrics, seconds[-1], members)
        for k, row in enumerate(rows):
            if diverged_at[k] is not None and on_diverged == "freeze":
                continue  # frozen: its history ended at the epoch it diverged
            if not _finite(row) and diverged_at[k] is None:
                message = _diverged_message(row, batch_costs, rates[k], None if members is None else k)
                if on_diverged == "raise":
                    raise TrainingDiverged(message, key_from_data(last_good))
                diverged_at[k] = row["epoch"]
                warnings.warn(message, RuntimeWarning, stacklevel=3)
                if on_diverged == "freeze":
                    state = freeze(state, key_from_data(last_good), k)
            histories[k].append(row)
        if progress:
            live = [h[-1] for h, d in zip(histories, diverged_at) if d is None] or [rows[0]]
            shown = {
                k: f"{np.mean([r[k] for r in live]):.4f}"
                for k in ("train_cost", "test_accuracy")
                if all(k in r for r in live)
            }
            if members is not None:
                shown["diverged"] = sum(d is not None for d in diverged_at)
            epochs.set_postfix(shown)
        if on_epoch is not None:
            on_epoch(state, histories)
    return Epochs(state, histories, seconds, diverged_at, snapshots)

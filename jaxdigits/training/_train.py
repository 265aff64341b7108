"""Training a network: ``train`` runs the compiled epoch from start to finish.

``train`` builds the epoch program (``make_train_epoch``), puts the data on the device once,
compiles, and hands the program to the epoch loop (``run_epochs``), which records every
epoch, calls the ``on_epoch`` hook and stops a run whose cost is no longer finite.
``train_data_parallel`` is the same with every mini-batch split across devices.

**Data parallelism.** Every device holds the whole (small) training set and a copy of the
parameters. At each step the mini-batch's image indices are sharded along a ``"batch"``
mesh axis, so device d gathers and differentiates only its rows; XLA then adds the partial
gradients across devices (an all-reduce) and every device takes the same step, so the
copies stay equal. The program is ``make_train_epoch`` itself, compiled for a mesh
(``NamedSharding(mesh, P("batch"))``, as in JAX's ``spmd_mnist_classifier_fromscratch``).
The shuffle, the initial parameters and the arithmetic per image are the same as on one
device; only the order in which the batch's gradient is summed changes, so results agree
with ``train`` to float32 rounding (about 1e-6), not bit for bit. The same code runs across
several processes (hosts): after ``jax.distributed.initialize``, ``jax.devices()`` lists
every process's devices and the mesh spans them (``experiments/multiprocess_train.py``).
Left out: sharding the data set itself (MNIST is 188 MB; each device keeps a copy) and
model parallelism (13,002 parameters need none).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

import jax
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from jaxdigits import devices as _devices
from jaxdigits.data import SHIFT_TABLE_BYTES
from jaxdigits.errors import InvalidArgument
from jaxdigits.training import _loop
from jaxdigits.training._config import TrainConfig
from jaxdigits.training._epoch import TrainState, evaluate, init_state, make_train_epoch, optimizer_for, steps_per_epoch
from jaxdigits.typing import ArrayLike

__all__ = ["TrainResult", "train", "train_data_parallel"]


class TrainResult(NamedTuple):
    """Outcome of ``train``: final state, per-epoch history and timings."""

    state: TrainState
    history: list
    seconds_compile: float
    seconds_per_epoch: list
    snapshots: list | None = None  # with ``snapshot_every``: per epoch, parameters every k steps (host arrays)


def _placement(config, mesh):
    """How ``train`` places data on ``mesh``: ``(put, to_host, batch_sharding)``.

    Raises InvalidArgument unless the mini-batch divides evenly over the mesh's devices.
    """
    n_devices = mesh.shape["batch"]
    if config.batch_size % n_devices:
        raise InvalidArgument(
            f"batch_size {config.batch_size} must be a multiple of the {n_devices} devices of the mesh, "
            "so that every device gets the same number of images"
        )
    put = functools.partial(_devices.replicate, mesh=mesh)
    return put, _devices.to_host, NamedSharding(mesh, P("batch"))


def train(
    config: TrainConfig,
    train_data: tuple[ArrayLike, ArrayLike],
    eval_sets: dict | None = None,
    *,
    state: TrainState | None = None,
    history: list | None = None,
    on_epoch: Callable | None = None,
    progress: bool = True,
    mesh: Mesh | None = None,
    snapshot_every: int | None = None,
    shift_table_bytes: int = SHIFT_TABLE_BYTES,
) -> TrainResult:
    """Train a network as ``config`` says.

    Args:
      config: a ``TrainConfig``.
      train_data: ``(images, labels)`` — (N, pixels) float32 in [0, 1] and (N,) int labels.
      eval_sets: ``{"train": (images, labels), "test": ...}`` to evaluate before training
        and after every epoch (default: the training data as ``"train"``).
      state: a ``TrainState`` to continue from (default: fresh from ``config.seed``), with
        ``history``, the records of the epochs it already ran (e.g. from a checkpoint).
      on_epoch: called as ``on_epoch(state, history)`` after each epoch (e.g. to checkpoint).
      progress: show a tqdm bar over epochs.
      mesh: a ``jax.sharding.Mesh`` with a ``"batch"`` axis to split every mini-batch over
        its devices (data parallelism, ``train_data_parallel``); default: one device.
      snapshot_every: record the parameters every this many steps inside the compiled
        epoch (``scan_with_snapshots``); they come back as ``TrainResult.snapshots``.
      shift_table_bytes: with ``augment="shift"``, keep every shifted copy of the training
        images on the device when they fit in this many bytes (all devices' copies
        together), which makes a shifted mini-batch a plain gather (``shift_table``);
        the results are the same either way. 0: shift each mini-batch.

    Returns:
      A ``TrainResult``. ``history[0]`` describes the untrained network (epoch 0).

    Raises:
      TrainingDiverged: when an epoch ends with a non-finite cost; the message names the
        epoch, the first mini-batch whose cost was not finite and the learning rate, and the
        exception carries the last good state (``last_good_state``).
    """
    eval_sets = _loop.evaluation_sets(config, train_data, eval_sets)
    steps_per_epoch(len(train_data[1]), config.batch_size)

    optimizer = optimizer_for(config, len(train_data[1]))
    if state is None:
        state = init_state(config, optimizer, key=jax.random.key(config.seed))
    put, to_host, batch_sharding = jax.device_put, jax.device_get, None
    if mesh is not None:
        put, to_host, batch_sharding = _placement(config, mesh)
    state = _loop.key_from_data(put(_loop.key_as_data(state)))
    copies = 1 if mesh is None else mesh.size
    images, from_table = _loop.training_images(config, train_data[0], budget=shift_table_bytes, copies=copies)
    device_data, device_evals = _loop.place_data(train_data, eval_sets, put, images=images)
    del images  # the host copy of a table is as large as the device's
    train_epoch = make_train_epoch(
        config, optimizer, batch_sharding=batch_sharding, snapshot_every=snapshot_every, from_table=from_table
    )
    train_epoch, seconds_compile = _loop.compile_epoch(train_epoch, state, device_data, device_evals)

    if history is None:
        initial = jax.jit(evaluate, static_argnums=2)(state.params, device_evals, config)
        history = _loop.records(int(state.epoch), to_host(initial), None, None)
    run = _loop.run_epochs(
        train_epoch,
        state,
        device_data,
        device_evals,
        total_epochs=config.epochs,
        histories=[history],
        learning_rates=config.learning_rate,
        on_epoch=None if on_epoch is None else lambda state, histories: on_epoch(state, histories[0]),
        progress=progress,
        to_host=to_host,
    )
    snapshots = (run.snapshots or []) if snapshot_every else None
    return TrainResult(run.state, run.histories[0], seconds_compile, run.seconds_per_epoch, snapshots)


def train_data_parallel(
    config: TrainConfig,
    train_data: tuple[ArrayLike, ArrayLike],
    eval_sets: dict | None = None,
    *,
    mesh: Mesh | None = None,
    state: TrainState | None = None,
    progress: bool = False,
) -> TrainResult:
    """Train like ``train`` with every mini-batch split across ``mesh``'s devices.

    Args:
      config: a ``TrainConfig``; ``batch_size`` must be a multiple of the number of devices.
      train_data: ``(images, labels)``, (N, pixels) float32 in [0, 1] and (N,) int labels;
        in a multi-process run every process passes the same arrays.
      eval_sets: splits to evaluate after each epoch, as in ``train``.
      mesh: a mesh with a ``"batch"`` axis (default: ``jaxdigits.devices.mesh("batch")``, all devices).
      state: a ``TrainState`` to continue from (default: fresh from ``config.seed``).

    Returns:
      A ``TrainResult`` like ``train``'s (it is ``train(..., mesh=mesh)``): ``state.params``
      are replicated on every device; divergence raises ``TrainingDiverged`` as there.
    """
    mesh = _devices.mesh("batch") if mesh is None else mesh
    return train(config, train_data, eval_sets, state=state, progress=progress, mesh=mesh)

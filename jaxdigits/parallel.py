"""Data parallelism: the same training epoch, each mini-batch split across devices.

Every device holds the whole (small) training set and a copy of the parameters. At each
step the mini-batch's image indices are sharded along a ``"batch"`` mesh axis, so device d
gathers and differentiates only its rows; XLA then adds the partial gradients across
devices (an all-reduce) and every device takes the same step, so the copies stay equal.
The program is ``jaxdigits.train.make_train_epoch`` itself, compiled for a mesh
(``NamedSharding(mesh, P("batch"))``, as in JAX's ``spmd_mnist_classifier_fromscratch``).

The shuffle, the initial parameters and the arithmetic per image are the same as on one
device; only the order in which the batch's gradient is summed changes, so results agree
with ``train`` to float32 rounding (about 1e-6), not bit for bit.

The same code runs across several processes (hosts): after ``jax.distributed.initialize``,
``jax.devices()`` lists every process's devices and the mesh spans them; see
``experiments/multiprocess_train.py``.

Left out: sharding the data set itself (MNIST is 188 MB; each device keeps a copy) and
model parallelism (13,002 parameters need none).
"""

from __future__ import annotations

import time

import jax
import numpy as np
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from jaxdigits.train import (
    TrainResult,
    _record,
    check_data,
    evaluate,
    init_state,
    make_train_epoch,
    optimizer_for,
    steps_per_epoch,
)


def batch_mesh(devices=None):
    """A 1-D mesh with axis ``"batch"`` over ``devices`` (default: every device, all processes)."""
    devices = jax.devices() if devices is None else list(devices)
    return jax.sharding.Mesh(np.asarray(devices), ("batch",))


def replicate(tree, mesh):
    """Place every array of ``tree`` whole on each device of ``mesh`` (works across processes)."""
    sharding = NamedSharding(mesh, P())

    def put(x):
        x = np.asarray(x) if not isinstance(x, jax.Array) else x
        if jax.process_count() == 1:
            return jax.device_put(x, sharding)
        host = np.asarray(x)  # every process holds the same values
        return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])

    return jax.tree.map(put, tree)


def train_data_parallel(config, train_data, eval_sets=None, *, mesh=None, state=None):
    """Train like ``jaxdigits.train`` with every mini-batch split across ``mesh``'s devices.

    Args:
      config: a ``TrainConfig``; ``batch_size`` must be a multiple of the number of devices.
      train_data: ``(images, labels)``, (N, pixels) float32 in [0, 1] and (N,) int labels;
        in a multi-process run every process passes the same arrays.
      eval_sets: splits to evaluate after each epoch, as in ``train``.
      mesh: a mesh with a ``"batch"`` axis (default: ``batch_mesh()``, all devices).
      state: a ``TrainState`` to continue from (default: fresh from ``config.seed``).

    Returns:
      A ``TrainResult`` like ``train``'s: ``state.params`` are replicated on every device.
      Divergence is not checked here; the history shows non-finite costs.
    """
    mesh = batch_mesh() if mesh is None else mesh
    n_devices = mesh.shape["batch"]
    if config.batch_size % n_devices:
        raise ValueError(
            f"batch_size {config.batch_size} must be a multiple of the {n_devices} devices of the mesh, "
            "so that every device gets the same number of images"
        )
    images, labels = train_data
    eval_sets = dict(eval_sets) if eval_sets is not None else {"train": train_data}
    for split, (x, y) in {"train": train_data, **eval_sets}.items():
        check_data(x, y, config.sizes[0], config.sizes[-1], split)
    steps_per_epoch(len(labels), config.batch_size)

    optimizer = optimizer_for(config, len(labels))
    if state is None:
        state = init_state(config, optimizer, key=jax.random.key(config.seed))
    key_data = replicate(jax.random.key_data(state.key), mesh)
    state = replicate(state._replace(key=None), mesh)._replace(key=jax.random.wrap_key_data(key_data))
    data = replicate((np.asarray(images, np.float32), np.asarray(labels, np.int32)), mesh)
    evals = replicate(
        {k: (np.asarray(x, np.float32), np.asarray(y, np.int32)) for k, (x, y) in eval_sets.items()}, mesh
    )

    start = time.perf_counter()
    epoch_fn = make_train_epoch(config, optimizer, batch_sharding=NamedSharding(mesh, P("batch")))
    train_epoch = epoch_fn.lower(state, *data, evals).compile()
    seconds_compile = time.perf_counter() - start

    initial = jax.jit(evaluate, static_argnums=2)(state.params, evals, config)
    history, seconds = [_record(int(state.epoch), _host(initial), None)], []
    for _ in range(int(state.epoch), config.epochs):
        tick = time.perf_counter()
        state, metrics = train_epoch(state, *data, evals)
        metrics = _host(metrics)
        seconds.append(time.perf_counter() - tick)
        metrics.pop("batch_costs", None)
        history.append(_record(int(state.epoch), metrics, seconds[-1]))
    return TrainResult(state, history, seconds_compile, seconds)


def _host(tree):
    """Replicated arrays to numpy (every process can read its own copy)."""
    return jax.tree.map(lambda x: np.asarray(x.addressable_data(0)) if isinstance(x, jax.Array) else x, tree)

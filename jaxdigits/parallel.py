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

import functools

import jax
import numpy as np
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from jaxdigits.errors import InvalidArgument

__all__ = ["batch_mesh", "placement", "replicate", "to_host"]


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


def to_host(tree):
    """Replicated arrays to numpy (every process reads its own copy)."""
    return jax.tree.map(lambda x: np.asarray(x.addressable_data(0)) if isinstance(x, jax.Array) else x, tree)


def placement(config, mesh):
    """How ``jaxdigits.train`` places data on ``mesh``: ``(put, to_host, batch_sharding)``.

    Raises a ValueError unless the mini-batch divides evenly over the mesh's devices.
    """
    n_devices = mesh.shape["batch"]
    if config.batch_size % n_devices:
        raise InvalidArgument(
            f"batch_size {config.batch_size} must be a multiple of the {n_devices} devices of the mesh, "
            "so that every device gets the same number of images"
        )
    return functools.partial(replicate, mesh=mesh), to_host, NamedSharding(mesh, P("batch"))

"""Snapshots: the parameters during an epoch, recorded inside the compiled program.

To replay learning we need the network at many moments, most of them in the first epoch,
where the cost falls fastest. Pulling parameters to the host after chosen steps would break
the epoch into many programs; instead the epoch's ``lax.scan`` over mini-batches is cut into
an outer scan over blocks of k steps, and the outer scan outputs the parameters after each
block. XLA stacks those outputs into one (blocks, …) array per leaf, which comes back with
the epoch's metrics. The steps themselves are the same computation in the same order, so
the trajectory is the one training takes without snapshots (``tests/test_explorer.py``).

Steps left over when k does not divide the epoch (steps mod k) run after the last block;
the epoch's final parameters are its state, so no snapshot is lost.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxdigits.errors import InvalidArgument
from jaxdigits.typing import Array

__all__ = ["scan_with_snapshots", "snapshot_every"]


def scan_with_snapshots(steps: Callable, carry: Any, batches: Any, every: int | None) -> tuple[Any, Array, Any]:
    """Run ``steps`` over ``batches`` in blocks of ``every`` rows, recording the parameters.

    Args:
      steps: ``steps(carry, rows) -> (carry, per_step_outputs)``, a ``lax.scan`` over the
        leading axis of ``rows``; ``carry[0]`` is the parameter pytree.
      carry: the initial carry (parameters first).
      batches: (S, …) rows, one per step (or a pytree of such arrays, e.g. with per-step keys).
      every: k, the steps between snapshots (1 ≤ k ≤ S), or None for none (``steps`` once).

    Returns:
      ``(carry, outputs, snapshots)``: the final carry, the S per-step outputs in order, and
      the parameters after steps k, 2k, …, ⌊S/k⌋·k, stacked on a leading axis (None without ``every``).
    """
    if every is None:
        return (*steps(carry, batches), None)
    n = jax.tree.leaves(batches)[0].shape[0]
    if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or not 1 <= every <= n:
        raise InvalidArgument(f"snapshot_every must be an integer from 1 to the steps per epoch ({n}), got {every!r}")
    blocks = n // every
    head = jax.tree.map(lambda b: b[: blocks * every].reshape(blocks, every, *b.shape[1:]), batches)

    def block(carry, rows):
        carry, outputs = steps(carry, rows)
        return carry, (outputs, carry[0])

    carry, (outputs, snapshots) = jax.lax.scan(block, carry, head)
    outputs = jax.tree.map(lambda x: x.reshape(blocks * every, *x.shape[2:]), outputs)
    if blocks * every < n:
        carry, rest = steps(carry, jax.tree.map(lambda b: b[blocks * every :], batches))
        outputs = jax.tree.map(lambda a, b: jnp.concatenate([a, b]), outputs, rest)
    return carry, outputs, snapshots


def snapshot_every(steps_per_epoch: int, per_epoch: int) -> int:
    """The k that gives at least ``per_epoch`` snapshots in an epoch of ``steps_per_epoch`` steps."""
    if per_epoch < 1:
        raise InvalidArgument(f"snapshots per epoch must be at least 1, got {per_epoch}")
    return max(1, steps_per_epoch // per_epoch)

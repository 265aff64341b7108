"""Taking a step downhill: the gradient descent update, by hand and through optax.

One step of gradient descent moves every weight and bias a little against its slope:

    θ ← θ − η ∇C(θ)

with η the learning rate. ``sgd_step`` writes exactly that over the parameter pytree.
``handwritten_sgd`` packs the same rule as an ``optax.GradientTransformation`` (an
``init``/``update`` pair of pure functions) so that the training loop treats it and any
optax optimiser (``optax.sgd``, momentum, adam) identically, and they can be compared on
equal terms.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdigits import _checks
from jaxdigits.errors import InvalidArgument
from jaxdigits.typing import Params

__all__ = [
    "OPTIMIZERS",
    "SCHEDULES",
    "HandwrittenSGDState",
    "handwritten_sgd",
    "make_optimizer",
    "schedule_for",
    "sgd_step",
]

OPTIMIZERS = ("sgd", "optax_sgd", "momentum", "adam", "adamw")
SCHEDULES = ("constant", "cosine")


def sgd_step(params: Params, grads: Params, learning_rate: float) -> Params:
    """One gradient descent step: every leaf becomes ``param − learning_rate · grad``.

    Args:
      params: parameter pytree (e.g. from ``init_params``).
      grads: gradient with the same structure (e.g. from ``jax.grad(mse_cost)``).
      learning_rate: step size η > 0.

    Returns:
      The new parameter pytree.
    """
    return jax.tree.map(lambda p, g: p - learning_rate * g, params, grads)


class HandwrittenSGDState(NamedTuple):
    """Plain gradient descent remembers only how many steps it took (for schedules)."""

    count: jax.Array


def handwritten_sgd(learning_rate: float | optax.Schedule) -> optax.GradientTransformation:
    """``sgd_step`` as an optax ``GradientTransformation``.

    ``update`` returns the change ``−η·g`` for each leaf; ``optax.apply_updates`` then adds
    it, giving ``θ − η·g`` — the same numbers ``sgd_step`` computes. ``learning_rate`` is a
    number, or an optax schedule (a function of the step count) as optax's optimisers take.
    """
    if not callable(learning_rate):
        _checks.positive(learning_rate, "learning_rate")

    def init(params):
        del params
        return HandwrittenSGDState(count=jnp.zeros([], jnp.int32))

    def update(grads, state, params=None):
        del params
        lr = learning_rate(state.count) if callable(learning_rate) else learning_rate
        updates = jax.tree.map(lambda g: -jnp.asarray(lr, g.dtype) * g, grads)
        return updates, HandwrittenSGDState(count=state.count + 1)

    return optax.GradientTransformation(init, update)


def schedule_for(
    learning_rate: float, schedule: str, total_steps: int | None, warmup_steps: int = 0
) -> float | optax.Schedule:
    """η as a number (constant, no warm-up) or an optax schedule of the step count.

    Every schedule here is η times a function of the step alone, so an optimiser built with
    η = 1 and updates scaled by η afterwards is the same optimiser (``train_population``'s
    learning-rate sweeps rely on it).
    """
    if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, (int, np.integer)) or warmup_steps < 0:
        raise InvalidArgument(f"warmup_steps must be a whole number >= 0, got {warmup_steps!r}")
    if (schedule == "cosine" or warmup_steps) and (not total_steps or total_steps < 1):
        raise InvalidArgument(
            f"schedule {schedule!r} with {warmup_steps} warm-up steps needs total_steps >= 1 "
            "(epochs × mini-batches per epoch)"
        )
    if warmup_steps >= (total_steps or 1) and warmup_steps:
        raise InvalidArgument(f"warmup_steps ({warmup_steps}) must be fewer than total_steps ({total_steps})")
    if not warmup_steps:  # the schedules as they were before warm-ups existed, bit for bit
        return optax.cosine_decay_schedule(learning_rate, total_steps) if schedule == "cosine" else learning_rate
    if schedule == "cosine":
        return optax.warmup_cosine_decay_schedule(
            0.0, learning_rate, warmup_steps=warmup_steps, decay_steps=total_steps, end_value=0.0
        )
    return optax.warmup_constant_schedule(0.0, learning_rate, warmup_steps)


def make_optimizer(
    name: str,
    learning_rate: float,
    *,
    schedule: str = "constant",
    total_steps: int | None = None,
    warmup_steps: int = 0,
    weight_decay: float = 0.0,
    momentum: float = 0.9,
) -> optax.GradientTransformation:
    """An optimiser by name, as an optax ``GradientTransformation``.

    Args:
      name: ``"sgd"`` (the handwritten step above), ``"optax_sgd"`` (``optax.sgd``, the
        same rule from the library), ``"momentum"`` (heavy ball, coefficient ``momentum``),
        ``"adam"`` or ``"adamw"`` (adam with decoupled ``weight_decay``).
      learning_rate: peak step size η > 0.
      schedule: ``"constant"``, or ``"cosine"`` — η decays as a half cosine from η to 0
        over ``total_steps``.
      total_steps: number of steps the run will take (needed for ``"cosine"`` and a warm-up).
      warmup_steps: w ≥ 0 steps of linear warm-up before the schedule: η·t/w at step t < w,
        then the schedule over the remaining steps (``"constant"``: η; ``"cosine"``:
        η·½(1 + cos(π(t − w)/(T − w))), ``optax.warmup_cosine_decay_schedule``). A large
        step on the untrained network, whose adam statistics are not yet settled, can throw
        it far; the warm-up lets them settle first. 0: no warm-up (the schedule alone).
      weight_decay: for ``"adamw"`` only.
      momentum: coefficient for ``"momentum"``.
    """
    _checks.name(name, OPTIMIZERS, "optimizer")
    _checks.name(schedule, SCHEDULES, "schedule")
    _checks.positive(learning_rate, "learning_rate")
    if weight_decay and name != "adamw":
        raise InvalidArgument(f"weight_decay applies to optimizer 'adamw' only, not {name!r}")
    lr = schedule_for(learning_rate, schedule, total_steps, warmup_steps)
    if name == "sgd":
        return handwritten_sgd(lr)
    if name == "optax_sgd":
        return optax.sgd(lr)
    if name == "momentum":
        return optax.sgd(lr, momentum=momentum)
    if name == "adam":
        return optax.adam(lr)
    return optax.adamw(lr, weight_decay=weight_decay)

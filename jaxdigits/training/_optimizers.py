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
import optax

from jaxdigits import _checks
from jaxdigits.errors import InvalidArgument
from jaxdigits.typing import Params

__all__ = ["OPTIMIZERS", "SCHEDULES", "HandwrittenSGDState", "handwritten_sgd", "make_optimizer", "sgd_step"]

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


def make_optimizer(
    name: str,
    learning_rate: float,
    *,
    schedule: str = "constant",
    total_steps: int | None = None,
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
      total_steps: number of steps the run will take (needed for ``"cosine"``).
      weight_decay: for ``"adamw"`` only.
      momentum: coefficient for ``"momentum"``.
    """
    _checks.name(name, OPTIMIZERS, "optimizer")
    _checks.name(schedule, SCHEDULES, "schedule")
    _checks.positive(learning_rate, "learning_rate")
    if weight_decay and name != "adamw":
        raise InvalidArgument(f"weight_decay applies to optimizer 'adamw' only, not {name!r}")
    lr = learning_rate
    if schedule == "cosine":
        if not total_steps or total_steps < 1:
            raise InvalidArgument("schedule 'cosine' needs total_steps >= 1 (epochs × mini-batches per epoch)")
        lr = optax.cosine_decay_schedule(learning_rate, total_steps)
    if name == "sgd":
        return handwritten_sgd(lr)
    if name == "optax_sgd":
        return optax.sgd(lr)
    if name == "momentum":
        return optax.sgd(lr, momentum=momentum)
    if name == "adam":
        return optax.adam(lr)
    return optax.adamw(lr, weight_decay=weight_decay)

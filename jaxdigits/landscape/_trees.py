"""Pytree maths: parameters and directions as vectors, without flattening them.

A network's parameters are a pytree; so is a direction through parameter space. Adding,
scaling and measuring them is done leaf by leaf with ``optax.tree`` (``vdot``, ``sub``,
``scale``, ``add_scale``); what it lacks is here: a check that a direction is shaped like
the parameters, unit length, a point of a plane, and the whole pytree as one float64 host
vector for the small linear algebra (Gram–Schmidt, PCA) that is not worth a kernel.

The small helpers are jitted: run op by op, every ``jnp`` call would compile a program.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdigits.errors import InvalidArgument
from jaxdigits.typing import Array, ArrayLike, Params

__all__ = ["check_like", "flatten", "norm", "shift", "unit"]


def check_like(direction: Params, params: Params, what: str = "direction") -> Params:
    """Raise a ValueError unless ``direction`` has the structure and shapes of ``params``."""
    want, got = jax.tree.structure(params), jax.tree.structure(direction)
    if want != got:
        raise InvalidArgument(f"{what} must have the same structure as the parameters: expected {want}, got {got}")
    for (path, p), d in zip(jax.tree.leaves_with_path(params), jax.tree.leaves(direction)):
        if jnp.shape(p) != jnp.shape(d):
            raise InvalidArgument(
                f"{what}{jax.tree_util.keystr(path)} has shape {jnp.shape(d)}, the parameters {jnp.shape(p)}"
            )
    return direction


@jax.jit
def norm(tree: Params) -> Array:
    """Euclidean length ‖a‖ of a pytree: √⟨a, a⟩ (``optax.tree.vdot``)."""
    return jnp.sqrt(optax.tree.vdot(tree, tree))


@jax.jit
def _scale(tree, factor):
    return optax.tree.scale(factor, tree)


def unit(direction: Params) -> Params:
    """``direction / ‖direction‖``; raises on the zero direction."""
    length = float(norm(direction))
    if not length > 0 or not np.isfinite(length):
        raise InvalidArgument(f"cannot scale a direction of length {length} to unit length")
    return _scale(direction, jnp.asarray(1.0 / length))


@jax.jit
def shift(params: Params, directions: Sequence[Params], offsets: ArrayLike) -> Params:
    """``θ + Σᵢ offsets[i]·directions[i]``; ``directions`` holds one pytree per offset."""
    for i, d in enumerate(directions):
        params = optax.tree.add_scale(params, offsets[i], d)
    return params


def flatten(params: Params) -> tuple[np.ndarray, Callable[[np.ndarray], Params]]:
    """All numbers of ``params`` as one float64 host vector, and the way back (as numpy)."""
    leaves, treedef = jax.tree.flatten(params)
    leaves = [np.asarray(leaf) for leaf in leaves]
    ends = np.cumsum([leaf.size for leaf in leaves])[:-1]

    def unflatten(vector):
        parts = np.split(np.asarray(vector), ends)
        return jax.tree.unflatten(
            treedef, [part.reshape(leaf.shape).astype(leaf.dtype) for part, leaf in zip(parts, leaves)]
        )

    return np.concatenate([leaf.ravel() for leaf in leaves]).astype(np.float64), unflatten

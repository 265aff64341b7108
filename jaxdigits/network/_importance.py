"""The gradient as a measure of importance: which of the 13,002 nudges matter most.

The video reads the negative gradient −∇C as a list of 13,002 nudges, one per weight and
bias, whose sizes say how much the cost cares about each: to first order, changing
parameter i by ε changes the cost by ε·∂C/∂θᵢ. So if we may move only a fraction k of the
parameters, the ones with the largest |∂C/∂θᵢ| should buy the largest decrease.

- ``top_mask``: 1 for the ``fraction`` of entries with the largest |gradient| (one ranking
  over all parameters, every layer together), 0 elsewhere.
- ``random_mask``: the same number of entries, chosen uniformly at random.
- ``masked_step``: ``θ − η (g ⊙ mask)``: a gradient descent step on the chosen entries only.

A first-order estimate of the decrease of that step is η·Σ g²·mask, so the share of
Σ g² the mask keeps (``gradient_share``) predicts how much of the full step's benefit it
keeps. Left out: second-order importance (Hessian diagonals, optimal brain damage).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from jaxdigits.errors import InvalidArgument
from jaxdigits.typing import Array, Params, PRNGKey

__all__ = ["gradient_share", "masked_step", "random_mask", "top_mask"]


def _count(size, fraction):
    if not 0 < fraction <= 1:
        raise InvalidArgument(f"fraction must be in (0, 1], got {fraction!r}")
    return max(1, round(fraction * size))


def top_mask(grads: Params, fraction: float) -> Params:
    """Pytree like ``grads``: 1.0 at the ``fraction`` of entries with the largest |g|, else 0.0.

    Ties at the threshold are broken by position, so exactly ``round(fraction · size)``
    entries (at least 1) are chosen.
    """
    flat, unravel = ravel_pytree(grads)
    chosen = jnp.argsort(-jnp.abs(flat))[: _count(flat.size, fraction)]
    return unravel(jnp.zeros_like(flat).at[chosen].set(1.0))


def random_mask(grads: Params, fraction: float, *, key: PRNGKey) -> Params:
    """Pytree like ``grads``: 1.0 at ``round(fraction · size)`` entries chosen at random, else 0.0."""
    flat, unravel = ravel_pytree(grads)
    chosen = jax.random.permutation(key, flat.size)[: _count(flat.size, fraction)]
    return unravel(jnp.zeros_like(flat).at[chosen].set(1.0))


def masked_step(params: Params, grads: Params, mask: Params, learning_rate: float) -> Params:
    """One gradient descent step on the masked entries: ``θ − η · g ⊙ mask``."""
    return jax.tree.map(lambda p, g, m: p - learning_rate * g * m, params, grads, mask)


def gradient_share(grads: Params, mask: Params) -> Array:
    """Σ g²·mask / Σ g²: the share of the first-order decrease the masked step keeps."""
    g, _ = ravel_pytree(grads)
    m, _ = ravel_pytree(mask)
    return jnp.sum(g**2 * m) / jnp.sum(g**2)

"""Directions through parameter space: the axes along which we look at the cost landscape.

The cost is a function of 13,002 numbers, so we can only draw it along one or two
directions at a time: ``θ + α·d₁ + β·d₂``. A direction is a pytree with the same
structure as the parameters (a list of ``{"w": (n_in, n_out), "b": (n_out,)}``). This
module makes the directions worth looking along:

- a Gaussian random direction (``random_direction``), normalised so that every neuron
  moves in proportion to its own size — Li et al. (2018)'s "filter" normalisation;
- the straight line between two parameter sets (``direction_between``), e.g. from the
  initial network to the trained one (Goodfellow et al. 2015);
- the plane through three parameter sets, orthonormalised (``plane_through``);
- the top two principal directions of a training trajectory (``pca_directions``);
- the downhill gradient direction (``gradient_direction``).

Top Hessian eigenvectors come from the curvature functions of this package. Flat-vector linear
algebra (Gram–Schmidt, PCA) runs on the host in float64: it is 13,002 numbers, not worth a kernel.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdigits import _checks
from jaxdigits.errors import InvalidArgument
from jaxdigits.landscape._trees import check_like, flatten, unit
from jaxdigits.network import cost_function
from jaxdigits.typing import ArrayLike, Network, Params, PRNGKey

__all__ = [
    "BIASES",
    "NORMS",
    "PCA",
    "direction_between",
    "gradient_direction",
    "normalize",
    "pca_directions",
    "plane_through",
    "random_direction",
]

NORMS = ("filter", "layer", "none")
BIASES = ("zero", "filter")


def normalize(direction: Network, params: Network, norm: str = "filter", bias: str = "zero") -> Network:
    """Scale a direction to the size of the parameters it will move.

    In our layout a neuron's incoming weights are a *column* ``w[:, j]``.

    Args:
      direction, params: pytrees of ``{"w", "b"}`` layers with equal shapes.
      norm: ``"filter"`` — each column ``d_w[:, j]`` is scaled to ``‖w[:, j]‖`` (Li et al.);
        ``"layer"`` — each layer's ``d_w`` is scaled to ``‖w‖`` (Frobenius); ``"none"``.
      bias: ``"zero"`` — biases do not move (their direction is 0; Li et al.'s default);
        ``"filter"`` — a neuron's bias is treated as one more incoming weight (from a
        constant input 1): it is scaled once, together with its column, so that
        ``‖(d_w[:, j], d_b[j])‖ = ‖(w[:, j], b[j])‖`` (per layer for ``norm="layer"``).

    Returns:
      The normalised direction. A column of zeros in ``direction`` stays zero.
    """
    _checks.name(norm, NORMS, "norm")
    _checks.name(bias, BIASES, "bias")
    check_like(direction, params)
    return _normalize(direction, params, norm, bias)


@functools.partial(jax.jit, static_argnums=(2, 3))
def _normalize(direction, params, norm, bias):
    out = []
    for d, p in zip(direction, params):
        dw, db = d["w"], d["b"] if bias == "filter" else jnp.zeros_like(d["b"])
        pb = p["b"] if bias == "filter" else jnp.zeros_like(p["b"])
        axis = 0 if norm == "filter" else None
        d_size = jnp.sqrt(jnp.sum(dw**2, axis=axis) + (db**2 if norm == "filter" else jnp.sum(db**2)))
        p_size = jnp.sqrt(jnp.sum(p["w"] ** 2, axis=axis) + (pb**2 if norm == "filter" else jnp.sum(pb**2)))
        scale = p_size / jnp.where(d_size > 0, d_size, 1) if norm != "none" else jnp.ones_like(d_size)
        out.append({"w": dw * (scale[None, :] if norm == "filter" else scale), "b": db * scale})
    return out


def random_direction(params: Network, *, key: PRNGKey, norm: str = "filter", bias: str = "zero") -> Network:
    """A Gaussian random direction (every number from N(0, 1)), then ``normalize``d.

    Gaussian, not uniform: it has no preferred sign or axis. Same ``key``, same direction.
    """
    _checks.name(norm, NORMS, "norm")
    _checks.name(bias, BIASES, "bias")
    _checks.params_structure(params)
    return _random_direction(params, key, norm, bias)


@functools.partial(jax.jit, static_argnums=(2, 3))
def _random_direction(params, key, norm, bias):
    leaves, treedef = jax.tree.flatten(params)
    sizes = [leaf.size for leaf in leaves]
    flat = jax.random.normal(key, (sum(sizes),), jnp.result_type(leaves[0]))  # one draw: compiles fast
    parts = jnp.split(flat, np.cumsum(sizes)[:-1])
    noise = [part.reshape(leaf.shape) for part, leaf in zip(parts, leaves)]
    return _normalize(jax.tree.unflatten(treedef, noise), params, norm, bias)


def direction_between(start: Params, end: Params) -> Params:
    """``end − start``: offset 0 is ``start``, offset 1 is ``end``."""
    check_like(end, start, "end")
    return _subtract(end, start)


_subtract = jax.jit(optax.tree.sub)


def _finite(vector, what):
    if not np.all(np.isfinite(vector)):
        raise InvalidArgument(f"{what} contains NaN or infinite numbers")


def plane_through(origin: Params, first: Params, second: Params) -> tuple[Params, Params, np.ndarray]:
    """An orthonormal basis of the plane through three parameter sets (Gram–Schmidt).

    ``d₁ = (first − origin)/‖first − origin‖``; ``d₂`` is ``second − origin`` minus its
    component along ``d₁``, scaled to length 1. Offsets are then in parameter-space units.

    Returns:
      ``(d1, d2, coords)``: the two unit directions and a (3, 2) array of the (α, β) at
      which ``origin``, ``first`` and ``second`` lie (the first row is (0, 0)).
    """
    check_like(first, origin, "first")
    check_like(second, origin, "second")
    o, unravel = flatten(origin)
    u, v = flatten(first)[0] - o, flatten(second)[0] - o
    for vec, what in ((o, "origin"), (u, "first"), (v, "second")):
        _finite(vec, what)
    if not np.linalg.norm(u) > 0:
        raise InvalidArgument("origin and first are the same parameters: they span no plane")
    d1 = u / np.linalg.norm(u)
    w = v - (v @ d1) * d1
    eps = np.finfo(jnp.result_type(jax.tree.leaves(origin)[0])).eps  # rounding of the inputs' differences
    if not np.linalg.norm(w) > 100 * eps * np.linalg.norm(v):
        raise InvalidArgument("the three parameter sets lie on one line: they span no plane")
    d2 = w / np.linalg.norm(w)
    coords = np.array([[0.0, 0.0], [u @ d1, 0.0], [v @ d1, v @ d2]])
    return unravel(d1), unravel(d2), coords


class PCA(NamedTuple):
    """Top-2 principal directions of a trajectory (``pca_directions``)."""

    d1: Params
    d2: Params
    explained_variance_ratio: np.ndarray  # (2,): share of the trajectory's variance along d1, d2
    coords: np.ndarray  # (T, 2): every point of the trajectory projected on (d1, d2)


def pca_directions(trajectory: Sequence[Params], center: Params | None = None) -> PCA:
    """Principal directions of a training trajectory (Li et al. 2018, section 7).

    Random directions are nearly orthogonal to the path training takes; PCA finds the
    plane the path mostly lies in. Rows ``θ_t − center`` form a (T, P) matrix; after
    subtracting their mean, its singular value decomposition ``U S Vᵀ`` gives the
    directions (rows of ``Vᵀ``) and the explained variance ratios ``S_k² / Σ S²``.

    Args:
      trajectory: a sequence of T ≥ 3 parameter pytrees (e.g. after every epoch).
      center: the parameters at the plot's centre (default: the last of the trajectory).

    Returns:
      A ``PCA``; ``coords`` places ``center`` at (0, 0).
    """
    trajectory = list(trajectory)
    if len(trajectory) < 3:
        raise InvalidArgument(
            f"a trajectory needs at least 3 parameter sets for a plane of 2 directions, got {len(trajectory)}"
        )
    center = trajectory[-1] if center is None else center
    c, unravel = flatten(center)
    rows = np.stack([flatten(check_like(t, center, f"trajectory[{i}]"))[0] - c for i, t in enumerate(trajectory)])
    _finite(rows, "the trajectory")
    _, s, vt = np.linalg.svd(rows - rows.mean(axis=0), full_matrices=False)
    if not s[1] > 0:
        raise InvalidArgument("the trajectory moves along fewer than 2 independent directions")
    return PCA(
        unravel(vt[0]),
        unravel(vt[1]),
        s[:2] ** 2 / np.sum(s**2),
        rows @ vt[:2].T,
    )


def gradient_direction(
    params: Network, images: ArrayLike, labels: ArrayLike, *, cost: str = "mse", activation: str = "sigmoid"
) -> Network:
    """The downhill direction ``−∇C(θ) / ‖∇C(θ)‖`` of the cost on ``images``, ``labels``."""
    _checks.params_and_images(params, images)
    return unit(_downhill(params, images, labels, cost, activation))


@functools.partial(jax.jit, static_argnums=(3, 4))
def _downhill(params, images, labels, cost, activation):
    return jax.tree.map(jnp.negative, jax.grad(cost_function(cost))(params, images, labels, activation))

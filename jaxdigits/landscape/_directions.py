"""Directions through parameter space: the axes along which we look at the cost landscape.

The cost is a function of every parameter, so we can only draw it along one or two
directions at a time: ``θ + α·d₁ + β·d₂``. A direction is a pytree with the structure and
shapes of the parameters, whatever the model. This module makes the directions worth
looking along:

- a Gaussian random direction (``random_direction``), normalised so that every filter (or
  neuron) moves in proportion to its own size — Li et al. (2018)'s "filter" normalisation;
- the straight line between two parameter sets (``direction_between``), e.g. from the
  initial network to the trained one (Goodfellow et al. 2015);
- the plane through three parameter sets, orthonormalised (``plane_through``);
- the top two principal directions of a training trajectory (``pca_directions``);
- the downhill gradient direction (``gradient_direction``).

Top Hessian eigenvectors come from ``top_eigenvalues``. Flat-vector linear algebra
(Gram–Schmidt, PCA) runs on the host in float64.

**Which axis holds the filters.** Filter normalisation scales each filter of a weight leaf —
the slice that feeds one output neuron or channel — to the norm of the same slice of the
parameters. Libraries lay kernels out differently: Flax (``kernel``, (…, in, out)), Haiku and
this project's video network (``w``, (in, out)) keep outputs on the *last* axis; Equinox and
PyTorch-layout weights (``weight``, (out, in, …), OIHW) on the *first*. ``filter_axes`` reads the
leaf's name from its pytree path and picks the axis; any other name gets the last axis (JAX's
``x @ W`` convention). Override it with ``filter_axis``: one int for every leaf, or a pytree of
ints shaped like the parameters (start from ``filter_axes(params)``).

**1-D leaves** (biases, normalisation scales) do not move by default, as with Li et al.'s
``ignore="biasbn"``; ``include_1d=True`` moves them, each scaled to the norm of its leaf
(``norm="filter"`` and ``"layer"``). A ``mask`` (a pytree of bools, or a function of the
parameters returning one, as optax's masks) chooses which leaves move at all: one layer's
landscape, or trainable parameters only.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdigits import _checks
from jaxdigits.errors import InvalidArgument
from jaxdigits.landscape._contract import check_data, check_loss
from jaxdigits.landscape._trees import check_like, flatten, unit
from jaxdigits.typing import Batch, LossFn, Params, PRNGKey

__all__ = [
    "NORMS",
    "PCA",
    "direction_between",
    "filter_axes",
    "gradient_direction",
    "normalize",
    "pca_directions",
    "plane_through",
    "random_direction",
]

NORMS = ("filter", "layer", "none")

# The leaf names whose filters are on the first axis (Equinox, PyTorch layout); every other leaf: last.
_FIRST_AXIS_NAMES = ("weight",)


def _leaf_name(path) -> str:
    """The last name in a pytree path, skipping a Variable's ``value`` (Flax NNX state)."""
    for key in reversed(path):
        name = getattr(key, "key", getattr(key, "name", None))
        if isinstance(name, str) and name not in ("value", "raw_value"):
            return name
    return ""


def filter_axes(params: Params) -> Params:
    """The axis of every leaf that holds its filters, detected from the leaf's name (pytree of ints).

    ``weight`` (Equinox, PyTorch layout): 0; anything else (``kernel``, ``w``, …): the last
    axis, ``ndim − 1``. 1-D and 0-D leaves get 0 (each number its own filter).
    """
    return jax.tree_util.tree_map_with_path(
        lambda path, leaf: 0 if jnp.ndim(leaf) < 2 or _leaf_name(path) in _FIRST_AXIS_NAMES else jnp.ndim(leaf) - 1,
        params,
    )


def _resolve_mask(mask, params):
    if mask is None:
        return jax.tree.map(lambda _: True, params)
    mask = mask(params) if callable(mask) else mask
    if jax.tree.structure(mask) != jax.tree.structure(params):
        raise InvalidArgument(
            f"mask must be a pytree of bools shaped like the parameters: expected {jax.tree.structure(params)}, "
            f"got {jax.tree.structure(mask)}"
        )
    return mask


def _resolve_axes(filter_axis, params):
    axes = filter_axes(params) if filter_axis is None else filter_axis
    if isinstance(axes, (int, np.integer)):
        axes = jax.tree.map(lambda _: int(filter_axis), params)
    if jax.tree.structure(axes) != jax.tree.structure(params):
        raise InvalidArgument(
            "filter_axis must be an int or a pytree of ints shaped like the parameters "
            f"(see landscape.filter_axes): expected {jax.tree.structure(params)}, got {jax.tree.structure(axes)}"
        )
    out = []
    for (path, leaf), axis in zip(jax.tree.leaves_with_path(params), jax.tree.leaves(axes)):
        ndim = jnp.ndim(leaf)
        if not (isinstance(axis, (int, np.integer)) and -max(ndim, 1) <= axis < max(ndim, 1)):
            raise InvalidArgument(f"filter_axis{jax.tree_util.keystr(path)} is {axis!r}, the leaf has {ndim} axes")
        out.append(int(axis) % max(ndim, 1))
    return jax.tree.unflatten(jax.tree.structure(params), out)


def normalize(
    direction: Params,
    params: Params,
    norm: str = "filter",
    *,
    include_1d: bool = False,
    filter_axis: int | Params | None = None,
    mask: Params | Callable[[Params], Params] | None = None,
) -> Params:
    """Scale a direction to the size of the parameters it will move.

    Args:
      direction, params: pytrees of equal structure and shapes.
      norm: ``"filter"`` — every filter ``d[..., j, ...]`` (index j on the leaf's filter axis) is
        scaled to ``‖θ[..., j, ...]‖`` (Li et al.); ``"layer"`` — every leaf ``d`` is scaled to
        ``‖θ‖`` (Frobenius); ``"none"``.
      include_1d: move 1-D leaves (biases, norm scales) too, each scaled to ‖θ_leaf‖
        (unless ``norm="none"``); by default their direction is 0.
      filter_axis: see the module docstring; default ``filter_axes(params)``.
      mask: pytree of bools (or a function of ``params`` returning one); False leaves get 0.

    Returns:
      The normalised direction. A filter of zeros in ``direction`` stays zero.
    """
    _checks.name(norm, NORMS, "norm")
    check_like(direction, params)
    axes = _resolve_axes(filter_axis, params)
    mask = _resolve_mask(mask, params)
    moves = jax.tree.map(lambda m, p: bool(m) and (include_1d or jnp.ndim(p) >= 2), mask, params)
    return _normalize(direction, params, tuple(jax.tree.leaves(axes)), tuple(jax.tree.leaves(moves)), norm)


@functools.partial(jax.jit, static_argnums=(2, 3, 4))
def _normalize(direction, params, axes, moves, norm):  # axes, moves: one per leaf, in leaf order
    def leaf(d, p, axis, move):
        if not move:
            return jnp.zeros_like(d)
        if norm == "none":
            return d
        # 1-D leaves are scaled as one piece; so is every leaf under "layer".
        keep = () if norm == "layer" or jnp.ndim(p) < 2 else (axis,)
        over = tuple(i for i in range(jnp.ndim(p)) if i not in keep)
        d_size = jnp.sqrt(jnp.sum(d**2, axis=over, keepdims=True))
        p_size = jnp.sqrt(jnp.sum(p**2, axis=over, keepdims=True))
        return d * (p_size / jnp.where(d_size > 0, d_size, 1))

    treedef = jax.tree.structure(params)
    leaves = zip(jax.tree.leaves(direction), jax.tree.leaves(params), axes, moves)
    return jax.tree.unflatten(treedef, [leaf(*args) for args in leaves])


def random_direction(
    params: Params,
    *,
    key: PRNGKey,
    norm: str = "filter",
    include_1d: bool = False,
    filter_axis: int | Params | None = None,
    mask: Params | Callable[[Params], Params] | None = None,
) -> Params:
    """A Gaussian random direction (every number from N(0, 1)), then ``normalize``d.

    Gaussian, not uniform: it has no preferred sign or axis. Same ``key``, same direction.
    Keyword arguments as in ``normalize``.
    """
    _checks.name(norm, NORMS, "norm")
    leaves = jax.tree.leaves(params)
    if not leaves or not all(jnp.issubdtype(jnp.result_type(x), jnp.floating) for x in leaves):
        raise InvalidArgument("params must be a non-empty pytree of floating-point arrays")
    noise = _gaussian_like(params, key)
    return normalize(noise, params, norm, include_1d=include_1d, filter_axis=filter_axis, mask=mask)


@jax.jit
def _gaussian_like(params, key):
    leaves, treedef = jax.tree.flatten(params)
    sizes = [leaf.size for leaf in leaves]
    flat = jax.random.normal(key, (sum(sizes),), jnp.result_type(leaves[0]))  # one draw: compiles fast
    parts = jnp.split(flat, np.cumsum(sizes)[:-1])
    return jax.tree.unflatten(
        treedef, [part.reshape(leaf.shape).astype(leaf.dtype) for part, leaf in zip(parts, leaves)]
    )


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


def gradient_direction(loss: LossFn, params: Params, data: Any) -> Params:
    """The downhill direction ``−∇C(θ) / ‖∇C(θ)‖`` of the cost over ``data`` (see the contract)."""
    total = None
    for i, (batch, n) in enumerate(check_data(data)):
        if i == 0:
            check_loss(loss, params, batch)
        g = _batch_gradient(loss, params, batch)
        total = _add_scaled(jax.tree.map(jnp.zeros_like, g) if total is None else total, g, n)
    return unit(jax.tree.map(jnp.negative, total))


@functools.partial(jax.jit, static_argnums=0)
def _batch_gradient(loss: LossFn, params: Params, batch: Batch) -> Params:
    return jax.grad(loss)(params, batch)


@jax.jit
def _add_scaled(total, g, n):
    return optax.tree.add_scale(total, n, g)

"""How sharply the cost curves around the parameters: Hessian-vector products, eigenvalues, trace, density.

The Hessian ``H = ∇²C(θ)`` holds the second derivatives of the cost with respect to every
pair of parameters: 13,002 × 13,002 = 169 million numbers for the video's network, far more
for a CNN. It is never formed. Everything here needs only products ``H·v``, which cost about
as much as two gradients: differentiate the gradient along ``v`` (forward-over-reverse,
``jvp(grad(C), θ, v)``), with C the example-weighted mean of ``loss`` over the data, scanned in
batches of ``batch_size`` examples inside the compiled program.

The iterations come from ``matfree`` (pytree-native matrix-free linear algebra):

- ``top_eigenvalues``: Lanczos (``matfree.decomp.tridiag_sym`` with full re-orthogonalisation,
  ``matfree.eig.eigh_partial``). ``m`` products build an orthonormal basis Q of the Krylov
  space {v, Hv, H²v, …} and the small tridiagonal T = Qᵀ H Q; the largest eigenvalues of T
  converge to the largest of H first, and Q times T's eigenvectors gives the eigenvectors.
- ``hessian_trace``: Hutchinson's estimator tr(H) = E[zᵀHz] over random ±1 vectors z
  (``matfree.stochtrace``'s Rademacher sampler and trace integrand).
- ``spectral_density``: stochastic Lanczos quadrature (Ghorbani et al. 2019; PyHessian). For a
  random unit vector v, Lanczos's T = Y Θ Yᵀ gives nodes θⱼ (T's eigenvalues) and weights
  τⱼ = (Y₁ⱼ)² (the first components of its eigenvectors, summing to 1): vᵀ f(H) v ≈ Σⱼ τⱼ f(θⱼ).
  The density of H's eigenvalues is then ρ(t) ≈ mean over probes of Σⱼ τⱼ g_σ(t − θⱼ), a sum of
  Gaussians of width σ, which integrates to 1.

A large top eigenvalue means a sharp valley along its eigenvector; the trace sums the
curvature over all directions; the density shows how many directions are flat, how many
sharp, and whether some curve downward (negative eigenvalues: not a minimum). Left out: the
Gauss–Newton approximation, and data given as an iterable of batches (curvature passes over
the data once per product, inside one program: pass one batch, scanned with ``batch_size``).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import matfree.decomp
import matfree.eig
import matfree.stochtrace
import numpy as np
from jax.flatten_util import ravel_pytree

from jaxdigits.errors import InvalidArgument
from jaxdigits.landscape._contract import batch_size_of, check_loss, is_batch
from jaxdigits.landscape._trees import check_like
from jaxdigits.typing import Array, Batch, LossFn, Params, PRNGKey

__all__ = [
    "Eigen",
    "SpectralDensity",
    "Trace",
    "data_cost",
    "hessian_trace",
    "hvp",
    "spectral_density",
    "top_eigenvalues",
]


def data_cost(loss: LossFn, params: Params, data: Batch, batch_size: int | None = None) -> Array:
    """The example-weighted mean of ``loss`` over ``data``, scanned in batches (traceable).

    C(θ) = Σ_b n_b·loss(θ, batch_b) / N over consecutive batches of ``batch_size`` examples, the
    last one possibly shorter; ``batch_size=None`` is one batch of all N.
    """
    n = jax.tree.leaves(data)[0].shape[0]
    if batch_size is None or batch_size >= n:
        return loss(params, data)
    full, rest = divmod(n, batch_size)
    head = jax.tree.map(lambda x: x[: full * batch_size].reshape(full, batch_size, *x.shape[1:]), data)
    total = jax.lax.scan(lambda t, b: (t + batch_size * loss(params, b), None), 0.0, head)[0]
    if rest:
        total = total + rest * loss(params, jax.tree.map(lambda x: x[full * batch_size :], data))
    return total / n


def _check(loss, params, data, batch_size):
    if not is_batch(data):
        raise InvalidArgument(
            "curvature needs the data as one batch (a pytree of arrays), which it scans in steps of batch_size "
            "examples; an iterable of batches is not supported here"
        )
    batch_size_of(data, "data")
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1):
        raise InvalidArgument(f"batch_size must be a positive integer or None, got {batch_size!r}")
    check_loss(loss, params, data)
    leaves = jax.tree.leaves(params)
    if not all(jnp.issubdtype(jnp.result_type(x), jnp.floating) for x in leaves):
        raise InvalidArgument("params must be a pytree of floating-point arrays")
    return sum(int(np.size(x)) for x in leaves)


def _product(loss, data, batch_size):
    """``matvec(v, params) = H(params)·v``, the form matfree's algorithms call."""

    def matvec(vector, params):
        gradient = jax.grad(lambda p: data_cost(loss, p, data, batch_size))
        return jax.jvp(gradient, (params,), (vector,))[1]

    return matvec


def hvp(loss: LossFn, params: Params, data: Batch, vector: Params, *, batch_size: int | None = None) -> Params:
    """The Hessian-vector product ``H·v`` of the data's cost at ``params``, a pytree like ``params``."""
    _check(loss, params, data, batch_size)
    check_like(vector, params, "vector")
    return _hvp(loss, params, data, vector, batch_size)


@functools.partial(jax.jit, static_argnums=(0, 4))
def _hvp(loss, params, data, vector, batch_size):
    return _product(loss, data, batch_size)(vector, params)


class Eigen(NamedTuple):
    """Top Hessian eigenvalues (largest first) and their unit eigenvectors (pytrees, usable as directions)."""

    values: np.ndarray  # (k,)
    vectors: list  # k pytrees shaped like the parameters


def top_eigenvalues(
    loss: LossFn,
    params: Params,
    data: Batch,
    *,
    key: PRNGKey,
    k: int = 3,
    iterations: int = 40,
    batch_size: int | None = None,
) -> Eigen:
    """The ``k`` largest eigenvalues of the Hessian of the cost, and their eigenvectors (Lanczos).

    Args:
      loss, params, data: the model (see the ``jaxdigits.landscape`` contract); data as one batch.
      key: PRNG key for the starting vector.
      k: how many eigenvalues.
      iterations: Hessian-vector products (Lanczos steps), at most the parameter count;
        with as many steps as parameters the result is exact up to rounding.
      batch_size: examples per step of the scan over the data (None: all at once).

    Returns:
      An ``Eigen``: ``values`` (k,) largest first, ``vectors`` the matching Ritz vectors.
    """
    size = _check(loss, params, data, batch_size)
    m = min(int(iterations), size)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= m:
        raise InvalidArgument(f"k must be between 1 and the number of iterations ({m}), got {k!r}")
    values, vectors = jax.device_get(_lanczos(loss, params, data, key, m, batch_size))
    order = np.argsort(-values)[:k]
    return Eigen(np.asarray(values)[order], [jax.tree.map(lambda v, i=i: v[i], vectors) for i in order])


@functools.partial(jax.jit, static_argnums=(0, 4, 5))
def _lanczos(loss, params, data, key, m, batch_size):
    start = _gaussian_like(params, key)
    eigh = matfree.eig.eigh_partial(matfree.decomp.tridiag_sym(m, reortho="full", custom_vjp=False))
    return eigh(_product(loss, data, batch_size), start, params)


def _gaussian_like(params, key):
    flat, unravel = ravel_pytree(params)
    return unravel(jax.random.normal(key, flat.shape, flat.dtype))


class Trace(NamedTuple):
    """Hutchinson estimate of the Hessian trace and its standard error."""

    estimate: float
    stderr: float
    samples: int


def hessian_trace(
    loss: LossFn,
    params: Params,
    data: Batch,
    *,
    key: PRNGKey,
    samples: int = 64,
    chunk_size: int = 8,
    batch_size: int | None = None,
) -> Trace:
    """Hutchinson's estimate of ``tr(H) = E[zᵀHz]``, z with independent ±1 entries.

    Args:
      samples: number of random vectors z (each costs one Hessian-vector product).
      chunk_size: products computed together (vmapped); bounds memory.
      batch_size: examples per step of the scan over the data (None: all at once).

    Returns:
      A ``Trace``: the mean of ``zᵀHz`` and its standard error ``std/√samples``.
    """
    _check(loss, params, data, batch_size)
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples < 2:
        raise InvalidArgument(f"samples must be an integer >= 2 (the standard error needs two), got {samples!r}")
    quads = np.asarray(_hutchinson(loss, params, data, key, int(samples), int(chunk_size), batch_size), np.float64)
    return Trace(float(quads.mean()), float(quads.std(ddof=1) / np.sqrt(samples)), int(samples))


@functools.partial(jax.jit, static_argnums=(0, 4, 5, 6))
def _hutchinson(loss, params, data, key, samples, chunk_size, batch_size):
    probes = matfree.stochtrace.sampler_signs(params, num=samples)(key)
    integrand = matfree.stochtrace.monte_carlo_trace()
    matvec = _product(loss, data, batch_size)
    return jax.lax.map(lambda z: integrand(matvec, z, params), probes, batch_size=chunk_size)


class SpectralDensity(NamedTuple):
    """The Hessian's eigenvalue density ρ(t) on a grid, from stochastic Lanczos quadrature."""

    grid: np.ndarray  # (bins,) eigenvalues t at which ρ is given
    density: np.ndarray  # (bins,) ρ(t) ≥ 0, integrating to 1 over the grid (trapezoid rule)
    nodes: np.ndarray  # (probes, iterations) Ritz values θⱼ of every probe
    weights: np.ndarray  # (probes, iterations) their weights τⱼ, each row summing to 1
    sigma: float  # width of the Gaussian around every node

    @property
    def top(self) -> float:
        """The largest node: an estimate of the top eigenvalue."""
        return float(self.nodes.max())

    def moment(self, power: int = 1) -> float:
        """E[λ^power] under the density's nodes and weights (× parameter count: tr(H^power))."""
        return float(np.mean(np.sum(self.weights * self.nodes**power, axis=1)))


def spectral_density(
    loss: LossFn,
    params: Params,
    data: Batch,
    *,
    key: PRNGKey,
    iterations: int = 80,
    probes: int = 4,
    bins: int = 1000,
    sigma: float | None = None,
    batch_size: int | None = None,
) -> SpectralDensity:
    """The eigenvalue density of the Hessian, the histogram-like curve PyHessian and Ghorbani et al. plot.

    Args:
      loss, params, data: the model; data as one batch (scanned in ``batch_size`` steps).
      key: PRNG key for the probe vectors.
      iterations: Lanczos steps per probe (≤ the parameter count).
      probes: random unit vectors averaged over.
      bins: points of the grid.
      sigma: width of each node's Gaussian; default 1 % of the range of the nodes.

    Returns:
      A ``SpectralDensity``; the grid reaches 5σ past the smallest and largest node.
    """
    size = _check(loss, params, data, batch_size)
    m = min(int(iterations), size)
    if isinstance(probes, bool) or not isinstance(probes, (int, np.integer)) or probes < 1:
        raise InvalidArgument(f"probes must be a positive integer, got {probes!r}")
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 2:
        raise InvalidArgument(f"bins must be an integer >= 2, got {bins!r}")
    nodes, weights = (
        np.asarray(x, np.float64)
        for x in jax.device_get(_quadrature(loss, params, data, key, m, int(probes), batch_size))
    )
    lo, hi = float(nodes.min()), float(nodes.max())
    sigma = float(sigma) if sigma is not None else 0.01 * max(hi - lo, 1e-12 * max(abs(hi), 1.0))
    if not sigma > 0:
        raise InvalidArgument(f"sigma must be positive, got {sigma}")
    grid = np.linspace(lo - 5 * sigma, hi + 5 * sigma, int(bins))
    bumps = np.exp(-0.5 * ((grid[:, None, None] - nodes) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))
    density = np.mean(np.sum(weights * bumps, axis=2), axis=1)
    density /= np.trapezoid(density, grid)
    return SpectralDensity(grid, density, nodes, weights, sigma)


@functools.partial(jax.jit, static_argnums=(0, 4, 5, 6))
def _quadrature(loss, params, data, key, m, probes, batch_size):
    tridiag = matfree.decomp.tridiag_sym(m, reortho="full", custom_vjp=False)
    matvec = _product(loss, data, batch_size)

    def one(key):
        T = tridiag(matvec, _gaussian_like(params, key), params).J_small
        nodes, vectors = jnp.linalg.eigh(T)
        return nodes, vectors[0, :] ** 2

    return jax.lax.map(one, jax.random.split(key, probes))

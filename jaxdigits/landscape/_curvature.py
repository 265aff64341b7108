"""How sharply the cost curves around a network: Hessian-vector products, eigenvalues, trace.

The Hessian ``H = ∇²C(θ)`` holds the second derivatives of the cost with respect to every
pair of parameters: 13,002 × 13,002 = 169 million numbers for the video's network. It is
never formed. Everything here needs only products ``H·v``, which cost about as much as two
gradients: differentiate the gradient along ``v`` (forward-over-reverse,
``jvp(grad(C), θ, v)``).

- ``top_eigenvalues``: Lanczos iteration. ``m`` products ``H·q`` build an orthonormal basis
  ``Q`` of the Krylov space {v, Hv, H²v, …} and the small tridiagonal ``T = Qᵀ H Q``; the
  largest eigenvalues of ``T`` converge to the largest of ``H`` first. Every new basis
  vector is re-orthogonalised against all earlier ones (float32 would otherwise lose
  orthogonality and repeat eigenvalues).
- ``hessian_trace``: Hutchinson's estimator ``tr(H) = E[zᵀHz]`` over random ±1 vectors z.

A large top eigenvalue means a sharp valley along its eigenvector; the trace sums the
curvature over all directions. Left out: the full eigenvalue density (stochastic Lanczos
quadrature) and the Gauss–Newton approximation.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from jaxdigits import _checks
from jaxdigits.errors import InvalidArgument
from jaxdigits.landscape._trees import check_like, flatten
from jaxdigits.network import cost_function
from jaxdigits.precision import matmul
from jaxdigits.typing import ArrayLike, Network, PRNGKey

__all__ = ["Eigen", "Trace", "flat_hvp", "hessian_trace", "hvp", "top_eigenvalues"]


def hvp(
    params: Network,
    vector: Network,
    images: ArrayLike,
    labels: ArrayLike,
    *,
    cost: str = "mse",
    activation: str = "sigmoid",
) -> Network:
    """The Hessian-vector product ``H·v`` of the cost at ``params``, a pytree like ``params``."""
    check_like(vector, params, "vector")

    def gradient(p):
        return jax.grad(cost_function(cost))(p, images, labels, activation)

    return jax.jvp(gradient, (params,), (vector,))[1]


def flat_hvp(params: Network, images: ArrayLike, labels: ArrayLike, cost: str, activation: str) -> Callable:
    """``v ↦ H·v`` on flat vectors of all the parameters (what Lanczos and Hutchinson iterate)."""
    _, unravel = ravel_pytree(params)
    return lambda v: ravel_pytree(hvp(params, unravel(v), images, labels, cost=cost, activation=activation))[0]


class Eigen(NamedTuple):
    """Top Hessian eigenvalues (largest first) and their unit eigenvectors (pytrees)."""

    values: np.ndarray  # (k,)
    vectors: list  # k pytrees shaped like the parameters


def top_eigenvalues(
    params: Network,
    images: ArrayLike,
    labels: ArrayLike,
    *,
    key: PRNGKey,
    k: int = 3,
    iterations: int = 40,
    cost: str = "mse",
    activation: str = "sigmoid",
) -> Eigen:
    """The ``k`` largest eigenvalues of the Hessian of the cost (Lanczos).

    Args:
      params: the network θ.
      images, labels: the data the cost averages over (e.g. the whole training set).
      key: PRNG key for the starting vector.
      k: how many eigenvalues.
      iterations: Hessian-vector products (Lanczos steps), at most the parameter count;
        with as many steps as parameters the result is exact up to rounding.
      cost, activation: as in ``jaxdigits.network.cost_function``.

    Returns:
      An ``Eigen``: ``values`` (k,) largest first, ``vectors`` the matching Ritz vectors.
    """
    _checks.params_and_images(params, images)
    flat, unflatten = flatten(params)
    m = min(int(iterations), flat.size)
    if not 1 <= k <= m:
        raise InvalidArgument(f"k must be between 1 and the number of iterations ({m}), got {k}")
    values, vectors = jax.device_get(
        _lanczos(params, images, labels, key, m=m, k=int(k), cost=cost, activation=activation)
    )
    return Eigen(np.asarray(values), [unflatten(v) for v in vectors])


@functools.partial(jax.jit, static_argnames=("m", "k", "cost", "activation"))
def _lanczos(params, images, labels, key, *, m, k, cost, activation):
    matvec = flat_hvp(params, images, labels, cost, activation)
    flat, _ = ravel_pytree(params)
    start = jax.random.normal(key, flat.shape, flat.dtype)

    def step(j, state):
        basis, diagonal, off_diagonal, q = state
        basis = basis.at[j].set(q)
        w = matvec(q)
        diagonal = diagonal.at[j].set(matmul(q, w))
        for _ in range(2):  # full re-orthogonalisation, twice ("twice is enough")
            w = w - matmul(basis.T, matmul(basis, w))
        beta = jnp.linalg.norm(w)
        off_diagonal = off_diagonal.at[j].set(beta)
        # An exhausted Krylov space (beta ≈ 0) adds zero rows: spurious 0 eigenvalues only.
        q = jnp.where(beta > 1e-30, w / jnp.where(beta > 1e-30, beta, 1), 0)
        return basis, diagonal, off_diagonal, q

    n, dtype = flat.size, flat.dtype
    state = (jnp.zeros((m, n), dtype), jnp.zeros(m, dtype), jnp.zeros(m, dtype), start / jnp.linalg.norm(start))
    basis, diagonal, off_diagonal, _ = jax.lax.fori_loop(0, m, step, state)
    tridiagonal = jnp.diag(diagonal) + jnp.diag(off_diagonal[:-1], 1) + jnp.diag(off_diagonal[:-1], -1)
    ritz_values, ritz_vectors = jnp.linalg.eigh(tridiagonal)
    top = jnp.argsort(-ritz_values)[:k]
    vectors = matmul(basis.T, ritz_vectors[:, top]).T
    return ritz_values[top], vectors / jnp.linalg.norm(vectors, axis=1, keepdims=True)


class Trace(NamedTuple):
    """Hutchinson estimate of the Hessian trace and its standard error."""

    estimate: float
    stderr: float
    samples: int


def hessian_trace(
    params: Network,
    images: ArrayLike,
    labels: ArrayLike,
    *,
    key: PRNGKey,
    samples: int = 64,
    batch_size: int = 8,
    cost: str = "mse",
    activation: str = "sigmoid",
) -> Trace:
    """Hutchinson's estimate of ``tr(H) = E[zᵀHz]``, z with independent ±1 entries.

    Args:
      samples: number of random vectors z (each costs one Hessian-vector product).
      batch_size: products computed together (vmapped); bounds memory.

    Returns:
      A ``Trace``: the mean of ``zᵀHz`` and its standard error ``std/√samples``.
    """
    _checks.params_and_images(params, images)
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples < 2:
        raise InvalidArgument(f"samples must be an integer >= 2 (the standard error needs two), got {samples!r}")
    quads = np.asarray(
        _hutchinson(
            params,
            images,
            labels,
            key,
            samples=int(samples),
            batch_size=int(batch_size),
            cost=cost,
            activation=activation,
        ),
        np.float64,
    )
    return Trace(float(quads.mean()), float(quads.std(ddof=1) / np.sqrt(samples)), int(samples))


@functools.partial(jax.jit, static_argnames=("samples", "batch_size", "cost", "activation"))
def _hutchinson(params, images, labels, key, *, samples, batch_size, cost, activation):
    flat, _ = ravel_pytree(params)
    matvec = flat_hvp(params, images, labels, cost, activation)
    probes = jax.random.rademacher(key, (samples, flat.size), flat.dtype)
    return jax.lax.map(lambda z: matmul(z, matvec(z)), probes, batch_size=batch_size)

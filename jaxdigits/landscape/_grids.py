"""The cost landscape: cost and accuracy at every point of a line or plane through parameters.

A 1-D slice evaluates ``C(θ + α·d)`` for a list of offsets α; a 2-D surface evaluates
``C(θ + α·d₁ + β·d₂)`` on a grid of (α, β) (directions come from ``jaxdigits.directions``).
The grids include offset 0 exactly (``axis``), so the centre is the cost at θ itself.

A whole grid is one ``jax.jit``-compiled program. Points are independent, so the program
vmaps over them in chunks (``lax.map(..., batch_size=...)``: memory stays bounded however
large the grid) and spreads the chunks over the available devices (``shard_map`` over a
1-D mesh). It also uses the structure of the network: along a plane the first layer's
weighted sums are linear in the offsets, so the products with the 784-pixel images are
computed once per grid, not once per point (``method="linear"``, through
``jaxdigits.network.first_layer_span``, which also serves the paths between minima). Each
point then costs about 25× fewer operations than evaluating the whole network
(``method="direct"``, kept as the reference); the tests check that both methods compute the
same function.

Left out: data sets that do not fit on the device at once (the program chunks points, not
images), and layers other than the fully connected ones of the video's network.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from jaxdigits import _checks
from jaxdigits.devices import mesh as make_mesh
from jaxdigits.errors import InvalidArgument
from jaxdigits.landscape._trees import check_like
from jaxdigits.network import accuracy, cost_function, first_layer_span, span_metrics
from jaxdigits.precision import tensordot
from jaxdigits.typing import Array, ArrayLike, Network

__all__ = ["METHODS", "Landscape", "axis", "evaluate", "grid_program", "line", "surface"]

METHODS = ("linear", "direct")


class Landscape(NamedTuple):
    """Cost and accuracy over a 1-D slice (shape (A,)) or a 2-D grid (shape (A, B))."""

    alphas: np.ndarray  # (A,) offsets along the first direction
    betas: np.ndarray | None  # (B,) offsets along the second direction; None for a slice
    cost: np.ndarray
    accuracy: np.ndarray | None  # None when evaluated with ``with_accuracy=False``
    seconds_compile: float  # tracing and XLA compilation (0 when already compiled)
    seconds: float  # running the compiled grid, results on the host


def axis(span: float | tuple[float, float], num: int) -> np.ndarray:
    """``num`` evenly spaced offsets over ``(-span, span)`` (or ``span=(lo, hi)``), 0 exact.

    With an odd ``num`` and a symmetric span, 0 is the middle point; otherwise the point
    nearest to 0 is replaced by exactly 0 whenever 0 lies inside the span.
    """
    if isinstance(num, bool) or not isinstance(num, (int, np.integer)) or num < 2:
        raise InvalidArgument(f"a grid needs at least 2 points per axis, got {num!r}")
    lo, hi = (-span, span) if np.ndim(span) == 0 else tuple(span)
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise InvalidArgument(f"span must be a finite, non-empty interval (lo < hi), got {span!r}")
    points = np.linspace(lo, hi, num)
    if lo <= 0 <= hi:
        points[np.argmin(np.abs(points))] = 0.0
    return points


def _offsets(values, what):
    values = np.asarray(values, np.float64)
    if values.ndim != 1 or values.size < 1 or not np.all(np.isfinite(values)):
        raise InvalidArgument(f"{what} must be a 1-D array of finite offsets, got shape {values.shape}")
    return values


def line(
    params: Network, direction: Network, images: ArrayLike, labels: ArrayLike, alphas: ArrayLike, **options
) -> Landscape:
    """Cost and accuracy at ``θ + α·d`` for every α in ``alphas`` (A,). See ``evaluate``."""
    alphas = _offsets(alphas, "alphas")
    result = evaluate(params, [direction], images, labels, alphas[:, None], **options)
    return result._replace(alphas=alphas)


def surface(
    params: Network,
    directions: Sequence[Network],
    images: ArrayLike,
    labels: ArrayLike,
    alphas: ArrayLike,
    betas: ArrayLike,
    **options,
) -> Landscape:
    """Cost and accuracy at ``θ + α·d₁ + β·d₂`` on the grid ``alphas`` × ``betas``.

    Returns a ``Landscape`` whose ``cost[i, j]`` is at ``(alphas[i], betas[j])``.
    """
    alphas, betas = _offsets(alphas, "alphas"), _offsets(betas, "betas")
    if len(directions) != 2:
        raise InvalidArgument(f"a surface needs exactly 2 directions, got {len(directions)}")
    grid = np.stack(np.meshgrid(alphas, betas, indexing="ij"), axis=-1).reshape(-1, 2)
    result = evaluate(params, directions, images, labels, grid, **options)
    shape = (len(alphas), len(betas))
    return result._replace(
        alphas=alphas,
        betas=betas,
        cost=result.cost.reshape(shape),
        accuracy=None if result.accuracy is None else result.accuracy.reshape(shape),
    )


# Numbers per intermediate array of one chunk of points, by platform (see ``evaluate``).
_CHUNK_NUMBERS = {"cpu": 2**17, "accelerator": 2**25}


def evaluate(
    params: Network,
    directions: Sequence[Network],
    images: ArrayLike,
    labels: ArrayLike,
    offsets: ArrayLike,
    *,
    cost: str = "mse",
    activation: str = "sigmoid",
    method: str = "linear",
    batch_size: int | None = None,
    devices: Sequence[jax.Device] | None = None,
    with_accuracy: bool = True,
) -> Landscape:
    """Cost and accuracy at ``θ + Σₖ offsets[p, k]·directions[k]`` for every point p.

    Args:
      params: the network θ (list of ``{"w", "b"}``).
      directions: K pytrees shaped like ``params``.
      images, labels: (N, pixels) floats and (N,) integer digits, e.g. the test set.
      offsets: (P, K) coordinates of the P points.
      cost, activation: as in ``jaxdigits.network.cost_function``.
      method: ``"linear"`` (first layer computed once, see the module docstring) or
        ``"direct"`` (every point evaluates the whole network; the reference).
      batch_size: points evaluated together (vmapped) per device; default on a CPU: enough to
        keep each intermediate array near 130,000 numbers (512 KB, cache-sized): one point at
        a time for 10,000 images, which measured 2× faster than chunks of 6. On a GPU or TPU,
        where each loop iteration costs kernel launches, arrays of up to ~33 M numbers
        (128 MiB; ~200 points of 10,000 images).
      devices: devices to spread points over (default ``jax.devices()``).
      with_accuracy: also compute the accuracy at every point (an argmax over the outputs
        for every image: ~8 % of a surface's time); False leaves ``accuracy`` None.

    Returns:
      A ``Landscape`` with ``cost`` and ``accuracy`` of shape (P,) (``alphas`` = offsets).
    """
    _checks.name(method, METHODS, "method")
    _checks.params_and_images(params, images)
    _checks.labels(labels, images, jnp.shape(params[-1]["b"])[0])
    for k, d in enumerate(directions):
        check_like(d, params, f"directions[{k}]")
    offsets = np.asarray(offsets, np.float64)
    if offsets.ndim != 2 or offsets.shape[1] != len(directions) or not np.all(np.isfinite(offsets)):
        raise InvalidArgument(f"offsets must be a finite (points, {len(directions)}) array, got shape {offsets.shape}")
    if len(params) == 1:
        method = "direct"  # no hidden layer: nothing to split off
    devices = list(jax.devices() if devices is None else devices)
    n_points, n_images = offsets.shape[0], jnp.shape(images)[0]
    if batch_size is None:
        widest = max(jnp.shape(layer["b"])[0] for layer in params)
        numbers = _CHUNK_NUMBERS.get(devices[0].platform, _CHUNK_NUMBERS["accelerator"])
        batch_size = max(1, min(-(-n_points // len(devices)), numbers // max(1, n_images * widest)))
    mesh = make_mesh("points", devices) if len(devices) > 1 else None
    padded = -(-n_points // len(devices)) * len(devices)  # whole chunks per device
    dtype = jnp.result_type(params[0]["w"])
    grid = np.zeros((padded, offsets.shape[1]), dtype)
    grid[:n_points] = offsets
    args = (params, list(directions), images, labels, grid)
    if mesh is not None:
        replicated = NamedSharding(mesh, P())
        args = (*jax.device_put(args[:4], replicated), jax.device_put(grid, NamedSharding(mesh, P("points"))))
    static = dict(
        cost=cost,
        activation=activation,
        method=method,
        batch_size=int(batch_size),
        mesh=mesh,
        with_accuracy=bool(with_accuracy),
    )
    start = time.perf_counter()
    compiled = grid_program.lower(*args, **static).compile()
    middle = time.perf_counter()
    costs, accuracies = jax.device_get(compiled(*args))
    end = time.perf_counter()
    accuracies = accuracies[:n_points] if with_accuracy else None
    return Landscape(offsets, None, costs[:n_points], accuracies, middle - start, end - middle)


@functools.partial(jax.jit, static_argnames=("cost", "activation", "method", "batch_size", "mesh", "with_accuracy"))
def grid_program(
    params: Network,
    directions: Sequence[Network],
    images: Array,
    labels: Array,
    grid: Array,
    *,
    cost: str,
    activation: str,
    method: str,
    batch_size: int,
    mesh: jax.sharding.Mesh | None,
    with_accuracy: bool,
) -> tuple[Array, Array]:
    """The compiled grid: cost (and accuracy) at ``params + Σ_k grid[i, k]·directions[k]`` for every row i.

    One XLA program for the whole grid (``surface`` and ``line`` call it through their
    checks); ``method`` is ``"linear"`` (the first layer's product is linear in the offset:
    ``x·W₁`` and ``x·D₁`` once, then per point a combination) or ``"direct"`` (each point's
    network evaluated as it is). Exposed for tests that inspect the compiled program.
    """
    cost_of = cost_function(cost)
    stacked = jax.tree.map(lambda *ds: jnp.stack(ds), *directions)  # every leaf gains a leading K axis

    def moved(layers, layer_directions, offset):
        return jax.tree.map(lambda p, d: p + tensordot(offset, d, axes=1), layers, layer_directions)

    if method == "linear":
        consts = first_layer_span(images, labels, stacked, origin=params)  # θ + Σₖ offset[k]·dₖ

        def point(offset, span):
            return span_metrics(offset, span, cost=cost, activation=activation, with_accuracy=with_accuracy)
    else:
        consts = (images, params, stacked, labels)

        def point(offset, consts):
            images, params, ds, labels = consts
            net = moved(params, ds, offset)
            right = accuracy(net, images, labels, activation) if with_accuracy else jnp.zeros([], images.dtype)
            return cost_of(net, images, labels, activation), right

    def chunks(grid, consts):
        return jax.lax.map(lambda offset: point(offset, consts), grid, batch_size=batch_size)

    if mesh is not None:
        chunks = jax.shard_map(chunks, mesh=mesh, in_specs=(P("points"), P()), out_specs=P("points"))
    return chunks(grid, consts)

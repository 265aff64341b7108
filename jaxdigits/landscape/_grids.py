"""The cost landscape: the cost (and any metric) at every point of a line or plane through parameters.

A 1-D slice evaluates ``C(θ + α·d)`` for a list of offsets α; a 2-D surface evaluates
``C(θ + α·d₁ + β·d₂)`` on a grid of (α, β). The grids include offset 0 exactly (``axis``), so
the centre is the cost at θ itself. ``loss`` is any ``loss(params, batch) -> scalar`` and the
data one batch or an iterable of batches (``jaxdigits.landscape`` contract); the cost of the
data is the example-weighted mean over its batches.

Every point is a combination θ₀ + Σₖ cₖ θₖ of a few parameter sets (a plane: θ₀ the centre, θₖ
the directions; a path: θₖ the control points). A whole grid is one ``jax.jit``-compiled
program (``grid_program``):

- points are independent, so they are vmapped in chunks (``lax.map(..., batch_size=chunk_size)``:
  memory stays bounded however large the grid) and spread over the devices (``shard_map``
  over a 1-D "points" mesh); with ``jax.distributed``, each process takes a share of them;
- the data are scanned in batches of ``batch_size`` examples inside the program (memory stays
  bounded however many examples), and an iterable of batches runs the program once per batch;
- a loss that carries a faster way through a span (``SpanLoss``, e.g. the video network's
  ``VideoLoss``: the first layer's products once per grid) is used without being asked;
  ``method="generic"`` evaluates ``loss`` at every moved θ instead, the reference.

Points where the cost is NaN or infinite are recorded as NaN; the job goes on, and the result
counts them (``nonfinite``).
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from jaxdigits import _checks
from jaxdigits.devices import mesh as make_mesh
from jaxdigits.errors import InvalidArgument
from jaxdigits.landscape._contract import SpanLoss, batch_size_of, check_data, check_loss, is_batch
from jaxdigits.landscape._files import job_of, start_surface_file, write_block
from jaxdigits.landscape._trees import check_like
from jaxdigits.precision import tensordot
from jaxdigits.typing import Array, ArrayLike, LossFn, Params

__all__ = ["METHODS", "Landscape", "axis", "evaluate", "grid_program", "line", "surface"]

METHODS = ("auto", "span", "generic")


class Landscape(NamedTuple):
    """Cost and metrics over a 1-D slice (shape (A,)) or a 2-D grid (shape (A, B))."""

    alphas: np.ndarray  # (A,) offsets along the first direction
    betas: np.ndarray | None  # (B,) offsets along the second direction; None for a slice
    cost: np.ndarray  # NaN where the cost was NaN or infinite
    metrics: dict  # {name: array shaped like cost}, one per metric function passed
    seconds: float  # running the compiled grid, results on the host
    seconds_compile: float  # tracing and XLA compilation (≈0 when already compiled)
    nonfinite: int  # points whose cost was NaN or infinite
    method: str  # "span" (the loss's own fast path) or "generic"

    @property
    def accuracy(self) -> np.ndarray | None:
        """``metrics["accuracy"]``, or None when no accuracy was asked for."""
        return self.metrics.get("accuracy")


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


def offsets(values: ArrayLike, what: str) -> np.ndarray:
    """A 1-D float64 array of finite offsets, or a clear error."""
    values = np.asarray(values, np.float64)
    if values.ndim != 1 or values.size < 1 or not np.all(np.isfinite(values)):
        raise InvalidArgument(f"{what} must be a 1-D array of finite offsets, got shape {values.shape}")
    return values


def line(loss: LossFn, params: Params, data: Any, direction: Params, alphas: ArrayLike, **options) -> Landscape:
    """Cost (and metrics) at ``θ + α·d`` for every α in ``alphas`` (A,). Options as in ``evaluate``."""
    alphas = offsets(alphas, "alphas")
    check_like(direction, params, "direction")
    result = evaluate(loss, params, [direction], data, alphas[:, None], **options)
    return result._replace(alphas=alphas)


def surface(
    loss: LossFn,
    params: Params,
    data: Any,
    directions: Sequence[Params],
    alphas: ArrayLike,
    betas: ArrayLike,
    *,
    file: str | None = None,
    describe: Mapping[str, Any] | None = None,
    **options,
) -> Landscape:
    """Cost (and metrics) at ``θ + α·d₁ + β·d₂`` on the grid ``alphas`` × ``betas``.

    Args:
      loss, params, data: the model (see the ``jaxdigits.landscape`` contract).
      directions: two pytrees shaped like ``params``.
      alphas, betas: (A,) and (B,) offsets, e.g. from ``axis``.
      file: an HDF5 file that keeps every finished block of points, so that a killed job
        resumes where it stopped (``jaxdigits.landscape.open_surface_file`` has the format);
        a file of another job is refused.
      describe: for the file, how the directions were made (e.g. ``{"directions": "filter-normalised
        Gaussian, keys 1 and 2"}``), and anything else worth keeping with the numbers.
      options: as in ``evaluate`` (``metrics``, ``method``, ``chunk_size``, ``batch_size``,
        ``devices``), and ``points_per_write`` with a ``file``.

    Returns:
      A ``Landscape`` whose ``cost[i, j]`` is at ``(alphas[i], betas[j])``.
    """
    alphas, betas = offsets(alphas, "alphas"), offsets(betas, "betas")
    if len(directions) != 2:
        raise InvalidArgument(f"a surface needs exactly 2 directions, got {len(directions)}")
    for k, d in enumerate(directions):
        check_like(d, params, f"directions[{k}]")
    grid = np.stack(np.meshgrid(alphas, betas, indexing="ij"), axis=-1).reshape(-1, 2)
    if file is None:
        result = evaluate(loss, params, directions, data, grid, **options)
    else:
        result = _kept_in_file(loss, params, data, directions, alphas, betas, grid, file, describe or {}, **options)
    shape = (len(alphas), len(betas))
    return result._replace(
        alphas=alphas,
        betas=betas,
        cost=result.cost.reshape(shape),
        metrics={k: v.reshape(shape) for k, v in result.metrics.items()},
    )


def _kept_in_file(loss, params, data, directions, alphas, betas, coefficients, path, describe, *,
                  points_per_write=None, **options):  # fmt: skip
    """The surface in blocks of ``points_per_write`` points, each kept in ``path`` when done (``_files``)."""
    n_points = len(coefficients)
    block = math.ceil(n_points / 16) if points_per_write is None else points_per_write
    if isinstance(block, bool) or not isinstance(block, (int, np.integer)) or block < 1:
        raise InvalidArgument(f"points_per_write must be a positive integer, got {points_per_write!r}")
    n_blocks = math.ceil(n_points / block)
    if isinstance(data, Iterator) and n_blocks > 1:
        raise InvalidArgument(
            "a surface with a file passes over the data once per block: give a re-iterable "
            "(landscape.Batches(...)), not a one-shot iterator"
        )
    grid = Grid(loss, params, directions, data, **options)
    job = job_of(loss, params, data, directions, grid.metrics, block)
    saved = start_surface_file(path, alphas, betas, n_blocks, tuple(grid.metrics), grid.dtype, job, params, describe)
    values = {"cost": saved["cost"].reshape(-1).copy()}
    values.update({k: v.reshape(-1).copy() for k, v in saved["metrics"].items()})
    tick, seconds_compile = time.perf_counter(), grid.seconds_compile
    for b in np.flatnonzero(~saved["done"]):
        rows = np.arange(b * block, min((b + 1) * block, n_points))
        points = np.zeros((block, coefficients.shape[1]))  # every block the same shape: one compiled program
        points[: len(rows)] = coefficients[rows]
        got = {k: np.asarray(v)[: len(rows)] for k, v in grid.run(points).items()}
        for k, v in got.items():
            values[k][rows] = v
        if jax.process_index() == 0:
            write_block(path, int(b), rows, got)
    seconds = time.perf_counter() - tick - (grid.seconds_compile - seconds_compile)
    return grid.landscape(coefficients, values, seconds)


def evaluate(
    loss: LossFn,
    origin: Params | None,
    basis: Sequence[Params],
    data: Any,
    coefficients: ArrayLike,
    **options,
) -> Landscape:
    """Cost and metrics at ``origin + Σₖ coefficients[p, k]·basis[k]`` for every point p.

    Args:
      loss: ``loss(params, batch) -> scalar``; a ``SpanLoss`` brings its own fast path.
      origin: the parameters θ₀, or None (then every point is Σₖ cₖ θₖ, as on a Bézier path).
      basis: K pytrees shaped like the parameters (directions, or a path's control points).
      data: one batch, or an iterable of batches (see the contract).
      coefficients: (P, K) coefficients of the P points.
      metrics: ``{name: metric(params, batch) -> scalar}``, averaged over the data like the cost
        (e.g. ``{"accuracy": loss.accuracy}`` for ``jaxdigits.network.VideoLoss``).
      method: ``"auto"`` (the loss's own ``SpanLoss`` path when it supports the parameters and
        metrics, else generic), ``"span"`` (require it) or ``"generic"`` (the reference).
      chunk_size: points vmapped together per device; default: enough to keep the largest
        intermediate array of a chunk near 2¹⁷ numbers on a CPU (cache-sized: one point at a time
        for a network over 10,000 images, which measured 2× faster than chunks of 6) and 2²⁵ on a
        GPU or TPU, where each loop iteration costs kernel launches.
      batch_size: examples per step of the scan over the data; default: the whole batch when one
        point's largest intermediate array stays under 2²⁷ numbers (512 MiB of float32), else the
        batch is cut to fit.
      devices: devices to spread points over (default: this process's devices).

    Returns:
      A ``Landscape`` with ``cost`` and ``metrics`` of shape (P,) (``alphas`` = coefficients).
    """
    coefficients = np.asarray(coefficients, np.float64)
    if coefficients.ndim != 2 or coefficients.shape[1] != len(basis) or not np.all(np.isfinite(coefficients)):
        raise InvalidArgument(
            f"coefficients must be a finite (points, {len(basis)}) array, got shape {coefficients.shape}"
        )
    grid = Grid(loss, origin, basis, data, **options)
    return grid.landscape(coefficients, grid.timed_run(coefficients))


class Grid:
    """A planned grid: checks done, devices and chunk sizes chosen; ``run`` evaluates a block of points.

    ``surface`` and ``evaluate`` run all points as one block; a resumable surface runs one block
    per write. With several processes (``jax.distributed``), every block is split between them
    and the results gathered on every process.
    """

    def __init__(
        self,
        loss: LossFn,
        origin: Params | None,
        basis: Sequence[Params],
        data: Any,
        *,
        metrics: Mapping[str, Callable] | None = None,
        method: str = "auto",
        chunk_size: int | None = None,
        batch_size: int | None = None,
        devices: Sequence[jax.Device] | None = None,
        groups: bool = False,
    ):
        _checks.name(method, METHODS, "method")
        metrics = dict(metrics or {})
        if "cost" in metrics or any(not callable(f) for f in metrics.values()):
            raise InvalidArgument("metrics must map names other than 'cost' to functions metric(params, batch)")
        for what, value in (("chunk_size", chunk_size), ("batch_size", batch_size)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1):
                raise InvalidArgument(f"{what} must be a positive integer, got {value!r}")
        template = basis[0] if origin is None else origin
        if groups:
            template = jax.tree.map(lambda x: x[0], template)
        if len(basis) < 1:
            raise InvalidArgument("a grid needs at least one direction")
        span = method != "generic" and isinstance(loss, SpanLoss) and loss.span_supports(template, metrics)
        if method == "span" and not span:
            raise InvalidArgument(f"method='span' needs a loss with its own fast path for these parameters: {loss!r}")
        self.loss, self.metrics, self.span, self.groups = loss, metrics, bool(span), groups
        self.chunk_size, self.batch_size, self.data = chunk_size, batch_size, data
        self.devices = list(jax.local_devices() if devices is None else devices)
        self.mesh = make_mesh("points", self.devices) if len(self.devices) > 1 else None
        self.template = template
        dtype = jnp.result_type(*jax.tree.leaves(template))
        self.dtype = dtype
        self.origin = origin
        self.basis = jax.tree.map(
            lambda *ds: jnp.stack([jnp.asarray(d, dtype) for d in ds], axis=1 if groups else 0), *basis
        )
        self.seconds_compile = self.seconds = 0.0
        self._compiled = {}

    @property
    def method(self) -> str:
        return "span" if self.span else "generic"

    def _static(self, batch, n_local):
        """The program's static arguments for one batch of data, chunk sizes chosen here."""
        n = batch_size_of(batch, "data")
        chunk, steps = self.chunk_size, self.batch_size
        if chunk is None or steps is None:
            numbers = _largest_intermediate(self, batch)
            if steps is None:
                parts = math.ceil(numbers / 2**27)
                steps = None if parts <= 1 else math.ceil(n / parts)
                numbers = math.ceil(numbers / max(parts, 1))
            if chunk is None:
                budget = 2**17 if self.devices[0].platform == "cpu" else 2**25
                chunk = max(1, min(n_local, budget // max(1, numbers)))
        names = tuple(self.metrics) if self.span else tuple(self.metrics.items())
        return dict(
            loss=self.loss,
            metrics=names,
            span=self.span,
            chunk_size=int(chunk),
            batch_size=None if steps is None or steps >= n else int(steps),
            mesh=self.mesh,
            groups=self.groups,
        )

    def run(self, coefficients: np.ndarray) -> dict[str, np.ndarray]:
        """``{"cost": (P,), name: (P,)}`` (``(G, P)`` with groups) for the points ``coefficients`` (P, K)."""
        n_points = coefficients.shape[0]
        processes, me = jax.process_count(), jax.process_index()
        share = -(-n_points // processes)
        local = coefficients[me * share : (me + 1) * share]
        per_device = -(-max(share, 1) // len(self.devices))
        padded = np.zeros((per_device * len(self.devices), coefficients.shape[1]), self.dtype)
        padded[: len(local)] = local
        values = self._over_data(padded, per_device)
        if processes > 1:
            from jax.experimental import multihost_utils  # only with jax.distributed

            values = {k: np.asarray(multihost_utils.process_allgather(v[..., :share])) for k, v in values.items()}
            values = {k: np.moveaxis(v, 0, -2).reshape(*v.shape[1:-1], -1) for k, v in values.items()}
        return {k: v[..., :n_points] for k, v in values.items()}

    def _over_data(self, grid, per_device):
        if is_batch(self.data):
            batch, _ = next(check_data(self.data))
            return self._call(batch, grid, per_device)
        total, examples = None, 0
        for batch, n in check_data(self.data):
            values = self._call(batch, grid, per_device)
            total = {k: (0 if total is None else total[k]) + n * v.astype(np.float64) for k, v in values.items()}
            examples += n
        return {k: (v / examples).astype(self.dtype) for k, v in total.items()}

    def _call(self, batch, grid, per_device):
        args = (self.origin, self.basis, batch, grid)
        if self.mesh is not None:
            replicated = NamedSharding(self.mesh, P())
            args = (*jax.device_put(args[:3], replicated), jax.device_put(grid, NamedSharding(self.mesh, P("points"))))
        shapes = jax.tree.map(lambda x: (np.shape(x), jnp.result_type(x)), args)
        key = str(shapes)
        if key not in self._compiled:
            tick = time.perf_counter()
            if not self._compiled:
                check_loss(self.loss, self.template, batch, self.metrics)
            static = self._static(batch, per_device)
            self._compiled[key] = grid_program.lower(*args, **static).compile()
            self.seconds_compile += time.perf_counter() - tick
        values = jax.device_get(self._compiled[key](*args))
        return {k: np.asarray(v) for k, v in values.items() if k == "cost" or k in self.metrics}

    def landscape(self, coefficients: np.ndarray, values: dict, seconds: float | None = None) -> Landscape:
        cost = np.asarray(values["cost"]).copy()
        bad = ~np.isfinite(cost)
        cost[bad] = np.nan
        metrics = {k: np.asarray(values[k]) for k in self.metrics}
        return Landscape(
            coefficients,
            None,
            cost,
            metrics,
            self.seconds if seconds is None else seconds,
            self.seconds_compile,
            int(bad.sum()),
            self.method,
        )

    def timed_run(self, coefficients: np.ndarray) -> dict[str, np.ndarray]:
        tick = time.perf_counter()
        compile_before = self.seconds_compile
        values = self.run(coefficients)
        self.seconds = time.perf_counter() - tick - (self.seconds_compile - compile_before)
        return values


def _largest_intermediate(grid: Grid, batch) -> int:
    """Numbers in the largest array one point computes on ``batch`` (read from its jaxpr, nothing runs)."""
    shape = lambda x: jax.ShapeDtypeStruct(np.shape(x), jnp.result_type(x))
    batch_s = jax.tree.map(shape, batch)
    basis_s = jax.tree.map(lambda x: shape(x[0] if grid.groups else x), grid.basis)
    origin_s = None if grid.origin is None else jax.tree.map(lambda x: shape(x[0] if grid.groups else x), grid.origin)
    k = jax.tree.leaves(grid.basis)[0].shape[1 if grid.groups else 0]
    c = jax.ShapeDtypeStruct((k,), grid.dtype)
    if grid.span:
        shared = jax.eval_shape(grid.loss.span, batch_s, basis_s, origin_s)
        jaxpr = jax.make_jaxpr(lambda c, s: grid.loss.span_values(c, s, tuple(grid.metrics)))(c, shared)
    else:
        jaxpr = jax.make_jaxpr(lambda p, b: grid.loss(p, b))(grid.template, batch_s)
    return max([1, *_sizes(jaxpr.jaxpr)])


def _sizes(jaxpr) -> Iterator[int]:
    for eqn in jaxpr.eqns:
        for var in eqn.outvars:
            yield int(np.prod(getattr(var.aval, "shape", ()), dtype=np.int64))
        for value in eqn.params.values():
            for sub in value if isinstance(value, (list, tuple)) else (value,):
                inner = getattr(sub, "jaxpr", sub)
                if hasattr(inner, "eqns"):
                    yield from _sizes(inner)


@functools.partial(jax.jit, static_argnames=("loss", "metrics", "span", "chunk_size", "batch_size", "mesh", "groups"))
def grid_program(
    origin: Params | None,
    basis: Params,
    data: Any,
    coefficients: Array,
    *,
    loss: LossFn,
    metrics: tuple,
    span: bool,
    chunk_size: int,
    batch_size: int | None,
    mesh: jax.sharding.Mesh | None,
    groups: bool,
) -> dict[str, Array]:
    """The compiled grid: ``{"cost": (P,), …}`` at ``origin + Σₖ coefficients[p, k]·basis[k]`` for every p.

    ``basis`` holds the K parameter sets on a leading axis of every leaf (with ``groups``, a
    leading group axis before it, and ``origin`` one per group: the result is (G, P)).
    ``metrics`` is a tuple of ``(name, function)`` pairs (generic) or of names (``span``: the
    loss's ``span_values`` computes them). The data are scanned in steps of ``batch_size``
    examples (None: all at once), weighted by their sizes. Exposed for tests that inspect the
    compiled program.
    """

    def at_points(origin, basis, batch, coefficients):
        if span:
            shared = loss.span(batch, basis, origin)
            one = lambda c: loss.span_values(c, shared, metrics)
        else:

            def one(c):
                moved = jax.tree.map(lambda b: tensordot(c, b, axes=1), basis)
                theta = moved if origin is None else jax.tree.map(jnp.add, origin, moved)
                return {"cost": loss(theta, batch), **{name: fn(theta, batch) for name, fn in metrics}}

        return jax.lax.map(one, coefficients, batch_size=chunk_size)

    def over_data(origin, basis, data, coefficients):
        n = jax.tree.leaves(data)[0].shape[0]
        if batch_size is None:
            return at_points(origin, basis, data, coefficients)
        full, rest = divmod(n, batch_size)
        head = jax.tree.map(lambda x: x[: full * batch_size].reshape(full, batch_size, *x.shape[1:]), data)

        def step(total, batch):
            values = at_points(origin, basis, batch, coefficients)
            return jax.tree.map(lambda t, v: t + batch_size * v, total, values), None

        first = jax.tree.map(lambda x: x[0], head)
        like = jax.eval_shape(at_points, origin, basis, first, coefficients)
        # zeros derived from the points, so that under shard_map they vary over the mesh like the values
        zeros = jax.tree.map(lambda s: jnp.zeros_like(coefficients[:, 0], s.dtype), like)
        total, _ = jax.lax.scan(step, zeros, head)
        if rest:
            tail = at_points(origin, basis, jax.tree.map(lambda x: x[full * batch_size :], data), coefficients)
            total = jax.tree.map(lambda t, v: t + rest * v, total, tail)
        return jax.tree.map(lambda t: t / n, total)

    def local(coefficients, origin, basis, data):
        if groups:
            return jax.lax.map(lambda ob: over_data(ob[0], ob[1], data, coefficients), (origin, basis))
        return over_data(origin, basis, data, coefficients)

    if mesh is not None:
        out = P(None, "points") if groups else P("points")
        local = jax.shard_map(local, mesh=mesh, in_specs=(P("points"), P(), P(), P()), out_specs=out)
    return local(coefficients, origin, basis, data)

"""Paths between two minima of any model: the straight line, a trained Bézier curve, and the barrier on each.

A path φ(t), t ∈ [0, 1], runs from parameters A (φ(0) = θ_A) to parameters B (φ(1) = θ_B).
Here every path is a Bézier curve in Bernstein form over control points θ₀ … θ_K₋₁:

    φ(t) = Σₖ cₖ(t) θₖ,   cₖ(t) = C(K−1, k) tᵏ (1 − t)^(K−1−k),   Σₖ cₖ(t) = 1.

Two control points give the straight line (1 − t)θ_A + tθ_B; three give the quadratic
curve (1 − t)²θ_A + 2t(1 − t)θ_M + t²θ_B of Garipov et al. (2018), whose middle point θ_M
is trained (``train_curve``, with any optax optimiser) to minimise the expected cost
E_{t∼U[0,1]} C(φ(t)), one t per mini-batch, starting from the line's midpoint (θ_A + θ_B)/2.
Nothing about the model is rewritten: the curve is a pytree map over the control points,
and the model's own ``loss`` is evaluated at φ(t) (dnn-mode-connectivity instead needs
every layer replaced by a curve layer).

The barrier of a path is how far the cost rises above the straight interpolation of its
two ends:

    barrier = max over t of  C(φ(t)) − ((1 − t)·C(θ_A) + t·C(θ_B)),

zero when the path never rises above its ends' cost (the two minima are *linearly* or
*curve* connected), evaluated at the given values of t (0 and 1 included). For accuracy,
where higher is better, the barrier is the largest drop below the interpolation,
max over t of ((1 − t)·acc(θ_A) + t·acc(θ_B)) − acc(φ(t)).

Evaluating a path is a grid whose points are the Bernstein weights (``evaluate`` with no
origin), so a ``SpanLoss`` (the video network's) takes its fast path there too, and many
pairs of networks (stacked on a leading axis, ``pairs=True``) are one compiled program.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdigits.errors import InvalidArgument
from jaxdigits.landscape._contract import batch_size_of, check_data, check_loss, is_batch
from jaxdigits.landscape._grids import Grid
from jaxdigits.landscape._trees import check_like
from jaxdigits.typing import ArrayLike, LossFn, Params, PRNGKey

__all__ = [
    "CurveResult",
    "PathMetrics",
    "barrier",
    "bernstein",
    "bezier",
    "check_ts",
    "path_metrics",
    "train_curve",
]


def bernstein(ts: ArrayLike, n_points: int) -> np.ndarray:
    """(T, n_points) weights cₖ(t) of a Bézier curve with ``n_points`` control points."""
    ts = np.asarray(ts, np.float64)
    if isinstance(n_points, bool) or not isinstance(n_points, (int, np.integer)) or n_points < 2:
        raise InvalidArgument(f"a path needs at least 2 control points (2: the straight line), got {n_points!r}")
    n = n_points - 1
    k = np.arange(n_points)
    binomial = np.array([math.comb(n, i) for i in k], np.float64)
    return binomial * ts[..., None] ** k * (1.0 - ts[..., None]) ** (n - k)


def bezier(points: Sequence[Params], t: ArrayLike) -> Params:
    """φ(t) of the Bézier curve through control points ``points`` (three or more parameter sets).

    ``bezier([a, m, b], t)`` is (1 − t)²·a + 2t(1 − t)·m + t²·b; works for a traced ``t``.
    """
    if len(points) < 3:
        raise InvalidArgument(
            f"a Bézier curve needs at least 3 control points (start, middle, end), got {len(points)}; "
            "for two parameter sets use the straight line (1 - t)·a + t·b"
        )
    n = len(points) - 1
    weights = [math.comb(n, k) * t**k * (1 - t) ** (n - k) for k in range(n + 1)]
    return jax.tree.map(lambda *leaves: sum(w * leaf for w, leaf in zip(weights, leaves)), *points)


def check_ts(ts: ArrayLike) -> np.ndarray:
    """The values of t along a path: finite, increasing, from exactly 0 to exactly 1, at least 3."""
    ts = np.asarray(ts, np.float64)
    if ts.ndim != 1 or ts.size < 3:
        raise InvalidArgument(
            f"a barrier needs t at 3 or more points (0, something between, 1), got shape {ts.shape}; "
            "e.g. numpy.linspace(0, 1, 21)"
        )
    if not np.all(np.isfinite(ts)) or ts[0] != 0 or ts[-1] != 1 or np.any(np.diff(ts) <= 0):
        raise InvalidArgument(f"t must increase strictly from exactly 0 to exactly 1, got {ts}")
    return ts


class PathMetrics(NamedTuple):
    """Cost and metrics along paths: arrays of shape (P, T) for P pairs, or (T,) for one path."""

    ts: np.ndarray
    cost: np.ndarray
    metrics: dict
    seconds: float
    method: str

    @property
    def accuracy(self) -> np.ndarray | None:
        """``metrics["accuracy"]``, or None when no accuracy was asked for."""
        return self.metrics.get("accuracy")


def path_metrics(
    loss: LossFn,
    points: Sequence[Params],
    data: Any,
    ts: ArrayLike,
    *,
    pairs: bool = False,
    **options,
) -> PathMetrics:
    """Cost (and metrics) at φ(t) for every t in ``ts``, over ``data``.

    Args:
      loss, data: the model and its data (see the ``jaxdigits.landscape`` contract).
      points: the control points θ₀ … θ_K₋₁, K ≥ 2 parameter sets of one structure: ``[a, b]``
        for the straight line, ``[a, m, b]`` for the quadratic curve.
      ts: (T,) values of t, 0 and 1 included (see ``check_ts``).
      pairs: every leaf of every control point has a leading axis of P pairs; P paths are
        evaluated in one program.
      options: as in ``evaluate`` (``metrics``, ``method``, ``chunk_size``, ``batch_size``, ``devices``).

    Returns:
      A ``PathMetrics`` with ``cost`` and ``metrics`` of shape (P, T) (or (T,) without ``pairs``).
    """
    ts = check_ts(ts)
    if len(points) < 2:
        raise InvalidArgument(f"a path needs at least 2 parameter sets (its two ends), got {len(points)}")
    for i, other in enumerate(points[1:], 1):
        check_like(other, points[0], f"points[{i}]")
    grid = Grid(loss, None, points, data, groups=pairs, **options)
    coefficients = bernstein(ts, len(points))
    values = grid.timed_run(coefficients)
    cost = np.where(np.isfinite(values["cost"]), values["cost"], np.nan)
    return PathMetrics(ts, cost, {k: values[k] for k in grid.metrics}, grid.seconds, grid.method)


def barrier(values: ArrayLike, ts: ArrayLike, *, higher_is_better: bool = False) -> np.ndarray:
    """max over t of the rise of ``values`` above the straight interpolation of its two ends.

    Args:
      values: (..., T) cost (or accuracy) at each t of ``ts``.
      ts: (T,) values of t from 0 to 1 (see ``check_ts``).
      higher_is_better: True for accuracy: the largest drop below the interpolation.

    Returns:
      (...) barrier heights, ≥ 0 (0 at the ends by construction).
    """
    ts = check_ts(ts)
    values = np.asarray(values, np.float64)
    if values.shape[-1:] != ts.shape:
        raise InvalidArgument(f"values must end in an axis of {ts.size} (one per t), got shape {values.shape}")
    ends = (1 - ts) * values[..., :1] + ts * values[..., -1:]
    rise = (ends - values) if higher_is_better else (values - ends)
    return np.max(rise, axis=-1)


class CurveResult(NamedTuple):
    """Outcome of ``train_curve``: the trained middle point(s), the mean mini-batch cost at
    random t per epoch ((epochs,) or (epochs, P)), and timings."""

    middle: Params
    batch_costs: np.ndarray
    seconds_compile: float
    seconds_per_epoch: list


def train_curve(
    loss: LossFn,
    start: Params,
    end: Params,
    data: Any,
    *,
    key: PRNGKey,
    optimizer: optax.GradientTransformation,
    epochs: int = 1,
    batch_size: int = 128,
    pairs: bool = False,
) -> CurveResult:
    """Train the middle point θ_M of the quadratic Bézier curve from ``start`` to ``end``.

    Every step draws t ∼ U[0, 1] and moves θ_M downhill on ``loss(bezier([start, θ_M, end], t), batch)``
    with ``optimizer`` (Garipov et al. 2018). θ_M starts at (start + end)/2.

    Args:
      loss: ``loss(params, batch) -> scalar``.
      start, end: the two ends, pytrees of one structure (with ``pairs``, P pairs stacked on a
        leading axis of every leaf; each pair gets its own t and optimiser state).
      data: one batch of all the training data (shuffled and cut into mini-batches of
        ``batch_size`` every epoch, the last incomplete one left out, a whole epoch one
        compiled ``lax.scan``) or an iterable of mini-batches (one compiled step per batch).
      key: PRNG key for the mini-batch order and the values of t.
      optimizer: any optax optimiser, e.g. ``optax.sgd(0.1, momentum=0.9)``.
      epochs: passes over the data.
      batch_size: examples per step when ``data`` is one batch.

    Returns:
      A ``CurveResult``; ``bezier([start, middle, end], t)`` is the curve.
    """
    check_like(end, start, "end")
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise InvalidArgument(f"epochs must be a positive integer, got {epochs!r}")
    single = jax.tree.map(lambda x: x[0], start) if pairs else start
    middle = jax.tree.map(lambda a, b: (jnp.asarray(a) + jnp.asarray(b)) / 2, start, end)
    opt_state = (jax.vmap(optimizer.init) if pairs else optimizer.init)(middle)
    n_pairs = jax.tree.leaves(start)[0].shape[0] if pairs else None
    epoch = _epoch(loss, optimizer, batch_size, pairs)
    step = _step(loss, optimizer, pairs)
    costs, seconds, seconds_compile = [], [], 0.0
    if is_batch(data):
        n = batch_size_of(data, "data")
        if not 1 <= batch_size <= n:
            raise InvalidArgument(f"batch_size must be between 1 and the {n} examples, got {batch_size!r}")
        check_loss(loss, single, jax.tree.map(lambda x: x[:batch_size], data))
        tick = time.perf_counter()
        epoch = epoch.lower(middle, opt_state, key, start, end, data).compile()
        seconds_compile = time.perf_counter() - tick
    for i in range(epochs):
        tick = time.perf_counter()
        if is_batch(data):
            middle, opt_state, key, mean_cost = epoch(middle, opt_state, key, start, end, data)
        else:
            total, steps = 0.0, 0
            for j, (batch, _) in enumerate(check_data(data)):
                if i == 0 and j == 0:
                    check_loss(loss, single, batch)
                key, t_key = jax.random.split(key)
                t = jax.random.uniform(t_key, () if n_pairs is None else (n_pairs,))
                middle, opt_state, value = step(middle, opt_state, start, end, t, batch)
                total, steps = total + value, steps + 1
            mean_cost = total / steps
        costs.append(np.asarray(jax.device_get(mean_cost)))  # one transfer per epoch
        seconds.append(time.perf_counter() - tick)
    return CurveResult(middle, np.stack(costs), seconds_compile, seconds)


def _pair_step(loss, optimizer):
    def pair_step(middle, opt_state, start, end, t, batch):
        value, grads = jax.value_and_grad(lambda m: loss(bezier([start, m, end], t), batch))(middle)
        updates, opt_state = optimizer.update(grads, opt_state, middle)
        return optax.apply_updates(middle, updates), opt_state, value

    return pair_step


@functools.lru_cache(maxsize=16)
def _step(loss: LossFn, optimizer: optax.GradientTransformation, pairs: bool) -> Callable:
    """One jitted step on one mini-batch (every pair vmapped, the batch shared)."""
    step = _pair_step(loss, optimizer)
    if pairs:
        step = jax.vmap(step, in_axes=(0, 0, 0, 0, 0, None))
    return jax.jit(step, donate_argnums=(0, 1))


def _epoch(loss: LossFn, optimizer: optax.GradientTransformation, batch_size: int, pairs: bool) -> Callable:
    """``epoch(middle, opt_state, key, start, end, data)``: shuffle, then one step per mini-batch, one scan."""
    step = _pair_step(loss, optimizer)
    if pairs:
        step = jax.vmap(step, in_axes=(0, 0, 0, 0, 0, None))

    def epoch(middle, opt_state, key, start, end, data):
        n = jax.tree.leaves(data)[0].shape[0]
        steps = n // batch_size
        key, shuffle_key, t_key = jax.random.split(key, 3)
        order = jax.random.permutation(shuffle_key, n)[: steps * batch_size].reshape(steps, batch_size)
        n_pairs = jax.tree.leaves(start)[0].shape[0] if pairs else None
        ts = jax.random.uniform(t_key, (steps,) if n_pairs is None else (steps, n_pairs))

        def one(carry, inputs):
            idx, t = inputs
            batch = jax.tree.map(lambda x: x[idx], data)
            m, s, value = step(*carry, start, end, t, batch)
            return (m, s), value

        (middle, opt_state), values = jax.lax.scan(one, (middle, opt_state), (order, ts))
        return middle, opt_state, key, jnp.mean(values, axis=0)

    return jax.jit(epoch, donate_argnums=(0, 1))

"""Paths between two minima: the straight line, a trained Bézier curve, and the barrier on each.

A path φ(t), t ∈ [0, 1], runs from network A (φ(0) = θ_A) to network B (φ(1) = θ_B). Here
every path is a Bézier curve in Bernstein form over control points θ₀ … θ_K₋₁:

    φ(t) = Σₖ cₖ(t) θₖ,   cₖ(t) = C(K−1, k) tᵏ (1 − t)^(K−1−k),   Σₖ cₖ(t) = 1.

Two control points give the straight line (1 − t)θ_A + tθ_B; three give the quadratic
curve (1 − t)²θ_A + 2t(1 − t)θ_M + t²θ_B of Garipov et al. (2018), whose middle point θ_M
is trained (``train_curve``) to minimise the expected cost E_{t∼U[0,1]} C(φ(t)), one t per
mini-batch, starting from the line's midpoint (θ_A + θ_B)/2.

The barrier of a path is how far the cost rises above the straight interpolation of its
two ends:

    barrier = max over t of  C(φ(t)) − ((1 − t)·C(θ_A) + t·C(θ_B)),

zero when the path never rises above its ends' cost (the two minima are *linearly* or
*curve* connected), evaluated at the given values of t (0 and 1 included). For accuracy,
where higher is better, the barrier is the largest drop below the interpolation,
max over t of ((1 − t)·acc(θ_A) + t·acc(θ_B)) − acc(φ(t)).

Evaluating a path uses the network's structure: the first layer's weighted sums
X·W + b are linear in the parameters, so at φ(t) they are Σₖ cₖ(t)·(X·Wₖ + bₖ) — the K
products with the 784-pixel images are computed once per path, not once per t
(``jaxdigits.network.first_layer_span``, as for the points of a plane). Many pairs and
many t are one jitted program.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdigits import _checks
from jaxdigits.data import pixels_as_float, resident_pixels
from jaxdigits.errors import InvalidArgument
from jaxdigits.network import batch_cost, check_pair, cost_function, first_layer_span, span_metrics
from jaxdigits.training import TrainConfig, check_data, epoch_batches, optimizer_for
from jaxdigits.typing import ArrayLike, Network, Params, PRNGKey

__all__ = [
    "CurveResult",
    "PathMetrics",
    "barrier",
    "bernstein",
    "bezier",
    "check_ts",
    "make_curve_epoch",
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
    """φ(t) of the Bézier curve through control points ``points`` (three or more networks).

    ``bezier([a, m, b], t)`` is (1 − t)²·a + 2t(1 − t)·m + t²·b; works for a traced ``t``.
    """
    if len(points) < 3:
        raise InvalidArgument(
            f"a Bézier curve needs at least 3 control points (start, middle, end), got {len(points)}; "
            "for two networks use the straight line (1 - t)·a + t·b"
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
    """Cost and accuracy along paths: arrays of shape (P, T), or (T,) for one path."""

    ts: np.ndarray
    cost: np.ndarray
    accuracy: np.ndarray


def path_metrics(
    points: Sequence[Network],
    ts: ArrayLike,
    images: ArrayLike,
    labels: ArrayLike,
    *,
    cost: str = "mse",
    activation: str = "sigmoid",
    batch_size: int = 1,
) -> PathMetrics:
    """Cost and accuracy at φ(t) for every t in ``ts``, on ``images``.

    Args:
      points: the control points θ₀ … θ_K₋₁, K ≥ 2 networks of one architecture with at
        least one hidden layer: ``[a, b]`` for the straight line, ``[a, m, b]`` for the
        quadratic curve. Each may carry a leading pair axis P (then P paths are evaluated).
      ts: (T,) values of t, 0 and 1 included (see ``check_ts``).
      images, labels: (N, pixels) floats and (N,) integer digits.
      cost, activation: as in ``jaxdigits.network.cost_function``.
      batch_size: values of t evaluated together (vmapped); 1 keeps memory at one point.

    Returns:
      A ``PathMetrics`` with ``cost`` and ``accuracy`` of shape (P, T) (or (T,) unstacked).
    """
    ts = check_ts(ts)
    if len(points) < 2:
        raise InvalidArgument(f"a path needs at least 2 networks (its two ends), got {len(points)}")
    for other in points[1:]:
        check_pair(points[0], other)
    single = jnp.ndim(points[0][0]["w"]) == 2
    if single:
        points = [jax.tree.map(lambda x: x[None], p) for p in points]
    first = jax.tree.map(lambda x: x[0], points[0])
    if len(first) < 2:
        raise InvalidArgument("path_metrics needs a network with at least one hidden layer")
    _checks.params_and_images(first, images)
    _checks.labels(labels, images, jnp.shape(first[-1]["b"])[0])
    control = jax.tree.map(lambda *leaves: jnp.stack(leaves, axis=1), *points)  # leaves (P, K, ...)
    weights = jnp.asarray(bernstein(ts, len(points)), jnp.result_type(first[0]["w"]))
    costs, accuracies = jax.device_get(
        _path_program(
            control,
            weights,
            jnp.asarray(images),
            jnp.asarray(labels, jnp.int32),
            cost=cost,
            activation=activation,
            batch_size=int(batch_size),
        )
    )
    if single:
        costs, accuracies = costs[0], accuracies[0]
    return PathMetrics(ts, costs, accuracies)


@functools.partial(jax.jit, static_argnames=("cost", "activation", "batch_size"))
def _path_program(control, weights, images, labels, *, cost, activation, batch_size):
    def one_path(ctrl):  # every leaf (K, ...): the control points
        span = first_layer_span(images, labels, ctrl)  # the K products with the images, once

        def at(c):
            return span_metrics(c, span, cost=cost, activation=activation)

        return jax.lax.map(at, weights, batch_size=batch_size)

    return jax.lax.map(one_path, control)


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
    """Outcome of ``train_curve``: the trained middle points (leading pair axis P), the mean
    mini-batch cost at random t per epoch ((epochs, P)), and timings."""

    middle: Network
    batch_costs: np.ndarray
    seconds_compile: float
    seconds_per_epoch: list


def make_curve_epoch(config: TrainConfig, optimizer: optax.GradientTransformation) -> Callable:
    """Build ``epoch(middle, opt_state, key, starts, ends, images, labels)``, jitted.

    One epoch: shuffle, then for every mini-batch draw one t per pair and step each pair's
    θ_M downhill on C(φ(t)) of the mini-batch, all pairs vmapped, inside one ``lax.scan``.
    """
    cost = cost_function(config.cost)

    def pair_step(middle, opt_state, start, end, t, x, y):
        loss = lambda m: batch_cost(cost, bezier([start, m, end], t), x, y, config.activation)
        value, grads = jax.value_and_grad(loss)(middle)
        updates, opt_state = optimizer.update(grads, opt_state, middle)
        return optax.apply_updates(middle, updates), opt_state, value

    def epoch(middle, opt_state, key, starts, ends, images, labels):
        key, shuffle_key, t_key = jax.random.split(key, 3)
        batches = epoch_batches(shuffle_key, images.shape[0], config.batch_size)
        ts = jax.random.uniform(t_key, (batches.shape[0], jnp.shape(starts[0]["w"])[0]))

        def step(carry, inputs):
            idx, t = inputs
            x, y = pixels_as_float(images[idx]), labels[idx]
            m, s, values = jax.vmap(pair_step, in_axes=(0, 0, 0, 0, 0, None, None))(*carry, starts, ends, t, x, y)
            return (m, s), values

        (middle, opt_state), values = jax.lax.scan(step, (middle, opt_state), (batches, ts))
        return middle, opt_state, key, jnp.mean(values, axis=0)

    return jax.jit(epoch, donate_argnums=(0, 1))


def train_curve(
    config: TrainConfig, starts: Network, ends: Network, train_data: tuple[ArrayLike, ArrayLike], *, key: PRNGKey
) -> CurveResult:
    """Train the middle points θ_M of quadratic Bézier curves from ``starts`` to ``ends``.

    Args:
      config: a ``TrainConfig``: cost, activation, optimiser, learning rate, mini-batch size
        and number of epochs of the curve training (its seed and init are not used).
      starts, ends: P pairs of networks stacked along a leading axis (or one network each).
      train_data: ``(images, labels)`` as for ``train``.
      key: a ``jax.random`` key for the mini-batch order and the values of t.

    Returns:
      A ``CurveResult``; ``bezier([start, middle, end], t)`` is the curve of each pair.
    """
    check_pair(starts, ends)
    images, labels = train_data
    check_data(images, labels, jnp.shape(starts[0]["w"])[-2], jnp.shape(starts[-1]["b"])[-1], "train")
    single = jnp.ndim(starts[0]["w"]) == 2
    if single:
        starts, ends = jax.tree.map(lambda x: x[None], (starts, ends))
    optimizer = optimizer_for(config, len(labels))
    middle = jax.tree.map(lambda a, b: (jnp.asarray(a) + jnp.asarray(b)) / 2, starts, ends)
    opt_state = jax.vmap(optimizer.init)(middle)
    data = jax.device_put((resident_pixels(images), jnp.asarray(labels, jnp.int32)))
    args = (jax.tree.map(jnp.asarray, starts), jax.tree.map(jnp.asarray, ends), *data)
    tick = time.perf_counter()
    epoch = make_curve_epoch(config, optimizer).lower(middle, opt_state, key, *args).compile()
    seconds_compile = time.perf_counter() - tick
    costs, seconds = [], []
    for _ in range(config.epochs):
        tick = time.perf_counter()
        middle, opt_state, key, mean_cost = epoch(middle, opt_state, key, *args)
        costs.append(jax.device_get(mean_cost))  # one transfer per epoch
        seconds.append(time.perf_counter() - tick)
    if single:
        middle = jax.tree.map(lambda x: x[0], middle)
    return CurveResult(middle, np.asarray(costs), seconds_compile, seconds)

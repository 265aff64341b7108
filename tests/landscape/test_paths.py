"""Paths between parameter sets: Bézier curves, costs along them against direct evaluation, barriers."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxdigits as jd
from jaxdigits import landscape, network


def make_net(seed, sizes=(64, 8, 6, 10), init="scaled"):
    return jd.init_params(jax.random.key(seed), sizes, init)


def stack(*networks):
    return jax.tree.map(lambda *x: jnp.stack(x), *networks)


def test_bezier_ends_at_its_two_networks_and_weights_sum_to_one():
    a, m, b = make_net(0), make_net(1), make_net(2)
    for t, want in ((0.0, a), (1.0, b)):
        for x, y in zip(jax.tree.leaves(landscape.bezier([a, m, b], t)), jax.tree.leaves(want)):
            np.testing.assert_array_equal(x, y)
    mid = landscape.bezier([a, m, b], 0.5)  # ¼a + ½m + ¼b
    np.testing.assert_allclose(mid[0]["w"], 0.25 * a[0]["w"] + 0.5 * m[0]["w"] + 0.25 * b[0]["w"], rtol=1e-6)
    weights = landscape.bernstein(np.linspace(0, 1, 7), 4)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="at least 3 control points"):
        landscape.bezier([a, b], 0.5)


@pytest.mark.parametrize(("activation", "cost"), [("sigmoid", "mse"), ("relu", "cross_entropy")])
def test_costs_along_lines_and_curves_match_a_direct_evaluation(digits, activation, cost):
    x, y = digits.test_images[:300], digits.test_labels[:300]
    a, m, b = make_net(3), make_net(4), make_net(5)
    ts = np.linspace(0, 1, 6)
    loss = network.VideoLoss(cost, activation)
    metrics = {"accuracy": loss.accuracy}
    cost_of = jd.mse_cost if cost == "mse" else jd.cross_entropy_cost
    line = landscape.path_metrics(loss, [a, b], (x, y), ts, metrics=metrics)
    curve = landscape.path_metrics(
        loss, [stack(a, b), stack(m, m), stack(b, a)], (x, y), ts, pairs=True, metrics=metrics
    )
    generic = landscape.path_metrics(loss, [a, m, b], (x, y), ts, method="generic")
    assert line.cost.shape == (6,) and curve.cost.shape == (2, 6) and line.method == curve.method == "span"
    np.testing.assert_allclose(generic.cost, curve.cost[0], rtol=1e-5)
    for i, t in enumerate(ts):
        on_line = jax.tree.map(lambda p, q, t=t: (1 - t) * p + t * q, a, b)
        np.testing.assert_allclose(line.cost[i], cost_of(on_line, x, y, activation), rtol=2e-5)
        np.testing.assert_allclose(line.accuracy[i], jd.accuracy(on_line, x, y, activation))
        for p, (start, end) in enumerate(((a, b), (b, a))):
            on_curve = landscape.bezier([start, m, end], t)
            np.testing.assert_allclose(curve.cost[p, i], cost_of(on_curve, x, y, activation), rtol=2e-5)
    direct = line.cost - ((1 - ts) * line.cost[0] + ts * line.cost[-1])
    assert landscape.barrier(line.cost, ts) == pytest.approx(max(direct.max(), 0.0))


def test_barrier_by_hand_and_its_checks():
    ts = np.array([0.0, 0.25, 0.5, 1.0])
    assert landscape.barrier([1.0, 2.0, 3.0, 2.0], ts) == pytest.approx(3.0 - 1.5)
    assert landscape.barrier([0.9, 0.5, 0.6, 0.7], ts, higher_is_better=True) == pytest.approx(0.85 - 0.5)
    assert landscape.barrier([3.0, 2.0, 1.0, 0.0], ts) == 0.0  # below the chord everywhere
    with pytest.raises(ValueError, match="3 or more points"):
        landscape.barrier([1.0, 2.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="from exactly 0 to exactly 1"):
        landscape.barrier([1.0, 2.0, 3.0], [0.0, 0.5, 0.9])
    with pytest.raises(ValueError, match="one per t"):
        landscape.barrier([1.0, 2.0], ts)
    with pytest.raises(ValueError, match="same structure|has shape"):
        landscape.path_metrics(
            network.VideoLoss(), [make_net(0), make_net(1, (64, 9, 6, 10))], (np.zeros((2, 64)), np.zeros(2, int)), ts
        )


@pytest.mark.slow
def test_trained_curve_lowers_the_cost_between_a_network_and_its_permuted_copy(digits):
    # Two points of one minimum's orbit (same function, same cost) with a ridge between them.
    a = make_net(6, init="normal")
    b = network.transform(
        a, network.Symmetry((jnp.arange(8)[::-1], jnp.roll(jnp.arange(6), 3)), (jnp.ones(8), jnp.ones(6)))
    )
    data = (digits.train_images, digits.train_labels)
    loss = network.VideoLoss()
    curve = landscape.train_curve(
        loss, a, b, data, key=jax.random.key(0), optimizer=optax.sgd(1.5), epochs=3, batch_size=10
    )
    ts = np.linspace(0, 1, 9)
    line = landscape.path_metrics(loss, [a, b], data, ts)
    bent = landscape.path_metrics(loss, [a, curve.middle, b], data, ts)
    np.testing.assert_allclose(bent.cost[[0, -1]], line.cost[[0, -1]], rtol=1e-6)  # same two ends
    assert curve.batch_costs.shape == (3,) and np.all(np.isfinite(curve.batch_costs))
    assert landscape.barrier(line.cost, ts) > 0.2
    assert landscape.barrier(bent.cost, ts) < 0.5 * landscape.barrier(line.cost, ts)
    assert bent.cost.mean() < line.cost.mean()
    # The same training from an iterable of mini-batches, and for stacked pairs, runs too.
    batches = landscape.Batches([(data[0][i : i + 10], data[1][i : i + 10]) for i in range(0, 200, 10)])
    again = landscape.train_curve(loss, a, b, batches, key=jax.random.key(0), optimizer=optax.sgd(1.5))
    pairs = landscape.train_curve(
        loss,
        stack(a, a),
        stack(b, b),
        data,
        key=jax.random.key(0),
        optimizer=optax.adam(1e-2),
        batch_size=100,
        pairs=True,
    )
    assert again.batch_costs.shape == (1,) and pairs.batch_costs.shape == (1, 2)
    assert jax.tree.leaves(pairs.middle)[0].shape[0] == 2

"""Directions in parameter space: normalisation, planes, PCA of a trajectory, the gradient."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxdigits as jd
from jaxdigits import landscape


def test_filter_normalisation_gives_each_neuron_its_own_norm(net):
    for bias in ("zero", "filter"):
        d = landscape.random_direction(net, key=jax.random.key(5), bias=bias)
        for layer, p in zip(d, net):
            if bias == "zero":
                np.testing.assert_allclose(
                    np.linalg.norm(layer["w"], axis=0), np.linalg.norm(p["w"], axis=0), rtol=1e-5
                )
                assert not np.any(layer["b"])
            else:  # a neuron's bias is normalised once, together with its incoming weights
                d_size = np.sqrt(np.sum(np.asarray(layer["w"]) ** 2, axis=0) + np.asarray(layer["b"]) ** 2)
                p_size = np.sqrt(np.sum(np.asarray(p["w"]) ** 2, axis=0) + np.asarray(p["b"]) ** 2)
                np.testing.assert_allclose(d_size, p_size, rtol=1e-5)
                assert np.all(layer["b"] != 0)
    layer_norm = landscape.random_direction(net, key=jax.random.key(5), norm="layer")
    for layer, p in zip(layer_norm, net):
        assert float(jnp.linalg.norm(layer["w"])) == pytest.approx(float(jnp.linalg.norm(p["w"])), rel=1e-5)
        assert np.linalg.norm(layer["w"], axis=0).std() > 0  # unlike "filter", columns differ
    raw = landscape.random_direction(net, key=jax.random.key(5), norm="none", bias="filter")
    w = np.asarray(raw[0]["w"])  # Gaussian N(0, 1), not uniform in [0, 1)
    assert abs(w.mean()) < 0.05 and abs(w.std() - 1) < 0.05 and (w < 0).mean() > 0.45
    same = landscape.random_direction(net, key=jax.random.key(5))
    other = landscape.random_direction(net, key=jax.random.key(6))
    assert np.array_equal(same[0]["w"], landscape.random_direction(net, key=jax.random.key(5))[0]["w"])
    assert not np.array_equal(same[0]["w"], other[0]["w"])


def test_plane_through_three_parameter_sets(net):
    a, b, c = (
        net,
        *(landscape.shift(net, [landscape.random_direction(net, key=jax.random.key(k))], jnp.ones(1)) for k in (1, 2)),
    )
    d1, d2, coords = landscape.plane_through(a, b, c)
    assert float(landscape.norm(d1)) == pytest.approx(1, rel=1e-5)
    assert float(landscape.norm(d2)) == pytest.approx(1, rel=1e-5)
    assert abs(float(optax.tree.vdot(d1, d2))) < 1e-5
    for point, (alpha, beta) in zip((a, b, c), coords):
        rebuilt = landscape.shift(a, [d1, d2], jnp.array([alpha, beta]))
        for got, want in zip(jax.tree.leaves(rebuilt), jax.tree.leaves(point)):
            np.testing.assert_allclose(got, want, atol=1e-4)
    np.testing.assert_array_equal(coords[0], [0, 0])
    with pytest.raises(ValueError, match="one line"):
        landscape.plane_through(a, b, landscape.shift(a, [landscape.direction_between(a, b)], jnp.array([2.0])))
    with pytest.raises(ValueError, match="same parameters"):
        landscape.plane_through(a, a, b)


def test_pca_of_a_synthetic_trajectory_recovers_its_plane_and_variance(net):
    flat, unflatten = landscape.flatten(net)
    rng = np.random.default_rng(0)
    u, v = np.linalg.qr(rng.normal(size=(flat.size, 2)))[0].T
    t = np.linspace(0, 1, 12)
    a, b = 10 * (1 - t) ** 2, 2 * np.sin(3 * t)  # a curved path, mostly along u
    path = [unflatten(flat + ai * u + bi * v + 1e-4 * rng.normal(size=flat.size)) for ai, bi in zip(a, b)]
    pca = landscape.pca_directions(path)
    # Independent reference: u, v are orthonormal, so the path's variances are those of (a, b).
    variances = np.linalg.eigvalsh(np.cov(np.stack([a, b]), bias=True))
    np.testing.assert_allclose(pca.explained_variance_ratio, variances[::-1] / variances.sum(), rtol=1e-3)
    assert pca.explained_variance_ratio[0] > 0.8
    assert abs(landscape.flatten(pca.d1)[0] @ u) > 0.99 and abs(landscape.flatten(pca.d2)[0] @ v) > 0.95
    np.testing.assert_allclose(pca.coords[-1], 0, atol=1e-6)
    np.testing.assert_allclose(np.abs(pca.coords[:, 0] - pca.coords[-1, 0]).max(), 10, rtol=0.05)
    with pytest.raises(ValueError, match="at least 3"):
        landscape.pca_directions(path[:2])


def test_gradient_direction_points_downhill(net, digits):
    x, y = digits.train_images, digits.train_labels
    d = landscape.gradient_direction(net, x, y)
    assert float(landscape.norm(d)) == pytest.approx(1, rel=1e-5)
    costs = landscape.line(net, d, x, y, [-0.05, 0.0, 0.05]).cost
    assert costs[0] > costs[1] > costs[2]
    grads = jax.jit(jax.grad(jd.mse_cost))(net, x, y)
    assert float(optax.tree.vdot(d, grads)) == pytest.approx(-float(landscape.norm(grads)), rel=1e-4)

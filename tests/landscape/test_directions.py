"""Directions in parameter space: normalisation, planes, PCA of a trajectory, the gradient."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxdigits as jd
from jaxdigits import landscape


def test_filter_normalisation_gives_each_neuron_its_own_norm(net):
    for include_1d in (False, True):
        d = landscape.random_direction(net, key=jax.random.key(5), include_1d=include_1d)
        for layer, p in zip(d, net):  # "w" is (inputs, outputs): a neuron's filter is a column
            np.testing.assert_allclose(np.linalg.norm(layer["w"], axis=0), np.linalg.norm(p["w"], axis=0), rtol=1e-5)
            if include_1d:  # a bias vector moves as one piece, scaled to its own norm
                assert float(jnp.linalg.norm(layer["b"])) == pytest.approx(float(jnp.linalg.norm(p["b"])), rel=1e-5)
            else:
                assert not np.any(layer["b"])
    layer_norm = landscape.random_direction(net, key=jax.random.key(5), norm="layer")
    for layer, p in zip(layer_norm, net):
        assert float(jnp.linalg.norm(layer["w"])) == pytest.approx(float(jnp.linalg.norm(p["w"])), rel=1e-5)
        assert np.linalg.norm(layer["w"], axis=0).std() > 0  # unlike "filter", columns differ
    raw = landscape.random_direction(net, key=jax.random.key(5), norm="none", include_1d=True)
    w = np.asarray(raw[0]["w"])  # Gaussian N(0, 1), not uniform in [0, 1)
    assert abs(w.mean()) < 0.05 and abs(w.std() - 1) < 0.05 and (w < 0).mean() > 0.45
    same = landscape.random_direction(net, key=jax.random.key(5))
    other = landscape.random_direction(net, key=jax.random.key(6))
    assert np.array_equal(same[0]["w"], landscape.random_direction(net, key=jax.random.key(5))[0]["w"])
    assert not np.array_equal(same[0]["w"], other[0]["w"])


def size(x, axes):
    return np.sqrt(np.sum(np.asarray(x, np.float64) ** 2, axis=axes))


def test_filter_axis_is_read_from_the_leaf_name_and_can_be_overridden():
    rng = np.random.default_rng(0)
    params = {
        "flax": {"kernel": jnp.asarray(rng.normal(size=(3, 3, 2, 4)), jnp.float32)},  # HWIO: filters last
        "equinox": {"weight": jnp.asarray(rng.normal(size=(4, 2, 3, 3)), jnp.float32)},  # OIHW: filters first
        "scale": jnp.ones(4),
    }
    assert landscape.filter_axes(params) == {"flax": {"kernel": 3}, "equinox": {"weight": 0}, "scale": 0}
    d = landscape.random_direction(params, key=jax.random.key(1))
    for name, axis in (("flax", 3), ("equinox", 0)):
        (leaf,) = d[name].values()
        (p,) = params[name].values()
        over = tuple(i for i in range(4) if i != axis)
        np.testing.assert_allclose(size(leaf, over), size(p, over), rtol=1e-5)
    assert not np.any(d["scale"])
    # Override: filters of the Flax kernel on axis 2, a pytree of ints like the parameters.
    axes = {"flax": {"kernel": 2}, "equinox": {"weight": 0}, "scale": 0}
    d = landscape.random_direction(params, key=jax.random.key(1), filter_axis=axes)
    np.testing.assert_allclose(
        size(d["flax"]["kernel"], (0, 1, 3)), size(params["flax"]["kernel"], (0, 1, 3)), rtol=1e-5
    )
    with pytest.raises(ValueError, match="filter_axis"):
        landscape.random_direction(params, key=jax.random.key(1), filter_axis={"flax": 2})
    with pytest.raises(ValueError, match=r"filter_axis\['flax'\]\['kernel'\] is 7"):
        landscape.random_direction(params, key=jax.random.key(1), filter_axis={**axes, "flax": {"kernel": 7}})


def test_a_mask_chooses_which_leaves_move(net):
    only_first = [{"w": i == 0, "b": i == 0} for i in range(len(net))]
    d = landscape.random_direction(net, key=jax.random.key(2), mask=only_first, include_1d=True)
    assert np.all(d[0]["w"] != 0) and np.all(d[0]["b"] != 0)
    assert not any(np.any(layer[k]) for layer in d[1:] for k in ("w", "b"))
    by_function = landscape.random_direction(net, key=jax.random.key(2), mask=lambda p: [{"w": True, "b": False}] * 3)
    assert all(np.any(layer["w"]) and not np.any(layer["b"]) for layer in by_function)
    with pytest.raises(ValueError, match="mask"):
        landscape.random_direction(net, key=jax.random.key(2), mask=[True])


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
    loss = jd.network.VideoLoss()
    d = landscape.gradient_direction(loss, net, (x, y))
    in_batches = landscape.gradient_direction(
        loss, net, landscape.Batches([(x[:1000], y[:1000]), (x[1000:], y[1000:])])
    )
    for a, b in zip(jax.tree.leaves(d), jax.tree.leaves(in_batches)):
        np.testing.assert_allclose(a, b, atol=1e-6)
    assert float(landscape.norm(d)) == pytest.approx(1, rel=1e-5)
    costs = landscape.line(loss, net, (x, y), d, [-0.05, 0.0, 0.05]).cost
    assert costs[0] > costs[1] > costs[2]
    grads = jax.jit(jax.grad(jd.mse_cost))(net, x, y)
    assert float(optax.tree.vdot(d, grads)) == pytest.approx(-float(landscape.norm(grads)), rel=1e-4)

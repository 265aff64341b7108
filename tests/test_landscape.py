"""Directions and cost landscapes, checked against direct evaluation of the network."""

import logging

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxdigits as jd
from experiments import loss_landscape
from jaxdigits import directions as dirs
from jaxdigits import landscape
from jaxdigits import landscape_plots as lplots

SMALL = (64, 16, 16, 10)  # the video's network on 8x8 digits


def numpy_net(sizes, seed=3):
    """N(0, 1) weights and biases like init_params, drawn by numpy: no RNG program to compile."""
    rng = np.random.default_rng(seed)
    return [
        {"w": jnp.asarray(rng.normal(size=(m, n)), jnp.float32), "b": jnp.asarray(rng.normal(size=n), jnp.float32)}
        for m, n in zip(sizes[:-1], sizes[1:])
    ]


@pytest.fixture(scope="module")
def net():
    return numpy_net(SMALL)


mse_cost = jax.jit(jd.mse_cost)  # op by op, every jnp call would compile its own program


def two_directions(params, bias="zero"):
    return [dirs.random_direction(params, key=jax.random.key(k), bias=bias) for k in (11, 12)]


def test_axis_holds_zero_exactly():
    odd = landscape.axis(0.7, 51)
    assert odd[25] == 0.0 and odd[0] == -0.7 and odd[-1] == 0.7 and len(odd) == 51
    for points in (landscape.axis(1.0, 4), landscape.axis((-0.3, 1.7), 10), landscape.axis((-1e-3, 2.0), 2)):
        assert np.count_nonzero(points == 0.0) == 1
    assert not np.any(landscape.axis((0.5, 2.0), 6) == 0.0)  # 0 outside the span is not forced in


def test_centre_of_the_surface_is_the_cost_at_the_parameters(net, digits):
    x, y = digits.test_images, digits.test_labels
    axis = landscape.axis(1.0, 5)
    result = landscape.surface(net, two_directions(net, "filter"), x, y, axis, landscape.axis(2.0, 7))
    assert result.cost.shape == result.accuracy.shape == (5, 7)
    np.testing.assert_allclose(result.cost[2, 3], mse_cost(net, x, y), rtol=1e-6)
    assert result.accuracy[2, 3] == pytest.approx(float(jax.jit(jd.accuracy)(net, x, y)), abs=1e-7)
    assert np.ptp(result.cost) > 0.1  # the rest of the grid really moved


def test_cost_only_surface_has_the_same_costs(net, digits):
    x, y = digits.test_images, digits.test_labels
    ds, axis = two_directions(net), landscape.axis(1.0, 3)
    both = landscape.surface(net, ds, x, y, axis, axis)
    for method in ("linear", "direct"):
        cost_only = landscape.surface(net, ds, x, y, axis, axis, method=method, with_accuracy=False)
        assert cost_only.accuracy is None
        np.testing.assert_allclose(cost_only.cost, both.cost, rtol=2e-6)


def test_linear_first_layer_equals_direct_evaluation(net, digits):
    x, y = digits.train_images[:300], digits.train_labels[:300]
    with jax.enable_x64(True):
        params = jax.tree.map(lambda a: jnp.asarray(a, jnp.float64), net)
        ds = [jax.tree.map(lambda a: jnp.asarray(a, jnp.float64), d) for d in two_directions(net, "filter")]
        x64 = jnp.asarray(x, jnp.float64)
        alphas, betas = landscape.axis(1.5, 5), landscape.axis((-0.5, 2.0), 4)
        fast = landscape.surface(params, ds, x64, y, alphas, betas, method="linear")
        direct = landscape.surface(params, ds, x64, y, alphas, betas, method="direct")
        np.testing.assert_allclose(fast.cost, direct.cost, rtol=1e-12)
        np.testing.assert_array_equal(fast.accuracy, direct.accuracy)
        # ... and both equal the library's cost on explicitly shifted parameters.
        for i, j in ((0, 0), (1, 3), (4, 2)):
            moved = dirs.shift(params, ds, jnp.array([alphas[i], betas[j]]))
            assert fast.cost[i, j] == pytest.approx(float(mse_cost(moved, x64, y)), rel=1e-12)
    ce = dict(cost="cross_entropy", activation="tanh")
    d = two_directions(net)[0]
    a = landscape.line(net, d, x, y, alphas, **ce)
    b = landscape.line(net, d, x, y, alphas, method="direct", **ce)
    np.testing.assert_allclose(a.cost, b.cost, rtol=2e-5)
    np.testing.assert_array_equal(a.accuracy, b.accuracy)
    moved = dirs.shift(net, [d], jnp.array([alphas[0]]))
    assert a.cost[0] == pytest.approx(
        float(jax.jit(jd.cross_entropy_cost, static_argnums=3)(moved, x, y, "tanh")), rel=2e-5
    )


def test_grid_sharded_over_four_devices_equals_one_device(net, digits):
    assert len(jax.devices()) == 4
    x, y = digits.test_images, digits.test_labels
    axis = landscape.axis(1.0, 7)  # 35 points: not a multiple of 4, so padding is exercised
    ds = two_directions(net)
    many = landscape.surface(net, ds, x, y, axis, axis[:5], batch_size=3)
    one = landscape.surface(net, ds, x, y, axis, axis[:5], devices=jax.devices()[:1])
    np.testing.assert_allclose(many.cost, one.cost, rtol=1e-6)
    np.testing.assert_array_equal(many.accuracy, one.accuracy)


def test_second_grid_of_the_same_shape_does_not_recompile(net, digits, caplog):
    x, y = digits.test_images, digits.test_labels
    ds = two_directions(net)
    landscape.surface(net, ds, x, y, landscape.axis(1.0, 3), landscape.axis(1.0, 3))
    with jax.log_compiles(True), caplog.at_level(logging.WARNING):
        again = landscape.surface(net, ds[::-1], x, y, landscape.axis(0.5, 3), landscape.axis(2.0, 3))
    assert not [r for r in caplog.records if "Compiling" in r.getMessage()]
    assert again.seconds_compile < 0.5


def test_filter_normalisation_gives_each_neuron_its_own_norm(net):
    for bias in ("zero", "filter"):
        d = dirs.random_direction(net, key=jax.random.key(5), bias=bias)
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
    layer_norm = dirs.random_direction(net, key=jax.random.key(5), norm="layer")
    for layer, p in zip(layer_norm, net):
        assert float(jnp.linalg.norm(layer["w"])) == pytest.approx(float(jnp.linalg.norm(p["w"])), rel=1e-5)
        assert np.linalg.norm(layer["w"], axis=0).std() > 0  # unlike "filter", columns differ
    raw = dirs.random_direction(net, key=jax.random.key(5), norm="none", bias="filter")
    w = np.asarray(raw[0]["w"])  # Gaussian N(0, 1), not uniform in [0, 1)
    assert abs(w.mean()) < 0.05 and abs(w.std() - 1) < 0.05 and (w < 0).mean() > 0.45
    same = dirs.random_direction(net, key=jax.random.key(5))
    other = dirs.random_direction(net, key=jax.random.key(6))
    assert np.array_equal(same[0]["w"], dirs.random_direction(net, key=jax.random.key(5))[0]["w"])
    assert not np.array_equal(same[0]["w"], other[0]["w"])


def test_plane_through_three_parameter_sets(net):
    a, b, c = net, *(dirs.shift(net, [dirs.random_direction(net, key=jax.random.key(k))], jnp.ones(1)) for k in (1, 2))
    d1, d2, coords = dirs.plane_through(a, b, c)
    assert float(dirs.norm(d1)) == pytest.approx(1, rel=1e-5) and float(dirs.norm(d2)) == pytest.approx(1, rel=1e-5)
    assert abs(float(dirs.dot(d1, d2))) < 1e-5
    for point, (alpha, beta) in zip((a, b, c), coords):
        rebuilt = dirs.shift(a, [d1, d2], jnp.array([alpha, beta]))
        for got, want in zip(jax.tree.leaves(rebuilt), jax.tree.leaves(point)):
            np.testing.assert_allclose(got, want, atol=1e-4)
    np.testing.assert_array_equal(coords[0], [0, 0])
    with pytest.raises(ValueError, match="one line"):
        dirs.plane_through(a, b, dirs.shift(a, [dirs.direction_between(a, b)], jnp.array([2.0])))
    with pytest.raises(ValueError, match="same parameters"):
        dirs.plane_through(a, a, b)


def test_pca_of_a_synthetic_trajectory_recovers_its_plane_and_variance(net):
    flat, unflatten = dirs.flatten(net)
    rng = np.random.default_rng(0)
    u, v = np.linalg.qr(rng.normal(size=(flat.size, 2)))[0].T
    t = np.linspace(0, 1, 12)
    a, b = 10 * (1 - t) ** 2, 2 * np.sin(3 * t)  # a curved path, mostly along u
    path = [unflatten(flat + ai * u + bi * v + 1e-4 * rng.normal(size=flat.size)) for ai, bi in zip(a, b)]
    pca = dirs.pca_directions(path)
    # Independent reference: u, v are orthonormal, so the path's variances are those of (a, b).
    variances = np.linalg.eigvalsh(np.cov(np.stack([a, b]), bias=True))
    np.testing.assert_allclose(pca.explained_variance_ratio, variances[::-1] / variances.sum(), rtol=1e-3)
    assert pca.explained_variance_ratio[0] > 0.8
    assert abs(dirs.flatten(pca.d1)[0] @ u) > 0.99 and abs(dirs.flatten(pca.d2)[0] @ v) > 0.95
    np.testing.assert_allclose(pca.coords[-1], 0, atol=1e-6)
    np.testing.assert_allclose(np.abs(pca.coords[:, 0] - pca.coords[-1, 0]).max(), 10, rtol=0.05)
    with pytest.raises(ValueError, match="at least 3"):
        dirs.pca_directions(path[:2])


def test_gradient_direction_points_downhill(net, digits):
    x, y = digits.train_images, digits.train_labels
    d = dirs.gradient_direction(net, x, y)
    assert float(dirs.norm(d)) == pytest.approx(1, rel=1e-5)
    costs = landscape.line(net, d, x, y, [-0.05, 0.0, 0.05]).cost
    assert costs[0] > costs[1] > costs[2]
    grads = jax.jit(jax.grad(jd.mse_cost))(net, x, y)
    assert float(dirs.dot(d, grads)) == pytest.approx(-float(dirs.norm(grads)), rel=1e-4)


def test_bad_input_gets_clear_errors(net, digits, tmp_path):
    x, y = digits.test_images, digits.test_labels
    d = dirs.random_direction(net, key=jax.random.key(0))
    with pytest.raises(ValueError, match="same structure"):
        landscape.line(net, d[:2], x, y, [0.0, 1.0])
    with pytest.raises(ValueError, match=r"\[1\]\['w'\] has shape"):
        landscape.line(net, [d[0], {"w": d[1]["w"][:8], "b": d[1]["b"]}, d[2]], x, y, [0.0, 1.0])
    with pytest.raises(ValueError, match="exactly 2 directions"):
        landscape.surface(net, [d, d, d], x, y, [0.0, 1.0], [0.0, 1.0])
    for span in (0.0, -1.0, np.inf, np.nan, (1.0, 1.0)):
        with pytest.raises(ValueError, match="span"):
            landscape.axis(span, 5)
    for points in (1, 0, 2.5, True):
        with pytest.raises(ValueError, match="at least 2 points"):
            landscape.axis(1.0, points)
    with pytest.raises(ValueError, match="finite"):
        landscape.line(net, d, x, y, [0.0, np.nan])
    with pytest.raises(ValueError, match="norm"):
        dirs.random_direction(net, key=jax.random.key(0), norm="uniform")
    jd.save_params(tmp_path / "small.npz", net)
    with pytest.raises(ValueError, match="64-16-16-10 network, expected 784-16-16-10"):
        jd.load_params(tmp_path / "small.npz", sizes=(784, 16, 16, 10))


def test_overflowing_points_are_masked_in_plots_not_a_crash(net, digits, tmp_path):
    x, y = digits.test_images, digits.test_labels
    far = landscape.axis(1e38, 5)  # float32 overflows at 3.4e38
    result = landscape.surface(net, two_directions(net), x, y, far, far, cost="cross_entropy")
    bad = ~np.isfinite(result.cost)
    assert bad.any() and np.isfinite(result.cost[2, 2])
    assert lplots.masked(result.cost).count() == (~bad).sum()
    for name, draw in (("c.png", lplots.plot_contour), ("s.png", lplots.plot_surface_3d)):
        draw(tmp_path / name, result, log=True)
        assert (tmp_path / name).stat().st_size > 1000
    lplots.plot_slices(tmp_path / "l.png", far, {"test": result.cost[:, 2]}, {"test": result.accuracy[:, 2]}, log=True)
    assert (tmp_path / "l.png").exists()


def test_experiment_smoke_run_writes_figures_and_metrics(tmp_path, capsys):

    out = tmp_path / "run"
    metrics = loss_landscape.main(["--dataset", "digits", "--fast", "--out", str(out)])
    figures = {p.name for p in out.glob("*.png")}
    assert {
        "surface_contour.png",
        "surface_filled.png",
        "surface_3d.png",
        "line_init_to_trained.png",
        "trajectory_pca.png",
        "plane_three_minima.png",
        "slice_curvature.png",
    } <= figures
    with np.load(out / "landscape.npz") as f:
        assert f["cost"].shape == (len(f["alphas"]), len(f["betas"])) == (9, 9)
        assert f["cost"][4, 4] == pytest.approx(metrics["cost_at_params"], rel=1e-6)
    assert metrics["seeds"] == [0, 1, 2] and len(metrics["top_eigenvalues"]) == 3
    assert metrics["top_eigenvalues"][0] >= metrics["top_eigenvalues"][1] > 0
    assert sum(metrics["pca_explained_variance_ratio"]) <= 1 + 1e-9
    assert isinstance(metrics["init_to_trained_monotonic"]["train"], bool) and metrics["seconds_surface"] > 0
    jd.save_params(tmp_path / "big.npz", numpy_net((784, 16, 16, 10)))
    with pytest.raises(ValueError, match="784-16-16-10 network, expected 64-16-16-10"):
        loss_landscape.main(
            ["--dataset", "digits", "--fast", "--params", str(tmp_path / "big.npz"), "--out", str(tmp_path / "x")]
        )
    with pytest.raises(SystemExit):
        loss_landscape.parse_args(["--cpu-devices", "0"])
    assert "--cpu-devices must be at least 1, got 0" in capsys.readouterr().err

"""Cost landscapes, checked against direct evaluation of the network."""

import logging

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxdigits as jd
from experiments import loss_landscape
from jaxdigits import landscape
from tests.conftest import numpy_net, two_directions

mse_cost = jax.jit(jd.mse_cost)  # op by op, every jnp call would compile its own program


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
            moved = landscape.shift(params, ds, jnp.array([alphas[i], betas[j]]))
            assert fast.cost[i, j] == pytest.approx(float(mse_cost(moved, x64, y)), rel=1e-12)
    ce = dict(cost="cross_entropy", activation="tanh")
    d = two_directions(net)[0]
    a = landscape.line(net, d, x, y, alphas, **ce)
    b = landscape.line(net, d, x, y, alphas, method="direct", **ce)
    np.testing.assert_allclose(a.cost, b.cost, rtol=2e-5)
    np.testing.assert_array_equal(a.accuracy, b.accuracy)
    moved = landscape.shift(net, [d], jnp.array([alphas[0]]))
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


def test_bad_input_gets_clear_errors(net, digits, tmp_path):
    x, y = digits.test_images, digits.test_labels
    d = landscape.random_direction(net, key=jax.random.key(0))
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
        landscape.random_direction(net, key=jax.random.key(0), norm="uniform")
    jd.save_params(tmp_path / "small.npz", net)
    with pytest.raises(ValueError, match="64-16-16-10 network, expected 784-16-16-10"):
        jd.load_params(tmp_path / "small.npz", sizes=(784, 16, 16, 10))


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

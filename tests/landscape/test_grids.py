"""Cost landscapes: the video network's fast path against the generic path, against direct evaluation."""

import logging

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxdigits as jd
from experiments import loss_landscape
from jaxdigits import landscape
from jaxdigits.network import VideoLoss
from tests.conftest import numpy_net, two_directions

mse_cost = jax.jit(jd.mse_cost)  # op by op, every jnp call would compile its own program
LOSS = VideoLoss()
ACCURACY = {"accuracy": LOSS.accuracy}


def test_axis_holds_zero_exactly():
    odd = landscape.axis(0.7, 51)
    assert odd[25] == 0.0 and odd[0] == -0.7 and odd[-1] == 0.7 and len(odd) == 51
    for points in (landscape.axis(1.0, 4), landscape.axis((-0.3, 1.7), 10), landscape.axis((-1e-3, 2.0), 2)):
        assert np.count_nonzero(points == 0.0) == 1
    assert not np.any(landscape.axis((0.5, 2.0), 6) == 0.0)  # 0 outside the span is not forced in


def test_centre_of_the_surface_is_the_cost_at_the_parameters(net, digits):
    x, y = digits.test_images, digits.test_labels
    axis = landscape.axis(1.0, 5)
    result = landscape.surface(LOSS, net, (x, y), two_directions(net), axis, landscape.axis(2.0, 7), metrics=ACCURACY)
    assert result.method == "span"  # the video network's fast path, chosen without asking
    assert result.cost.shape == result.accuracy.shape == (5, 7) and result.nonfinite == 0
    np.testing.assert_allclose(result.cost[2, 3], mse_cost(net, x, y), rtol=1e-6)
    assert result.accuracy[2, 3] == pytest.approx(float(jax.jit(jd.accuracy)(net, x, y)), abs=1e-7)
    assert np.ptp(result.cost) > 0.1  # the rest of the grid really moved


def test_cost_only_surface_has_the_same_costs(net, digits):
    data = (digits.test_images, digits.test_labels)
    ds, axis = two_directions(net), landscape.axis(1.0, 3)
    both = landscape.surface(LOSS, net, data, ds, axis, axis, metrics=ACCURACY)
    for method in ("span", "generic"):
        cost_only = landscape.surface(LOSS, net, data, ds, axis, axis, method=method)
        assert cost_only.accuracy is None and cost_only.metrics == {} and cost_only.method == method
        np.testing.assert_allclose(cost_only.cost, both.cost, rtol=2e-6)


def test_fast_path_equals_generic_path_and_direct_evaluation(net, digits):
    x, y = digits.train_images[:300], digits.train_labels[:300]
    with jax.enable_x64(True):
        params = jax.tree.map(lambda a: jnp.asarray(a, jnp.float64), net)
        ds = [jax.tree.map(lambda a: jnp.asarray(a, jnp.float64), d) for d in two_directions(net, True)]
        data = (jnp.asarray(x, jnp.float64), y)
        alphas, betas = landscape.axis(1.5, 5), landscape.axis((-0.5, 2.0), 4)
        fast = landscape.surface(LOSS, params, data, ds, alphas, betas, metrics=ACCURACY)
        generic = landscape.surface(LOSS, params, data, ds, alphas, betas, metrics=ACCURACY, method="generic")
        assert (fast.method, generic.method) == ("span", "generic")
        np.testing.assert_allclose(fast.cost, generic.cost, rtol=1e-12)
        np.testing.assert_array_equal(fast.accuracy, generic.accuracy)
        # ... and both equal the library's cost on explicitly shifted parameters.
        for i, j in ((0, 0), (1, 3), (4, 2)):
            moved = landscape.shift(params, ds, jnp.array([alphas[i], betas[j]]))
            assert fast.cost[i, j] == pytest.approx(float(mse_cost(moved, data[0], y)), rel=1e-12)
    ce = VideoLoss("cross_entropy", "tanh")
    d = two_directions(net)[0]
    a = landscape.line(ce, net, (x, y), d, alphas, metrics={"accuracy": ce.accuracy})
    b = landscape.line(ce, net, (x, y), d, alphas, metrics={"accuracy": ce.accuracy}, method="generic")
    np.testing.assert_allclose(a.cost, b.cost, rtol=1e-5)  # float32: the fast path to 1e-5
    np.testing.assert_array_equal(a.accuracy, b.accuracy)
    moved = landscape.shift(net, [d], jnp.array([alphas[0]]))
    assert a.cost[0] == pytest.approx(
        float(jax.jit(jd.cross_entropy_cost, static_argnums=3)(moved, x, y, "tanh")), rel=2e-5
    )


def test_batches_scanned_or_iterated_give_the_example_weighted_mean(net, digits):
    x, y = digits.test_images, digits.test_labels  # 360 images: batches of 100 leave a short last one
    ds, axis = two_directions(net), landscape.axis(1.0, 3)
    whole = landscape.surface(LOSS, net, (x, y), ds, axis, axis, method="generic")
    scanned = landscape.surface(LOSS, net, (x, y), ds, axis, axis, method="generic", batch_size=100)
    pieces = landscape.Batches([(x[i : i + 100], y[i : i + 100]) for i in range(0, len(y), 100)])
    iterated = landscape.surface(LOSS, net, pieces, ds, axis, axis)
    generator = landscape.surface(
        LOSS, net, ((x[i : i + 77], y[i : i + 77]) for i in range(0, len(y), 77)), ds, axis, axis
    )
    for other in (scanned, iterated, generator):
        np.testing.assert_allclose(other.cost, whole.cost, rtol=2e-6)
    assert len(y) % 100 and len(y) % 77


def test_grid_sharded_over_four_devices_equals_one_device(net, digits):
    assert len(jax.devices()) == 4
    data = (digits.test_images, digits.test_labels)
    axis = landscape.axis(1.0, 7)  # 35 points: not a multiple of 4, so padding is exercised
    ds = two_directions(net)
    many = landscape.surface(LOSS, net, data, ds, axis, axis[:5], chunk_size=3, metrics=ACCURACY)
    one = landscape.surface(LOSS, net, data, ds, axis, axis[:5], devices=jax.devices()[:1], metrics=ACCURACY)
    np.testing.assert_allclose(many.cost, one.cost, rtol=1e-6)
    np.testing.assert_array_equal(many.accuracy, one.accuracy)


def test_second_grid_of_the_same_shape_does_not_recompile(net, digits, caplog):
    data = (digits.test_images, digits.test_labels)
    ds = two_directions(net)
    landscape.surface(LOSS, net, data, ds, landscape.axis(1.0, 3), landscape.axis(1.0, 3))
    with jax.log_compiles(True), caplog.at_level(logging.WARNING):
        again = landscape.surface(LOSS, net, data, ds[::-1], landscape.axis(0.5, 3), landscape.axis(2.0, 3))
    assert not [r for r in caplog.records if "Compiling" in r.getMessage()]
    assert again.seconds_compile < 0.5


def test_bad_input_gets_clear_errors(net, digits, tmp_path):
    data = (digits.test_images, digits.test_labels)
    d = landscape.random_direction(net, key=jax.random.key(0))
    with pytest.raises(ValueError, match="same structure"):
        landscape.line(LOSS, net, data, d[:2], [0.0, 1.0])
    with pytest.raises(ValueError, match=r"\[1\]\['w'\] has shape"):
        landscape.line(LOSS, net, data, [d[0], {"w": d[1]["w"][:8], "b": d[1]["b"]}, d[2]], [0.0, 1.0])
    with pytest.raises(ValueError, match="exactly 2 directions"):
        landscape.surface(LOSS, net, data, [d, d, d], [0.0, 1.0], [0.0, 1.0])
    for span in (0.0, -1.0, np.inf, np.nan, (1.0, 1.0)):
        with pytest.raises(ValueError, match="span"):
            landscape.axis(span, 5)
    for points in (1, 0, 2.5, True):
        with pytest.raises(ValueError, match="at least 2 points"):
            landscape.axis(1.0, points)
    with pytest.raises(ValueError, match="finite"):
        landscape.line(LOSS, net, data, d, [0.0, np.nan])
    with pytest.raises(ValueError, match="norm"):
        landscape.random_direction(net, key=jax.random.key(0), norm="uniform")
    with pytest.raises(ValueError, match="method"):
        landscape.line(LOSS, net, data, d, [0.0], method="linear")
    with pytest.raises(ValueError, match="fast path"):
        landscape.line(lambda p, b: LOSS(p, b), net, data, d, [0.0], method="span")
    with pytest.raises(ValueError, match="chunk_size"):
        landscape.line(LOSS, net, data, d, [0.0], chunk_size=0)
    jd.save_params(tmp_path / "small.npz", net)
    with pytest.raises(ValueError, match="64-16-16-10 network, expected 784-16-16-10"):
        jd.load_params(tmp_path / "small.npz", sizes=(784, 16, 16, 10))


def test_nan_and_infinite_points_are_recorded_as_nan_and_counted(net, digits):
    def loss(params, batch):  # a cost that blows up for large offsets along the first weight
        value = LOSS(params, batch)
        return jnp.where(params[0]["w"][0, 0] > net[0]["w"][0, 0] + 2.0, jnp.inf, value)

    d = jax.tree.map(jnp.ones_like, net)
    result = landscape.line(loss, net, (digits.test_images, digits.test_labels), d, [-1.0, 0.0, 1.0, 3.0, 5.0])
    assert result.nonfinite == 2 and np.isnan(result.cost[3:]).all() and np.isfinite(result.cost[:3]).all()


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

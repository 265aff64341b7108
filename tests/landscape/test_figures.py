"""Landscape figures: points that overflow are masked, not a crash."""

import numpy as np

from jaxdigits import landscape
from jaxdigits.network import VideoLoss
from tests.conftest import two_directions


def test_overflowing_points_are_masked_in_plots_not_a_crash(net, digits, tmp_path):
    loss = VideoLoss("cross_entropy")
    far = landscape.axis(1e38, 5)  # float32 overflows at 3.4e38
    data = (digits.test_images, digits.test_labels)
    result = landscape.surface(loss, net, data, two_directions(net), far, far, metrics={"accuracy": loss.accuracy})
    bad = ~np.isfinite(result.cost)
    assert bad.any() and np.isfinite(result.cost[2, 2]) and result.nonfinite == bad.sum()
    assert landscape.masked(result.cost).count() == (~bad).sum()
    for name, draw in (("c.png", landscape.plot_contour), ("s.png", landscape.plot_surface_3d)):
        draw(tmp_path / name, result, log=True)
        assert (tmp_path / name).stat().st_size > 1000
    landscape.plot_slices(
        tmp_path / "l.png", far, {"test": result.cost[:, 2]}, {"test": result.accuracy[:, 2]}, log=True
    )
    assert (tmp_path / "l.png").exists()


def test_masked_hides_non_finite_values_and_for_log_also_those_at_or_below_zero():
    values = [[1.0, np.inf, 0.0], [-2.0, np.nan, 3.0]]
    plain = landscape.masked(values)
    np.testing.assert_array_equal(np.ma.getmaskarray(plain), [[False, True, False], [False, True, False]])
    assert plain.dtype == np.float64 and plain.sum() == 2.0
    log = landscape.masked(values, log=True)
    np.testing.assert_array_equal(np.ma.getmaskarray(log), [[False, True, True], [True, True, False]])
    assert log.sum() == 4.0


def test_density_figure(tmp_path):
    grid = np.linspace(-1, 5, 200)
    density = landscape.SpectralDensity(grid, np.exp(-(grid**2)), np.array([[0.0, 4.0]]), np.array([[0.9, 0.1]]), 0.1)
    landscape.plot_density(tmp_path / "d.png", {"model": density}, title="test")
    assert (tmp_path / "d.png").stat().st_size > 1000

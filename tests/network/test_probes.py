"""The probes the claim experiments measure with (``jaxdigits.probes``), against hand-made cases."""

import jax
import numpy as np
import pytest

from jaxdigits import network


def test_centre_mask_is_the_central_box():
    mask = network.centre_mask((28, 28), 4)
    assert mask.sum() == 400 and mask[4, 4] and mask[23, 23] and not mask[3, 10] and not mask[24, 10]
    with pytest.raises(ValueError, match="margin"):
        network.centre_mask((8, 8), 4)


def test_neighbour_correlation_of_noise_ramp_and_a_hand_example():
    rng = np.random.default_rng(0)
    assert abs(network.neighbour_correlation(rng.normal(size=(16, 28, 28)))) < 0.03
    ramp = np.add.outer(np.arange(28.0), np.arange(28.0))[None]
    assert network.neighbour_correlation(ramp) > 0.95
    # Pairs of [[0, 1, 0], [1, 0, 1]]: horizontal (0,1) (1,0) (1,0) (0,1), vertical (0,1) (1,0) (0,1).
    hand = np.array([[[0.0, 1, 0], [1, 0, 1]]])
    first, second = [0, 1, 1, 0, 0, 1, 0], [1, 0, 0, 1, 1, 0, 1]
    assert network.neighbour_correlation(hand) == pytest.approx(np.corrcoef(first, second)[0, 1])


def test_neighbour_correlation_separates_a_smooth_centre_from_a_noisy_border():
    rng = np.random.default_rng(1)
    images = rng.normal(size=(4, 28, 28))
    centre = network.centre_mask((28, 28), 4)
    smooth = np.sin(np.arange(20) / 4.0)[:, None] * np.cos(np.arange(20) / 5.0)[None, :]
    images[:, 4:24, 4:24] = smooth * 3
    assert network.neighbour_correlation(images, centre) > 0.9
    assert abs(network.neighbour_correlation(images, ~centre)) < 0.1


def test_weight_images_are_columns_of_w():
    w = np.arange(64 * 3, dtype=np.float32).reshape(64, 3)
    images = network.weight_images(w, (8, 8))
    assert images.shape == (3, 8, 8)
    np.testing.assert_array_equal(images[2], w[:, 2].reshape(8, 8))
    with pytest.raises(ValueError, match="shape"):
        network.weight_images(w, (7, 7))


def test_never_lit_and_best_window_share():
    images = np.zeros((3, 4), np.float32)
    images[1, 2] = 0.5
    np.testing.assert_array_equal(network.never_lit(images), [True, True, False, True])
    assert network.best_window_share(np.ones((1, 8, 8)), 2) == pytest.approx(4 / 64)
    spike = np.zeros((1, 8, 8))
    spike[0, 5, 6] = 3.0
    assert network.best_window_share(spike, 2) == pytest.approx(1.0)


def test_probe_images_and_confidence(digits):
    key = jax.random.key(0)
    like = digits.test_images
    for kind in network.PROBES:
        x = network.probe_images(kind, 50, key=key, like=like)
        assert x.shape == (50, 64) and x.min() >= 0 and x.max() <= 1, kind
    assert np.all(network.probe_images("blank", 3, key=key, like=like) == 0)
    inverted = network.probe_images("inverted", 20, key=key, like=like)
    assert all(np.any(np.all(np.isclose(1 - row, like), axis=1)) for row in inverted)
    assert abs(network.probe_images("uniform_noise", 2000, key=key, like=like).mean() - 0.5) < 0.01
    with pytest.raises(ValueError, match="unknown probe"):
        network.probe_images("stripes", 1, key=key, like=like)
    c = network.confidence(np.array([[0.1, 0.95, 0.0], [0.2, 0.3, 0.5], [0.0, 0.92, 0.1]]), 0.9)
    assert c["fraction_above"] == pytest.approx(2 / 3)
    np.testing.assert_allclose(c["called"], [0, 2 / 3, 1 / 3])
    np.testing.assert_allclose(c["top"], [0.95, 0.5, 0.92])

"""The MNIST-style preprocessing of drawings: area averaging, the 20-pixel box, the centre of mass."""

import numpy as np

from jaxdigits.data import area_weights, mnist_style


def test_area_weights_average_and_an_upsampled_image_comes_back():
    for n_in, n_out in ((7, 3), (80, 20), (13, 20)):
        np.testing.assert_allclose(area_weights(n_in, n_out).sum(axis=1), 1.0)
    rng = np.random.default_rng(0)
    small = rng.uniform(0.1, 1.0, (20, 20))
    big = np.kron(small, np.ones((4, 4)))  # each pixel a 4x4 block: averaging 4x4 blocks undoes it
    np.testing.assert_allclose(area_weights(80, 20) @ big @ area_weights(80, 20).T, small)


def test_mnist_style_fits_20_pixels_and_centres_the_mass():
    ink = np.zeros((112, 112))
    ink[10:90, 50:60] = 1.0  # a tall stroke: 80 high, 10 wide
    image = mnist_style(ink)
    rows, cols = np.flatnonzero(image.max(axis=1) > 0), np.flatnonzero(image.max(axis=0) > 0)
    assert rows[-1] - rows[0] + 1 == 20 and cols[-1] - cols[0] + 1 in (2, 3)
    mass = image.sum()
    cy = (image.sum(axis=1) @ (np.arange(28) + 0.5)) / mass
    cx = (image.sum(axis=0) @ (np.arange(28) + 0.5)) / mass
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5
    assert image.min() >= 0 and image.max() <= 1
    assert not mnist_style(np.zeros((50, 50))).any()

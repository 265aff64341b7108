"""Gradient descent on the pixels (``jaxdigits.inputs``): drawn inputs the network calls each digit."""

import jax.numpy as jnp
import numpy as np
import pytest

import jaxdigits as jd
from jaxdigits import network


def test_smoothness_of_constant_and_checkerboard():
    assert float(network.smoothness(jnp.full(16, 0.3), (4, 4))) == 0.0
    checker = (np.indices((4, 4)).sum(0) % 2).astype(np.float32).ravel()
    assert float(network.smoothness(checker, (4, 4))) == pytest.approx(1.0)


def test_draw_makes_each_chosen_output_win_and_penalties_act(key):
    params = jd.init_params(key, (16, 10))  # one layer: the pixel gradient is never flat
    start = np.full((10, 16), 0.5, np.float32)
    digits = jnp.arange(10)
    images, history = network.draw_digits(params, digits, start, shape=(4, 4), steps=200, learning_rate=0.05)
    images = np.asarray(images)
    assert images.shape == (10, 16) and history.shape == (10, 200)
    assert images.min() >= 0 and images.max() <= 1
    np.testing.assert_array_equal(np.argmax(jd.predict(params, images), axis=1), np.arange(10))
    assert np.all(history[:, -1] < history[:, 0])
    smooth, _ = network.draw_digits(
        params, digits, start, shape=(4, 4), steps=200, learning_rate=0.05, smooth=20.0, size=5.0
    )
    rough = np.mean([float(network.smoothness(x, (4, 4))) for x in images])
    assert np.mean([float(network.smoothness(x, (4, 4))) for x in np.asarray(smooth)]) < rough
    assert float(np.mean(smooth)) < float(images.mean())

"""The network: its parameters, initialisations and forward pass, checked by hand."""

import jax
import jax.numpy as jnp
import numpy as np

import jaxdigits as jd
from jaxdigits.network import layer_sizes_of


def test_video_network_has_13002_parameters(key):
    params = jd.init_params(key)
    assert jd.network.num_params(params) == 784 * 16 + 16 + 16 * 16 + 16 + 16 * 10 + 10 == 13_002
    assert [(p["w"].shape, p["b"].shape) for p in params] == [((784, 16), (16,)), ((16, 16), (16,)), ((16, 10), (10,))]
    assert layer_sizes_of(params) == (784, 16, 16, 10)


def test_inits_have_the_documented_statistics(key):
    normal = jd.init_params(key, (784, 400, 10), "normal")
    scaled = jd.init_params(key, (784, 400, 10), "scaled")
    he = jd.init_params(key, (784, 400, 10), "he")
    assert abs(float(jnp.std(normal[0]["w"])) - 1.0) < 0.01
    assert abs(float(jnp.std(normal[0]["b"])) - 1.0) < 0.15
    assert abs(float(jnp.std(scaled[0]["w"])) - 1 / np.sqrt(784)) < 0.001
    assert abs(float(jnp.std(he[0]["w"])) - np.sqrt(2 / 784)) < 0.001
    assert float(jnp.abs(scaled[0]["b"]).max()) == 0.0
    # Same key, same network; another key, another network.
    assert np.array_equal(jd.init_params(key)[0]["w"], jd.init_params(key)[0]["w"])
    assert not np.array_equal(jd.init_params(key)[0]["w"], jd.init_params(jax.random.key(1))[0]["w"])


def test_predict_shapes_for_a_batch_and_one_image(key):
    params = jd.init_params(key)
    images = jax.random.uniform(key, (5, 784))
    out = jd.predict(params, images)
    assert out.shape == (5, 10) and bool(jnp.all((out > 0) & (out < 1)))
    np.testing.assert_allclose(jd.predict(params, images[2]), out[2], rtol=1e-5, atol=1e-6)


def test_activations():
    z = jnp.array([-2.0, 0.0, 3.0])
    params = [{"w": jnp.eye(3), "b": jnp.zeros(3)}]
    np.testing.assert_allclose(jd.predict(params, z, "relu"), [0.0, 0.0, 3.0])
    np.testing.assert_allclose(jd.predict(params, z, "tanh"), np.tanh([-2.0, 0.0, 3.0]), rtol=1e-6)
    np.testing.assert_array_equal(jd.predict(params, z, "step"), [0.0, 0.0, 1.0])
    np.testing.assert_allclose(jd.predict(params, z, "sigmoid"), 1 / (1 + np.exp([2.0, 0.0, -3.0])), rtol=1e-6)

"""Wrong calls get errors that say what was expected and how to fix them."""

import dataclasses

import jax.numpy as jnp
import numpy as np
import pytest

import jaxdigits as jd
from jaxdigits import io


@pytest.fixture
def params(key):
    return jd.init_params(key, (784, 16, 16, 10))


def test_images_of_the_wrong_shape_or_dtype(params):
    with pytest.raises(ValueError, match=r"images must have shape \(N, 784\) or \(784,\).*got shape \(5, 28, 28\)"):
        jd.predict(params, jnp.zeros((5, 28, 28)))
    with pytest.raises(ValueError, match=r"got shape \(5, 64\)"):
        jd.mse_cost(params, jnp.zeros((5, 64)), jnp.zeros(5, jnp.int32))
    with pytest.raises(TypeError, match="floating point pixels.*uint8.*astype"):
        jd.predict(params, jnp.zeros((5, 784), jnp.uint8))


def test_labels_of_the_wrong_shape_dtype_or_range(params):
    images = jnp.zeros((3, 784))
    with pytest.raises(ValueError, match=r"labels must have shape \(3,\)"):
        jd.mse_cost(params, images, jnp.zeros(4, jnp.int32))
    with pytest.raises(TypeError, match="integer digit classes 0..9.*float32"):
        jd.mse_cost(params, images, jnp.zeros(3))
    with pytest.raises(ValueError, match="labels must lie in 0..9.*from 0 to 10"):
        jd.accuracy(params, images, jnp.array([0, 10, 3]))
    with pytest.raises(ValueError, match="labels must lie in 0..9.*from -1"):
        jd.backprop(params, images, jnp.array([-1, 0, 3]))


def test_bad_parameter_pytrees(params):
    images = jnp.zeros((2, 784))
    with pytest.raises(TypeError, match="non-empty list"):
        jd.predict({"w": 1}, images)
    with pytest.raises(TypeError, match=r"params\[1\] must be a dict with exactly the keys 'w' and 'b'"):
        jd.predict([params[0], {"weights": params[1]["w"]}], images)
    broken = [params[0], {"w": params[1]["w"][:8], "b": params[1]["b"]}, params[2]]
    with pytest.raises(ValueError, match=r"params\[1\]\['w'\] has 8 inputs but layer 0 has 16 outputs"):
        jd.predict(broken, images)
    with pytest.raises(ValueError, match=r"w of shape \(n_in, n_out\) and b of shape \(n_out,\)"):
        jd.predict([{"w": params[0]["w"], "b": jnp.zeros(3)}], images)


@pytest.mark.parametrize(
    "sizes, message",
    [
        ((784,), "at least two"),
        ((784, 0, 10), "positive integer"),
        ((784, 16.5, 10), "positive integer"),
        (7, "sequence"),
    ],
)
def test_bad_layer_sizes(key, sizes, message):
    with pytest.raises((ValueError, TypeError), match=message):
        jd.init_params(key, sizes)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("activation", "softplus", "unknown activation 'softplus'; expected one of: gelu, relu, sigmoid, step, tanh"),
        ("cost", "hinge", "unknown cost 'hinge'; expected one of: cross_entropy, mse"),
        ("optimizer", "lion", "unknown optimizer 'lion'"),
        ("init", "xavier", "unknown init 'xavier'"),
        ("learning_rate", 0.0, "learning_rate must be a finite number > 0"),
        ("learning_rate", -1.0, "learning_rate must be a finite number > 0"),
        ("learning_rate", float("nan"), "learning_rate must be a finite number > 0"),
        ("batch_size", 0, "batch_size must be a positive integer"),
        ("epochs", 2.5, "epochs must be a positive integer"),
    ],
)
def test_bad_training_configs(field, value, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(jd.TrainConfig(), **{field: value})


def test_bad_training_data_is_refused_before_training(digits):
    config = jd.TrainConfig(sizes=(64, 16, 16, 10), epochs=1)
    x, y = digits.train_images, digits.train_labels
    with pytest.raises(ValueError, match=r"train images must have shape \(N, 784\) to fit layer sizes starting at 784"):
        jd.train(jd.TrainConfig(epochs=1), (x, y), progress=False)
    bad = x.copy()
    bad[3, 5] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite pixels"):
        jd.train(config, (bad, y), progress=False)
    with pytest.raises(ValueError, match=r"pixels must lie in \[0, 1\].*divide raw 0-255 bytes by 255"):
        jd.train(config, (x * 255, y), progress=False)
    with pytest.raises(ValueError, match="labels must lie in 0..9"):
        jd.train(config, (x, y + 1), progress=False)
    with pytest.raises(ValueError, match="batch_size 5000 is larger than the training set"):
        jd.train(dataclasses.replace(config, batch_size=5000), (x, y), progress=False)


def test_parameter_files_of_another_architecture(tmp_path, key):
    path = str(tmp_path / "p.npz")
    io.save_params(path, jd.init_params(key, (64, 16, 10)))
    assert [p["w"].shape for p in io.load_params(path)] == [(64, 16), (16, 10)]
    with pytest.raises(ValueError, match="parameters of a 64-16-10 network, expected 784-16-16-10"):
        io.load_params(path, sizes=(784, 16, 16, 10))
    np.savez(str(tmp_path / "other.npz"), weights=np.zeros(3))
    with pytest.raises(ValueError, match="no layers found; expected arrays named w0, b0"):
        io.load_params(str(tmp_path / "other.npz"))
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="not a readable .npz"):
        io.load_params(str(tmp_path / "junk.npz"))
    with pytest.raises(FileNotFoundError, match="not found"):
        io.load_params(str(tmp_path / "none.npz"))

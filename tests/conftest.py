"""Shared test setup: four simulated CPU devices, real data fixtures, and helpers of several files.

(Strict dtype promotion, as equinox's suite uses, is not switched on: optax's own
schedules and adam mix Python floats with int32 step counts and fail under it. Tests check
dtypes explicitly instead.)
"""

import gzip
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

jax.config.update("jax_num_cpu_devices", 4)  # mesh tests shard over 4 simulated devices

from jaxdigits import landscape  # noqa: E402
from jaxdigits.data import MNIST_DIR_ENV, load_dataset  # noqa: E402
from jaxdigits.errors import DataUnavailableError  # noqa: E402


@pytest.fixture
def key():
    return jax.random.key(0)


@pytest.fixture(scope="session")
def digits():
    """scikit-learn's 1,797 real 8x8 digits: always available, small, fast."""
    return load_dataset("digits")


@pytest.fixture(scope="session")
def mnist():
    """Real MNIST through TFDS; skipped with the reason when it cannot be had offline."""
    try:
        return load_dataset("mnist", allow_download=False)
    except DataUnavailableError as e:
        pytest.skip(f"real MNIST unavailable (set {MNIST_DIR_ENV} to the folder of the four IDX .gz files): {e}")


def mnist_dir():
    """The folder of original MNIST files given by the environment, or None."""
    folder = os.environ.get(MNIST_DIR_ENV)
    return folder if folder and os.path.isdir(folder) else None


def write_idx(path, magic, shape, payload):
    """A gzipped IDX file at ``path``: the header for type code ``magic`` and ``shape``, then ``payload``."""
    header = bytes([0, 0, magic, len(shape)]) + b"".join(int(d).to_bytes(4, "big") for d in shape)
    with gzip.open(path, "wb") as f:
        f.write(header + payload)


def numpy_net(sizes, seed=3):
    """N(0, 1) weights and biases like init_params, drawn by numpy: no RNG program to compile."""
    rng = np.random.default_rng(seed)
    return [
        {"w": jnp.asarray(rng.normal(size=(m, n)), jnp.float32), "b": jnp.asarray(rng.normal(size=n), jnp.float32)}
        for m, n in zip(sizes[:-1], sizes[1:])
    ]


@pytest.fixture(scope="module")
def net():
    """The video's network on 8x8 digits (64-16-16-10), drawn by ``numpy_net``."""
    return numpy_net((64, 16, 16, 10))


def two_directions(params, include_1d=False):
    """Two filter-normalised random directions around ``params`` (keys 11 and 12)."""
    return [landscape.random_direction(params, key=jax.random.key(k), include_1d=include_1d) for k in (11, 12)]

"""Shared test setup: four simulated CPU devices, real data fixtures, and helpers of several files.

(Strict dtype promotion, as equinox's suite uses, is not switched on: optax's own
schedules and adam mix Python floats with int32 step counts and fail under it. Tests check
dtypes explicitly instead.)
"""

import gzip
import os

import jax
import pytest

jax.config.update("jax_num_cpu_devices", 4)  # mesh tests shard over 4 simulated devices

from jaxdigits.data import MNIST_DIR_ENV, DataUnavailableError, load_dataset  # noqa: E402


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

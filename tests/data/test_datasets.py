"""Loading data: the real TFDS path, the direct IDX reader, the fallback, the splits."""

import os

import numpy as np
import pytest

from jaxdigits import errors
from jaxdigits.data import MNIST_DIR_ENV, MNIST_FILES, load_dataset, read_idx, split_validation
from jaxdigits.errors import DataUnavailableError
from tests.conftest import mnist_dir, write_idx


def test_mnist_through_tfds_is_the_standard_dataset(mnist):
    assert mnist.name == "mnist" and mnist.source.startswith("tfds:mnist")
    assert mnist.train_images.shape == (60000, 784) and mnist.test_images.shape == (10000, 784)
    assert mnist.train_images.dtype == np.float32 and mnist.train_labels.dtype == np.int32
    assert 0.0 == mnist.train_images.min() and mnist.train_images.max() == 1.0
    assert np.bincount(mnist.test_labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert not mnist.train_images.flags.writeable


@pytest.mark.skipif(mnist_dir() is None, reason=f"{MNIST_DIR_ENV} is not set to a folder of the MNIST IDX files")
def test_tfds_prepares_mnist_from_the_manual_dir_offline(tmp_path):
    """The real tfds path from scratch: an empty TFDS cache, the IDX files as manual_dir."""
    data = load_dataset("mnist", mnist_dir(), allow_download=False, tfds_dir=str(tmp_path / "tfds"))
    assert os.path.isdir(tmp_path / "tfds" / "mnist")
    assert set(data.checksums) == set(MNIST_FILES)
    # TFDS's examples are the raw IDX images / 255 with their labels (TFDS stores them in its
    # own shuffled order, so compare the sets of (image, label) pairs).
    raw = read_idx(os.path.join(mnist_dir(), "t10k-images-idx3-ubyte.gz"), (10000, 28, 28))
    labels = read_idx(os.path.join(mnist_dir(), "t10k-labels-idx1-ubyte.gz"), (10000,))
    ours = sorted(
        np.round(x * 255).astype(np.uint8).tobytes() + bytes([y]) for x, y in zip(data.test_images, data.test_labels)
    )
    original = sorted(x.tobytes() + bytes([y]) for x, y in zip(raw.reshape(10000, 784), labels))
    assert ours == original


@pytest.mark.skipif(mnist_dir() is None, reason=f"{MNIST_DIR_ENV} is not set to a folder of the MNIST IDX files")
def test_mnist_read_directly_without_tensorflow(mnist, monkeypatch, tmp_path):
    """reader="idx": the same checked files and pixels as TFDS, in the files' own order."""
    direct = load_dataset("mnist", reader="idx")
    assert direct.source == f"idx:{mnist_dir()}" and direct.checksums == mnist.checksums
    raw = read_idx(os.path.join(mnist_dir(), "t10k-images-idx3-ubyte.gz"), (10000, 28, 28))
    np.testing.assert_array_equal(direct.test_images, raw.reshape(10000, 784).astype(np.float32) / 255)
    for split in ("train", "test"):
        ours, theirs = (
            sorted(zip(d._asdict()[f"{split}_labels"].tolist(), map(bytes, d._asdict()[f"{split}_images"])))
            for d in (direct, mnist)
        )
        assert ours == theirs
    monkeypatch.setitem(__import__("sys").modules, "tensorflow_datasets", None)  # TFDS not installed
    with pytest.raises(ImportError, match='reader="idx"'):
        load_dataset("mnist", tfds_dir=str(tmp_path / "cache"))


def test_reader_is_checked(tmp_path, monkeypatch):
    monkeypatch.delenv(MNIST_DIR_ENV, raising=False)
    with pytest.raises(ValueError, match="unknown reader 'tf'; expected one of: idx, tfds"):
        load_dataset("mnist", reader="tf")
    with pytest.raises(DataUnavailableError, match='reader="idx" needs a folder'):
        load_dataset("mnist", reader="idx")
    with pytest.raises(errors.DataFileError, match="lacks"):
        load_dataset("mnist", str(tmp_path), reader="idx")


def test_digits_are_real_and_split(digits):
    assert digits.train_images.shape == (1437, 64) and digits.test_images.shape == (360, 64)
    assert digits.image_shape == (8, 8) and 0 <= digits.train_images.min() and digits.train_images.max() <= 1
    assert set(np.unique(digits.train_labels)) == set(range(10))


def test_unavailable_mnist_is_a_clear_error_or_a_loud_fallback(tmp_path, monkeypatch):
    monkeypatch.delenv(MNIST_DIR_ENV, raising=False)
    empty_cache = str(tmp_path / "empty")
    with pytest.raises(DataUnavailableError) as info:
        load_dataset("mnist", allow_download=False, tfds_dir=empty_cache)
    message = str(info.value)
    assert MNIST_DIR_ENV in message and all(name in message for name in MNIST_FILES)
    with pytest.warns(UserWarning, match="FALLING BACK"):
        data = load_dataset("mnist", fallback=True, allow_download=False, tfds_dir=empty_cache)
    assert data.name == "digits"


def test_unknown_dataset_name():
    with pytest.raises(
        ValueError, match="unknown dataset 'mnits'; expected one of: digits, fashion_mnist, kmnist, mnist"
    ):
        load_dataset("mnits")


def test_split_validation_holds_out_the_last_images(digits):
    train, (val_x, val_y) = split_validation(digits, 300)
    assert len(train.train_labels) == 1137 and len(val_y) == 300
    np.testing.assert_array_equal(val_x, digits.train_images[-300:])
    with pytest.raises(ValueError, match="validation size must be between 1 and 1436"):
        split_validation(digits, 1437)


FASHION = "/usr/share/datasets/fashion-mnist"


@pytest.mark.skipif(not os.path.isdir(FASHION), reason="Debian's dataset-fashion-mnist is not installed")
def test_fashion_mnist_from_a_folder_of_idx_files():
    data = load_dataset("fashion_mnist", FASHION)
    assert data.name == "fashion_mnist" and data.source == f"idx:{FASHION}"
    assert data.train_images.shape == (60000, 784) and data.test_labels.shape == (10000,)
    assert np.bincount(data.test_labels).tolist() == [1000] * 10  # Fashion-MNIST's balanced test set
    assert len(data.checksums) == 4


def test_a_folder_with_mismatched_images_and_labels(tmp_path):
    for prefix, n in (("train", 5), ("t10k", 3)):
        write_idx(str(tmp_path / f"{prefix}-images-idx3-ubyte.gz"), 0x08, (n, 2, 2), bytes(4 * n))
        write_idx(str(tmp_path / f"{prefix}-labels-idx1-ubyte.gz"), 0x08, (n + 1,), bytes(n + 1))
    with pytest.raises(errors.DataFileError, match=r"train images \(5, 2, 2\) and labels \(6,\) do not match"):
        load_dataset("kmnist", str(tmp_path))

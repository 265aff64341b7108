"""The training and test images: MNIST through tensorflow-datasets, with an offline path.

``load_dataset("mnist")`` returns the 60,000 training and 10,000 test images as float32
pixels in [0, 1], each flattened to 784 numbers, with int32 labels — converted from TFDS
once, then kept as numpy arrays (training moves them to the device once).

Where MNIST comes from, in order:

1. the TFDS cache (``TFDS_DATA_DIR`` or ``~/tensorflow_datasets``) if it was prepared before;
2. a folder holding the four original IDX ``.gz`` files, given as ``data_dir`` or by the
   environment variable ``JAXDIGITS_MNIST_DIR``: it is checked (``check_mnist_folder``) and handed
   to TFDS as its ``manual_dir``, so the real ``tfds.load`` path runs without a network;
3. a TFDS download, tried only if the download host answers within a few seconds (offline,
   TFDS would otherwise retry for minutes).

Other datasets of the same format (``fashion_mnist``, ``kmnist``) load through TFDS by name, or
from a folder of their four IDX files given as ``data_dir``, which is read directly.

``reader="idx"`` reads a given MNIST folder directly too, without TensorFlow (for machines
where it is not installed, e.g. a GPU box with only a JAX CUDA build): the same checked files,
the same pixels, but in the files' own order, where TFDS stores its examples shuffled — so a
training run sees other mini-batches than through TFDS.

If none works, ``load_dataset("mnist")`` raises ``DataUnavailableError`` naming the setting
and the files. ``load_dataset("mnist", fallback=True)`` instead returns scikit-learn's
bundled 8×8 handwritten digits (1,797 real images, 64 pixels each) with a loud notice.

TensorFlow is imported only here, only when TFDS is needed, and is hidden from every GPU so
it never takes accelerator memory from JAX.
"""

from __future__ import annotations

import functools
import os
import socket
import sys
import threading
import warnings
from typing import NamedTuple

import numpy as np

from jaxdigits import _checks
from jaxdigits.data._idx import MNIST_FILES, check_mnist_folder, file_sha256, read_idx
from jaxdigits.errors import DataFileError, DataUnavailableError, InvalidArgument

__all__ = [
    "DATASETS",
    "MNIST_DIR_ENV",
    "READERS",
    "TFDS_DATASETS",
    "Dataset",
    "load_dataset",
    "split_validation",
]

MNIST_DIR_ENV = "JAXDIGITS_MNIST_DIR"
TFDS_DATASETS = ("mnist", "fashion_mnist", "kmnist")
DATASETS = TFDS_DATASETS + ("digits",)
_DOWNLOAD_HOST = ("storage.googleapis.com", 443)


class Dataset(NamedTuple):
    """Images and labels of one dataset, as numpy arrays.

    ``train_images``/``test_images``: (N, pixels) float32 in [0, 1]; ``train_labels``/
    ``test_labels``: (N,) int32 in 0..9; ``name``: e.g. ``"mnist"``; ``image_shape``: e.g.
    (28, 28); ``source``: where the data came from; ``checksums``: sha256 of the raw files
    when known.
    """

    name: str
    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    image_shape: tuple
    source: str
    checksums: dict

    @property
    def num_pixels(self) -> int:
        return int(np.prod(self.image_shape))


READERS = ("tfds", "idx")


def load_dataset(
    name: str = "mnist",
    data_dir: str | None = None,
    *,
    fallback: bool = False,
    allow_download: bool = True,
    tfds_dir: str | None = None,
    reader: str = "tfds",
) -> Dataset:
    """Load a dataset by name: ``"mnist"``, ``"fashion_mnist"``, ``"kmnist"`` or ``"digits"``.

    Args:
      name: dataset name.
      data_dir: folder with the original IDX ``.gz`` files to use as TFDS's ``manual_dir``;
        for MNIST defaults to ``$JAXDIGITS_MNIST_DIR``.
      fallback: if the TFDS dataset cannot be had, return scikit-learn's 8×8 digits with a
        loud notice instead of raising.
      allow_download: whether to try a TFDS download (after a quick reachability check).
      tfds_dir: TFDS's cache folder (default: TFDS's own, ``$TFDS_DATA_DIR`` or
        ``~/tensorflow_datasets``).
      reader: ``"tfds"`` (default) or ``"idx"``: read the folder's four IDX files directly,
        without TensorFlow (needs ``data_dir`` or, for MNIST, ``$JAXDIGITS_MNIST_DIR``; MNIST's
        files are checked against TFDS's registered sha256 first).

    Returns:
      A ``Dataset``.
    """
    _checks.name(name, DATASETS, "dataset")
    _checks.name(reader, READERS, "reader")
    if name == "digits":
        return _load_sklearn_digits()
    if data_dir is None and name == "mnist":
        data_dir = os.environ.get(MNIST_DIR_ENV) or None
    if reader == "idx" and not data_dir:
        raise DataUnavailableError(_unavailable_message(name, 'reader="idx" needs a folder of its IDX files'))
    if data_dir and (name != "mnist" or reader == "idx"):
        if name == "mnist":
            check_mnist_folder(data_dir)
        return _load_idx_folder(name, data_dir)
    try:
        return _load_tfds(name, data_dir, allow_download, tfds_dir)
    except DataUnavailableError as error:
        if not fallback:
            raise
        _loud_notice(
            f"{error}\n\nFALLING BACK to scikit-learn's 8x8 handwritten digits (1,797 images, network 64-16-16-10)."
        )
        return _load_sklearn_digits()


def _unavailable_message(name, reason):
    if name == "mnist":
        how = (
            f"Set ${MNIST_DIR_ENV} (or data_dir) to a folder holding the four original MNIST files "
            f"{', '.join(MNIST_FILES)}, or connect to the internet once so TFDS can download and cache it."
        )
    else:
        how = (
            f"Set data_dir to a folder of {name}'s original files (TFDS's manual_dir), "
            "or connect once so TFDS can cache it."
        )
    return f"{name} is not available: {reason}. {how}"


@functools.lru_cache(maxsize=8)
def _load_tfds(name, data_dir, allow_download, tfds_dir):
    checksums = {}
    if name == "mnist":
        # A given folder is checked here; a cached or downloaded MNIST was checked by TFDS
        # against the same registered sha256 values before it was prepared.
        checksums = check_mnist_folder(data_dir) if data_dir else {f: sha for f, (sha, _) in MNIST_FILES.items()}
    if data_dir and not os.path.isdir(data_dir):
        raise DataUnavailableError(_unavailable_message(name, f"folder {data_dir!r} does not exist"))
    tfds = _import_tfds()
    builder = tfds.builder(name, data_dir=tfds_dir)
    if not builder.is_prepared():
        if not data_dir and not (allow_download and _reachable(_DOWNLOAD_HOST)):
            raise DataUnavailableError(
                _unavailable_message(
                    name, "it is not in the TFDS cache, no data folder was given, and the download host is unreachable"
                )
            )
        config = tfds.download.DownloadConfig(manual_dir=data_dir) if data_dir else None
        try:
            builder.download_and_prepare(download_config=config)
        except Exception as e:  # TFDS raises many types; name the cause and the fix.
            raise DataUnavailableError(
                _unavailable_message(name, f"TFDS could not prepare it ({type(e).__name__}: {e})")
            ) from e
    train, test = tfds.as_numpy(builder.as_dataset(split=["train", "test"], batch_size=-1, as_supervised=True))
    image_shape = tuple(train[0].shape[1:3])
    return Dataset(
        name=name,
        train_images=_to_pixels(train[0]),
        train_labels=_to_labels(train[1]),
        test_images=_to_pixels(test[0]),
        test_labels=_to_labels(test[1]),
        image_shape=image_shape,
        source=f"tfds:{name}:{builder.info.version}" + (f" (manual_dir {data_dir})" if data_dir else ""),
        checksums=checksums,
    )


@functools.lru_cache(maxsize=4)
def _load_idx_folder(name, folder):
    """Read an MNIST-format folder (the four IDX ``.gz`` files) directly.

    Used for datasets other than MNIST given by folder: TFDS checks the sha256 of the
    upstream ``.gz`` files, and repackaged copies (Debian's ``dataset-fashion-mnist`` is
    re-gzipped) differ byte-wise while holding the same images. Every file is still checked
    (gzip, IDX magic, shapes, image and label counts agree).
    """
    if not os.path.isdir(folder):
        raise DataUnavailableError(_unavailable_message(name, f"folder {folder!r} does not exist"))
    arrays, checksums = {}, {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        images_file = os.path.join(folder, f"{prefix}-images-idx3-ubyte.gz")
        labels_file = os.path.join(folder, f"{prefix}-labels-idx1-ubyte.gz")
        images, labels = read_idx(images_file), read_idx(labels_file)
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DataFileError(
                f"{folder}: {split} images {images.shape} and labels {labels.shape} do not match; expected "
                "(N, rows, cols) images and (N,) labels"
            )
        if labels.size and labels.max() > 9:
            raise DataFileError(f"{labels_file}: labels must lie in 0..9, found {labels.max()}")
        arrays[split] = (_to_pixels(images), _to_labels(labels))
        image_shape = tuple(images.shape[1:])
        for path in (images_file, labels_file):
            checksums[os.path.basename(path)] = file_sha256(path)
    return Dataset(
        name=name,
        train_images=arrays["train"][0],
        train_labels=arrays["train"][1],
        test_images=arrays["test"][0],
        test_labels=arrays["test"][1],
        image_shape=image_shape,
        source=f"idx:{folder}",
        checksums=checksums,
    )


@functools.lru_cache(maxsize=1)
def _load_sklearn_digits():
    from sklearn.datasets import load_digits  # here: scikit-learn is only needed for this small set

    digits = load_digits()
    images = (digits.data / 16.0).astype(np.float32)  # pixel values are 0..16
    labels = digits.target.astype(np.int32)
    n_test = 360  # the last 20%, a fixed split
    return Dataset(
        name="digits",
        train_images=_readonly(images[:-n_test]),
        train_labels=_readonly(labels[:-n_test]),
        test_images=_readonly(images[-n_test:]),
        test_labels=_readonly(labels[-n_test:]),
        image_shape=(8, 8),
        source="sklearn.datasets.load_digits",
        checksums={},
    )


def _import_tfds():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        # Here, not at the top: TensorFlow is heavy and optional (reader="idx" needs none).
        import tensorflow as tf
        import tensorflow_datasets  # noqa: F401
    except ImportError as e:
        raise ImportError(
            f"loading through TFDS needs tensorflow-cpu and tensorflow-datasets ({e}). Install jaxdigits with "
            "its dependencies (pip install -e .), or read a folder of the IDX files directly without TensorFlow: "
            f'load_dataset(name, data_dir, reader="idx") (for MNIST, data_dir defaults to ${MNIST_DIR_ENV}).'
        ) from e

    tf.config.set_visible_devices([], "GPU")  # TensorFlow must not take the GPU from JAX
    import tensorflow_datasets as tfds

    tfds.disable_progress_bar()
    return tfds


def _reachable(address, timeout=3.0):
    """Whether a TCP connection opens within ``timeout`` seconds (name lookup included)."""
    result = []

    def attempt():
        try:
            socket.create_connection(address, timeout=timeout).close()
            result.append(True)
        except OSError:
            pass

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(result)


def _to_pixels(images):
    return _readonly(images.reshape(len(images), -1).astype(np.float32) / 255.0)


def _to_labels(labels):
    return _readonly(labels.astype(np.int32))


def _readonly(array):
    array = np.ascontiguousarray(array)
    array.setflags(write=False)
    return array


def _loud_notice(message):
    bar = "!" * 78
    print(f"\n{bar}\n{message}\n{bar}\n", file=sys.stderr, flush=True)
    warnings.warn(message, stacklevel=3)


def split_validation(dataset: Dataset, size: int) -> tuple[Dataset, tuple[np.ndarray, np.ndarray]]:
    """Hold out the last ``size`` training images as a validation set.

    Returns ``(train_dataset, (val_images, val_labels))``: the new dataset trains on the
    rest. Choices (learning rate, epochs, ...) are made on the validation set, never on test.
    """
    n = len(dataset.train_labels)
    if not 0 < size < n:
        raise InvalidArgument(
            f"validation size must be between 1 and {n - 1} (the training set has {n} images), got {size}"
        )
    train = dataset._replace(train_images=dataset.train_images[:-size], train_labels=dataset.train_labels[:-size])
    return train, (dataset.train_images[-size:], dataset.train_labels[-size:])

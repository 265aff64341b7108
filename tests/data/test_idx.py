"""The original IDX files: parsing, the checks of MNIST's files, and damage of every kind."""

import gzip
import shutil

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jaxdigits import errors
from jaxdigits.data import MNIST_DIR_ENV, MNIST_FILES, check_mnist_folder, load_dataset, parse_idx, read_idx
from tests.conftest import mnist_dir, write_idx


def test_read_idx_round_trip_and_damage(tmp_path):
    path = str(tmp_path / "x-idx3-ubyte.gz")
    write_idx(path, 0x08, (2, 3, 3), bytes(range(18)))
    np.testing.assert_array_equal(read_idx(path, (2, 3, 3)), np.arange(18, dtype=np.uint8).reshape(2, 3, 3))
    with pytest.raises(errors.DataFileError, match=r"expected shape \(3, 3, 3\)"):
        read_idx(path, (3, 3, 3))
    write_idx(path, 0x08, (2, 3, 3), bytes(range(17)))
    with pytest.raises(errors.DataFileError, match="truncated or corrupt"):
        read_idx(path)
    write_idx(path, 0x0D, (2,), bytes(8))
    with pytest.raises(errors.DataFileError, match="type code 0x0d"):
        read_idx(path)
    with gzip.open(path, "wb") as f:
        f.write(b"\x12\x34\x08\x01")
    with pytest.raises(errors.DataFileError, match="not an IDX file"):
        read_idx(path)
    with open(path, "wb") as f:
        f.write(b"this is not gzip at all")
    with pytest.raises(errors.DataFileError, match="not a readable gzip file"):
        read_idx(path)
    with pytest.raises(errors.DataFileError, match="file not found"):
        read_idx(str(tmp_path / "missing.gz"))


@pytest.mark.skipif(mnist_dir() is None, reason=f"{MNIST_DIR_ENV} is not set to a folder of the MNIST IDX files")
def test_damaged_mnist_folders_are_refused_before_tfds(tmp_path):
    folder = tmp_path / "mnist"
    shutil.copytree(mnist_dir(), folder)
    assert set(check_mnist_folder(str(folder))) == set(MNIST_FILES)
    labels = folder / "t10k-labels-idx1-ubyte.gz"
    raw = gzip.decompress(labels.read_bytes())
    labels.write_bytes(gzip.compress(raw[:-100]))  # truncated
    with pytest.raises(errors.DataFileError, match="t10k-labels.*truncated or corrupt"):
        load_dataset("mnist", str(folder), allow_download=False, tfds_dir=str(tmp_path / "tfds"))
    labels.write_bytes(gzip.compress(raw[:8] + bytes([(raw[8] + 1) % 10]) + raw[9:]))  # one label changed
    with pytest.raises(errors.DataFileError, match="t10k-labels.*sha256.*not the original"):
        check_mnist_folder(str(folder))
    labels.unlink()
    with pytest.raises(errors.DataFileError, match="lacks t10k-labels-idx1-ubyte.gz"):
        check_mnist_folder(str(folder))
    with pytest.raises(errors.DataFileError, match="does not exist"):
        check_mnist_folder(str(tmp_path / "nowhere"))


# --- fuzzing the IDX input path with corrupted bytes ------------------------------------

VALID = (
    bytes([0, 0, 8, 3]) + (3).to_bytes(4, "big") + (4).to_bytes(4, "big") + (4).to_bytes(4, "big") + bytes(range(48))
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)), min_size=1, max_size=6), st.integers(0, 70)
)
def test_corrupted_idx_bytes_give_a_data_error_or_a_consistent_array(edits, cut):
    raw = bytearray(VALID)
    for position, value in edits:
        raw[position] = value
    raw = bytes(raw[: len(raw) - cut])
    try:
        array = parse_idx(raw)
    except errors.DataFileError:
        return
    # Accepted only if the header is valid and the sizes agree exactly.
    assert raw[:3] == bytes([0, 0, 8]) and array.size == len(raw) - 4 - 4 * raw[3]


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 200), st.integers(1, 255), st.booleans())
def test_corrupted_gzip_files_give_a_data_error(tmp_path_factory, position, flip, truncate):
    data = bytearray(gzip.compress(VALID))
    position %= len(data)
    if truncate:
        data = data[:position]
    else:
        data[position] ^= flip
    path = tmp_path_factory.mktemp("fuzz") / "x-idx3-ubyte.gz"
    path.write_bytes(bytes(data))
    try:
        array = read_idx(str(path))
    except errors.DataFileError:
        return
    assert array.shape == (3, 4, 4)  # a flip in gzip's header flags/mtime can be harmless

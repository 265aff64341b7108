"""The table of shifted copies: the same pixels as shifting, read at the same draws, within its budget."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxdigits as jd
from jaxdigits.data import (
    make_gather,
    pixels_as_float,
    random_shifts,
    resident_pixels,
    shift_images,
    shift_moves,
    shift_table,
    shift_table_bytes,
    table_rows,
)

SHIFT = jd.TrainConfig(sizes=(784, 16, 16, 10), augment="shift", augment_shift=1)


def byte_images(n=12, side=28, seed=0):
    """MNIST-like images: every pixel a byte k / 255, so they are kept as packed bytes."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, side * side)).astype(np.float32) / np.float32(255)


def test_the_moves_are_row_major_with_no_move_in_the_middle():
    assert shift_moves(1) == [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 0), (0, 1), (1, -1), (1, 0), (1, 1)]
    assert len(shift_moves(2)) == 25 and shift_moves(2)[12] == (0, 0)


@pytest.mark.parametrize("max_shift", [1, 2])
@pytest.mark.parametrize("kind", ["bytes", "floats"])
def test_every_row_of_the_table_is_the_image_shifted_exactly(max_shift, kind):
    images = byte_images() if kind == "bytes" else np.random.default_rng(1).random((5, 49), dtype=np.float32)
    side = int(np.sqrt(images.shape[1]))
    table = shift_table(images, max_shift)
    assert table.dtype == resident_pixels(images).dtype == (np.uint32 if kind == "bytes" else np.float32)
    moves = shift_moves(max_shift)
    assert table.shape[0] == len(images) * len(moves)
    decoded = np.asarray(pixels_as_float(jnp.asarray(table)))
    for j, move in enumerate(moves):
        offsets = jnp.asarray([move] * len(images), jnp.int32)
        want = shift_images(jnp.asarray(images).reshape(-1, side, side), offsets, max_shift).reshape(len(images), -1)
        rows = np.asarray(table_rows(jnp.arange(len(images)), offsets, max_shift))
        np.testing.assert_array_equal(rows, np.arange(len(images)) * len(moves) + j)
        np.testing.assert_array_equal(decoded[rows].view(np.uint32), np.asarray(want).view(np.uint32))


def test_a_table_over_its_budget_is_not_made():
    images = byte_images(n=10)
    need = shift_table_bytes(10, 784, 1)
    assert need == 10 * 9 * 784  # one byte a pixel, as resident_pixels keeps MNIST
    assert shift_table(images, 1, budget=need) is not None
    assert shift_table(images, 1, budget=need - 1) is None
    assert shift_table(images, 0) is None  # no shift: nothing to tabulate
    floats = np.full((10, 784), 0.3, np.float32)  # not bytes: four bytes a pixel
    assert shift_table(floats, 1, budget=need) is None and shift_table(floats, 1, budget=4 * need) is not None


@pytest.mark.parametrize("augmented", [None, True, False])
def test_a_mini_batch_from_the_table_equals_the_shifted_one(augmented):
    images = byte_images(n=40)
    rows = jnp.asarray([3, 17, 0, 39, 17, 8], jnp.int32)
    key = jax.random.key(4)
    flag = None if augmented is None else jnp.bool_(augmented)
    plain = make_gather(SHIFT)(jnp.asarray(resident_pixels(images)), rows, key=key, augmented=flag)
    tabled = make_gather(SHIFT, from_table=True)(jnp.asarray(shift_table(images, 1)), rows, key=key, augmented=flag)
    np.testing.assert_array_equal(np.asarray(tabled).view(np.uint32), np.asarray(plain).view(np.uint32))
    unshifted = pixels_as_float(jnp.asarray(resident_pixels(images))[rows])
    moved = not np.array_equal(np.asarray(plain), np.asarray(unshifted))
    assert moved == (augmented is not False)  # a clean epoch's mini-batch is the images as they are
    assert np.abs(np.asarray(random_shifts(key, 6, 1))).max() == 1


def test_only_a_pure_shift_has_a_table():
    assert jd.data.uses_shift_table(SHIFT)
    affine = dataclasses.replace(SHIFT, augment="affine")
    assert not jd.data.uses_shift_table(affine) and not jd.data.uses_shift_table(jd.TrainConfig())
    with pytest.raises(ValueError, match="a shift table stands in for augment='shift' only, not 'affine'"):
        make_gather(affine, from_table=True)

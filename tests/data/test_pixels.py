"""Device-resident bytes decode to exactly the float32 pixels NumPy computes."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdigits.data import decode_pixels, encode_pixels, pixel_decode_is_exact, pixels_as_float, resident_pixels
from jaxdigits.training import TrainConfig, init_state, make_train_epoch, optimizer_for

ALL_BYTES = np.arange(256, dtype=np.uint8)


def bits(x):
    return np.asarray(x, np.float32).view(np.uint32)


def test_decode_is_numpys_division_for_every_byte_in_and_out_of_jit():
    want = bits(ALL_BYTES.astype(np.float32) / 255)
    np.testing.assert_array_equal(bits(decode_pixels(ALL_BYTES)), want)
    np.testing.assert_array_equal(bits(jax.jit(decode_pixels)(ALL_BYTES)), want)
    # Fused into a bigger program, as in a training step: still exact.
    fused = jax.jit(lambda b: decode_pixels(b.reshape(16, 16)) @ jnp.eye(16))(ALL_BYTES)
    np.testing.assert_array_equal(bits(fused).ravel(), want)
    assert pixel_decode_is_exact()


def test_the_naive_decodes_are_not_exact():
    # Why the two-part constant exists: one product, or XLA's division, is off by an ulp.
    want = bits(ALL_BYTES.astype(np.float32) / 255)
    naive = jax.jit(lambda b: b.astype(jnp.float32) * np.float32(1 / 255))(ALL_BYTES)
    assert (bits(naive) != want).sum() > 100


def test_encode_round_trips_mnist_like_images(mnist):
    images = mnist.test_images
    pixel_bytes = encode_pixels(images)
    assert pixel_bytes.dtype == np.uint8 and pixel_bytes.shape == images.shape
    np.testing.assert_array_equal(bits(decode_pixels(pixel_bytes)), bits(images))
    kept = resident_pixels(images)
    assert kept.dtype == np.uint32 and kept.shape == (len(images), 196)
    np.testing.assert_array_equal(bits(jax.jit(pixels_as_float)(kept)), bits(images))


@pytest.mark.parametrize(
    "images",
    [
        np.full((2, 3), 1 / 16, np.float32),  # 8x8 digits are k/16: not bytes / 255
        np.nextafter(np.float32(3 / 255), np.float32(1), dtype=np.float32).reshape(1, 1),  # one ulp off
        np.full((1, 2), 1.5, np.float32),
        np.full((1, 2), -1 / 255, np.float32),
        np.full((1, 2), np.nan, np.float32),
        np.full((1, 2), -0.0, np.float32),  # would come back as +0.0
        np.full((1, 2), 2 / 255, np.float64),  # not float32
        np.zeros((0, 4), np.float32),
    ],
)
def test_images_that_are_not_exact_bytes_stay_float(images):
    assert encode_pixels(images) is None
    if images.size and images.dtype == np.float32:
        kept = resident_pixels(images)
        assert kept.dtype == np.float32
        np.testing.assert_array_equal(bits(kept), bits(images))


def test_packed_words_unpack_to_the_bytes_in_order():
    images = ALL_BYTES.reshape(8, 32).astype(np.float32) / 255
    packed = resident_pixels(images)
    assert packed.dtype == np.uint32 and packed.shape == (8, 8)
    np.testing.assert_array_equal(bits(jax.jit(pixels_as_float)(packed)), bits(images))
    odd = images[:, :30]  # 30 pixels do not fill whole words: kept as bytes
    assert resident_pixels(odd).dtype == np.uint8
    np.testing.assert_array_equal(bits(jax.jit(pixels_as_float)(resident_pixels(odd))), bits(odd))


def test_a_training_epoch_on_bytes_equals_the_epoch_on_float_pixels(digits):
    # Digits quantised to k/255 so that the byte path applies; same epoch, bit for bit,
    # whether the images are kept as float32, as bytes, or as bytes packed in words.
    images = (np.rint(digits.train_images * 255) / np.float32(255)).astype(np.float32)
    labels = digits.train_labels.astype(np.int32)
    pixel_bytes = encode_pixels(images)
    assert pixel_bytes is not None and resident_pixels(images).dtype == np.uint32
    config = TrainConfig(sizes=(64, 16, 16, 10), batch_size=32, epochs=2)
    optimizer = optimizer_for(config, len(labels))
    epoch = make_train_epoch(config, optimizer)
    ends = []
    for stored in (images, pixel_bytes, resident_pixels(images)):
        state = init_state(config, optimizer, key=jax.random.key(3))
        for _ in range(2):
            state, metrics = epoch(state, jnp.asarray(stored), jnp.asarray(labels), {})
        ends.append((jax.tree.map(np.asarray, state.params), np.asarray(metrics["batch_costs"])))
    for other in ends[1:]:
        for a, b in zip(jax.tree.leaves(ends[0]), jax.tree.leaves(other)):
            np.testing.assert_array_equal(a, b)


def test_encode_checks_every_chunk():
    images = np.arange(6 * 40, dtype=np.uint8).reshape(6, 40).astype(np.float32) / 255
    np.testing.assert_array_equal(encode_pixels(images, chunk=7), np.arange(240, dtype=np.uint8).reshape(6, 40))
    images[-1, -1] = 0.5  # not k/255, in the last chunk only
    assert encode_pixels(images, chunk=7) is None

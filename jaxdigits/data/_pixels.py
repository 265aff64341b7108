"""Training images kept on the device as bytes, decoded to the exact same float32 pixels.

MNIST's pixels are bytes k ∈ {0, …, 255}; the float images are k / 255 in float32. Every
training step gathers its mini-batch's rows from the device-resident training set, and
on a CPU that gather is bound by the bytes it moves: 784 × 4 B per image as float32,
784 × 1 B as uint8 (``benchmarks/NOTES.md``, "the shuffle and the gather"). So the training set is kept as
bytes and each gathered mini-batch is decoded inside the step.

The decode must give *the same* float32 numbers, or training would change with the
storage format. ``k * (1/255)`` does not (126 of the 256 values differ from k / 255 by one
unit in the last place), and XLA rewrites a division by a constant into exactly that
product. Instead, 1/255 is split into HI (its first 16 significant bits) and LO
(the float32 rest): k·HI is exact (8 + 16 bits fit float32's 24), and k·HI + k·LO is then
rounded once (or twice, without a fused multiply-add) from a value within 2⁻⁴⁰ of k/255,
which lands on the correctly rounded k / 255 for every one of the 256 bytes — checked
exhaustively in ``tests/data/test_pixels.py``, and again on the running backend before the
byte path is used (``pixel_decode_is_exact``).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from jaxdigits.typing import Array, ArrayLike

__all__ = [
    "decode_pixels",
    "encode_pixels",
    "pixel_decode_is_exact",
    "pixel_table",
    "pixels_as_float",
    "resident_pixels",
]

_INV = 1.0 / 255.0
_STEP = 2.0 ** (np.floor(np.log2(_INV)) - 15)  # the unit of the 16th significant bit of 1/255
_HI = np.float32(np.floor(_INV / _STEP) * _STEP)
_LO = np.float32(_INV - np.float64(_HI))


def decode_pixels(pixel_bytes: ArrayLike) -> Array:
    """float32 pixels k / 255 from uint8 bytes k (any shape), exactly as NumPy divides."""
    k = jnp.asarray(pixel_bytes).astype(jnp.float32)
    return k * _HI + k * _LO


def pixel_table() -> np.ndarray:
    """The 256 float32 values ``np.float32(k) / 255`` the decode has to reproduce."""
    return np.arange(256, dtype=np.float32) / np.float32(255)


@functools.cache
def pixel_decode_is_exact(backend: str | None = None) -> bool:
    """Whether ``decode_pixels`` reproduces all 256 values bit for bit on ``backend`` (checked once)."""
    table = jax.jit(decode_pixels, backend=backend)(np.arange(256, dtype=np.uint8))
    return bool(np.array_equal(np.asarray(table).view(np.uint32), pixel_table().view(np.uint32)))


def encode_pixels(images: np.ndarray, *, chunk: int = 1 << 20) -> np.ndarray | None:
    """The uint8 bytes whose ``decode_pixels`` is ``images`` exactly, or None when there are none.

    ``images`` float32 (any shape). Returns None unless every pixel is a float32 k / 255
    (as MNIST's and Fashion-MNIST's are); other images (8×8 digits scaled by 1/16, your
    own) simply stay float32. Works through ``chunk`` pixels at a time, which keeps the
    temporaries in cache: ~0.1 s for MNIST's 47 million training pixels.
    """
    images = np.asarray(images)
    if images.dtype != np.float32 or images.size == 0:
        return None
    flat, pixel_bytes = images.reshape(-1), np.empty(images.size, np.uint8)
    for start in range(0, flat.size, chunk):
        part = flat[start : start + chunk]
        scaled = np.rint(part * np.float32(255))
        if not (scaled.min() >= 0 and scaled.max() <= 255):  # also False for NaN
            return None
        as_bytes = scaled.astype(np.uint8)
        exact = (as_bytes.astype(np.float32) / np.float32(255)).view(np.uint32)  # pixel_table()[as_bytes]
        if not np.array_equal(exact, part.view(np.uint32)):
            return None
        pixel_bytes[start : start + chunk] = as_bytes
    return pixel_bytes.reshape(images.shape)


def resident_pixels(images: ArrayLike) -> np.ndarray:
    """What to keep on the device for (N, pixels) ``images``: exact bytes where possible.

    Returns the bytes packed four to a uint32 word, shape (N, pixels / 4), when the pixels
    are exact bytes and their number divides by 4 (MNIST: 784 → 196 words); the bytes as
    uint8 when it does not; the float32 images themselves when they are not bytes / 255.
    XLA's CPU gather costs per element it moves, so gathering 196 words per image instead
    of 784 bytes is the faster gather (``benchmarks/NOTES.md``, "the shuffle and the gather"). Each step calls
    ``pixels_as_float`` on its gathered mini-batch.
    """
    images = np.asarray(images, np.float32)
    if images.ndim == 2 and pixel_decode_is_exact():
        pixel_bytes = encode_pixels(images)
        if pixel_bytes is not None:
            if images.shape[1] % 4 == 0:
                return np.ascontiguousarray(pixel_bytes).view(np.uint32)  # little-endian on every JAX host
            return pixel_bytes
    return images


def pixels_as_float(batch: Array) -> Array:
    """float32 pixels of a gathered mini-batch, whichever way it was kept (traced inside jit)."""
    if batch.dtype == jnp.uint32:  # four bytes per word, in memory order
        batch = jax.lax.bitcast_convert_type(batch, jnp.uint8).reshape(*batch.shape[:-1], -1)
    return decode_pixels(batch) if batch.dtype == jnp.uint8 else batch

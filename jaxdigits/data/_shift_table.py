"""Shifted copies kept on the device: a random shift becomes a plain gather.

``shift_images`` moves each image of a mini-batch by its own (dy, dx) with one
``dynamic_slice`` per image and a mask. On a CPU that costs about as much as the rest of the
step at batch 128 (``benchmarks/NOTES.md``, "the shift table"). With shifts of at most m
pixels there are only (2m + 1)² different moves of each image, so all of them can be made
once, before training: the table holds, for image i and move j, the image moved by
``SHIFTS(m)[j]``, in row i·(2m + 1)² + j. A step then gathers row
``table_rows(rows, offsets, m)`` of its mini-batch — the same gather as an unshifted
mini-batch, from a (2m + 1)² times larger array. The pixels are the same numbers as
``shift_images`` makes (zeros entering, no arithmetic), and the moves are drawn as before,
so training is bit for bit the same; only the time changes.

The table is stored the way ``resident_pixels`` stores the images (MNIST: bytes, four to a
uint32 word), so for MNIST and m = 1 it takes 9 × 60,000 × 784 B = 423 MB. ``shift_table``
returns None when it would take more than its budget; training then shifts each mini-batch
as before. Left out: tables for the resampling ``"affine"`` augmentation (its moves are
continuous).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax.numpy as jnp
import numpy as np

from jaxdigits.data._augment import image_side, make_augment, random_shifts
from jaxdigits.data._pixels import pixels_as_float, resident_pixels
from jaxdigits.errors import InvalidArgument
from jaxdigits.typing import Array, ArrayLike

__all__ = [
    "SHIFT_TABLE_BYTES",
    "make_gather",
    "shift_moves",
    "shift_table",
    "shift_table_bytes",
    "table_rows",
    "uses_shift_table",
]

SHIFT_TABLE_BYTES = 1 << 30  # the default budget: 1 GiB (MNIST with m = 1 takes 423 MB)


def shift_moves(max_shift: int) -> list[tuple[int, int]]:
    """The (2m + 1)² moves (dy, dx) in the table's order: row-major over [−m, m]², (0, 0) in the middle."""
    m = int(max_shift)
    return [(dy, dx) for dy in range(-m, m + 1) for dx in range(-m, m + 1)]


def shift_table_bytes(num_images: int, num_pixels: int, max_shift: int, *, exact_bytes: bool = True) -> int:
    """Bytes the table takes: (2m + 1)² copies of every image, one byte a pixel (four without ``exact_bytes``)."""
    return num_images * (2 * max_shift + 1) ** 2 * num_pixels * (1 if exact_bytes else 4)


def shift_table(images: ArrayLike, max_shift: int, *, budget: int = SHIFT_TABLE_BYTES) -> np.ndarray | None:
    """Every image under every move, stored as ``resident_pixels`` stores images; None over ``budget``.

    Args:
      images: (N, pixels) float32 in [0, 1], square images (MNIST: 784 = 28²).
      max_shift: m ≥ 1, the largest move each way.
      budget: the most bytes the table may take.

    Returns:
      (N·(2m + 1)², words) — row i·(2m + 1)² + j is image i moved by ``shift_moves(m)[j]``:
      its pixel (r, c) is the image's pixel (r − dy, c − dx), 0 outside the frame — or None
      when the table would exceed ``budget`` (or ``max_shift`` is 0: there is nothing to move).
    """
    images = np.asarray(images, np.float32)
    n, pixels = images.shape
    side = image_side(pixels)
    resident = resident_pixels(images)
    exact_bytes = resident.dtype != np.float32
    if max_shift < 1 or shift_table_bytes(n, pixels, max_shift, exact_bytes=exact_bytes) > budget:
        return None
    values = resident.view(np.uint8) if resident.dtype == np.uint32 else resident  # one entry a pixel
    square = values.reshape(n, side, side)
    moves = shift_moves(max_shift)
    table = np.zeros((n, len(moves), side, side), values.dtype)
    for j, (dy, dx) in enumerate(moves):  # out[r, c] = in[r − dy, c − dx]
        rows, cols = slice(max(dy, 0), side + min(dy, 0)), slice(max(dx, 0), side + min(dx, 0))
        table[:, j, rows, cols] = square[:, max(-dy, 0) : side + min(-dy, 0), max(-dx, 0) : side + min(-dx, 0)]
    table = table.reshape(n * len(moves), pixels)
    return table.view(np.uint32) if resident.dtype == np.uint32 else table


def table_rows(rows: Array, offsets: Array, max_shift: int) -> Array:
    """Rows of the table holding image ``rows[b]`` moved by ``offsets[b] = (dy, dx)``.

    Args:
      rows: (B,) int image indices into the training set.
      offsets: (B, 2) int moves, each in [−m, m] (as ``make_augment`` draws them).
      max_shift: m.
    """
    width = 2 * max_shift + 1
    move = (offsets[:, 0] + max_shift) * width + (offsets[:, 1] + max_shift)
    return rows * width**2 + move


def uses_shift_table(config: Any) -> bool:
    """Whether ``config``'s augmentation is a shift alone, so that a table can stand in for it."""
    return config.augment == "shift" and config.augment_shift > 0


def make_gather(config: Any, *, from_table: bool = False) -> Callable:
    """``gather(images, rows, *, key=None, augmented=None)``: a training mini-batch as float32 pixels.

    Args of ``gather``:
      images: the device-resident training images (``resident_pixels``), or with
        ``from_table`` their ``shift_table``.
      rows: (B,) indices of the mini-batch's images.
      key: the mini-batch's augmentation key (``augment_keys``); unused without augmentation.
      augmented: None to augment as ``config`` says, or a (traced) bool: False gives the
        images as they are, with the same draws made and discarded (the clean epochs that
        end a run with ``augment_fraction`` < 1, in the same compiled program).

    Returns (B, pixels) float32: the images moved as ``make_augment(config)`` moves them. From
    the table the move of image b is ``random_shifts(key)[b]``, read as a row of the table
    (an unshifted image is its move (0, 0)), so both ways give the same numbers.
    """
    augment = make_augment(config)  # None: mini-batches as they are
    m = int(config.augment_shift)
    if from_table and not uses_shift_table(config):
        raise InvalidArgument(f"a shift table stands in for augment='shift' only, not {config.augment!r}")

    def gather(images, rows, *, key=None, augmented=None):
        if from_table:
            offsets = random_shifts(key, rows.shape[0], m)
            if augmented is not None:
                offsets = jnp.where(augmented, offsets, 0)
            return pixels_as_float(images[table_rows(rows, offsets, m)])
        x = pixels_as_float(images[rows])
        if augment is None:
            return x
        moved = augment(x, key=key)
        return moved if augmented is None else jnp.where(augmented, moved, x)

    return gather

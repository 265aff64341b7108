"""Data augmentation: every mini-batch sees its digits moved, turned and stretched a little.

A handwritten 3 stays a 3 when it is written two pixels further left, a few degrees
tilted, a little larger or slanted. Showing the network such variants of each training
image teaches it what does not matter, and it cannot memorise the 60,000 images as
they are (Simard, Steinkraus & Platt 2003 used affine and elastic distortions for MNIST).
Two families, named by ``TrainConfig.augment``:

- ``"shift"``: each image moves by a random integer (dy, dx), each in
  ``[-augment_shift, augment_shift]``; pixels that leave the 28×28 frame are lost, those
  that enter are 0 (background). No arithmetic touches a pixel: the result is exact.
- ``"affine"``: first a random rotation by θ ∈ ±``augment_rotate`` degrees, scaling by
  s ∈ 1 ± ``augment_scale`` and horizontal shear by φ ∈ ±``augment_shear`` degrees, all
  about the image centre c, resampled bilinearly; then the integer shift above.
  The output pixel at p takes the input's value at q = A⁻¹(p − c) + c with
  A = R(θ)·diag(s, s)·[[1, tan φ], [0, 1]] (coordinates (row, column)), interpolated
  between the four pixels around q, 0 outside the frame.

Everything is drawn from one PRNG key per mini-batch, inside the compiled epoch
(``jaxdigits.training``): ``augment_keys`` derives the epoch's keys from its shuffle key, so an
epoch is a pure function of the training state and a resumed run draws the same
variants. A family whose strengths are all 0 is skipped when the step is traced, so it is
bit for bit the run without augmentation. Left out: elastic distortions, and augmenting
the evaluation sets (only training mini-batches are changed).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxdigits.errors import InvalidArgument
from jaxdigits.typing import Array, PRNGKey

__all__ = [
    "AUGMENTATIONS",
    "affine_images",
    "augment_keys",
    "check_augment",
    "image_side",
    "make_augment",
    "random_affine_matrices",
    "random_shifts",
    "shift_images",
]

AUGMENTATIONS = ("none", "shift", "affine")
MAX_ROTATE, MAX_SCALE, MAX_SHEAR = 180.0, 0.5, 45.0  # degrees, fraction, degrees


def image_side(num_pixels: int) -> int:
    """The side of a square image of ``num_pixels`` pixels (784 → 28), or a ValueError."""
    side = math.isqrt(int(num_pixels))
    if side * side != num_pixels:
        raise InvalidArgument(
            f"augmentation moves pixels of square images, but the inputs have {num_pixels} pixels, "
            "which is no square; use augment='none' for these data"
        )
    return side


def check_augment(config: Any) -> None:
    """Validate ``config``'s augmentation fields (called by ``TrainConfig``); raise with the fix."""
    if not isinstance(config.augment, str) or config.augment not in AUGMENTATIONS:
        raise InvalidArgument(f"unknown augment {config.augment!r}; expected one of: {', '.join(AUGMENTATIONS)}")
    shift = config.augment_shift
    if isinstance(shift, bool) or not isinstance(shift, (int, np.integer)) or shift < 0:
        raise InvalidArgument(f"augment_shift must be a whole number of pixels >= 0, got {shift!r}")
    for field, limit in (("augment_rotate", MAX_ROTATE), ("augment_scale", MAX_SCALE), ("augment_shear", MAX_SHEAR)):
        value = getattr(config, field)
        ok = isinstance(value, (int, float, np.number)) and not isinstance(value, bool) and 0 <= value <= limit
        if not ok or (field != "augment_rotate" and value >= limit):
            bound = f"<= {limit}" if field == "augment_rotate" else f"< {limit}"
            raise InvalidArgument(f"{field} must be a number >= 0 and {bound}, got {value!r}")
    if config.augment != "none":
        side = image_side(config.sizes[0])
        if shift >= side:
            raise InvalidArgument(
                f"augment_shift {shift} would move every pixel out of the {side}×{side} image; use < {side}"
            )


def augment_keys(epoch_key: PRNGKey, n_steps: int) -> Array:
    """One key per mini-batch of the epoch, independent of the shuffle drawn from ``epoch_key``."""
    return jax.random.split(jax.random.fold_in(epoch_key, 1), n_steps)


def random_shifts(key: PRNGKey, n: int, max_shift: int) -> Array:
    """(n, 2) int moves (dy, dx), each uniform in [−max_shift, max_shift], from a mini-batch's key.

    These are the moves ``make_augment`` makes (from the second half of ``key``; the first
    half draws the affine maps), so a table of shifted copies (``shift_table``) can replay them.
    """
    _, k_shift = jax.random.split(key)
    return jax.random.randint(k_shift, (n, 2), -max_shift, max_shift + 1)


def shift_images(images: Array, offsets: Array, max_shift: int) -> Array:
    """Move each image by whole pixels, zeros entering: exact.

    Args:
      images: (B, side, side) float.
      offsets: (B, 2) integers (dy, dx), each in ``[-max_shift, max_shift]``; pixel (i, j)
        of the result is pixel (i − dy, j − dx) of the input (0 outside).
      max_shift: the static bound on |dy|, |dx|.

    In the row-by-row (flattened) image a move by (dy, dx) is a move by side·dy + dx
    places: each image is one contiguous slice of its zero-padded flat copy (a single
    ``dynamic_slice``, cheap), after which the pixels that wrapped around from the
    neighbouring row are set to 0. No arithmetic touches a pixel.
    """
    b, side, _ = images.shape
    pad = side * max_shift + max_shift
    flat = jnp.pad(images.reshape(b, side * side), ((0, 0), (pad, pad)))
    start = pad - (offsets[:, 0] * side + offsets[:, 1])
    window = jax.vmap(lambda f, s: jax.lax.dynamic_slice(f, (s,), (side * side,)))(flat, start)
    source_column = jnp.arange(side)[None, None, :] - offsets[:, 1, None, None]
    inside = (source_column >= 0) & (source_column < side)
    return jnp.where(inside, window.reshape(b, side, side), jnp.zeros((), images.dtype))


def affine_images(images: Array, matrices: Array) -> Array:
    """Resample each image through its 2×2 matrix about the centre, bilinearly, 0 outside.

    Args:
      images: (B, side, side) float.
      matrices: (B, 2, 2) A acting on (row, column) offsets from the centre; output pixel p
        reads the input at q = A⁻¹(p − c) + c, c = ((side − 1)/2, (side − 1)/2).
    """
    b, side, _ = images.shape
    c = (side - 1) / 2
    rows, cols = jnp.meshgrid(jnp.arange(side, dtype=jnp.float32), jnp.arange(side, dtype=jnp.float32), indexing="ij")
    p = jnp.stack([rows.ravel() - c, cols.ravel() - c])  # (2, side²)
    (a, b_), (c_, d) = matrices[:, 0].T, matrices[:, 1].T
    inverse = jnp.stack([jnp.stack([d, -b_], -1), jnp.stack([-c_, a], -1)], -2) / (a * d - b_ * c_)[:, None, None]
    q = jnp.einsum("bij,jn->bin", inverse, p, precision=jax.lax.Precision.HIGHEST) + c  # (B, 2, side²)
    top, left = jnp.floor(q[:, 0]), jnp.floor(q[:, 1])
    fy, fx = q[:, 0] - top, q[:, 1] - left
    flat = jnp.pad(images.reshape(b, side * side), ((0, 0), (0, 1)))  # index side² reads a 0

    def read(r, col):
        inside = (r >= 0) & (r < side) & (col >= 0) & (col < side)
        index = jnp.where(inside, r * side + col, side * side).astype(jnp.int32)
        return jnp.take_along_axis(flat, index, axis=1)

    out = (
        read(top, left) * (1 - fy) * (1 - fx)
        + read(top, left + 1) * (1 - fy) * fx
        + read(top + 1, left) * fy * (1 - fx)
        + read(top + 1, left + 1) * fy * fx
    )
    return out.reshape(b, side, side)


def random_affine_matrices(key: PRNGKey, n: int, rotate: float, scale: float, shear: float) -> Array:
    """(n, 2, 2) matrices R(θ)·s·Shear(φ), θ ∈ ±rotate°, s ∈ 1 ± scale, φ ∈ ±shear° (uniform)."""
    k_rot, k_scale, k_shear = jax.random.split(key, 3)
    theta = jnp.deg2rad(jax.random.uniform(k_rot, (n,), minval=-rotate, maxval=rotate))
    s = 1 + jax.random.uniform(k_scale, (n,), minval=-scale, maxval=scale)
    t = jnp.tan(jnp.deg2rad(jax.random.uniform(k_shear, (n,), minval=-shear, maxval=shear)))
    cos, sin = jnp.cos(theta) * s, jnp.sin(theta) * s
    # [[cos, -sin], [sin, cos]] · s · [[1, t], [0, 1]]
    return jnp.stack([jnp.stack([cos, cos * t - sin], -1), jnp.stack([sin, sin * t + cos], -1)], -2)


def make_augment(config: Any) -> Callable | None:
    """``augment(images, *, key) -> images`` for (B, pixels) float mini-batches, or None.

    None when ``config.augment`` is ``"none"`` or its strengths are all 0: the caller then
    leaves the mini-batch alone, which keeps those runs bit for bit unchanged.
    """
    resample = config.augment == "affine" and (config.augment_rotate or config.augment_scale or config.augment_shear)
    moves = config.augment in ("shift", "affine") and config.augment_shift > 0
    if not (resample or moves):
        return None
    side, m = image_side(config.sizes[0]), int(config.augment_shift)

    def augment(images, *, key):
        k_affine, _ = jax.random.split(key)
        x = images.reshape(images.shape[0], side, side)
        if resample:
            matrices = random_affine_matrices(
                k_affine, x.shape[0], config.augment_rotate, config.augment_scale, config.augment_shear
            )
            x = affine_images(x, matrices)
        if moves:
            x = shift_images(x, random_shifts(key, x.shape[0], m), m)
        return x.reshape(images.shape)

    return augment

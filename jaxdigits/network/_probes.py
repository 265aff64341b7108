"""Probes of a trained network: structure in its weights, confidence on images that are not digits.

The video asks what the hidden neurons "look for" and shows that the network is happy to
call random noise a digit. Two measurements make those claims numbers:

- ``neighbour_correlation``: view each first-layer neuron's 784 weights as a 28×28 image
  and correlate every weight with its right and lower neighbour. Independent random weights
  (the N(0, 1) initialisation) give about 0; a smooth picture gives close to 1. Pixels that
  are black in every training image get a zero gradient, so their weights keep their random
  initial values: the border of the picture stays noise (``never_lit``).
- ``confidence``: for a batch of output activations, the top output, the fraction of
  images whose top output exceeds a threshold, and which digit each image is called.
  ``probe_images`` makes the inputs: uniform and Gaussian noise, blank and inverted images.

Left out: anything that needs training (the experiments train), and measures of
"edge-detector-ness" beyond locality (``best_window_share``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxdigits.errors import InvalidArgument
from jaxdigits.typing import Array, ArrayLike, PRNGKey

__all__ = [
    "PROBES",
    "best_window_share",
    "centre_mask",
    "confidence",
    "neighbour_correlation",
    "never_lit",
    "probe_images",
    "weight_images",
]

PROBES = ("uniform_noise", "gaussian_noise", "blank", "inverted")


def centre_mask(shape: tuple[int, int], margin: int) -> np.ndarray:
    """Boolean (rows, cols) mask, True inside the central region ``margin`` pixels from each edge.

    For MNIST, ``centre_mask((28, 28), 4)`` is the 20×20 box the digits were scaled into.
    """
    rows, cols = shape
    if not 0 <= margin < min(rows, cols) / 2:
        raise InvalidArgument(f"margin must be between 0 and half the image side, got {margin} for shape {shape}")
    mask = np.zeros(shape, bool)
    mask[margin : rows - margin, margin : cols - margin] = True
    return mask


def weight_images(w: ArrayLike, shape: tuple[int, int]) -> np.ndarray:
    """First-layer weights ``w`` (pixels, neurons) as one image per neuron: (neurons, rows, cols)."""
    w = np.asarray(w)
    if w.ndim != 2 or w.shape[0] != int(np.prod(shape)):
        raise InvalidArgument(
            f"w must have shape ({int(np.prod(shape))}, neurons) for images of shape {shape}, got {w.shape}"
        )
    return w.T.reshape(w.shape[1], *shape)


def neighbour_correlation(images: ArrayLike, mask: ArrayLike | None = None) -> np.ndarray:
    """Pearson correlation between horizontally and vertically adjacent pixels.

    Args:
      images: (K, rows, cols), e.g. ``weight_images(params[0]["w"], (28, 28))``.
      mask: (rows, cols) booleans; only pairs with *both* pixels inside count (default: all).

    Returns:
      One number in [−1, 1], pooled over every pair in every image:
      corr({x[r, c]}, {x[r, c+1]}) over horizontal pairs together with vertical pairs.
      About 0 for independent noise, near 1 for smooth pictures.
    """
    images = np.asarray(images, np.float64)
    if images.ndim != 3:
        raise InvalidArgument(f"images must have shape (K, rows, cols), got {images.shape}")
    mask = np.ones(images.shape[1:], bool) if mask is None else np.asarray(mask, bool)
    across = mask[:, :-1] & mask[:, 1:]
    down = mask[:-1, :] & mask[1:, :]
    first = np.concatenate([images[:, :, :-1][:, across], images[:, :-1, :][:, down]], axis=1).ravel()
    second = np.concatenate([images[:, :, 1:][:, across], images[:, 1:, :][:, down]], axis=1).ravel()
    if first.size < 2:
        raise InvalidArgument("the mask holds no pair of neighbouring pixels")
    return float(np.corrcoef(first, second)[0, 1])


def never_lit(images: ArrayLike) -> np.ndarray:
    """Boolean (pixels,) mask of pixels that are exactly 0 in every image of ``images`` (N, pixels).

    Their first-layer weights get a gradient of exactly zero (∂C/∂w = a_pixel · δ = 0).
    """
    return np.all(np.asarray(images) == 0, axis=0)


def best_window_share(images: ArrayLike, size: int) -> np.ndarray:
    """For each image, the largest share of its squared values inside one ``size``×``size`` window.

    A localised detector (an edge in one place) puts most of its weight in one small window;
    a pattern spread over the whole digit area does not. Uniformly spread values give
    ``size² / pixels``. Returns (K,).
    """
    energy = np.asarray(images, np.float64) ** 2
    k, rows, cols = energy.shape
    total = np.cumsum(np.cumsum(np.pad(energy, ((0, 0), (1, 0), (1, 0))), axis=1), axis=2)
    windows = (
        total[:, size:, size:] - total[:, :-size, size:] - total[:, size:, :-size] + total[:, :-size, :-size]
    )  # summed-area table: every window's sum at once
    return windows.reshape(k, -1).max(axis=1) / energy.reshape(k, -1).sum(axis=1)


def probe_images(kind: str, n: int, *, key: PRNGKey, like: ArrayLike | None = None) -> Array | np.ndarray:
    """``n`` images that are not digits (or not as trained), in [0, 1], shape (n, pixels).

    Args:
      kind: ``"uniform_noise"`` (every pixel U[0, 1]), ``"gaussian_noise"`` (every pixel
        N(mean, std²) of the real images, clipped to [0, 1]), ``"blank"`` (all black) or
        ``"inverted"`` (1 − a real image: white digits become black on white).
      n: how many images.
      key: PRNG key.
      like: (M, pixels) real images: the pixel count, Gaussian statistics and the images
        to invert (needed for every kind).
    """
    if kind not in PROBES:
        raise InvalidArgument(f"unknown probe {kind!r}; expected one of: {', '.join(PROBES)}")
    like = np.asarray(like, np.float32)
    pixels = like.shape[1]
    if kind == "uniform_noise":
        return np.asarray(jax.random.uniform(key, (n, pixels)))
    if kind == "gaussian_noise":
        noise = like.mean() + like.std() * jax.random.normal(key, (n, pixels))
        return np.asarray(jnp.clip(noise, 0.0, 1.0))
    if kind == "blank":
        return np.zeros((n, pixels), np.float32)
    chosen = np.asarray(jax.random.choice(key, like.shape[0], (n,), replace=n > like.shape[0]))
    return 1.0 - like[chosen]


def confidence(outputs: ArrayLike, threshold: float = 0.9) -> dict:
    """How sure the network is, from its (N, 10) output activations.

    Returns a dict: ``top`` (N,) the largest output of each image; ``fraction_above``
    the share of images whose top output exceeds ``threshold``; ``called`` (10,) the share
    of images called each digit (argmax); ``mean_top``.
    """
    outputs = np.asarray(outputs, np.float64)
    top = outputs.max(axis=1)
    called = np.bincount(outputs.argmax(axis=1), minlength=outputs.shape[1]) / len(outputs)
    return {
        "top": top,
        "fraction_above": float(np.mean(top > threshold)),
        "called": called,
        "mean_top": float(top.mean()),
    }

"""A drawn digit made to look like an MNIST image, the way MNIST's own images were made.

LeCun et al. describe MNIST's preparation: each digit was size-normalised to fit in a
20×20 box while preserving its aspect ratio, the anti-aliasing of the normalisation giving
grey levels, and then centred in a 28×28 image by its centre of mass. ``mnist_style`` does
the same to ink drawn on a finer square canvas, so the network sees a drawing as it saw its
training data. The explorer page runs the same steps in JavaScript (``mnistStyle`` in
``explorer_page/explorer.js``); the browser tests compare the two pixel by pixel.

The steps, for ink values in [0, 1]:

1. crop to the bounding box of the pixels with ink (> 0);
2. resize the box so its longer side is 20 pixels (the other side ``⌊h·20/max(h,w) + ½⌋``,
   at least 1) by area averaging: every output pixel is the mean of the ink it covers,
   counting partly covered input pixels by the covered fraction;
3. shift it by whole pixels so that its centre of mass lands as near as it can to the
   centre of the 28×28 image (rounding ``14 − c`` half up, with pixel centres at i + ½);
   ink shifted past the border is dropped.

Left out: MNIST's own 128×128 binary scans and deslanting (the later NIST processing).
"""

from __future__ import annotations

import numpy as np

from jaxdigits.errors import InvalidArgument

__all__ = ["area_weights", "mnist_style"]

SIDE, BOX = 28, 20


def area_weights(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) matrix averaging ``n_in`` pixels into ``n_out``: rows sum to 1.

    Output pixel j covers the input interval [j·n_in/n_out, (j+1)·n_in/n_out); its weight
    on input pixel i is the length of that interval's overlap with [i, i+1), over its length.
    """
    width = n_in / n_out
    lo = np.arange(n_out)[:, None] * width
    i = np.arange(n_in)[None, :]
    overlap = np.clip(np.minimum(lo + width, i + 1) - np.maximum(lo, i), 0.0, None)
    return overlap / width


def _round_half_up(x):
    return int(np.floor(x + 0.5))


def mnist_style(ink: np.ndarray) -> np.ndarray:
    """A 28×28 MNIST-like image (float64 in [0, 1]) from square or rectangular ``ink`` (H, W).

    A blank drawing gives a blank image.
    """
    ink = np.asarray(ink, np.float64)
    if ink.ndim != 2:
        raise InvalidArgument(f"ink must be a 2-D array of values in [0, 1], got shape {ink.shape}")
    rows, cols = np.flatnonzero(ink.max(axis=1) > 0), np.flatnonzero(ink.max(axis=0) > 0)
    out = np.zeros((SIDE, SIDE))
    if rows.size == 0:
        return out
    box = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = box.shape
    scale = BOX / max(h, w)
    mh, mw = max(1, _round_half_up(h * scale)), max(1, _round_half_up(w * scale))
    small = area_weights(h, mh) @ box @ area_weights(w, mw).T
    mass = small.sum()
    cy = (small.sum(axis=1) @ (np.arange(mh) + 0.5)) / mass
    cx = (small.sum(axis=0) @ (np.arange(mw) + 0.5)) / mass
    dy, dx = _round_half_up(SIDE / 2 - cy), _round_half_up(SIDE / 2 - cx)
    for i in range(mh):
        if 0 <= i + dy < SIDE:
            for j in range(mw):
                if 0 <= j + dx < SIDE:
                    out[i + dy, j + dx] = small[i, j]
    return np.clip(out, 0.0, 1.0)

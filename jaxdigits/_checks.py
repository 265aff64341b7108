"""Argument checks shared by the public functions.

Every check runs on shapes and dtypes only, so it also works while ``jax.jit`` traces;
checks of *values* (labels in 0–9, finite pixels) run only on concrete arrays and are
skipped under tracing. Each error says what was expected and how to fix the call.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxdigits.errors import InvalidArgument, InvalidArgumentType


def name(value, choices, what):
    """Return ``value`` if it is one of ``choices``, else raise a ValueError listing them."""
    if not isinstance(value, str) or value not in choices:
        raise InvalidArgument(f"unknown {what} {value!r}; expected one of: {', '.join(sorted(choices))}")
    return value


def layer_sizes(sizes):
    """Validate a ``sizes`` tuple such as ``(784, 16, 16, 10)``."""
    try:
        sizes = tuple(sizes)
    except TypeError:
        raise InvalidArgumentType(
            f"sizes must be a sequence of layer widths like (784, 16, 16, 10), got {sizes!r}"
        ) from None
    if len(sizes) < 2 or not all(
        isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 1 for n in sizes
    ):
        raise InvalidArgument(
            f"sizes must list at least two positive integer layer widths (inputs first, outputs last), "
            f"like (784, 16, 16, 10); got {sizes!r}"
        )
    return tuple(int(n) for n in sizes)


def positive(value, what):
    """Raise unless ``value`` is a finite number > 0."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.number))
        or not np.isfinite(value)
        or value <= 0
    ):
        raise InvalidArgument(f"{what} must be a finite number > 0, got {value!r}")
    return value


def params_structure(params):
    """Check that ``params`` is a list of {"w": (n_in, n_out), "b": (n_out,)} layers that chain."""
    if not isinstance(params, (list, tuple)) or not params:
        raise InvalidArgumentType(
            "params must be a non-empty list of {'w': (n_in, n_out), 'b': (n_out,)} dicts, "
            f"as made by init_params; got {type(params).__name__}"
        )
    for i, layer in enumerate(params):
        if not isinstance(layer, dict) or set(layer) != {"w", "b"}:
            keys = sorted(layer) if isinstance(layer, dict) else type(layer).__name__
            raise InvalidArgumentType(f"params[{i}] must be a dict with exactly the keys 'w' and 'b', got {keys}")
        w, b = layer["w"], layer["b"]
        if jnp.ndim(w) != 2 or jnp.ndim(b) != 1 or jnp.shape(b)[0] != jnp.shape(w)[1]:
            raise InvalidArgument(
                f"params[{i}] must hold w of shape (n_in, n_out) and b of shape (n_out,), "
                f"got w {jnp.shape(w)} and b {jnp.shape(b)}"
            )
        if i and jnp.shape(w)[0] != jnp.shape(params[i - 1]["w"])[1]:
            raise InvalidArgument(
                f"params[{i}]['w'] has {jnp.shape(w)[0]} inputs but layer {i - 1} has "
                f"{jnp.shape(params[i - 1]['w'])[1]} outputs; consecutive layers must chain"
            )
        for leaf in (w, b):
            if not jnp.issubdtype(jnp.result_type(leaf), jnp.floating):
                raise InvalidArgumentType(f"params[{i}] must be floating point, got dtype {jnp.result_type(leaf)}")


def params_and_images(params, images):
    """Check params, then that images are floating (N, n_in) or (n_in,) arrays."""
    params_structure(params)
    n_in = jnp.shape(params[0]["w"])[0]
    shape = jnp.shape(images)
    if len(shape) not in (1, 2) or shape[-1] != n_in:
        raise InvalidArgument(
            f"images must have shape (N, {n_in}) or ({n_in},) for this network (each image "
            f"flattened to {n_in} pixels), got shape {shape}"
        )
    if not jnp.issubdtype(jnp.result_type(images), jnp.floating):
        raise InvalidArgumentType(
            f"images must be floating point pixels in [0, 1], got dtype {jnp.result_type(images)}; "
            "convert with images.astype(np.float32) / 255"
        )


def labels(labels, images, n_classes):
    """Check labels are integers of shape (N,) (or () for one image) matching the images."""
    want = jnp.shape(images)[:-1]
    if jnp.shape(labels) != want:
        raise InvalidArgument(
            f"labels must have shape {want} to match images of shape {jnp.shape(images)}, got {jnp.shape(labels)}"
        )
    if not jnp.issubdtype(jnp.result_type(labels), jnp.integer):
        raise InvalidArgumentType(
            f"labels must be integer digit classes 0..{n_classes - 1}, got dtype {jnp.result_type(labels)}"
        )
    if not isinstance(labels, jax.core.Tracer):
        values = np.asarray(labels)
        if values.size and (values.min() < 0 or values.max() >= n_classes):
            raise InvalidArgument(
                f"labels must lie in 0..{n_classes - 1} (one class per output neuron), "
                f"found values from {values.min()} to {values.max()}"
            )


def pixels(images, what="images"):
    """Check concrete pixel values are finite and in [0, 1]."""
    values = np.asarray(images)
    if not np.all(np.isfinite(values)):
        raise InvalidArgument(f"{what} contain NaN or infinite pixels; pixels must be finite values in [0, 1]")
    if values.size and (values.min() < 0 or values.max() > 1):
        raise InvalidArgument(
            f"{what} pixels must lie in [0, 1], found values from {values.min()} to {values.max()}; "
            "divide raw 0-255 bytes by 255"
        )

"""The video's network as a pure function of its parameters.

A layer turns the activations ``a`` of the layer before into ``activation(a @ w + b)``.
The video writes this as ``σ(W a + b)`` with ``W`` of shape (outputs, inputs); here a
batch of images is a matrix with one image per *row*, so the code computes ``x @ w`` with
``w`` of shape (inputs, outputs). The numbers are the same, only transposed.

Parameters are a plain pytree: a list with one ``{"w": (n_in, n_out), "b": (n_out,)}``
dict per layer. Nothing here holds state; ``predict`` is the whole network.

Left out on purpose: anything beyond fully connected layers (no convolution, dropout or
normalisation) — the point is the 13,002-parameter network of the video.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxdigits import _checks
from jaxdigits.precision import matmul
from jaxdigits.typing import Array, ArrayLike, Network, Params, PRNGKey

__all__ = [
    "ACTIVATIONS",
    "INITS",
    "VIDEO_SIZES",
    "hidden_activations",
    "init_params",
    "layer_sizes_of",
    "num_params",
    "output_sums",
    "predict",
]

VIDEO_SIZES = (784, 16, 16, 10)

ACTIVATIONS = {
    "sigmoid": jax.nn.sigmoid,
    "relu": jax.nn.relu,
    "tanh": jnp.tanh,
    "gelu": jax.nn.gelu,  # x·Φ(x) (tanh approximation): relu's shape, smooth, never quite dead
    # The on/off neuron: its derivative is 0 wherever it exists, so gradient descent
    # gets no signal (the video's argument for why the cost must be smooth).
    "step": lambda z: jnp.where(z > 0, 1.0, 0.0).astype(z.dtype),
}

INITS = ("normal", "scaled", "he")


def init_params(
    key: PRNGKey, sizes: tuple[int, ...] = VIDEO_SIZES, init: str = "normal", *, dtype: jnp.dtype = jnp.float32
) -> Network:
    """Random weights and biases for a fully connected network.

    Args:
      key: a ``jax.random`` key; the same key gives the same network.
      sizes: neurons per layer, inputs first; ``(784, 16, 16, 10)`` is the video's.
      init: ``"normal"`` — every weight and bias drawn from N(0, 1), as in the video and
        Nielsen's book; ``"scaled"`` — weights from N(0, 1/n_in) (LeCun), biases 0, so each
        weighted sum starts with unit variance; ``"he"`` — weights from N(0, 2/n_in), biases
        0, the same idea for relu.
      dtype: floating dtype of the parameters.

    Returns:
      A list of ``{"w": (n_in, n_out), "b": (n_out,)}``, one per layer. For the video's
      sizes it holds 784·16+16 + 16·16+16 + 16·10+10 = 13,002 numbers.
    """
    sizes = _checks.layer_sizes(sizes)
    _checks.name(init, INITS, "init")
    params = []
    for layer_key, (n_in, n_out) in zip(jax.random.split(key, len(sizes) - 1), zip(sizes[:-1], sizes[1:])):
        w_key, b_key = jax.random.split(layer_key)
        w = jax.random.normal(w_key, (n_in, n_out), dtype)
        if init == "normal":
            b = jax.random.normal(b_key, (n_out,), dtype)
        else:
            gain = 1.0 if init == "scaled" else 2.0
            w = w * jnp.sqrt(jnp.asarray(gain / n_in, dtype))
            b = jnp.zeros((n_out,), dtype)
        params.append({"w": w, "b": b})
    return params


def num_params(params: Params) -> int:
    """Total number of weights and biases in a parameter pytree."""
    return sum(leaf.size for leaf in jax.tree.leaves(params))


def layer_sizes_of(params: Network) -> tuple[int, ...]:
    """The ``sizes`` tuple a parameter list was made with, e.g. ``(784, 16, 16, 10)``."""
    return (params[0]["w"].shape[0],) + tuple(layer["w"].shape[1] for layer in params)


def _forward(params, images, activation):
    """``(hidden, sums)``: every hidden layer's activations, then the output layer's weighted sums."""
    act = ACTIVATIONS[_checks.name(activation, ACTIVATIONS, "activation")]
    _checks.params_and_images(params, images)
    a, hidden = images, []
    for layer in params[:-1]:
        a = act(matmul(a, layer["w"]) + layer["b"])
        hidden.append(a)
    return hidden, matmul(a, params[-1]["w"]) + params[-1]["b"]


def output_sums(params: Network, images: ArrayLike, activation: str = "sigmoid") -> Array:
    """Weighted sums ``z = a @ w + b`` of the output layer (the logits), before squashing.

    Shapes as in ``predict``. Cross-entropy and ``accuracy`` read these.
    """
    return _forward(params, images, activation)[1]


def hidden_activations(params: Network, images: ArrayLike, activation: str = "sigmoid") -> list[Array]:
    """Activations of every hidden layer: a list of (N, n) arrays, one per hidden layer."""
    return _forward(params, images, activation)[0]


def predict(params: Network, images: ArrayLike, activation: str = "sigmoid") -> Array:
    """The network's output activations: every layer computes ``activation(a @ w + b)``.

    Args:
      params: list of ``{"w", "b"}`` layers from ``init_params``.
      images: (N, 784) pixels in [0, 1], or one image (784,).
      activation: ``"sigmoid"`` (the video's), ``"relu"``, ``"tanh"`` or ``"step"``.

    Returns:
      (N, 10) output activations, or (10,) for one image. With sigmoid each is in (0, 1):
      how strongly the network believes the image is that digit.
    """
    return ACTIVATIONS[activation](output_sums(params, images, activation))

"""Backpropagation written out by hand: an independent reference for ``jax.grad``.

This transcribes the four backpropagation equations (Nielsen, chapter 2) for a sigmoid
network and the video's cost C = mean_x Σ_j (a_j − y_j)². For layer l with weighted sums
z^l = a^{l−1} W^l + b^l and activations a^l = σ(z^l):

    δ^L = 2 (a^L − y) ⊙ σ'(z^L)              error at the output layer
    δ^l = (δ^{l+1} W^{l+1}ᵀ) ⊙ σ'(z^l)        error moved back one layer
    ∂C/∂b^l = mean over images of δ^l
    ∂C/∂W^l = (a^{l−1})ᵀ δ^l / N

with σ'(z) = σ(z)(1 − σ(z)). The code uses no automatic differentiation, so agreement with
``jax.grad(mse_cost)`` (tested) checks both.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxdigits import _checks
from jaxdigits.precision import matmul
from jaxdigits.typing import ArrayLike, Network

__all__ = ["backprop"]


def _sigmoid(z):
    return 1.0 / (1.0 + jnp.exp(-z))


def backprop(params: Network, images: ArrayLike, labels: ArrayLike) -> Network:
    """Gradient of ``mse_cost`` (sigmoid activation) by the backpropagation equations.

    Args:
      params: list of ``{"w": (n_in, n_out), "b": (n_out,)}`` layers.
      images: (N, n_in) pixels.
      labels: (N,) integer classes.

    Returns:
      The gradient, with the same pytree structure and shapes as ``params``.
    """
    _checks.params_and_images(params, images)
    images = jnp.atleast_2d(images)
    labels = jnp.atleast_1d(labels)
    n_out = jnp.shape(params[-1]["b"])[0]
    _checks.labels(labels, images, n_out)

    # Forward pass, remembering every layer's activations (a) and weighted sums (z).
    activations, zs = [images], []
    for layer in params:
        zs.append(matmul(activations[-1], layer["w"]) + layer["b"])
        activations.append(_sigmoid(zs[-1]))

    n = images.shape[0]
    desired = jax.nn.one_hot(labels, n_out, dtype=activations[-1].dtype)
    sigmoid_prime = [a * (1 - a) for a in activations[1:]]

    # Backward pass: start with the output error, move it back one layer at a time.
    delta = 2 * (activations[-1] - desired) * sigmoid_prime[-1]
    grads = [None] * len(params)
    for l in range(len(params) - 1, -1, -1):
        grads[l] = {"w": matmul(activations[l].T, delta) / n, "b": jnp.sum(delta, axis=0) / n}
        if l:
            delta = matmul(delta, params[l]["w"].T) * sigmoid_prime[l - 1]
    return grads

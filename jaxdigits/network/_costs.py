"""How bad the network is: the cost function that gradient descent minimises.

The video's cost for one image is the sum, over the 10 output neurons, of the squared
difference between what the network outputs and what we wanted (1 for the right digit,
0 for the rest). The cost of the network is that number averaged over the training
images — one number that depends on all 13,002 weights and biases.

Also here: softmax cross-entropy (what modern networks minimise instead) and accuracy
(what we actually care about, but which has no useful gradient).
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from jaxdigits import _checks
from jaxdigits.network._model import output_sums, predict
from jaxdigits.typing import Array, ArrayLike, Network

__all__ = ["COSTS", "COST_FUNCTIONS", "accuracy", "cost_function", "cross_entropy_cost", "mse_cost"]

COSTS = ("mse", "cross_entropy")


def _one_hot(params, images, labels):
    n_out = jnp.shape(params[-1]["b"])[0]
    _checks.labels(labels, images, n_out)
    return jax.nn.one_hot(labels, n_out, dtype=jnp.result_type(params[-1]["b"]))


def mse_cost(params: Network, images: ArrayLike, labels: ArrayLike, activation: str = "sigmoid") -> Array:
    """The video's cost: C = mean over images of Σ_j (a_j − y_j)².

    Args:
      params: network from ``init_params``.
      images: (N, 784) pixels in [0, 1] (or one image, (784,)).
      labels: (N,) integer digits 0–9 (or a scalar); y = one_hot(label).
      activation: hidden and output activation, as in ``predict``.

    Returns:
      A scalar. A random network scores about 3–4 with sigmoid; a perfect one 0.
      (Nielsen's book uses ½ of this, so its learning rate η matches η/2 here.)
    """
    desired = _one_hot(params, images, labels)
    outputs = predict(params, images, activation)
    return jnp.mean(jnp.sum((outputs - desired) ** 2, axis=-1))


def cross_entropy_cost(params: Network, images: ArrayLike, labels: ArrayLike, activation: str = "sigmoid") -> Array:
    """Softmax cross-entropy: C = mean over images of −log softmax(z)_label.

    ``z`` are the output layer's weighted sums (``output_sums``), so the output activation
    is replaced by a softmax that turns them into probabilities over the 10 digits.
    Arguments as in ``mse_cost``.
    """
    desired = _one_hot(params, images, labels)
    log_probs = jax.nn.log_softmax(output_sums(params, images, activation), axis=-1)
    return -jnp.mean(jnp.sum(desired * log_probs, axis=-1))


def accuracy(params: Network, images: ArrayLike, labels: ArrayLike, activation: str = "sigmoid") -> Array:
    """Fraction of images whose largest output weighted sum is at the right digit.

    For increasing activations (sigmoid, tanh) this is the brightest output neuron.
    """
    _checks.labels(labels, images, jnp.shape(params[-1]["b"])[0])
    guesses = jnp.argmax(output_sums(params, images, activation), axis=-1)
    return jnp.mean(guesses == labels)


COST_FUNCTIONS = {"mse": mse_cost, "cross_entropy": cross_entropy_cost}


def cost_function(name: str) -> Callable[..., Array]:
    """The cost function called ``name`` ("mse" or "cross_entropy")."""
    return COST_FUNCTIONS[_checks.name(name, COST_FUNCTIONS, "cost")]

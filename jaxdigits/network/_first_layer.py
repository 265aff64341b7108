"""The first layer, computed apart: where nearly all of the network's arithmetic is.

Of the video's 13,002 parameters, 12,560 are the first layer's weights, and of the work of
one image nearly all is the product of its 784 pixels with them. Two tricks follow, both
from cutting the network after its first layer: the hidden activations σ(x·W₁ + b₁) are the
inputs of the rest of the network, whose cost is the same function of them.

**A gradient that runs fast** (``inputs_times_weights``, ``batch_cost``): the weight
gradient of the first layer is xᵀ·g for the cotangent g of the product. XLA's CPU backend
runs the dot it emits for that (contracting the batch axis of both operands) on a slow
generic path; ``inputs_times_weights`` asks for (gᵀ·x)ᵀ instead, a plain product. Training
and curve training differentiate ``batch_cost``, which sends the first layer through it.

**The first layer once per plane or path** (``first_layer_span``, ``span_metrics``): every
network of a landscape plane or a Bézier path is a linear combination of a few parameter
sets, θ(c) = θ₀ + Σₖ cₖ θₖ (a plane: θ₀ the centre, θₖ the directions, c the offsets; a
path: no θ₀, θₖ the control points, c the Bernstein weights). The first layer's weighted
sums are linear in the parameters, so

    X·(W₀ + Σₖ cₖ Wₖ) + (b₀ + Σₖ cₖ bₖ) = (X·W₀ + b₀) + Σₖ cₖ (X·Wₖ + bₖ),

and the products with the 784-pixel images are computed once for a whole grid or path, not
once per point. The sums are kept transposed (neurons × images), so the per-point 16×16 and
16×10 layers are wide (16×16)·(16×N) products and the activations vectorise along the
images. Each point then costs a few multiply-adds per hidden neuron and the small layers:
about 25× fewer operations than the whole network. Sigmoid is computed there as
½·tanh(z/2) + ½, the same function without an exponential or a division (~1.5× faster on
XLA:CPU, ``benchmarks/NOTES-landscape.md``); the tests compare both tricks with the plain
network.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxdigits import _checks
from jaxdigits.network._costs import COSTS
from jaxdigits.network._model import ACTIVATIONS
from jaxdigits.precision import einsum, matmul, tensordot
from jaxdigits.typing import Array, ArrayLike, Network

__all__ = ["FirstLayerSpan", "batch_cost", "first_layer_span", "inputs_times_weights", "span_metrics"]


@jax.custom_vjp
def inputs_times_weights(images: Array, weights: Array) -> Array:
    """``images @ weights`` — the first layer's product — with a weight gradient that runs fast.

    The value and the gradient are the usual ones: ∂C/∂W = xᵀ·g for the cotangent g of the
    product (shape (B, n_out)). Only how XLA is asked to compute xᵀ·g differs: left to
    itself it emits one dot contracting the batch axis of both operands, which XLA's CPU
    backend runs on a slow generic path (100–270 µs per step at batch 128,
    ``benchmarks/NOTES.md``). Here it is (gᵀ·x)ᵀ: a plain (n_out, B) @ (B, pixels) product,
    which goes to YNNPACK, then a small transpose. The optimisation barriers keep XLA from
    folding the two transposes back into the slow form. Only the rounding of the sum over
    the mini-batch changes. No gradient flows to the images: they are data.
    """
    return matmul(images, weights)


def _inputs_times_weights_fwd(images, weights):
    return matmul(images, weights), images


def _inputs_times_weights_bwd(images, g):
    g_t = jax.lax.optimization_barrier(g.T)  # (n_out, B), laid out row by row
    return None, jax.lax.optimization_barrier(matmul(g_t, images)).T


inputs_times_weights.defvjp(_inputs_times_weights_fwd, _inputs_times_weights_bwd)


def batch_cost(cost: Callable, params: Network, images: Array, labels: Array, activation: str) -> Array:
    """``cost(params, images, labels, activation)``, the first layer through ``inputs_times_weights``.

    Same numbers forward; the weight gradient of layer 1 is computed as
    ``inputs_times_weights`` says. A one-layer network is passed through unchanged.
    """
    if len(params) == 1:
        return cost(params, images, labels, activation)
    first = params[0]
    hidden = ACTIVATIONS[activation](inputs_times_weights(images, first["w"]) + first["b"])
    return cost(params[1:], hidden, labels, activation)


class FirstLayerSpan(NamedTuple):
    """What ``span_metrics`` needs for every network θ₀ + Σₖ cₖ θₖ, computed once.

    ``origin_sums``: (n1, N) X·W₀ + b₀, or None without θ₀; ``sums``: (K, n1, N) X·Wₖ + bₖ;
    ``origin_rest``/``rest``: the layers after the first, of θ₀ (or None) and stacked over k;
    ``labels`` (N,) and ``desired`` (n_out, N), the one-hot targets.
    """

    origin_sums: Array | None
    sums: Array
    origin_rest: Network | None
    rest: Network
    labels: Array
    desired: Array


def first_layer_span(
    images: ArrayLike, labels: ArrayLike, basis: Network, origin: Network | None = None
) -> FirstLayerSpan:
    """The products with the images of every network θ₀ + Σₖ cₖ θₖ, once (see the module docstring).

    Args:
      images, labels: (N, pixels) floats and (N,) integer classes.
      basis: the θₖ, K networks stacked along a leading axis of every leaf.
      origin: θ₀, one network (a plane's centre), or None (a path's control points).

    Returns:
      A ``FirstLayerSpan``, for ``span_metrics``; call it inside the jitted program.
    """
    first = basis[0]
    sums = einsum("ni,kij->kjn", images, first["w"]) + first["b"][:, :, None]  # (K, n1, N)
    origin_sums = origin_rest = None
    if origin is not None:
        origin_sums = (matmul(images, origin[0]["w"]) + origin[0]["b"][None, :]).T  # (n1, N)
        origin_rest = origin[1:]
    n_out = basis[-1]["b"].shape[-1]
    desired = jax.nn.one_hot(labels, n_out, dtype=sums.dtype).T  # (n_out, N)
    return FirstLayerSpan(origin_sums, sums, origin_rest, basis[1:], labels, desired)


def span_metrics(
    coefficients: Array, span: FirstLayerSpan, *, cost: str, activation: str, with_accuracy: bool = True
) -> tuple[Array, Array]:
    """``(cost, accuracy)`` over the span's images of the network θ₀ + Σₖ coefficients[k]·θₖ.

    ``cost`` is ``"mse"`` or ``"cross_entropy"`` (the formulas of ``jaxdigits.network``'s
    costs, on the output sums); without ``with_accuracy`` the second value is a stand-in to
    drop. Works under ``jit`` and ``vmap``/``lax.map`` over ``coefficients``.
    """
    _checks.name(cost, COSTS, "cost")
    act = _FAST_ACTIVATIONS.get(activation, ACTIVATIONS[_checks.name(activation, ACTIVATIONS, "activation")])
    # Written out (K is small) so XLA fuses it with the activation: one pass over memory.
    combined = sum(coefficients[k] * span.sums[k] for k in range(span.sums.shape[0]))
    a = act(combined if span.origin_sums is None else span.origin_sums + combined)
    net = jax.tree.map(lambda stacked: tensordot(coefficients, stacked, axes=1), span.rest)
    if span.origin_rest is not None:
        net = jax.tree.map(jnp.add, span.origin_rest, net)
    for layer in net[:-1]:
        a = act(matmul(layer["w"].T, a) + layer["b"][:, None])
    sums = matmul(net[-1]["w"].T, a) + net[-1]["b"][:, None]  # the output layer's weighted sums z, (n_out, N)
    value = _cost_of_sums(sums, span.desired, cost, act)
    if not with_accuracy:
        # sums[0, 0] goes out in accuracy's place and is dropped: a second use of the
        # output sums keeps XLA:CPU from folding the whole point into one YNNPACK fusion,
        # which runs ~25 % slower (benchmarks/NOTES-landscape.md, "the layout of the per-point arrays").
        return value, sums[0, 0]
    return value, jnp.mean(jnp.argmax(sums, axis=0) == span.labels)


def _sigmoid_via_tanh(z):
    """σ(z) = 1/(1 + e⁻ᶻ) computed as ½·tanh(z/2) + ½: the same function, cheaper on XLA:CPU."""
    return 0.5 * jnp.tanh(0.5 * z) + 0.5


_FAST_ACTIVATIONS = {"sigmoid": _sigmoid_via_tanh}


def _cost_of_sums(sums, desired, cost, act):
    """The costs' formulas on the output sums z (n_out, N), one-hot targets made once."""
    if cost == "mse":
        return jnp.mean(jnp.sum((act(sums) - desired) ** 2, axis=0))
    return -jnp.mean(jnp.sum(desired * jax.nn.log_softmax(sums, axis=0), axis=0))

"""Asking the network to draw: gradient descent on the input image instead of the parameters.

Training moves the 13,002 parameters downhill on the cost with the images fixed. Here the
parameters are fixed and the 784 pixels move downhill on

    E(x) = −log softmax(z(x))_digit + λ_smooth · S(x) + λ_size · mean(x²)

where z are the output layer's weighted sums: the first term is small only when the chosen
output is far above all the others. (On the sigmoid outputs themselves, the video's cost,
the gradient vanishes as soon as an output saturates.) ``S`` is the mean squared difference
between neighbouring pixels (a smoothness penalty; real strokes are smooth) and mean(x²)
keeps the ink small. Each step follows ∇ₓE with adam (per-pixel step sizes; with N(0, 1)
weights most hidden neurons saturate and the raw gradient spans many orders of magnitude)
and clips every pixel back into [0, 1] (projected gradient descent). The landscape over
pixels has flat regions and local minima: from bright noise the descent can get stuck.

If the network had learned what a digit looks like, the image that convinces it most
would look like that digit. The video's point is that it does not.

Left out: fancier image priors (jitter, blurring, frequency penalties) used to make such
pictures prettier for large networks.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import optax

from jaxdigits import _checks
from jaxdigits.network._model import output_sums
from jaxdigits.typing import Array, ArrayLike, Network

__all__ = ["draw_digits", "drawing_objective", "smoothness"]


def smoothness(image: Array, shape: tuple[int, int]) -> Array:
    """Mean squared difference between horizontally and vertically adjacent pixels of one image."""
    x = jnp.reshape(image, shape)
    return (jnp.mean((x[:, 1:] - x[:, :-1]) ** 2) + jnp.mean((x[1:, :] - x[:-1, :]) ** 2)) / 2


def drawing_objective(
    image: Array,
    params: Network,
    digit: int | Array,
    shape: tuple[int, int],
    smooth: float = 0.0,
    size: float = 0.0,
    activation: str = "sigmoid",
) -> Array:
    """E(x) for one ``image`` (pixels,): −log softmax(z)_digit plus the two penalties."""
    sums = output_sums(params, image, activation)
    fit = -jax.nn.log_softmax(sums)[digit]
    return fit + smooth * smoothness(image, shape) + size * jnp.mean(image**2)


@functools.partial(jax.jit, static_argnames=("shape", "steps", "activation"))
def draw_digits(
    params: Network,
    digits: ArrayLike,
    start: ArrayLike,
    *,
    shape: tuple[int, int],
    steps: int = 2000,
    learning_rate: float = 0.01,
    smooth: float = 0.0,
    size: float = 0.0,
    activation: str = "sigmoid",
) -> Array:
    """Gradient descent on the pixels: the image each output of the network likes best.

    Args:
      params: a trained network (fixed).
      digits: (D,) integer outputs to maximise, one image each (e.g. ``jnp.arange(10)``).
      start: (D, pixels) starting images in [0, 1] (blank, noise, ...).
      shape: image shape, e.g. (28, 28), for the smoothness penalty.
      steps: number of steps (one compiled ``lax.scan``).
      learning_rate: adam's initial step size on the pixels, decayed to 0 by a cosine.
      smooth, size: penalty weights λ_smooth and λ_size (0: the bare network's wish).

    Returns:
      (images (D, pixels) in [0, 1], history (D, steps) of E(x) before each step).
    """
    _checks.params_and_images(params, start)

    optimizer = optax.adam(optax.cosine_decay_schedule(learning_rate, steps))

    def one(digit, image):
        value_and_grad = jax.value_and_grad(drawing_objective)

        def step(carry, _):
            x, state = carry
            value, grad = value_and_grad(x, params, digit, shape, smooth, size, activation)
            updates, state = optimizer.update(grad, state)
            return (jnp.clip(x + updates, 0.0, 1.0), state), value

        (image, _), history = jax.lax.scan(step, (image, optimizer.init(image)), None, length=steps)
        return image, history

    images, history = jax.vmap(one)(digits, start)
    return images, history

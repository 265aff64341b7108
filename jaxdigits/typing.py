"""The names of what travels between jaxdigits' functions, for type hints and for reading.

JAX code passes pytrees around, and a function's signature says little unless the pytrees
have names. These are those names; shapes stay in the docstrings, in words.

- ``Params``: any pytree of arrays that a model is a function of. For the video's network
  it is ``Network``, a list of ``{"w": (n_in, n_out), "b": (n_out,)}`` layers; for a Flax,
  Equinox or Haiku model it is whatever that library's parameter pytree is.
- ``Batch``: a pytree of arrays sharing a leading example axis, e.g. ``(images, labels)``.
- ``LossFn``: ``loss(params, batch) -> scalar``, the mean cost over one batch, the way
  JAX's own examples write a model's objective. The landscape tools take any ``LossFn``.
- ``PRNGKey``: a ``jax.random.key``.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import jax
import numpy as np

__all__ = ["Array", "ArrayLike", "Batch", "Layer", "LossFn", "Network", "PRNGKey", "Params"]

Array = jax.Array
ArrayLike = jax.typing.ArrayLike  # a JAX or NumPy array, or a Python/NumPy scalar
PRNGKey = jax.Array
Params = Any  # a pytree whose leaves are arrays
Batch = Any  # a pytree of arrays with a leading example axis
Layer = dict[str, Array | np.ndarray]  # {"w": (n_in, n_out), "b": (n_out,)}
Network = list[Layer]  # the video's network: one Layer per layer, inputs first


@runtime_checkable
class LossFn(Protocol):
    """``loss(params, batch) -> scalar``: the mean cost of a model over one batch."""

    def __call__(self, params: Params, batch: Batch, /) -> Array: ...

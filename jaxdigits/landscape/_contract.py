"""The contract with any model: ``loss(params, batch) -> scalar``, its data, and a door for fast paths.

The landscape tools know nothing about a model but this:

- ``loss(params, batch)`` returns the mean cost over one batch, a scalar (as JAX's own examples
  write an objective). ``params`` is any pytree of arrays: Flax NNX state from ``nnx.split``,
  Flax Linen ``variables["params"]``, Equinox arrays from ``eqx.partition``, Haiku params, plain
  dicts and lists. What does not move (BatchNorm statistics, RNG keys, frozen layers) is closed
  over by ``loss``.
- ``data`` is one batch — a pytree of arrays that share a leading example axis, e.g.
  ``(images, labels)`` — or an iterable of such batches (a dataset larger than the device):
  anything iterable that is not itself a pytree of arrays, such as a generator, a data loader,
  or ``Batches(list_of_batches)``.
- The cost of a dataset is the example-weighted mean over its batches,
  C = Σ_b n_b·loss(θ, batch_b) / Σ_b n_b, exactly: a short last batch counts by its size.
- Extra ``metrics`` (e.g. accuracy) are functions ``metric(params, batch) -> scalar``,
  averaged over the data the same way.

A loss may also carry a faster way to evaluate a whole plane or path: ``SpanLoss``. Every
point of a plane or path is θ(c) = θ₀ + Σₖ cₖ θₖ (a plane: θ₀ the centre, θₖ the directions;
a path: no θ₀, θₖ the control points, c the Bernstein weights). A ``SpanLoss`` computes, once
per batch, what every point shares (``span``), then the cost at each c (``span_values``). The
video's network has one (``jaxdigits.network.VideoLoss``: the first layer's products with the
images, once); grids and paths take it without being asked, and the generic evaluation stays
its reference.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Protocol, runtime_checkable

import jax
import numpy as np

from jaxdigits.errors import InvalidArgument, InvalidArgumentType
from jaxdigits.typing import Array, Batch, LossFn, Params

__all__ = [
    "Batches",
    "SpanLoss",
    "batch_size_of",
    "check_data",
    "check_loss",
    "describe_loss",
    "first_batch",
    "is_batch",
]


@runtime_checkable
class SpanLoss(Protocol):
    """A loss that evaluates every point θ₀ + Σₖ cₖ θₖ of a plane or path faster than one by one.

    ``span_supports(params, metrics)``: True when this loss can take these parameters and compute
    every metric asked for (a ``{name: function}`` dict); otherwise the generic path runs.
    ``span(batch, basis, origin)``: inside the compiled program, what every point shares, once
    per batch; ``basis`` holds the K parameter sets θₖ stacked on a leading axis of every leaf,
    ``origin`` is θ₀ or None.
    ``span_values(coefficients, span, metrics)``: ``{"cost": scalar, name: scalar, …}`` at the
    point with coefficients (K,); ``metrics`` are the names asked for. Extra keys are computed
    and dropped (a loss may need an output to keep XLA from fusing too much).
    """

    def __call__(self, params: Params, batch: Batch, /) -> Array: ...

    def span_supports(self, params: Params, metrics: Mapping[str, Callable]) -> bool: ...

    def span(self, batch: Batch, basis: Params, origin: Params | None) -> Any: ...

    def span_values(self, coefficients: Array, span: Any, metrics: tuple[str, ...]) -> dict[str, Array]: ...


class Batches:
    """An iterable of batches that can be passed over more than once.

    ``Batches(list_of_batches)`` (a list is otherwise read as *one* batch, a pytree), or
    ``Batches(make_iterator)``, a function of no arguments that returns a fresh iterator of
    batches each time (e.g. ``lambda: iter(loader)``).
    """

    def __init__(self, source: Iterable | Callable[[], Iterator]):
        self.source = source

    def __iter__(self) -> Iterator:
        return iter(self.source() if callable(self.source) else self.source)


def is_batch(data: Any) -> bool:
    """True when ``data`` is one batch (a pytree of arrays), False for an iterable of batches."""
    if isinstance(data, (Batches, Iterator)):
        return False
    leaves = jax.tree.leaves(data)
    return bool(leaves) and all(hasattr(leaf, "shape") and hasattr(leaf, "dtype") for leaf in leaves)


def batch_size_of(batch: Batch, what: str = "batch") -> int:
    """The examples in one batch: the common length of every leaf's leading axis."""
    leaves = jax.tree.leaves_with_path(batch)
    if not leaves:
        raise InvalidArgument(f"the {what} holds no arrays")
    lengths = {}
    for path, leaf in leaves:
        if np.ndim(leaf) < 1:
            raise InvalidArgument(
                f"{what}{jax.tree_util.keystr(path)} is a scalar; every leaf of a batch needs a leading example axis"
            )
        lengths[jax.tree_util.keystr(path)] = int(np.shape(leaf)[0])
    if len(set(lengths.values())) > 1:
        raise InvalidArgument(f"the leaves of a {what} must share their leading (example) axis, got lengths {lengths}")
    n = next(iter(lengths.values()))
    if n < 1:
        raise InvalidArgument(f"the {what} holds no examples")
    return n


def check_data(data: Any) -> Iterator[tuple[Batch, int]]:
    """``(batch, examples)`` for every batch of ``data``; raises on an empty iterable or bad batches."""
    if is_batch(data):
        yield data, batch_size_of(data, "data")
        return
    if not isinstance(data, Iterable):
        raise InvalidArgumentType(
            f"data must be a pytree of arrays (one batch) or an iterable of batches, got {type(data).__name__}"
        )
    seen = 0
    for i, batch in enumerate(data):
        if not is_batch(batch):
            raise InvalidArgumentType(f"batch {i} of the data is not a pytree of arrays: {type(batch).__name__}")
        seen += 1
        yield batch, batch_size_of(batch, f"batch {i}")
    if not seen:
        raise InvalidArgument("the data iterable gave no batches: there is nothing to average the cost over")


def first_batch(data: Any) -> Batch:
    """The first batch of ``data`` (for shapes); for a one-shot iterator, use ``check_data`` instead."""
    if is_batch(data):
        return data
    if isinstance(data, Iterator):
        raise InvalidArgument(
            "data is a one-shot iterator, and this needs to pass over it more than once: wrap a list of "
            "batches as landscape.Batches(batches), or give a function that starts it again, Batches(lambda: ...)"
        )
    return next(check_data(data))[0]


def check_loss(loss: LossFn, params: Params, batch: Batch, metrics: Mapping[str, Callable] | None = None) -> None:
    """Raise unless ``loss`` (and every metric) maps ``(params, batch)`` to a real scalar."""
    if not callable(loss):
        raise InvalidArgumentType(f"loss must be a function loss(params, batch) -> scalar, got {type(loss).__name__}")
    for name, fn in {"loss": loss, **{f"metric {k!r}": f for k, f in (metrics or {}).items()}}.items():
        out = jax.eval_shape(fn, params, batch)
        if not (hasattr(out, "shape") and out.shape == () and np.issubdtype(out.dtype, np.floating)):
            got = f"shape {out.shape}, dtype {out.dtype}" if hasattr(out, "shape") else type(out).__name__
            raise InvalidArgument(
                f"the {name} must return one real number (the mean over the batch), got {got}; "
                "reduce it with jnp.mean over the examples"
            )


def describe_loss(loss: LossFn) -> str:
    """A line that names the loss, for files and logs: its ``repr`` for objects, else its qualified name."""
    if hasattr(loss, "span_supports") or not hasattr(loss, "__qualname__"):
        return repr(loss)
    return f"{getattr(loss, '__module__', '?')}.{loss.__qualname__}"

"""The video's cost as a model-agnostic loss, ``loss(params, batch)``, with its fast path for planes and paths.

``jaxdigits.landscape`` takes any ``loss(params, batch) -> scalar``. ``VideoLoss`` is the
video network's: ``VideoLoss("mse", "sigmoid")(params, (images, labels))`` is
``mse_cost(params, images, labels, "sigmoid")``, with the first layer's gradient computed the
fast way (``batch_cost``). Its ``accuracy`` is a metric of the same form.

It also carries the network's fast path through a plane or path, in the shape
``jaxdigits.landscape.SpanLoss`` asks for: every point there is θ₀ + Σₖ cₖ θₖ, and the first
layer's weighted sums are linear in the parameters, so its products with the images are
computed once per batch (``span``: ``first_layer_span``) and each point costs only the small
layers (``span_values``: ``span_metrics``). The landscape recognises the methods and uses them
without being asked; the generic evaluation, ``loss`` at each moved θ, is their reference.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import jax.numpy as jnp

from jaxdigits import _checks
from jaxdigits.network._costs import COSTS, accuracy, cost_function
from jaxdigits.network._first_layer import batch_cost, first_layer_span, span_metrics
from jaxdigits.network._model import ACTIVATIONS
from jaxdigits.typing import Array, Batch, Network

__all__ = ["VideoLoss"]


@dataclasses.dataclass(frozen=True)
class VideoLoss:
    """``loss(params, (images, labels))``: the network's mean cost over a batch (hashable: one compile).

    Args:
      cost: ``"mse"`` (the video's Σ(a − y)²) or ``"cross_entropy"``.
      activation: hidden and output activation, as in ``predict``.
    """

    cost: str = "mse"
    activation: str = "sigmoid"

    def __post_init__(self):
        _checks.name(self.cost, COSTS, "cost")
        _checks.name(self.activation, ACTIVATIONS, "activation")

    def __call__(self, params: Network, batch: Batch) -> Array:
        images, labels = batch
        return batch_cost(cost_function(self.cost), params, images, labels, self.activation)

    def accuracy(self, params: Network, batch: Batch) -> Array:
        """Fraction of the batch's images whose largest output is at the right digit."""
        images, labels = batch
        return accuracy(params, images, labels, self.activation).astype(jnp.result_type(params[-1]["b"]))

    # The fast path (jaxdigits.landscape.SpanLoss).

    def span_supports(self, params: Any, metrics: Mapping[str, Callable]) -> bool:
        """A list of ≥ 2 ``{"w", "b"}`` layers, and no metric but this loss's ``accuracy``."""
        layers = isinstance(params, (list, tuple)) and len(params) >= 2
        layers = layers and all(isinstance(p, dict) and set(p) == {"w", "b"} and jnp.ndim(p["w"]) == 2 for p in params)
        return layers and all(fn == self.accuracy for fn in metrics.values())

    def span(self, batch: Batch, basis: Network, origin: Network | None) -> Any:
        images, labels = batch
        return first_layer_span(images, labels, basis, origin=origin)

    def span_values(self, coefficients: Array, span: Any, metrics: tuple[str, ...]) -> dict[str, Array]:
        value, second = span_metrics(
            coefficients, span, cost=self.cost, activation=self.activation, with_accuracy=bool(metrics)
        )
        # Without accuracy, span_metrics hands back one output sum in its place; it must leave the
        # program (see span_metrics), so it goes out under a name the landscape drops.
        return {"cost": value, **({name: second for name in metrics} if metrics else {"_kept": second})}

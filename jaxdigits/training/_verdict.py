"""Did a run learn anything? A finished run judged against a network that learnt nothing.

A learning rate that is far too large need not make the cost infinite: with sigmoid outputs
the cost stays finite while every neuron is pinned at 0 or 1 and the network answers the
same digit for every image. ``judge`` looks at a finished run for three signs of that:

1. **Accuracy no better than guessing the most frequent class**, plus ``MARGIN`` (2 points).
   A network that always answers the commonest digit scores ``majority_rate(labels)``
   (11.35 % on MNIST's test set, the share of 1s); one that has learnt anything beats it.
2. **A final training cost not below the initial one**: gradient descent did not descend
   (a NaN cost counts as not below). Without the training split in the history, the
   judged split's cost stands in.
3. **Nearly every hidden neuron saturated** (sigmoid and tanh only). A neuron whose
   weighted input z sits far out on the flat tail passes back almost no gradient:
   σ'(z) = σ(z)(1 − σ(z)) ≤ ¼, and tanh'(z) = 1 − tanh²(z) ≤ 1. A hidden neuron counts as
   saturated when its slope is below ``SATURATED_SLOPE`` of that maximum on at least
   ``SATURATED_SHARE`` of the training images; the run fails when at least
   ``NEARLY_EVERY`` of its hidden neurons are. (A trained network's neurons may still be
   nearly on/off for most images: what marks a dead network is that almost all of them are
   on a flat tail for almost all images.)

The thresholds are deliberately loose: the judgement flags networks that learnt nothing,
not ones that learnt little.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from jaxdigits.typing import ArrayLike, Network

__all__ = [
    "judge",
    "Judgement",
    "majority_rate",
    "MARGIN",
    "NEARLY_EVERY",
    "saturated_fraction",
    "SATURATED_SHARE",
    "SATURATED_SLOPE",
]

MARGIN = 0.02
SATURATED_SLOPE = 0.01
SATURATED_SHARE = 0.99
NEARLY_EVERY = 0.9


class Judgement(NamedTuple):
    """``status``: ``"ok"`` or ``"failed_to_learn"``; ``reason``: what was seen (None when ok)."""

    status: str
    reason: str | None

    @property
    def ok(self):
        return self.status == "ok"

    def record(self):
        """The ``{"status": …, "status_reason": …}`` entries of a ``metrics.json``."""
        return {"status": self.status, "status_reason": self.reason}


def majority_rate(labels: ArrayLike) -> float:
    """Accuracy of always answering the most frequent label: max_c count(c) / N."""
    labels = np.asarray(labels)
    return float(np.bincount(labels).max() / len(labels))


def saturated_fraction(params: Network, images: ArrayLike, activation: str) -> float | None:
    """Share of hidden neurons on a flat tail for nearly all ``images`` (None unless sigmoid/tanh).

    Args:
      params: a network (``init_params`` layout); its hidden layers are all but the last.
      images: (N, pixels) training images.
      activation: ``"sigmoid"`` or ``"tanh"`` (other activations return None).
    """
    if activation not in ("sigmoid", "tanh") or len(params) < 2:
        return None
    a = np.asarray(images, np.float32)
    saturated = []
    for layer in params[:-1]:
        z = (a @ np.asarray(layer["w"], np.float32) + np.asarray(layer["b"], np.float32)).astype(np.float64)
        if activation == "sigmoid":
            a = 0.5 * (1 + np.tanh(z / 2))  # σ(z) without overflow for large |z|
            slope = 4 * a * (1 - a)  # σ'(z) / max σ'
        else:
            a = np.tanh(z)
            slope = 1 - a**2
        saturated.append(np.mean(slope < SATURATED_SLOPE, axis=0) >= SATURATED_SHARE)
    return float(np.mean(np.concatenate(saturated)))


def judge(
    history: list, labels: ArrayLike, *, learning_rate: float, split: str = "test", saturated: float | None = None
) -> Judgement:
    """Judge a finished run.

    Args:
      history: its per-epoch records (``train``'s ``history``; ``history[0]`` untrained).
      labels: the labels of ``split``, for the majority-class rate.
      learning_rate: η of the run, named in the reason.
      split: the split whose accuracy is judged (``"<split>_accuracy"`` in the records).
      saturated: ``saturated_fraction`` of the final network, or None to skip that sign.

    Returns:
      A ``Judgement``.
    """
    first, last = history[0], history[-1]
    seen = []
    accuracy, chance = last[f"{split}_accuracy"], majority_rate(labels)
    if not accuracy > chance + MARGIN:
        common = int(np.bincount(np.asarray(labels)).argmax())
        seen.append(
            f"{split} accuracy {accuracy:.2%} is no better than always answering {common} "
            f"({chance:.2%}) plus {MARGIN * 100:g} points"
        )
    cost = "train_cost" if "train_cost" in last else f"{split}_cost"  # the training cost when it was measured
    if not last[cost] < first[cost]:
        seen.append(f"the {cost.replace('_', ' ')} went from {first[cost]:.4g} to {last[cost]:.4g}")
    if saturated is not None and saturated >= NEARLY_EVERY:
        seen.append(f"{saturated:.0%} of the hidden neurons are saturated on the training images")
    if not seen:
        return Judgement("ok", None)
    return Judgement("failed_to_learn", f"failed to learn with learning rate {learning_rate:g}: " + "; ".join(seen))

"""A training run's recipe: one frozen dataclass, and the named recipes.

``TrainConfig`` holds everything that defines a run — the network's shape and activation,
the cost, the initialisation, the optimiser and its schedule, the mini-batch size, the
epochs, the seed and the augmentation — and checks every value when it is made, so a wrong
name or size fails before any data is loaded. ``PRESETS`` are the named recipes.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from jaxdigits import _checks
from jaxdigits.data import check_augment
from jaxdigits.errors import InvalidArgument
from jaxdigits.network import ACTIVATIONS, COSTS, INITS, VIDEO_SIZES
from jaxdigits.training._optimizers import OPTIMIZERS, SCHEDULES

__all__ = ["PRESETS", "TrainConfig"]


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run. ``learning_rate`` is η for the chosen cost."""

    sizes: tuple = VIDEO_SIZES
    activation: str = "sigmoid"
    cost: str = "mse"
    init: str = "normal"
    optimizer: str = "sgd"
    learning_rate: float = 1.5
    schedule: str = "constant"
    weight_decay: float = 0.0
    batch_size: int = 10
    epochs: int = 30
    seed: int = 0
    augment: str = "none"  # "shift" or "affine": random variants of each mini-batch (jaxdigits.data.make_augment)
    augment_shift: int = 2  # pixels, each way
    augment_rotate: float = 10.0  # degrees, each way ("affine")
    augment_scale: float = 0.1  # 1 ± this ("affine")
    augment_shear: float = 0.0  # degrees, each way ("affine")
    # Fraction of all steps spent warming η up linearly from 0 before ``schedule`` (0: none).
    warmup_fraction: float = 0.0
    # With augmentation: the first round(augment_fraction · epochs) epochs see augmented
    # mini-batches, the rest the images as they are (1: every epoch augmented).
    augment_fraction: float = 1.0
    # Evaluate the ``eval_sets`` after every k-th epoch and after the last (0: after the last
    # only); the history's records of the other epochs hold only ``batch_cost`` and ``seconds``.
    eval_every: int = 1

    def __post_init__(self):
        _checks.layer_sizes(self.sizes)
        _checks.name(self.activation, ACTIVATIONS, "activation")
        _checks.name(self.cost, COSTS, "cost")
        _checks.name(self.init, INITS, "init")
        _checks.name(self.optimizer, OPTIMIZERS, "optimizer")
        _checks.name(self.schedule, SCHEDULES, "schedule")
        _checks.positive(self.learning_rate, "learning_rate")
        for field in ("batch_size", "epochs"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise InvalidArgument(f"{field} must be a positive integer, got {value!r}")
        if self.weight_decay < 0:
            raise InvalidArgument(f"weight_decay must be >= 0, got {self.weight_decay!r}")
        for field, upper in (("warmup_fraction", "< 1"), ("augment_fraction", "<= 1")):
            value = getattr(self, field)
            number = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
            if not number or not 0 <= value <= 1 or (upper == "< 1" and value == 1):
                raise InvalidArgument(
                    f"{field} must be a number >= 0 and {upper} (a fraction of the run), got {value!r}"
                )
        value = self.eval_every
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise InvalidArgument(
                f"eval_every must be a whole number of epochs >= 0 (0: after the last epoch only), got {value!r}"
            )
        check_augment(self)


# Named recipes. "video": 3Blue1Brown's (Nielsen's) recipe — sigmoid, N(0, 1) init, plain
# SGD, mini-batches of 10, 30 epochs, η = 3.0 on Nielsen's cost ½Σ(a−y)², which is η = 1.5
# on the video's cost Σ(a−y)² (its gradient is twice as large). "best": the best recipe found
# for the same 784-16-16-10 shape by ``experiments/tune.py``, every choice made on a validation
# split (the last 10,000 training images), never on the test set — gelu, cross-entropy, He
# init, AdamW with weight decay 0.03, cosine decay from 8e-3 to 0, batch 64, 240 epochs, each
# mini-batch shifted by up to one pixel each way (docs/recipe.md explains each choice).
# "best_no_augment": where that search started, the best recipe found without augmentation —
# relu, cross-entropy, He init, AdamW with weight decay 0.1, cosine decay from 2e-3, batch 64,
# 80 epochs.
_BEST_NO_AUGMENT = TrainConfig(
    activation="relu",
    cost="cross_entropy",
    init="he",
    optimizer="adamw",
    learning_rate=2e-3,
    schedule="cosine",
    weight_decay=0.1,
    batch_size=64,
    epochs=80,
)
# The search's winner, written as what it changed in its starting point.
_BEST = dataclasses.replace(
    _BEST_NO_AUGMENT,
    activation="gelu",
    learning_rate=8e-3,
    weight_decay=0.03,
    epochs=240,
    augment="shift",
    augment_shift=1,
)
# "speedrun": the same network to 97 % test accuracy in the fewest seconds (docs/recipe.md,
# "Speedrun"), chosen on the validation split. Written as what it changes in "best":
_SPEEDRUN = dataclasses.replace(
    _BEST,
    # A quarter of the steps of "best": 128 images a step, so 468 steps an epoch instead of
    # 937 (an epoch about 15 % cheaper on a CPU), and 120 epochs instead of 240. Alone this
    # loses about 0.5 points of validation accuracy; the changes below win most of them back.
    batch_size=128,
    epochs=120,
    # η rises linearly from 0 over the first 5 % of the steps, then decays as a cosine to 0:
    # adam's first steps, taken with gradient statistics from a few mini-batches, are then
    # small. +0.3 points at η = 8e-3, and twice that η no longer breaks down.
    warmup_fraction=0.05,
    # Twice "best"'s weight decay: with half the steps the weights need a firmer pull to 0
    # (+0.1 points on seeds 0-3, a tie on seeds 4-7).
    weight_decay=0.06,
    # The last 10 % of the epochs (12 of 120) see the digits unshifted, the images the test
    # set holds, while η is already small: +0.15 points, on both sets of seeds tried.
    augment_fraction=0.9,
    # No evaluation until the end: evaluating 70,000 images after every epoch costs about a
    # fifth of the epoch at batch 128, and the accuracy is needed only at the end.
    eval_every=0,
)  # The shifts come from the table of shifted copies (``shift_table``): the same numbers, fewer seconds.
PRESETS = {
    "video": TrainConfig(),
    "best": _BEST,
    "best_no_augment": _BEST_NO_AUGMENT,
    "speedrun": _SPEEDRUN,
}

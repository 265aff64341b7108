"""The learning-rate dial's runs: one population of networks made into the runs a page replays.

The video says the step must be neither too small nor too large. The page lets a viewer turn
η and watch: it carries K runs that start from the same initial network and see the same
mini-batches, differing only in η. They are trained together as one population in one
compiled program (``jaxdigits.training.train_population`` with ``snapshot_every``), so the K
runs cost little more than one, and each comes back with its snapshots.

``dial_learning_rates`` spans η from far too small to far too large around a recipe's own
(0.01 … 100 around the video's 1.5); ``runs_from_population`` turns the population's result
into one ``Run`` per network on a shared schedule of frames. A run whose parameters became
NaN or infinite keeps its last finite frame from then on and is marked ``"diverged"``; one
that stayed finite but learnt nothing carries ``judge``'s ``"failed_to_learn"`` and its reason.
"""

from __future__ import annotations

import jax
import numpy as np

from jaxdigits.errors import InvalidArgument
from jaxdigits.explorer._page_data import Run, frames_from_snapshots
from jaxdigits.training import PopulationResult, member
from jaxdigits.typing import Network

__all__ = ["VIDEO_LEARNING_RATES", "dial_learning_rates", "runs_from_population"]

# Around the video's η = 1.5: too small (0.01, 0.1), good (0.5, 1.5, 5), far too large (100).
VIDEO_LEARNING_RATES = (0.01, 0.1, 0.5, 1.5, 5.0, 100.0)


def dial_learning_rates(learning_rate: float) -> tuple[float, ...]:
    """The dial's η values for a recipe of learning rate η₀: ``VIDEO_LEARNING_RATES`` · η₀ / 1.5.

    The recipe's own η is among them (three significant digits for the others).
    """
    scale = learning_rate / 1.5
    return tuple(learning_rate if eta == 1.5 else float(f"{eta * scale:.3g}") for eta in VIDEO_LEARNING_RATES)


def runs_from_population(
    result: PopulationResult,
    initial: Network,
    steps_per_epoch: int,
    every: int,
    *,
    dense_epochs: int = 1,
    later: int | None = None,
) -> tuple[list[int], list[Run]]:
    """``(steps, runs)``: every network of a population as a ``Run`` on one schedule of frames.

    Args:
      result: ``train_population(..., snapshot_every=every)``'s result; its networks share
        one initial network, ``initial`` (the same seed).
      steps_per_epoch, every, dense_epochs, later: as for ``frames_from_snapshots``.
    """
    if result.snapshots is None:
        raise InvalidArgument("the population recorded no snapshots: train it with snapshot_every")
    runs, steps = [], None
    for k, eta in enumerate(result.learning_rates):
        snapshots = [member(stacked, k) for stacked in result.snapshots]
        final = member(result.params, k)
        steps, frames = frames_from_snapshots(
            initial, snapshots, final, steps_per_epoch, every, dense_epochs=dense_epochs, later=later
        )
        judgement = result.judgements[k] if result.judgements else None
        status, reason = (judgement.status, judgement.reason) if judgement else ("ok", None)
        frames, blew_up = _finite_frames(frames)
        if blew_up is not None:
            status = "diverged"
            reason = f"the parameters became NaN or infinite with learning rate {eta:g} (frame {blew_up} on)"
        runs.append(Run(float(eta), frames, result.histories[k], status, reason, blew_up))
    return steps, runs


def _finite_frames(frames):
    """``(frames, first bad frame or None)``: from the first non-finite frame on, the last finite one."""
    finite = [all(np.all(np.isfinite(leaf)) for leaf in jax.tree.leaves(f)) for f in frames]
    if all(finite):
        return frames, None
    first = finite.index(False)
    return frames[:first] + [frames[first - 1]] * (len(frames) - first), first

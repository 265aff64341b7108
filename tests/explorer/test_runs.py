"""The learning-rate dial's runs: a population's result made into runs on one schedule of frames.

The population here is written by hand (two networks, two epochs of snapshots), so that the
conversion is checked on known numbers; ``tests/explorer/test_browser.py`` builds its page from a
real ``train_population``.
"""

import numpy as np
import pytest

from jaxdigits import explorer
from jaxdigits.errors import InvalidArgument
from jaxdigits.training import Judgement, PopulationResult


def test_the_dial_spans_too_small_to_far_too_large_around_the_recipe():
    assert explorer.dial_learning_rates(1.5) == (0.01, 0.1, 0.5, 1.5, 5.0, 100.0)
    rates = explorer.dial_learning_rates(0.008)  # e.g. an adam recipe: the same ratios
    assert len(rates) == 6 and rates[3] == 0.008
    np.testing.assert_allclose(np.array(rates) / 0.008, np.array(explorer.VIDEO_LEARNING_RATES) / 1.5, rtol=1e-2)


def network(value):
    """A 2-3-10 network whose every number is ``value`` (leading axes: whatever ``value`` has)."""
    value = np.asarray(value, np.float32)
    full = lambda *shape: np.broadcast_to(value.reshape(value.shape + (1,) * len(shape)), value.shape + shape)
    return [{"w": full(2, 3), "b": full(3)}, {"w": full(3, 10), "b": full(10)}]


def population(diverged: bool):
    """Two networks, 2 epochs of 3 snapshots: network k's snapshot j of epoch e holds 10k + 3e + j + 1;
    with ``diverged``, network 1 turns NaN at epoch 1's second snapshot and is frozen after."""
    values = np.array([[[10 * k + 3 * e + j + 1 for j in range(3)] for k in range(2)] for e in range(2)], float)
    if diverged:
        values[1, 1, 1:] = np.nan
    snapshots = [network(v) for v in values]  # leaves (K, blocks, …) per epoch
    final = values[-1, :, -1].copy()
    if diverged:
        final[1] = values[0, 1, -1]  # frozen: back to its state before the failed epoch
    judgements = (Judgement("ok", None), Judgement("failed_to_learn", "nan"))
    return PopulationResult(
        network(final), [[{}], [{}]], (0, 0), (1.5, 100.0), 0.0, [], None, judgements, (None, None), snapshots
    )


def test_every_network_becomes_a_run_on_the_same_frames():
    steps, runs = explorer.runs_from_population(population(False), network(0.0), steps_per_epoch=9, every=3)
    assert steps == [0, 3, 6, 9, 18]  # untrained, epoch 1 dense, epoch 2's end
    assert [r.learning_rate for r in runs] == [1.5, 100.0]
    assert [float(f[0]["b"][0]) for f in runs[1].frames] == [0, 11, 12, 13, 16]
    assert runs[0].status == "ok" and runs[1].status == "failed_to_learn" and runs[1].reason == "nan"
    assert runs[1].blew_up is None  # left to page_data, which sees the test accuracy


def test_a_run_that_turned_nan_keeps_its_last_finite_frame_and_is_marked():
    _, runs = explorer.runs_from_population(population(True), network(0.0), steps_per_epoch=9, every=3)
    assert [float(f[0]["b"][0]) for f in runs[1].frames] == [0, 11, 12, 13, 13]
    assert runs[1].status == "diverged" and runs[1].blew_up == 4 and "NaN or infinite" in runs[1].reason
    assert [float(f[0]["b"][0]) for f in runs[0].frames] == [0, 1, 2, 3, 6]  # the other run is untouched


def test_a_population_without_snapshots_is_refused():
    with pytest.raises(InvalidArgument, match="snapshot_every"):
        explorer.runs_from_population(population(False)._replace(snapshots=None), network(0.0), 9, 3)

"""The epoch driver with stand-in epochs: records, data checks, the loop, and divergence.

The loop is plain Python around a compiled epoch; here the epoch is a Python function that
returns chosen metrics, so each rule of ``run_epochs`` is checked without compiling anything.
"""

from typing import NamedTuple

import jax
import numpy as np
import pytest

from jaxdigits import errors, training
from jaxdigits.errors import InvalidArgument, InvalidArgumentType


class Network(NamedTuple):  # like TrainState
    params: np.ndarray
    key: jax.Array
    epoch: int


class Population(NamedTuple):  # like PopulationState: ``active`` marks the networks not frozen
    params: np.ndarray
    key: jax.Array
    epoch: int
    active: np.ndarray


def start(members=2, epoch=0):
    if members is None:
        return Network(np.zeros(1), jax.random.key(0), epoch)
    return Population(np.zeros(members), jax.random.key(0), epoch, np.ones(members, np.int32))


def scripted(costs, batch_costs=None):
    """An epoch whose mini-batch costs (one mean per member) in epoch e are ``costs[e - 1]``."""
    calls = []

    def epoch(state, images, labels, evals):
        calls.append(state.epoch)
        e = state.epoch + 1
        metrics = {"batch_cost": np.asarray(costs[e - 1], np.float32), "snapshots": np.full(2, e)}
        if batch_costs is not None:
            metrics["batch_costs"] = np.asarray(batch_costs[e - 1], np.float32)
        return state._replace(params=state.params + 1, epoch=e), metrics

    return epoch, calls


def test_records_hold_one_row_per_member_as_python_floats():
    one = training.records(3, {"train_cost": np.float32(0.5)}, 1.25, None)
    assert one == [{"epoch": 3, "train_cost": 0.5, "seconds": 1.25}] and type(one[0]["train_cost"]) is float
    many = training.records(1, {"train_cost": np.array([0.5, 2.0]), "test_accuracy": np.array([0.25, 1.0])}, None, 2)
    assert many == [
        {"epoch": 1, "train_cost": 0.5, "test_accuracy": 0.25},
        {"epoch": 1, "train_cost": 2.0, "test_accuracy": 1.0},
    ]


def test_check_data_names_the_split_and_what_it_expected():
    images, labels = np.zeros((5, 4), np.float32), np.arange(5, dtype=np.int32) % 3
    training.check_data(images, labels, 4, 3, "train")
    with pytest.raises(InvalidArgument, match=r"^test images must have shape \(N, 4\) .* got \(5, 2, 2\)"):
        training.check_data(images.reshape(5, 2, 2), labels, 4, 3, "test")
    with pytest.raises(InvalidArgumentType, match="^validation images must be floating point .* uint8"):
        training.check_data(images.astype(np.uint8), labels, 4, 3, "validation")
    with pytest.raises(InvalidArgument, match=r"labels must lie in 0..1 .* from 0 to 2"):
        training.check_data(images, labels, 4, 2, "train")


def test_key_as_data_and_back_keeps_the_key():
    state = start()
    raw = training.key_as_data(state)
    assert raw.key.dtype == np.uint32 and raw.params is state.params
    back = training.key_from_data(raw)
    np.testing.assert_array_equal(jax.random.bits(back.key, 4), jax.random.bits(state.key, 4))


def test_the_loop_resumes_from_the_states_epoch_and_calls_on_epoch_after_each():
    epoch, calls = scripted([[3.0, 4.0], [2.0, 3.0], [1.0, 2.0]])
    seen = []
    old = [
        [{"epoch": 0, "batch_cost": 5.0}, {"epoch": 1, "batch_cost": 3.0}],
        [{"epoch": 0}, {"epoch": 1, "batch_cost": 4.0}],
    ]
    out = training.run_epochs(
        epoch,
        start(epoch=1),
        (None, None),
        {},
        total_epochs=3,
        histories=old,
        members=2,
        learning_rates=[0.1, 0.2],
        on_epoch=lambda state, histories: seen.append(state.epoch),
    )
    assert calls == [1, 2] and seen == [2, 3] and out.state.epoch == 3
    assert [[r["epoch"] for r in h] for h in out.histories] == [[0, 1, 2, 3], [0, 1, 2, 3]]
    assert [r["batch_cost"] for r in out.histories[1][1:]] == [4.0, 3.0, 2.0]
    assert len(out.seconds_per_epoch) == 2 and out.diverged_at == [None, None]
    assert [s.tolist() for s in out.snapshots] == [[2, 2], [3, 3]] and len(old[0]) == 2  # the input is not changed


def test_divergence_raises_with_the_state_before_the_epoch_and_the_step_it_began():
    epoch, _ = scripted([1.0, np.nan], batch_costs=[[1.0] * 4, [1.0, 2.0, np.inf, np.nan]])
    with pytest.raises(errors.TrainingDiverged) as info:
        training.run_epochs(epoch, start(None), (None, None), {}, total_epochs=3, histories=[[]], learning_rates=0.5)
    assert str(info.value.args[0]) == (
        "training diverged in epoch 2: cost nan (first non-finite mini-batch cost at step 2 of 4) "
        "with learning_rate 0.5; lower the learning rate"
    )
    last_good = info.value.last_good_state
    assert last_good.epoch == 1 and last_good.params.tolist() == [1.0]
    np.testing.assert_array_equal(jax.random.bits(last_good.key, 2), jax.random.bits(jax.random.key(0), 2))


def test_a_diverged_member_goes_on_as_nan_or_is_frozen():
    costs = [[1.0, np.inf], [0.5, np.nan], [0.25, np.nan]]
    epoch, _ = scripted(costs)
    args = dict(total_epochs=3, histories=[[], []], members=2, learning_rates=[0.1, 9.0])
    with pytest.warns(RuntimeWarning, match="training network 1 diverged in epoch 1: cost inf with learning_rate 9.0"):
        out = training.run_epochs(epoch, start(), (None, None), {}, on_diverged="continue", **args)
    assert out.diverged_at == [None, 1] and [len(h) for h in out.histories] == [3, 3]
    frozen = []

    def freeze(state, last_good, k):
        frozen.append((k, last_good.epoch))
        return state._replace(active=state.active * (np.arange(2) != k))

    epoch, _ = scripted(costs)
    with pytest.warns(RuntimeWarning, match="network 1 diverged"):
        out = training.run_epochs(epoch, start(), (None, None), {}, on_diverged="freeze", freeze=freeze, **args)
    assert frozen == [(1, 0)] and out.diverged_at == [None, 1]
    assert [len(h) for h in out.histories] == [3, 1] and out.state.active.tolist() == [1, 0]


def test_bad_divergence_settings_are_refused():
    epoch, calls = scripted([1.0])
    with pytest.raises(InvalidArgument, match="on_diverged must be one of"):
        training.run_epochs(epoch, start(None), (None, None), {}, total_epochs=1, histories=[[]], on_diverged="ignore")
    with pytest.raises(InvalidArgument, match="needs a population"):
        training.run_epochs(epoch, start(None), (None, None), {}, total_epochs=1, histories=[[]], on_diverged="freeze")
    assert calls == []


def test_an_epoch_that_skipped_its_evaluation_records_only_its_mini_batch_cost():
    def epoch(state, images, labels, evals):  # evaluates after epoch 2 only, NaN placeholders otherwise
        e = state.epoch + 1
        evaluated = e == 2
        metrics = {"batch_cost": np.float32(1.0 / e), "test_accuracy": np.float32(0.5 if evaluated else np.nan)}
        return state._replace(epoch=e), {**metrics, "evaluated": np.bool_(evaluated)}

    out = training.run_epochs(epoch, start(None), (None, None), {}, total_epochs=2, histories=[[]])
    first, second = out.histories[0]
    assert sorted(first) == ["batch_cost", "epoch", "seconds"] and first["batch_cost"] == 1.0
    assert second["test_accuracy"] == 0.5 and "evaluated" not in second

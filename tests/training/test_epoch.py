"""The compiled epoch: one step per mini-batch, no recompilation, and the shuffle behind it."""

import dataclasses
import logging

import jax
import numpy as np
import pytest

import jaxdigits as jd
from jaxdigits.training import FAST_SHUFFLE_MAX, init_state, make_train_epoch, optimizer_for, shuffle

SMALL = jd.TrainConfig(sizes=(64, 16, 16, 10), batch_size=10, epochs=3, seed=0)


def splits(digits):
    train = (digits.train_images, digits.train_labels)
    return train, {"train": train, "test": (digits.test_images, digits.test_labels)}


def test_full_batch_gradient_descent_takes_one_step_per_epoch(digits):
    train, evals = splits(digits)
    n = len(train[1])
    config = dataclasses.replace(SMALL, batch_size=n, epochs=2, learning_rate=3.0)
    result = jd.train(config, train, evals, progress=False)
    # With one full batch, the epoch's batch cost is the cost of the whole set before the step.
    state = init_state(config, optimizer_for(config, n), key=jax.random.key(config.seed))
    assert result.history[1]["batch_cost"] == pytest.approx(float(jd.mse_cost(state.params, *train)), rel=1e-5)
    assert result.history[2]["train_cost"] < result.history[0]["train_cost"]


def test_second_epoch_does_not_recompile(digits, caplog):
    train, evals = splits(digits)
    optimizer = optimizer_for(SMALL, len(train[1]))
    state = init_state(SMALL, optimizer, key=jax.random.key(0))
    epoch = make_train_epoch(SMALL, optimizer)
    data = jax.device_put(train)
    evals = jax.device_put(evals)
    with jax.log_compiles(True), caplog.at_level(logging.WARNING):
        state, first = epoch(state, *data, evals)
        compiles_after_first = sum("train_epoch" in r.getMessage() for r in caplog.records)
        state, second = epoch(state, *data, evals)
        compiles_after_second = sum("train_epoch" in r.getMessage() for r in caplog.records)
    assert compiles_after_first >= 1
    assert compiles_after_second == compiles_after_first
    assert int(state.epoch) == 2 and second["train_cost"] < first["train_cost"] * 1.5


@pytest.mark.parametrize("n", [1, 2, 60000])
def test_shuffle_is_a_permutation_fixed_by_its_key(n):
    shuffled = jax.jit(shuffle, static_argnums=1)
    a = np.asarray(shuffled(jax.random.key(0), n))
    assert a.dtype == np.int32
    np.testing.assert_array_equal(np.sort(a), np.arange(n))
    np.testing.assert_array_equal(a, np.asarray(shuffled(jax.random.key(0), n)))
    if n > 2:
        assert not np.array_equal(a, np.asarray(shuffled(jax.random.key(1), n)))


def test_shuffle_redraws_ties_and_stays_uniform():
    # 2-bit keys for 3 items tie in 5 of 8 draws; a shuffle that broke ties by index
    # instead of re-drawing would favour the identity (chi-square over 6 orders ~ 1,000).
    draws = jax.vmap(lambda k: shuffle(k, 3, key_bits=2))(jax.random.split(jax.random.key(0), 6000))
    draws = np.asarray(draws)
    np.testing.assert_array_equal(np.sort(draws, axis=1), np.tile(np.arange(3), (6000, 1)))
    _, counts = np.unique(draws, axis=0, return_counts=True)
    assert len(counts) == 6
    chi2 = ((counts - 1000.0) ** 2 / 1000.0).sum()
    assert chi2 < 25.7  # p = 1e-4 for 5 degrees of freedom


def test_large_shuffles_fall_back_to_jax_random_permutation():
    n = FAST_SHUFFLE_MAX + 1
    np.testing.assert_array_equal(shuffle(jax.random.key(2), n), jax.random.permutation(jax.random.key(2), n))

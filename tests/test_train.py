"""Training: compiled epochs that lower the cost, reproducibly, without recompiling."""

import dataclasses
import logging

import jax
import numpy as np
import pytest

import jaxdigits as jd
from jaxdigits.costs import cost_function
from jaxdigits.train import batch_cost, init_state, inputs_times_weights, make_train_epoch, optimizer_for

SMALL = jd.TrainConfig(sizes=(64, 16, 16, 10), batch_size=10, epochs=3, seed=0)


def splits(digits):
    train = (digits.train_images, digits.train_labels)
    return train, {"train": train, "test": (digits.test_images, digits.test_labels)}


def test_training_lowers_the_cost_and_raises_accuracy(digits):
    train, evals = splits(digits)
    result = jd.train(SMALL, train, evals, progress=False)
    first, last = result.history[0], result.history[-1]
    assert [r["epoch"] for r in result.history] == [0, 1, 2, 3]
    assert last["train_cost"] < 0.5 * first["train_cost"]
    assert last["test_accuracy"] > 0.6 > 0.2 > first["test_accuracy"]
    assert len(result.seconds_per_epoch) == 3 and result.seconds_compile > 0


def test_full_batch_gradient_descent_takes_one_step_per_epoch(digits):
    train, evals = splits(digits)
    n = len(train[1])
    config = dataclasses.replace(SMALL, batch_size=n, epochs=2, learning_rate=3.0)
    result = jd.train(config, train, evals, progress=False)
    # With one full batch, the epoch's batch cost is the cost of the whole set before the step.
    state = init_state(config, optimizer_for(config, n), key=jax.random.key(config.seed))
    assert result.history[1]["batch_cost"] == pytest.approx(float(jd.mse_cost(state.params, *train)), rel=1e-5)
    assert result.history[2]["train_cost"] < result.history[0]["train_cost"]


def test_same_seed_same_result_other_seed_other_result(digits):
    train, evals = splits(digits)
    a = jd.train(SMALL, train, evals, progress=False)
    b = jd.train(SMALL, train, evals, progress=False)
    c = jd.train(dataclasses.replace(SMALL, seed=1), train, evals, progress=False)
    for x, y in zip(jax.tree.leaves(a.state.params), jax.tree.leaves(b.state.params)):
        np.testing.assert_array_equal(x, y)
    assert [r["train_cost"] for r in a.history] == [r["train_cost"] for r in b.history]
    assert a.history[-1]["train_cost"] != c.history[-1]["train_cost"]


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


def test_divergence_is_detected_with_the_last_good_parameters(digits):
    train, evals = splits(digits)
    config = dataclasses.replace(SMALL, learning_rate=1e30, cost="cross_entropy", activation="relu")
    with pytest.raises(jd.TrainingDiverged, match=r"epoch 1.*learning_rate 1e\+30") as info:
        jd.train(config, train, evals, progress=False)
    assert "first non-finite mini-batch cost at step" in str(info.value)
    last_good = info.value.last_good_state
    assert int(last_good.epoch) == 0
    for a, b in zip(
        jax.tree.leaves(last_good.params),
        jax.tree.leaves(jd.init_params(jax.random.split(jax.random.key(0))[0], SMALL.sizes)),
    ):
        np.testing.assert_array_equal(a, b)  # the untrained network: the epoch that failed is discarded


@pytest.mark.parametrize("cost", ["mse", "cross_entropy"])
def test_batch_cost_equals_the_cost_and_its_gradient(digits, cost):
    """The first-layer product with its hand-placed weight gradient changes only rounding."""
    params = jd.init_params(jax.random.key(1), SMALL.sizes)
    x, y = digits.train_images[:128], digits.train_labels[:128]
    cost_fn = cost_function(cost)
    want_value, want = jax.value_and_grad(cost_fn)(params, x, y, "sigmoid")
    got_value, got = jax.jit(jax.value_and_grad(batch_cost, argnums=1), static_argnums=(0, 4))(
        cost_fn, params, x, y, "sigmoid"
    )
    np.testing.assert_allclose(got_value, want_value, rtol=1e-6)
    for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(want), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # and the product's own weight gradient is xᵀ·g
    g = jax.random.normal(jax.random.key(2), (128, 16))
    dw = jax.jit(jax.grad(lambda w: (inputs_times_weights(x, w) * g).sum()))(params[0]["w"])
    np.testing.assert_allclose(dw, np.asarray(x).T @ np.asarray(g), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("n", [1, 2, 60000])
def test_shuffle_is_a_permutation_fixed_by_its_key(n):
    from jaxdigits.train import shuffle

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
    from jaxdigits.train import shuffle

    draws = jax.vmap(lambda k: shuffle(k, 3, key_bits=2))(jax.random.split(jax.random.key(0), 6000))
    draws = np.asarray(draws)
    np.testing.assert_array_equal(np.sort(draws, axis=1), np.tile(np.arange(3), (6000, 1)))
    _, counts = np.unique(draws, axis=0, return_counts=True)
    assert len(counts) == 6
    chi2 = ((counts - 1000.0) ** 2 / 1000.0).sum()
    assert chi2 < 25.7  # p = 1e-4 for 5 degrees of freedom


def test_large_shuffles_fall_back_to_jax_random_permutation():
    from jaxdigits.train import FAST_SHUFFLE_MAX, shuffle

    n = FAST_SHUFFLE_MAX + 1
    np.testing.assert_array_equal(shuffle(jax.random.key(2), n), jax.random.permutation(jax.random.key(2), n))

"""The compiled epoch: one step per mini-batch, no recompilation, and the shuffle behind it."""

import dataclasses
import logging

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxdigits as jd
from jaxdigits.data import augment_keys, pixels_as_float, resident_pixels, shift_images
from jaxdigits.network import batch_cost, cost_function
from jaxdigits.training import (
    FAST_SHUFFLE_MAX,
    TrainState,
    augmented_epochs,
    epoch_batches,
    evaluate,
    handwritten_sgd,
    init_state,
    key_as_data,
    key_from_data,
    load_checkpoint,
    make_train_epoch,
    optimizer_for,
    save_checkpoint,
    shuffle,
)

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


def mnist_like(digits, n=600):
    """The 8×8 digits as bytes k / 255 in a 28×28 frame: kept as packed bytes, as MNIST is."""
    pixels = np.round(digits.train_images[:n].reshape(-1, 8, 8) * 255) / np.float32(255)
    frame = np.zeros((len(pixels), 28, 28), np.float32)
    frame[:, 10:18, 10:18] = pixels
    return frame.reshape(-1, 784), digits.train_labels[:n]


def frozen_epoch(config, num_train):
    """The compiled epoch as it was before warm-ups, clean final epochs, sparse evaluation and shift
    tables: a frozen copy, with its optimiser and shifts written out, that the presets must still match."""
    lr = config.learning_rate
    if config.schedule == "cosine":
        lr = optax.cosine_decay_schedule(lr, config.epochs * (num_train // config.batch_size))
    optimizer = handwritten_sgd(lr) if config.optimizer == "sgd" else optax.adamw(lr, weight_decay=config.weight_decay)
    cost, m = cost_function(config.cost), config.augment_shift
    shifting = config.augment == "shift"

    def step(carry, xs, images, labels):
        params, opt_state = carry
        batch_indices, key = xs if shifting else (xs, None)
        x = pixels_as_float(images[batch_indices])
        if shifting:
            offsets = jax.random.randint(jax.random.split(key)[1], (len(x), 2), -m, m + 1)
            x = shift_images(x.reshape(len(x), 28, 28), offsets, m).reshape(x.shape)
        cost_value, grads = jax.value_and_grad(batch_cost, argnums=1)(
            cost, params, x, labels[batch_indices], config.activation
        )
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), cost_value

    def train_epoch(state, images, labels, eval_sets):
        key, shuffle_key = jax.random.split(state.key)
        batches = epoch_batches(shuffle_key, images.shape[0], config.batch_size)
        if shifting:
            batches = (batches, augment_keys(shuffle_key, len(batches)))
        (params, opt_state), costs = jax.lax.scan(
            lambda c, xs: step(c, xs, images, labels), (state.params, state.opt_state), batches
        )
        metrics = {**evaluate(params, eval_sets, config), "batch_cost": jnp.mean(costs)}
        return TrainState(params, opt_state, key, state.epoch + 1), metrics

    return jax.jit(train_epoch), optimizer


@pytest.mark.slow  # two compiled epochs per preset
@pytest.mark.parametrize("preset", ["video", "best", "best_no_augment"])
def test_the_presets_before_the_speedrun_train_bit_for_bit_as_before(digits, preset):
    images, labels = mnist_like(digits)
    config = dataclasses.replace(jd.PRESETS[preset], epochs=2, batch_size=jd.PRESETS[preset].batch_size // 2)
    evals = {"test": (images[:100], labels[:100])}
    result = jd.train(config, (images, labels), evals, progress=False)  # "best": from the shift table
    epoch, optimizer = frozen_epoch(config, len(labels))
    state = init_state(config, optimizer, key=jax.random.key(config.seed))
    data = jax.device_put((resident_pixels(images), labels.astype(np.int32)))
    for record in result.history[1:]:
        state, metrics = epoch(state, *data, jax.device_put(evals))
        assert {k: float(v) for k, v in metrics.items()} == {
            k: v for k, v in record.items() if k not in ("epoch", "seconds")
        }
    for a, b in zip(jax.tree.leaves(result.state.params), jax.tree.leaves(state.params), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), strict=True)


SPEEDRUN_LIKE = dataclasses.replace(jd.PRESETS["speedrun"], batch_size=50, epochs=4, augment_fraction=0.5, eval_every=3)


@pytest.mark.slow  # three short runs
def test_the_speedrun_epochs_shift_from_the_table_then_train_clean_and_evaluate_when_due(digits, tmp_path):
    images, labels = mnist_like(digits)
    evals = {"test": (images[:100], labels[:100])}
    saved = {}
    keep = lambda state, history: saved.setdefault(
        int(state.epoch), (jax.device_get(key_as_data(state)), list(history))
    )
    fast = jd.train(SPEEDRUN_LIKE, (images, labels), evals, progress=False, on_epoch=keep)
    slow = jd.train(SPEEDRUN_LIKE, (images, labels), evals, progress=False, shift_table_bytes=0)
    assert fast.history[-1] == {**slow.history[-1], "seconds": fast.history[-1]["seconds"]}
    for a, b in zip(jax.tree.leaves(fast.state.params), jax.tree.leaves(slow.state.params), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), strict=True)  # the table changes no number
    # evaluated after epoch 3 (every third) and 4 (the last); epochs 1 and 2 keep their mini-batch cost
    assert [sorted(r) for r in fast.history[1:3]] == [["batch_cost", "epoch", "seconds"]] * 2
    assert [("test_accuracy" in r) for r in fast.history] == [True, False, False, True, True]
    # epochs 3 and 4 (augment_fraction 0.5) see the images unshifted: the same as going on without augmentation
    assert augmented_epochs(SPEEDRUN_LIKE) == 2 and augmented_epochs(jd.PRESETS["speedrun"]) == 108
    state, history = saved[2]
    clean = dataclasses.replace(SPEEDRUN_LIKE, augment="none")  # the same optimiser and schedule
    path = str(tmp_path / "checkpoint.npz")  # through a checkpoint: its history has records without metrics
    save_checkpoint(path, key_from_data(state), history, clean)
    state, history = load_checkpoint(
        path, init_state(clean, optimizer_for(clean, len(labels)), key=jax.random.key(0)), clean
    )
    rest = jd.train(clean, (images, labels), evals, state=state, history=history, progress=False)
    assert rest.history[-1]["test_cost"] == fast.history[-1]["test_cost"]
    for a, b in zip(jax.tree.leaves(rest.state.params), jax.tree.leaves(fast.state.params), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), strict=True)

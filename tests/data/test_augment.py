"""Augmentation: exact shifts, a faithful affine resampling, reproducible, and off means off."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxdigits as jd
from jaxdigits.data import affine_images, augment_keys, make_augment, random_affine_matrices, shift_images
from jaxdigits.training import init_state, make_train_epoch, optimizer_for, train_population

SMALL = jd.TrainConfig(sizes=(64, 16, 16, 10), batch_size=32, epochs=2, seed=1)


def data(digits):
    return (digits.train_images[:320], digits.train_labels[:320]), {"test": (digits.test_images, digits.test_labels)}


@pytest.fixture(scope="module")
def plain(digits):
    """``SMALL`` without augmentation."""
    train, evals = data(digits)
    return jd.train(SMALL, train, evals, progress=False)


def leaves(tree):
    return [np.asarray(x) for x in jax.tree.leaves(tree)]


def test_shift_moves_every_pixel_exactly():
    rng = np.random.default_rng(0)
    images = rng.random((6, 7, 7), dtype=np.float32)
    offsets = np.array([[0, 0], [1, 0], [0, -1], [-2, 2], [2, -2], [-1, 1]], np.int32)
    moved = np.asarray(shift_images(jnp.asarray(images), jnp.asarray(offsets), 2))
    for image, (dy, dx), got in zip(images, offsets, moved):
        want = np.zeros_like(image)  # independent reference: copy the overlapping block
        want[max(dy, 0) : 7 + min(dy, 0), max(dx, 0) : 7 + min(dx, 0)] = image[
            max(-dy, 0) : 7 - max(dy, 0), max(-dx, 0) : 7 - max(dx, 0)
        ]
        np.testing.assert_array_equal(got, want)  # bitwise: no arithmetic on pixels


def test_affine_rotates_a_quarter_turn_and_keeps_the_identity():
    image = np.random.default_rng(1).random((1, 8, 8), dtype=np.float32)
    quarter = np.array([[[0.0, -1.0], [1.0, 0.0]]], np.float32)  # (row, col) ↦ (−col, row): a grid symmetry
    turned = np.asarray(affine_images(jnp.asarray(image), jnp.asarray(quarter)))
    np.testing.assert_allclose(turned[0], np.rot90(image[0], k=1), atol=1e-6)
    same = np.asarray(affine_images(jnp.asarray(image), jnp.eye(2, dtype=np.float32)[None]))
    np.testing.assert_allclose(same, image, atol=1e-6)
    matrices = random_affine_matrices(jax.random.key(0), 500, 10.0, 0.1, 5.0)
    det = np.linalg.det(np.asarray(matrices))  # rotation·shear keep area: det = s² with s in 1 ± 0.1
    assert 0.81 - 1e-5 <= det.min() and det.max() <= 1.21 + 1e-5 and det.max() - det.min() > 0.2


@pytest.mark.parametrize(
    "strengths",
    [
        {"augment": "shift", "augment_shift": 0},
        {"augment": "affine", "augment_shift": 0, "augment_rotate": 0, "augment_scale": 0},
    ],
)
def test_strength_zero_is_bitwise_no_augmentation(digits, plain, strengths):
    train, evals = data(digits)
    zero = jd.train(dataclasses.replace(SMALL, **strengths), train, evals, progress=False)
    untimed = [[{k: v for k, v in r.items() if k != "seconds"} for r in run.history] for run in (plain, zero)]
    assert untimed[0] == untimed[1]
    for a, b in zip(leaves(plain.state.params), leaves(zero.state.params)):
        np.testing.assert_array_equal(a, b)


def test_same_seed_same_augmented_batches_other_seed_other(digits, plain):
    train, _ = data(digits)
    config = dataclasses.replace(SMALL, augment="affine", augment_shift=1, augment_shear=5.0)
    make = make_augment(config)
    images = jnp.asarray(train[0][:32])
    keys = augment_keys(jax.random.key(5), 3)
    a, b = make(images, key=keys[0]), make(images, key=keys[0])
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert not np.array_equal(np.asarray(a), np.asarray(make(images, key=keys[1])))
    assert not np.array_equal(np.asarray(a), np.asarray(images))
    assert float(a.min()) >= 0 and float(a.max()) <= 1 + 1e-6

    runs = [jd.train(dataclasses.replace(config, seed=s), train, progress=False) for s in (1, 1)]
    for x, y in zip(leaves(runs[0].state.params), leaves(runs[1].state.params)):
        np.testing.assert_array_equal(x, y)
    # augmentation changes what is learnt from the same initial network and mini-batch order
    assert not np.array_equal(leaves(runs[0].state.params)[0], leaves(plain.state.params)[0])


@pytest.mark.slow  # two compiled training programs
def test_population_draws_the_same_variants_as_train(digits):
    train, evals = data(digits)
    config = dataclasses.replace(
        SMALL, augment="shift", augment_shift=1, epochs=1, optimizer="adam", learning_rate=1e-2
    )
    alone = jd.train(config, train, evals, progress=False)
    together = train_population(config, train, evals, seeds=[config.seed])
    for x, y in zip(leaves(alone.state.params), leaves(together.params)):
        np.testing.assert_allclose(x, y[0], rtol=2e-5, atol=2e-6)


def test_epoch_with_augmentation_compiles_once(digits):
    config = dataclasses.replace(SMALL, augment="shift")
    train, _ = data(digits)
    optimizer = optimizer_for(config, len(train[1]))
    epoch = make_train_epoch(config, optimizer)
    state = init_state(config, optimizer, key=jax.random.key(0))
    images, labels = jnp.asarray(train[0]), jnp.asarray(train[1], jnp.int32)
    state, _ = epoch(state, images, labels, {})
    state, _ = epoch(state, images, labels, {})
    assert epoch._cache_size() == 1


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"augment": "rotate"}, "unknown augment 'rotate'; expected one of: none, shift, affine"),
        ({"augment": "shift", "augment_shift": -1}, "augment_shift must be a whole number of pixels >= 0"),
        ({"augment": "shift", "augment_shift": 1.5}, "augment_shift must be a whole number"),
        ({"augment": "shift", "augment_shift": 28}, "would move every pixel out of the 28×28 image"),
        ({"augment": "affine", "augment_rotate": 270.0}, "augment_rotate must be a number >= 0 and <= 180"),
        ({"augment": "affine", "augment_rotate": -5.0}, "augment_rotate must be a number >= 0"),
        ({"augment": "affine", "augment_scale": 0.5}, "augment_scale must be a number >= 0 and < 0.5"),
        ({"augment": "affine", "augment_shear": float("nan")}, "augment_shear must be a number"),
        ({"augment": "shift", "sizes": (100 + 1, 16, 10)}, "101 pixels, which is no square"),
    ],
)
def test_bad_augmentation_is_refused_when_configured(fields, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        jd.TrainConfig(**fields)


def test_snapshots_with_augmentation_leave_training_bit_identical(digits):
    """The per-step keys travel with the mini-batch rows through the snapshot blocks."""
    train, _ = data(digits)
    config = dataclasses.replace(SMALL, augment="shift", augment_shift=1, epochs=1)  # 10 steps
    plain = jd.train(config, train, progress=False)
    recorded = jd.train(config, train, progress=False, snapshot_every=3)  # 3 blocks and 1 step left over
    for a, b in zip(leaves(plain.state.params), leaves(recorded.state.params)):
        np.testing.assert_array_equal(a, b)
    assert recorded.snapshots[0][0]["w"].shape == (3, 64, 16)

"""The handwritten gradient descent step against optax, in lockstep."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxdigits as jd


def test_sgd_step_is_params_minus_learning_rate_times_grads():
    params = [{"w": jnp.array([[1.0, 2.0]]), "b": jnp.array([3.0, -1.0])}]
    grads = [{"w": jnp.array([[0.5, -1.0]]), "b": jnp.array([2.0, 0.0])}]
    new = jd.sgd_step(params, grads, 0.1)
    np.testing.assert_allclose(new[0]["w"], [[0.95, 2.1]], rtol=1e-6)
    np.testing.assert_allclose(new[0]["b"], [2.8, -1.0], rtol=1e-6)


@pytest.mark.parametrize("schedule", ["constant", "cosine"])
def test_handwritten_sgd_and_optax_sgd_agree_after_100_steps(key, digits, schedule):
    images, labels = digits.train_images, digits.train_labels
    params0 = jd.init_params(key, (64, 16, 16, 10))
    batches = jax.random.permutation(jax.random.key(1), 100 * 10).reshape(100, 10) % len(labels)
    grad = jax.jit(jax.grad(jd.mse_cost))

    def run(opt):
        params, state = params0, opt.init(params0)
        for idx in batches:
            updates, state = opt.update(grad(params, images[idx], labels[idx]), state, params)
            params = optax.apply_updates(params, updates)
        return params

    if schedule == "constant":
        by_hand = params0
        for idx in batches:  # the bare step, with no optax at all
            by_hand = jd.sgd_step(by_hand, grad(by_hand, images[idx], labels[idx]), 1.5)
        mine, theirs = run(jd.make_optimizer("sgd", 1.5)), run(optax.sgd(1.5))
        for a, b in zip(jax.tree.leaves(by_hand), jax.tree.leaves(theirs)):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    else:
        lr = optax.cosine_decay_schedule(1.5, 100)
        mine, theirs = run(jd.handwritten_sgd(lr)), run(optax.sgd(lr))
    for a, b in zip(jax.tree.leaves(mine), jax.tree.leaves(theirs)):
        np.testing.assert_array_equal(a, b)  # the same arithmetic, bit for bit
    moved = max(float(jnp.abs(a - b).max()) for a, b in zip(jax.tree.leaves(mine), jax.tree.leaves(params0)))
    assert moved > 0.1


@pytest.mark.parametrize("name", ["sgd", "optax_sgd", "momentum", "adam", "adamw"])
def test_every_optimizer_lowers_the_cost(key, digits, name):
    images, labels = digits.train_images[:256], digits.train_labels[:256]
    params = jd.init_params(key, (64, 16, 16, 10), "scaled")
    lr = {"sgd": 1.0, "optax_sgd": 1.0, "momentum": 0.3}.get(name, 0.01)
    opt = jd.make_optimizer(name, lr, weight_decay=1e-4 if name == "adamw" else 0.0)
    state = opt.init(params)

    @jax.jit
    def step(params, state):
        updates, state = opt.update(jax.grad(jd.mse_cost)(params, images, labels), state, params)
        return optax.apply_updates(params, updates), state

    before = float(jd.mse_cost(params, images, labels))
    for _ in range(50):
        params, state = step(params, state)
    assert float(jd.mse_cost(params, images, labels)) < 0.7 * before


def test_second_step_does_not_recompile(key):
    params = jd.init_params(key, (4, 3))
    opt = jd.handwritten_sgd(0.1)
    state = opt.init(params)
    traces = []

    @jax.jit
    def step(params, state):
        traces.append(1)
        updates, state = opt.update(params, state, params)
        return optax.apply_updates(params, updates), state

    params, state = step(params, state)
    params, state = step(params, state)
    assert len(traces) == 1


@pytest.mark.parametrize("schedule", ["constant", "cosine"])
def test_a_warm_up_rises_linearly_from_zero_then_hands_over_to_the_schedule(schedule):
    total, warmup, peak = 1000, 50, 8e-3
    lr = jd.training.schedule_for(peak, schedule, total, warmup)
    steps = np.arange(0, total + 1)
    expected = np.where(steps < warmup, peak * steps / warmup, peak)
    if schedule == "cosine":  # from the peak at step w to 0 at step T: η·½(1 + cos(π(t − w)/(T − w)))
        expected = np.where(
            steps < warmup, expected, peak * 0.5 * (1 + np.cos(np.pi * (steps - warmup) / (total - warmup)))
        )
    np.testing.assert_allclose(np.asarray(jax.vmap(lr)(steps)), expected, rtol=1e-5, atol=1e-9)
    # linear in η: a population builds it with η = 1 and scales each network's update by its own η
    unit = jd.training.schedule_for(1.0, schedule, total, warmup)
    np.testing.assert_allclose(jax.vmap(unit)(steps) * peak, jax.vmap(lr)(steps), rtol=1e-5)  # float32 rounding


def test_without_a_warm_up_the_schedules_are_the_ones_before_warm_ups():
    assert jd.training.schedule_for(0.5, "constant", 100) == 0.5
    cosine, before = jd.training.schedule_for(0.5, "cosine", 100, 0), optax.cosine_decay_schedule(0.5, 100)
    np.testing.assert_array_equal(jax.vmap(cosine)(jnp.arange(101)), jax.vmap(before)(jnp.arange(101)))


@pytest.mark.parametrize(
    "total, warmup, message",
    [
        (100, -1, "warmup_steps must be a whole number >= 0"),
        (100, 100, r"warmup_steps \(100\) must be fewer than total_steps \(100\)"),
        (None, 5, "needs total_steps >= 1"),
    ],
)
def test_bad_warm_ups_are_refused(total, warmup, message):
    with pytest.raises(ValueError, match=message):
        jd.make_optimizer("adamw", 1e-3, total_steps=total, warmup_steps=warmup)

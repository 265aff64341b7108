"""The costs and the accuracy, checked against hand computations."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxdigits as jd


def tiny_network():
    # 2 inputs -> 2 outputs, no hidden layer: easy to compute by hand.
    return [{"w": jnp.array([[1.0, -1.0], [2.0, 0.5]]), "b": jnp.array([0.0, 1.0])}]


def test_mse_cost_matches_a_hand_computation():
    params = tiny_network()
    images = jnp.array([[1.0, 0.0], [0.5, 0.5]])
    labels = jnp.array([0, 1])
    sig = lambda z: 1 / (1 + np.exp(-z))
    # image 1: z = (1, -1+1) = (1, 0);        desired (1, 0)
    # image 2: z = (0.5+1, -0.5+0.25+1) = (1.5, 0.75); desired (0, 1)
    c1 = (sig(1.0) - 1) ** 2 + (sig(0.0) - 0) ** 2
    c2 = (sig(1.5) - 0) ** 2 + (sig(0.75) - 1) ** 2
    assert float(jd.mse_cost(params, images, labels)) == pytest.approx((c1 + c2) / 2, rel=1e-6)
    # cross-entropy on the same weighted sums
    ce1 = -np.log(np.exp(1.0) / (np.exp(1.0) + np.exp(0.0)))
    ce2 = -np.log(np.exp(0.75) / (np.exp(1.5) + np.exp(0.75)))
    assert float(jd.cross_entropy_cost(params, images, labels)) == pytest.approx((ce1 + ce2) / 2, rel=1e-6)
    # image 1 is right (output 0 largest), image 2 is wrong (output 0 larger than 1)
    assert float(jd.accuracy(params, images, labels)) == 0.5


def test_a_perfect_network_has_near_zero_cost():
    # Huge weights on the identity make each output saturate at exactly its one-hot target.
    params = [{"w": 50 * jnp.eye(10), "b": -25 * jnp.ones(10)}]
    labels = jnp.arange(10)
    images = jax.nn.one_hot(labels, 10)
    assert float(jd.mse_cost(params, images, labels)) < 1e-9
    assert float(jd.accuracy(params, images, labels)) == 1.0


def test_the_step_activation_has_zero_gradient(key, digits):
    params = jd.init_params(key, (64, 16, 16, 10))
    grads = jax.grad(jd.mse_cost)(params, digits.train_images[:100], digits.train_labels[:100], "step")
    assert all(float(jnp.abs(g).max()) == 0.0 for g in jax.tree.leaves(grads))
    sig = jax.grad(jd.mse_cost)(params, digits.train_images[:100], digits.train_labels[:100], "sigmoid")
    assert all(float(jnp.abs(g).max()) > 0.0 for g in jax.tree.leaves(sig))

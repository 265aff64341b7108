"""The handwritten backprop against jax.grad and central finite differences."""

import jax
import jax.numpy as jnp
import numpy as np

import jaxdigits as jd


def leaves(tree):
    return [np.asarray(x) for x in jax.tree.leaves(tree)]


def test_jax_grad_equals_handwritten_backprop_on_the_video_network(key, digits):
    with jax.enable_x64(True):
        params = jd.init_params(key, (64, 16, 16, 10), dtype=jnp.float64)
        images = jnp.asarray(digits.train_images[:50], jnp.float64)
        labels = jnp.asarray(digits.train_labels[:50])
        auto = jax.grad(jd.mse_cost)(params, images, labels)
        hand = jd.backprop(params, images, labels)
        assert jax.tree.structure(auto) == jax.tree.structure(hand)
        for a, h in zip(leaves(auto), leaves(hand)):
            np.testing.assert_allclose(a, h, rtol=1e-10, atol=1e-13)


def test_backprop_matches_central_finite_differences(key):
    with jax.enable_x64(True):
        k1, k2, k3 = jax.random.split(key, 3)
        params = jd.init_params(k1, (12, 5, 4, 3), dtype=jnp.float64)
        images = jax.random.uniform(k2, (7, 12), jnp.float64)
        labels = jax.random.randint(k3, (7,), 0, 3)
        flat, unravel = jax.flatten_util.ravel_pytree(params)
        cost = jax.jit(lambda theta: jd.mse_cost(unravel(theta), images, labels))
        eps = 1e-6
        basis = jnp.eye(flat.size, dtype=jnp.float64)
        numeric = (jax.vmap(cost)(flat + eps * basis) - jax.vmap(cost)(flat - eps * basis)) / (2 * eps)
        hand, _ = jax.flatten_util.ravel_pytree(jd.backprop(params, images, labels))
        auto = jax.grad(cost)(flat)
        np.testing.assert_allclose(hand, numeric, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(auto, numeric, rtol=1e-6, atol=1e-9)
        assert float(jnp.linalg.norm(numeric)) > 1e-3  # the check is not vacuous

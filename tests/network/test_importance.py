"""The gradient ranks the parameters (``jaxdigits.importance``): masks, shares, masked steps."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxdigits as jd
from jaxdigits import network


def test_masks_choose_the_right_number_and_the_largest_entries():
    grads = [{"w": jnp.array([[0.1, -5.0], [2.0, 0.0]]), "b": jnp.array([-3.0, 0.5])}]
    top = network.top_mask(grads, 0.5)  # 3 of 6 entries: -5, -3, 2
    np.testing.assert_array_equal(top[0]["w"], [[0, 1], [1, 0]])
    np.testing.assert_array_equal(top[0]["b"], [1, 0])
    rand = network.random_mask(grads, 0.5, key=jax.random.key(3))
    assert sum(float(jnp.sum(m)) for m in jax.tree.leaves(rand)) == 3
    assert float(network.gradient_share(grads, top)) == pytest.approx((25 + 9 + 4) / (0.01 + 25 + 4 + 9 + 0.25))
    with pytest.raises(ValueError, match="fraction"):
        network.top_mask(grads, 0.0)


def test_full_mask_step_is_the_sgd_step_and_top_beats_random(key, digits):
    params = jd.init_params(key, (64, 16, 16, 10))
    x, y = digits.train_images, digits.train_labels
    cost, grads = jax.value_and_grad(jd.mse_cost)(params, x, y)
    full = network.top_mask(grads, 1.0)
    for a, b in zip(jax.tree.leaves(network.masked_step(params, grads, full, 1.5)),
                    jax.tree.leaves(jd.sgd_step(params, grads, 1.5))):  # fmt: skip
        np.testing.assert_array_equal(a, b)
    cost_after = jax.jit(lambda mask: jd.mse_cost(network.masked_step(params, grads, mask, 1.5), x, y))
    top = cost_after(network.top_mask(grads, 0.05))
    randoms = [cost_after(network.random_mask(grads, 0.05, key=k)) for k in jax.random.split(key, 3)]
    assert cost - top > 3 * (cost - max(randoms))

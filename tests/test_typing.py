"""The names of what travels: a ``LossFn`` is any ``loss(params, batch) -> scalar``."""

import jax
import jax.numpy as jnp

import jaxdigits as jd
from jaxdigits.typing import LossFn


def test_a_loss_over_any_pytree_is_a_loss_fn(digits):
    def loss(params, batch):
        images, labels = batch
        return jd.mse_cost(params, images, labels)

    assert isinstance(loss, LossFn)
    params = jd.init_params(jax.random.key(0), (64, 16, 16, 10))
    value = loss(params, (digits.test_images, digits.test_labels))
    assert jnp.shape(value) == () and float(value) > 0


"""The first layer computed apart: the fast weight gradient, and the span of a plane or a path."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxdigits as jd
from jaxdigits.network import batch_cost, cost_function, first_layer_span, inputs_times_weights, span_metrics

SIZES = (64, 16, 16, 10)


@pytest.mark.parametrize("cost", ["mse", "cross_entropy"])
def test_batch_cost_equals_the_cost_and_its_gradient(digits, cost):
    """The first-layer product with its hand-placed weight gradient changes only rounding."""
    params = jd.init_params(jax.random.key(1), SIZES)
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


def _stack(networks):
    return jax.tree.map(lambda *leaves: jnp.stack(leaves), *networks)


@pytest.mark.parametrize("cost", ["mse", "cross_entropy"])
@pytest.mark.parametrize("with_origin", [True, False])
@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_span_metrics_equal_the_combined_network(digits, cost, with_origin, activation):
    """θ₀ + Σₖ cₖθₖ evaluated from the products computed once = the whole network evaluated directly."""
    nets = [jd.init_params(jax.random.key(k), SIZES, "scaled") for k in range(4)]
    origin, basis = (nets[0], nets[1:]) if with_origin else (None, nets[1:])
    x, y = digits.test_images, digits.test_labels
    c = jnp.array([0.7, -0.4, 0.25])
    combined = jax.tree.map(lambda *leaves: sum(ck * leaf for ck, leaf in zip(c, leaves)), *basis)
    if origin is not None:
        combined = jax.tree.map(jnp.add, origin, combined)

    @jax.jit
    def fast(c):
        span = first_layer_span(x, y, _stack(basis), origin=origin)
        return span_metrics(c, span, cost=cost, activation=activation)

    value, right = fast(c)
    want = cost_function(cost)(combined, x, y, activation)
    np.testing.assert_allclose(value, want, rtol=2e-5)
    assert float(right) == pytest.approx(float(jd.accuracy(combined, x, y, activation)), abs=1.5 / len(y))


def test_span_metrics_refuses_an_unknown_cost(digits):
    net = jd.init_params(jax.random.key(0), SIZES)
    span = first_layer_span(digits.test_images[:8], digits.test_labels[:8], _stack([net]))
    with pytest.raises(ValueError, match="unknown cost 'hinge'"):
        span_metrics(jnp.ones(1), span, cost="hinge", activation="sigmoid")

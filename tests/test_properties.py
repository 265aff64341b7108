"""Property-based tests (hypothesis) of the public functions."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jaxdigits as jd

GRAD = jax.jit(jax.grad(jd.mse_cost))
BACKPROP = jax.jit(jd.backprop)
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Shapes come from a few architectures (each new shape costs XLA compilations); the
# weights, biases, images, labels and weight scale vary freely.
ARCHITECTURES = [((4,), 5, 3, 4), ((3, 2), 6, 2, 3), ((7, 5, 3), 12, 10, 1), ((16, 16), 64, 10, 9)]
networks = st.tuples(st.integers(0, 2**31 - 1), st.sampled_from(ARCHITECTURES), st.floats(0.01, 20.0))


def make(seed, architecture, scale):
    hidden, n_in, n_out, n = architecture
    k1, k2, k3 = jax.random.split(jax.random.key(seed), 3)
    params = jax.tree.map(lambda x: scale * x, jd.init_params(k1, (n_in, *hidden, n_out)))
    images = jax.random.uniform(k2, (n, n_in))
    labels = jax.random.randint(k3, (n,), 0, n_out)
    return params, images, labels


@SETTINGS
@given(networks)
def test_outputs_costs_and_accuracy_stay_in_their_ranges(net):
    params, images, labels = make(*net)
    n_out = net[1][2]
    out = jax.jit(jd.predict)(params, images)
    assert out.shape == (len(labels), n_out) and bool(jnp.all((out >= 0) & (out <= 1)))
    cost = float(jax.jit(jd.mse_cost)(params, images, labels))
    assert 0 <= cost <= n_out  # each of the n_out squared differences is at most 1
    acc = float(jax.jit(jd.accuracy)(params, images, labels))
    assert 0 <= acc <= 1 and np.isclose(acc * len(labels), round(acc * len(labels)), atol=1e-4)
    assert float(jax.jit(jd.cross_entropy_cost)(params, images, labels)) >= 0


@SETTINGS
@given(networks)
def test_cost_is_the_mean_of_per_image_costs(net):
    params, images, labels = make(*net)
    each = [float(jd.mse_cost(params, images[i], labels[i])) for i in range(len(labels))]
    assert float(jd.mse_cost(params, images, labels)) == pytest.approx(np.mean(each), rel=1e-5, abs=1e-6)
    order = np.random.default_rng(0).permutation(len(labels))
    shuffled = float(jd.mse_cost(params, images[order], labels[order]))
    assert shuffled == pytest.approx(float(jd.mse_cost(params, images, labels)), rel=1e-5, abs=1e-6)


@SETTINGS
@given(networks)
def test_backprop_equals_jax_grad_for_any_network(net):
    params, images, labels = make(*net)
    auto = GRAD(params, images, labels)
    hand = BACKPROP(params, images, labels)
    for a, h in zip(jax.tree.leaves(auto), jax.tree.leaves(hand)):
        np.testing.assert_allclose(a, h, rtol=2e-4, atol=1e-5)


@SETTINGS
@given(networks, st.floats(1e-4, 10.0))
def test_sgd_step_moves_against_the_gradient(net, learning_rate):
    params, images, labels = make(*net)
    grads = GRAD(params, images, labels)
    new = jd.sgd_step(params, grads, learning_rate)
    for p, g, q in zip(jax.tree.leaves(params), jax.tree.leaves(grads), jax.tree.leaves(new)):
        np.testing.assert_allclose(q, p - learning_rate * g, rtol=1e-6, atol=1e-6)


@SETTINGS
@given(networks, st.one_of(st.integers(-1000, -1), st.integers(10, 1000)))
def test_any_label_outside_the_classes_is_refused(net, bad):
    params, images, labels = make(*net)
    bad = bad if bad < 0 else net[1][2] + bad - 10
    labels = labels.at[0].set(bad)
    with pytest.raises(ValueError, match="labels must lie in"):
        jd.mse_cost(params, images, labels)

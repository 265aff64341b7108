"""Hessian-vector products, top eigenvalues and trace against the dense Hessian of a tiny network."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxdigits as jd
from jaxdigits import landscape


@pytest.fixture(scope="module")
def tiny():
    """A 6-4-3 network (43 parameters) on random data, its dense Hessian and eigenpairs, in float64."""
    with jax.enable_x64(True):
        rng = np.random.default_rng(0)
        params = [
            {"w": jnp.asarray(rng.normal(size=(m, n))), "b": jnp.asarray(rng.normal(size=n))}
            for m, n in ((6, 4), (4, 3))
        ]
        images = jnp.asarray(rng.uniform(size=(40, 6)))
        labels = jnp.asarray(rng.integers(0, 3, size=40), jnp.int32)
        flat, unflatten = landscape.flatten(params)
        unravel = jax.flatten_util.ravel_pytree(params)[1]
        cost_of_flat = lambda f: jd.mse_cost(unravel(f), images, labels)
        hessian = np.asarray(jax.jit(jax.hessian(cost_of_flat))(jnp.asarray(flat)))
        values, vectors = np.linalg.eigh(hessian)
        return params, images, labels, hessian, values[::-1], vectors[:, ::-1], unflatten


def test_hessian_vector_product_matches_the_dense_hessian(tiny):
    params, images, labels, hessian, *_, unflatten = tiny
    v = np.random.default_rng(1).normal(size=hessian.shape[0])
    with jax.enable_x64(True):
        hv = landscape.hvp(params, unflatten(v), images, labels)
    np.testing.assert_allclose(landscape.flatten(hv)[0], hessian @ v, rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="same structure"):
        landscape.hvp(params, unflatten(v)[:1], images, labels)


@pytest.mark.parametrize("iterations", [43, 25])
def test_top_eigenvalues_match_dense_eigh(tiny, iterations):
    params, images, labels, hessian, values, vectors, _ = tiny
    assert hessian.shape == (43, 43) and values[0] > values[1] > values[2]
    with jax.enable_x64(True):
        eig = landscape.top_eigenvalues(params, images, labels, key=jax.random.key(2), k=3, iterations=iterations)
    np.testing.assert_allclose(eig.values, values[:3], rtol=1e-8)
    for i, vector in enumerate(eig.vectors):  # eigenvectors up to sign
        assert abs(landscape.flatten(vector)[0] @ vectors[:, i]) == pytest.approx(1, abs=1e-6)


def test_hutchinson_trace_is_within_its_error_bars(tiny):
    params, images, labels, hessian, *_ = tiny
    with jax.enable_x64(True):
        trace = landscape.hessian_trace(params, images, labels, key=jax.random.key(3), samples=600, batch_size=100)
    exact = np.trace(hessian)
    assert 0 < trace.stderr < 0.1 * abs(exact)
    assert abs(trace.estimate - exact) < 4 * trace.stderr
    with pytest.raises(ValueError, match="samples"):
        landscape.hessian_trace(params, images, labels, key=jax.random.key(3), samples=1)


def test_float32_video_sized_network_top_eigenvalue(digits):
    # On the real 8x8 digits in float32, Lanczos from two different starts agrees.
    rng = np.random.default_rng(4)
    params = [
        {"w": jnp.asarray(rng.normal(size=(m, n)), jnp.float32), "b": jnp.asarray(rng.normal(size=n), jnp.float32)}
        for m, n in ((64, 16), (16, 16), (16, 10))
    ]
    x, y = digits.train_images[:500], digits.train_labels[:500]
    one = landscape.top_eigenvalues(params, x, y, key=jax.random.key(0), k=2, iterations=40)
    other = landscape.top_eigenvalues(params, x, y, key=jax.random.key(1), k=2, iterations=40)
    np.testing.assert_allclose(one.values, other.values, rtol=1e-3)
    assert one.values[0] > one.values[1] > 0
    with pytest.raises(ValueError, match="k must be"):
        landscape.top_eigenvalues(params, x, y, key=jax.random.key(0), k=5, iterations=3)

"""Hessian-vector products, top eigenvalues, trace and eigenvalue density against the exact Hessian of a tiny model."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxdigits as jd
from jaxdigits import landscape


def loss(params, batch):
    """A model written the plain JAX way: a dict of arrays, a tanh layer, softmax cross-entropy."""
    x, y = batch
    hidden = jnp.tanh(x @ params["hidden"]["w"] + params["hidden"]["b"])
    logits = hidden @ params["out"]["w"] + params["out"]["b"]
    return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), y[:, None], axis=1))


@pytest.fixture(scope="module")
def tiny():
    """A 6-4-3 model (43 parameters) on 40 random examples, its dense Hessian and eigenpairs, in float64."""
    with jax.enable_x64(True):
        rng = np.random.default_rng(0)
        params = {
            "hidden": {"w": jnp.asarray(rng.normal(size=(6, 4))), "b": jnp.asarray(rng.normal(size=4))},
            "out": {"w": jnp.asarray(rng.normal(size=(4, 3))), "b": jnp.asarray(rng.normal(size=3))},
        }
        data = (jnp.asarray(rng.uniform(size=(40, 6))), jnp.asarray(rng.integers(0, 3, size=40), jnp.int32))
        flat, unravel = jax.flatten_util.ravel_pytree(params)
        hessian = np.asarray(jax.jit(jax.hessian(lambda f: loss(unravel(f), data)))(flat))
        values, vectors = np.linalg.eigh(hessian)
        return params, data, hessian, values[::-1], vectors[:, ::-1], unravel


def flat(tree):
    return np.asarray(jax.flatten_util.ravel_pytree(tree)[0])


def test_hessian_vector_product_matches_the_dense_hessian_also_in_batches(tiny):
    params, data, hessian, *_, unravel = tiny
    v = np.random.default_rng(1).normal(size=hessian.shape[0])
    with jax.enable_x64(True):
        for batch_size in (None, 16):  # 40 examples: 16 + 16 + a short batch of 8, weighted by size
            hv = landscape.hvp(loss, params, data, unravel(jnp.asarray(v)), batch_size=batch_size)
            np.testing.assert_allclose(flat(hv), hessian @ v, rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="same structure"):
        landscape.hvp(loss, params, data, {"hidden": params["hidden"]})


@pytest.mark.parametrize("iterations", [43, 25])
def test_top_eigenvalues_match_dense_eigh(tiny, iterations):
    params, data, hessian, values, vectors, _ = tiny
    assert hessian.shape == (43, 43) and values[0] > values[1] > values[2]
    with jax.enable_x64(True):
        eig = landscape.top_eigenvalues(loss, params, data, key=jax.random.key(2), k=3, iterations=iterations)
    np.testing.assert_allclose(eig.values, values[:3], rtol=1e-8)
    for i, vector in enumerate(eig.vectors):  # eigenvectors up to sign, pytrees usable as directions
        assert jax.tree.structure(vector) == jax.tree.structure(params)
        assert abs(flat(vector) @ vectors[:, i]) == pytest.approx(1, abs=1e-6)


def test_hutchinson_trace_is_within_its_error_bars(tiny):
    params, data, hessian, *_ = tiny
    with jax.enable_x64(True):
        trace = landscape.hessian_trace(loss, params, data, key=jax.random.key(3), samples=600, chunk_size=100)
    exact = np.trace(hessian)
    # For ±1 probes, Var(zᵀHz) = 2(‖H‖²_F − Σᵢ Hᵢᵢ²): the standard error it should report.
    expected = np.sqrt(2 * (np.sum(hessian**2) - np.sum(np.diag(hessian) ** 2)) / 600)
    assert trace.stderr == pytest.approx(expected, rel=0.2)
    assert abs(trace.estimate - exact) < 4 * trace.stderr
    with pytest.raises(ValueError, match="samples"):
        landscape.hessian_trace(loss, params, data, key=jax.random.key(3), samples=1)


def test_spectral_density_has_unit_mass_the_right_support_and_moments(tiny):
    params, data, hessian, values, *_ = tiny
    with jax.enable_x64(True):
        density = landscape.spectral_density(loss, params, data, key=jax.random.key(4), iterations=43, probes=64)
    assert np.trapezoid(density.density, density.grid) == pytest.approx(1, abs=1e-9)
    assert np.all(density.density >= 0)
    np.testing.assert_allclose(density.weights.sum(axis=1), 1, rtol=1e-8)
    # With as many Lanczos steps as parameters, every probe's nodes are H's eigenvalues.
    assert density.top == pytest.approx(values[0], rel=1e-8)
    assert density.nodes.min() == pytest.approx(values[-1], rel=1e-6, abs=1e-8)
    inside = (density.grid >= values[-1] - 4 * density.sigma) & (density.grid <= values[0] + 4 * density.sigma)
    assert np.trapezoid(np.where(inside, density.density, 0), density.grid) > 0.999
    # Its mass below t is the share of eigenvalues below t, and its E[λ²] is tr(H²)/n, up to the probes' sampling.
    cdf = np.cumsum(density.density) * (density.grid[1] - density.grid[0])
    for t in np.quantile(values, [0.25, 0.5, 0.75]):
        assert np.interp(t, density.grid, cdf) == pytest.approx(np.mean(values <= t), abs=0.1)
    assert density.moment(2) == pytest.approx(np.sum(hessian**2) / hessian.shape[0], rel=0.2)


@pytest.mark.slow
def test_curvature_of_the_video_network_and_bad_input(digits):
    rng = np.random.default_rng(4)
    params = [
        {"w": jnp.asarray(rng.normal(size=(m, n)), jnp.float32), "b": jnp.asarray(rng.normal(size=n), jnp.float32)}
        for m, n in ((64, 16), (16, 16), (16, 10))
    ]
    data = (digits.train_images[:500], digits.train_labels[:500])
    video = jd.network.VideoLoss()
    one = landscape.top_eigenvalues(video, params, data, key=jax.random.key(0), k=2, iterations=40)
    other = landscape.top_eigenvalues(video, params, data, key=jax.random.key(1), k=2, iterations=40, batch_size=128)
    np.testing.assert_allclose(one.values, other.values, rtol=1e-3)  # two starts, float32, in batches or not
    assert one.values[0] > one.values[1] > 0
    with pytest.raises(ValueError, match="k must be"):
        landscape.top_eigenvalues(video, params, data, key=jax.random.key(0), k=5, iterations=3)
    with pytest.raises(ValueError, match="one real number"):
        landscape.hessian_trace(lambda p, b: jnp.zeros(3), params, data, key=jax.random.key(0))
    with pytest.raises(ValueError, match="one batch"):
        landscape.spectral_density(video, params, iter([data]), key=jax.random.key(0))

"""Pytree maths: shape checks, length, unit directions, points of a plane, flat host vectors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdigits import landscape


def test_norm_and_unit_agree_with_the_flat_vector(net):
    flat, _ = landscape.flatten(net)
    assert float(landscape.norm(net)) == pytest.approx(np.linalg.norm(flat), rel=1e-5)
    u = landscape.unit(net)
    assert float(landscape.norm(u)) == pytest.approx(1, rel=1e-5)
    np.testing.assert_allclose(landscape.flatten(u)[0], flat / np.linalg.norm(flat), rtol=1e-5, atol=1e-8)
    with pytest.raises(ValueError, match="length 0"):
        landscape.unit(jax.tree.map(jnp.zeros_like, net))


def test_shift_is_the_point_of_the_plane(net):
    d1 = jax.tree.map(jnp.ones_like, net)
    d2 = jax.tree.map(lambda x: jnp.full_like(x, 2.0), net)
    moved = landscape.shift(net, [d1, d2], jnp.array([0.5, -1.0]))
    for got, p in zip(jax.tree.leaves(moved), jax.tree.leaves(net)):
        np.testing.assert_allclose(got, np.asarray(p) + 0.5 - 2.0, rtol=1e-6, atol=1e-6)


def test_flatten_round_trips_in_float64(net):
    flat, unflatten = landscape.flatten(net)
    assert flat.dtype == np.float64 and flat.size == sum(x.size for x in jax.tree.leaves(net))
    back = unflatten(flat)
    for got, want in zip(jax.tree.leaves(back), jax.tree.leaves(net)):
        assert got.dtype == want.dtype and np.array_equal(got, np.asarray(want))


def test_check_like_names_the_leaf_that_differs(net):
    assert landscape.check_like(net, net) is net
    bad = [dict(layer) for layer in net]
    bad[1]["w"] = jnp.zeros((3, 3))
    with pytest.raises(ValueError, match=r"direction\[1\]\['w'\] has shape \(3, 3\)"):
        landscape.check_like(bad, net)
    with pytest.raises(ValueError, match="same structure"):
        landscape.check_like(net[:-1], net)

"""Symmetries of the network: same function, and matching recovers a hidden permutation and flips."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxdigits as jd
from jaxdigits import landscape, network

SIZES = (20, 6, 5, 4)
FLIPS = {"sigmoid": True, "tanh": True, "relu": False}


def make_net(seed, sizes=SIZES, init="scaled"):
    return jd.init_params(jax.random.key(seed), sizes, init)


def images(n=64, pixels=SIZES[0]):
    return jax.random.uniform(jax.random.key(99), (n, pixels))


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_permuted_and_flipped_network_computes_the_same_function(activation):
    params = make_net(0, init="normal")
    for seed in range(3):
        sym = network.random_symmetry(params, key=jax.random.key(seed), flips=FLIPS[activation])
        moved = network.transform(params, sym, activation)
        assert float(network.distance(params, moved)) > 1.0  # another point of parameter space
        np.testing.assert_allclose(
            jd.predict(moved, images(), activation), jd.predict(params, images(), activation), atol=2e-6
        )


def test_a_flip_negates_the_neuron_and_moves_the_next_bias_by_hand():
    w1, b1 = np.array([[1.0, 2.0]]), np.array([0.5, -1.0])
    w2, b2 = np.array([[3.0], [4.0]]), np.array([0.25])
    params = [{"w": jnp.asarray(w1), "b": jnp.asarray(b1)}, {"w": jnp.asarray(w2), "b": jnp.asarray(b2)}]
    sym = network.Symmetry((jnp.array([1, 0]),), (jnp.array([-1.0, 1.0]),))  # new 0 = old 1 flipped
    moved = network.transform(params, sym, "sigmoid")
    np.testing.assert_allclose(moved[0]["w"], [[-2.0, 1.0]])
    np.testing.assert_allclose(moved[0]["b"], [1.0, 0.5])
    np.testing.assert_allclose(moved[1]["w"], [[-4.0], [3.0]])
    np.testing.assert_allclose(moved[1]["b"], [0.25 + 4.0])  # σ(−z) = 1 − σ(z): c·w added
    tanh = network.transform(params, sym, "tanh")
    np.testing.assert_allclose(tanh[1]["b"], [0.25])  # tanh(−z) = −tanh(z): nothing added


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_matching_a_hidden_copy_recovers_the_network(activation):
    params = make_net(1)
    hidden = network.random_symmetry(params, key=jax.random.key(5), flips=FLIPS[activation])
    copy = network.transform(params, hidden, activation)
    ts = np.linspace(0, 1, 5)
    found, _ = network.weight_matching(params, copy, key=jax.random.key(0), activation=activation,
                                        flips=FLIPS[activation])  # fmt: skip
    by_activation = network.activation_matching(params, copy, images(), activation=activation,
                                                 flips=FLIPS[activation])  # fmt: skip
    labels = jnp.arange(64) % SIZES[-1]
    for sym in (found, by_activation):
        aligned = network.align(copy, sym, activation)
        assert float(network.distance(params, aligned)) < 1e-5
        path = landscape.path_metrics(
            network.VideoLoss(activation=activation), [params, aligned], (images(), labels), ts
        )
        assert landscape.barrier(path.cost, ts) == pytest.approx(0.0, abs=1e-6)


def test_weight_matching_finds_the_best_permutation_of_one_hidden_layer_by_brute_force():
    a, b = make_net(2, (7, 4, 3), init="normal"), make_net(3, (7, 4, 3), init="normal")
    flat = lambda p: np.concatenate([np.ravel(x) for x in jax.tree.leaves(p)])
    moved = jax.jit(lambda perm, signs: network.transform(b, network.Symmetry((perm,), (signs,)), "tanh"))
    for flips in (False, True):  # tanh: a flip adds nothing to the next bias, so ⟨a, π(b)⟩ is the whole story
        best = max(
            float(flat(a) @ flat(moved(jnp.array(perm), jnp.array(signs, jnp.float32))))
            for perm in itertools.permutations(range(4))
            for signs in (itertools.product((1.0, -1.0), repeat=4) if flips else [(1.0,) * 4])
        )
        found, _ = network.weight_matching(a, b, key=jax.random.key(0), activation="tanh", flips=flips)
        assert flat(a) @ flat(network.transform(b, found, "tanh")) == pytest.approx(best, rel=1e-5)


def test_activation_matching_maximises_the_summed_correlation_by_brute_force():
    a, b = make_net(4, (20, 4, 3)), make_net(5, (20, 4, 3))
    x = np.asarray(images())
    h = lambda p: np.asarray(jax.nn.sigmoid(x @ np.asarray(p[0]["w"]) + np.asarray(p[0]["b"])))
    corr = np.corrcoef(h(a).T, h(b).T)[:4, 4:]  # numpy's reference
    best = max(sum(abs(corr[i, perm[i]]) for i in range(4)) for perm in itertools.permutations(range(4)))
    found = network.activation_matching(a, b, x, flips=True)
    perm, signs = np.asarray(found.perms[0]), np.asarray(found.signs[0])
    assert sum(signs[i] * corr[i, perm[i]] for i in range(4)) == pytest.approx(best, rel=1e-5)


def test_weight_matching_of_stacked_pairs_equals_one_pair_at_a_time():
    nets = [make_net(s) for s in range(4)]
    stack = lambda ps: jax.tree.map(lambda *x: jnp.stack(x), *ps)
    a, b = stack(nets[:2]), stack(nets[2:])
    both, _ = network.weight_matching(a, b, key=jax.random.key(0), flips=True)
    for p in range(2):
        one, _ = network.weight_matching(nets[p], nets[p + 2], key=jax.random.key(0), flips=True)
        for x, y in zip(jax.tree.leaves(one), jax.tree.leaves(both)):
            np.testing.assert_array_equal(x, y[p])
    naive, matched = network.distance(a, b), network.distance(a, network.align(b, both))
    assert naive.shape == (2,) and np.all(np.asarray(matched) < np.asarray(naive))
    unchanged = jax.tree.map(lambda x: jnp.stack([x, x]), network.identity_symmetry(nets[0]))
    assert np.all(np.asarray(network.inner_product(a, b, both)) > np.asarray(network.inner_product(a, b, unchanged)))


def test_bad_input_is_refused_with_what_was_expected():
    a = make_net(0)
    with pytest.raises(ValueError, match="same architecture"):
        network.weight_matching(a, make_net(1, (20, 7, 5, 4)), key=jax.random.key(0))
    with pytest.raises(ValueError, match="no flip symmetry"):
        network.weight_matching(a, make_net(1), key=jax.random.key(0), activation="relu", flips=True)
    with pytest.raises(ValueError, match="no flip symmetry"):
        network.transform(a, network.random_symmetry(a, key=jax.random.key(1)), "relu")
    bad = jax.tree.map(lambda x: x, a)
    bad[1] = {"w": a[1]["w"].at[0, 0].set(jnp.nan), "b": a[1]["b"]}
    with pytest.raises(ValueError, match="NaN or infinite"):
        network.activation_matching(a, bad, images())
    with pytest.raises(ValueError, match="one permutation and one sign vector per hidden layer"):
        network.transform(a, network.Symmetry((jnp.arange(6),), (jnp.ones(6),)))
    with pytest.raises(TypeError, match="list of"):
        network.weight_matching({"w": 1}, a, key=jax.random.key(0))

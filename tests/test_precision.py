"""Every matrix product of every compiled unit asks for true float32 (jaxdigits.precision).

On a CPU the precision changes nothing, so these tests read the programs instead: they walk
each unit's jaxpr (into scans, loops, custom VJPs and nested jits) and check the precision of
every ``dot_general`` — forward, backward and in the transposes autodiff adds. On a GPU
these are the products that would otherwise run on TF32 tensor cores.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxdigits as jd
from jaxdigits import landscape, precision, training
from jaxdigits.network import VideoLoss, backprop
from jaxdigits.training import TrainConfig, init_state, make_train_epoch, optimizer_for

SIZES = (12, 5, 4, 3)
HIGHEST = (jax.lax.Precision.HIGHEST, jax.lax.Precision.HIGHEST)


def dot_precisions(fn, *args):
    """The ``precision`` of every dot_general in ``fn``'s jaxpr, sub-jaxprs included."""
    found = []

    def walk(jaxpr):
        for eqn in jaxpr.eqns:
            if eqn.primitive.name == "dot_general":
                found.append(eqn.params["precision"])
            for value in eqn.params.values():
                for sub in value if isinstance(value, (list, tuple)) else (value,):
                    if hasattr(sub, "eqns"):
                        walk(sub)
                    elif hasattr(sub, "jaxpr") and hasattr(sub.jaxpr, "eqns"):
                        walk(sub.jaxpr)

    walk(jax.make_jaxpr(fn)(*args).jaxpr)
    return found


@pytest.fixture(scope="module")
def setup():
    rng = np.random.default_rng(0)  # numpy draws: no RNG program to compile
    params = [
        {"w": jnp.asarray(rng.normal(size=(m, n)), jnp.float32), "b": jnp.asarray(rng.normal(size=n), jnp.float32)}
        for m, n in zip(SIZES[:-1], SIZES[1:])
    ]
    images = jnp.asarray(rng.uniform(size=(20, SIZES[0])), jnp.float32)
    labels = jnp.arange(20, dtype=jnp.int32) % SIZES[-1]
    return params, images, labels


def units(params, images, labels):
    """(name, function, args, least number of products) for each compiled unit."""
    config = TrainConfig(sizes=SIZES, batch_size=5)
    optimizer = optimizer_for(config, len(labels))
    state = init_state(config, optimizer, key=jax.random.key(2))
    pop = training.init_population(config, optimizer, (0, 1), (1.0, 2.0))
    loss = VideoLoss()
    static = dict(loss=loss, chunk_size=2, batch_size=None, mesh=None, groups=False)
    basis = jax.tree.map(lambda x: jnp.stack([jnp.ones_like(x)] * 2), params)
    grid_args = (params, basis, (images, labels), np.zeros((4, 2), np.float32))
    hvp = functools.partial(landscape.hvp, loss, params, (images, labels))
    vector = jax.tree.map(jnp.ones_like, params)
    population_epoch = training.make_population_epoch(config, optimizer, scale_updates=False)
    return [
        ("gradient of the cost", jax.grad(jd.mse_cost), (params, images, labels), 6),
        ("handwritten backprop", backprop, (params, images, labels), 6),
        ("training epoch", make_train_epoch(config, optimizer), (state, images, labels, {}), 6),
        ("population epoch", population_epoch, (pop, images, labels, {}), 6),
        (
            "landscape, span",
            functools.partial(landscape.grid_program, span=True, metrics=("accuracy",), **static),
            grid_args,
            5,
        ),
        (
            "landscape, generic",
            functools.partial(landscape.grid_program, span=False, metrics=(), **static),
            grid_args,
            3,
        ),
        ("Hessian-vector product", hvp, (vector,), 9),
    ]


def test_every_product_asks_for_true_float32(setup):
    for name, fn, args, least in units(*setup):
        found = dot_precisions(fn, *args)
        assert len(found) >= least, f"{name}: only {len(found)} products found"
        assert all(p == HIGHEST for p in found), f"{name}: {found}"


def test_a_callers_matmul_precision_is_obeyed(setup):
    params, images, labels = setup
    assert precision.precision() == jax.lax.Precision.HIGHEST
    with jax.default_matmul_precision("tensorfloat32"):
        assert precision.precision() is None
        found = dot_precisions(jax.grad(jd.mse_cost), params, images, labels)
    assert found and not any(p == HIGHEST for p in found)
    assert precision.precision() == jax.lax.Precision.HIGHEST


def test_same_numbers_as_plain_products_on_cpu(setup):
    params, images, labels = setup
    a, b = images[:, :5], params[0]["w"][:5]
    np.testing.assert_array_equal(precision.matmul(a, b), a @ b)
    np.testing.assert_array_equal(precision.einsum("ij,jk->ik", a, b), a @ b)
    np.testing.assert_array_equal(precision.tensordot(a, b, axes=1), a @ b)

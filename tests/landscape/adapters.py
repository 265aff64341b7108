"""Small models of every library, each as ``(loss, params)`` by the adapter the docs show (tests only).

The docs page "Your own model" shows the same few lines per library; these build tiny models on
8×8 digits so that every adapter is checked against a direct evaluation.
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax


def cross_entropy(logits, labels):
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()


def flax_nnx(images):
    from flax import nnx

    class CNN(nnx.Module):
        def __init__(self, *, rngs):
            self.conv = nnx.Conv(1, 4, kernel_size=(3, 3), rngs=rngs)
            self.norm = nnx.BatchNorm(4, rngs=rngs)
            self.out = nnx.Linear(4 * 8 * 8, 10, rngs=rngs)

        def __call__(self, x):
            x = nnx.relu(self.norm(self.conv(x)))
            return self.out(x.reshape(x.shape[0], -1))

    model = CNN(rngs=nnx.Rngs(0))
    model.eval()  # BatchNorm uses its running statistics: state that does not move
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)

    def loss(params, batch):
        x, y = batch
        return cross_entropy(nnx.merge(graphdef, params, rest)(x.reshape(-1, 8, 8, 1)), y)

    return loss, params


def flax_linen(images):
    import flax.linen as nn

    class MLP(nn.Module):
        @nn.compact
        def __call__(self, x):
            return nn.Dense(10)(nn.relu(nn.Dense(16)(x)))

    model = MLP()
    params = model.init(jax.random.key(0), images[:1])["params"]

    def loss(params, batch):
        x, y = batch
        return cross_entropy(model.apply({"params": params}, x), y)

    return loss, params


def equinox(images):
    import equinox as eqx

    model = eqx.nn.MLP(64, 10, 16, 1, key=jax.random.key(0))
    params, static = eqx.partition(model, eqx.is_inexact_array)

    def loss(params, batch):
        x, y = batch
        return cross_entropy(jax.vmap(eqx.combine(params, static))(x), y)

    return loss, params


def haiku(images):
    import haiku as hk

    forward = hk.without_apply_rng(hk.transform(lambda x: hk.nets.MLP([16, 10])(x)))
    params = forward.init(jax.random.key(0), images[:1])

    def loss(params, batch):
        x, y = batch
        return cross_entropy(forward.apply(params, x), y)

    return loss, params


def plain_jax(images):
    rng = np.random.default_rng(0)
    params = {
        "hidden": {"w": jnp.asarray(rng.normal(size=(64, 16)) / 8, jnp.float32), "b": jnp.zeros(16)},
        "out": {"w": jnp.asarray(rng.normal(size=(16, 10)) / 4, jnp.float32), "b": jnp.zeros(10)},
    }

    def loss(params, batch):
        x, y = batch
        hidden = jax.nn.relu(x @ params["hidden"]["w"] + params["hidden"]["b"])
        return cross_entropy(hidden @ params["out"]["w"] + params["out"]["b"], y)

    return loss, params


ADAPTERS = {"flax_nnx": flax_nnx, "flax_linen": flax_linen, "equinox": equinox, "haiku": haiku, "plain_jax": plain_jax}
MODULES = {"flax_nnx": "flax", "flax_linen": "flax", "equinox": "equinox", "haiku": "haiku", "plain_jax": "jax"}

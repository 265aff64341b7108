"""The contract with any model: every library's adapter gives a surface equal to direct evaluation, data as
one batch or as batches; bad models and bad data get clear errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdigits import landscape
from jaxdigits.landscape._contract import batch_size_of, check_data, describe_loss, is_batch
from tests.landscape.adapters import ADAPTERS, MODULES


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(ADAPTERS))
def test_every_adapter_gives_the_cost_at_the_centre_and_off_it(name, digits):
    pytest.importorskip(MODULES[name])
    x, y = digits.test_images[:200], digits.test_labels[:200]
    loss, params = ADAPTERS[name](x)
    ds = [landscape.random_direction(params, key=jax.random.key(k)) for k in (1, 2)]
    axis = landscape.axis(0.5, 3)
    whole = landscape.surface(loss, params, (x, y), ds, axis, axis)
    direct = jax.jit(loss)
    assert whole.method == "generic" and whole.cost[1, 1] == pytest.approx(float(direct(params, (x, y))), rel=1e-6)
    moved = landscape.shift(params, ds, jnp.array([axis[0], axis[2]]))
    assert whole.cost[0, 2] == pytest.approx(float(direct(moved, (x, y))), rel=1e-5)
    # The same data as an iterable of batches (a short last one): the example-weighted mean.
    batches = landscape.Batches([(x[:64], y[:64]), (x[64:128], y[64:128]), (x[128:], y[128:])])
    iterated = landscape.line(loss, params, batches, ds[0], axis)
    np.testing.assert_allclose(iterated.cost, whole.cost[:, 1], rtol=1e-5)


def test_data_is_one_batch_or_an_iterable_of_batches():
    x, y = np.zeros((5, 3), np.float32), np.zeros(5, np.int32)
    assert is_batch((x, y)) and is_batch({"image": x}) and is_batch([x, y])
    assert not is_batch(iter([(x, y)])) and not is_batch(landscape.Batches([(x, y)]))
    assert batch_size_of((x, y)) == 5
    assert [n for _, n in check_data(landscape.Batches(lambda: iter([(x, y), (x[:2], y[:2])])))] == [5, 2]
    assert describe_loss(len) == "builtins.len"


def test_bad_models_and_data_get_clear_errors(digits):
    x, y = digits.test_images[:50], digits.test_labels[:50]
    params = {"w": jnp.zeros((64, 10))}

    def loss(params, batch):
        return jnp.mean((batch[0] @ params["w"]) ** 2)

    d = landscape.random_direction(params, key=jax.random.key(0))
    with pytest.raises(ValueError, match="must return one real number"):
        landscape.line(lambda p, b: (b[0] @ p["w"]) ** 2, params, (x, y), d, [0.0, 1.0])
    with pytest.raises(ValueError, match="share their leading"):
        landscape.line(loss, params, (x, y[:10]), d, [0.0, 1.0])
    with pytest.raises(ValueError, match="gave no batches"):
        landscape.line(loss, params, iter([]), d, [0.0, 1.0])
    with pytest.raises(ValueError, match="holds no examples"):
        landscape.line(loss, params, (x[:0], y[:0]), d, [0.0, 1.0])
    with pytest.raises(TypeError, match="pytree of arrays"):
        landscape.line(loss, params, 42, d, [0.0, 1.0])
    with pytest.raises(ValueError, match="same structure"):
        landscape.line(loss, params, (x, y), {"v": d["w"]}, [0.0, 1.0])
    with pytest.raises(ValueError, match="metrics"):
        landscape.line(loss, params, (x, y), d, [0.0, 1.0], metrics={"cost": loss})

"""Data-parallel training over a mesh of 4 simulated CPU devices equals one-device training."""

import dataclasses

import jax
import numpy as np
import pytest

from jaxdigits import TrainConfig, train
from jaxdigits.parallel import batch_mesh
from jaxdigits.train import train_data_parallel

TINY = TrainConfig(sizes=(64, 16, 16, 10), batch_size=8, epochs=2, learning_rate=1.5, seed=3)


def _tiny(digits, n=160):
    return (digits.train_images[:n], digits.train_labels[:n]), {
        "test": (digits.test_images[:64], digits.test_labels[:64])
    }


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_mesh_matches_one_device(digits, optimizer):
    assert len(jax.devices()) == 4, "conftest simulates 4 CPU devices"
    config = dataclasses.replace(TINY, optimizer=optimizer, learning_rate=1.5 if optimizer == "sgd" else 1e-2)
    train_data, evals = _tiny(digits)
    single = train(config, train_data, evals, progress=False)
    mesh = batch_mesh()
    parallel = train_data_parallel(config, train_data, evals, mesh=mesh)

    w = parallel.state.params[0]["w"]
    assert w.sharding.is_fully_replicated and len(w.sharding.device_set) == 4
    for a, b in zip(jax.tree.leaves(single.state.params), jax.tree.leaves(parallel.state.params)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-5)
    # Training moved the parameters, so agreement is not trivial.
    assert single.history[-1]["test_cost"] < single.history[0]["test_cost"]
    for r1, r2 in zip(single.history, parallel.history):
        assert r1["epoch"] == r2["epoch"]
        np.testing.assert_allclose(r1["test_cost"], r2["test_cost"], rtol=1e-5)
        assert r1["test_accuracy"] == pytest.approx(r2["test_accuracy"], abs=1e-6)


def test_batch_is_split_across_devices(digits):
    """The compiled program really partitions the batch: it contains a cross-device reduction."""
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec as P

    from jaxdigits.train import init_state, make_train_epoch, optimizer_for

    train_data, _ = _tiny(digits)
    optimizer = optimizer_for(TINY, len(train_data[1]))
    mesh = batch_mesh()
    state = init_state(TINY, optimizer, key=jax.random.key(0))
    fn = make_train_epoch(TINY, optimizer, batch_sharding=NamedSharding(mesh, P("batch")))
    data = jax.device_put(train_data, NamedSharding(mesh, P()))
    state = jax.device_put(state, NamedSharding(mesh, P()))
    hlo = fn.lower(state, *data, {}).compile().as_text()
    assert "all-reduce" in hlo


def test_batch_must_divide_over_devices(digits):
    train_data, evals = _tiny(digits)
    with pytest.raises(ValueError, match="multiple of the 4 devices"):
        train_data_parallel(dataclasses.replace(TINY, batch_size=10), train_data, evals)

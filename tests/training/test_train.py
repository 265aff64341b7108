"""Training: ``train`` lowers the cost, reproducibly, stops on divergence; data parallelism equals one device."""

import dataclasses

import jax
import numpy as np
import pytest

import jaxdigits as jd
from jaxdigits import devices
from jaxdigits.training import init_state, make_train_epoch, optimizer_for, train_data_parallel

SMALL = jd.TrainConfig(sizes=(64, 16, 16, 10), batch_size=10, epochs=3, seed=0)
TINY = jd.TrainConfig(sizes=(64, 16, 16, 10), batch_size=8, epochs=2, learning_rate=1.5, seed=3)


def splits(digits):
    train = (digits.train_images, digits.train_labels)
    return train, {"train": train, "test": (digits.test_images, digits.test_labels)}


def test_training_lowers_the_cost_and_raises_accuracy(digits):
    train, evals = splits(digits)
    result = jd.train(SMALL, train, evals, progress=False)
    first, last = result.history[0], result.history[-1]
    assert [r["epoch"] for r in result.history] == [0, 1, 2, 3]
    assert last["train_cost"] < 0.5 * first["train_cost"]
    assert last["test_accuracy"] > 0.6 > 0.2 > first["test_accuracy"]
    assert len(result.seconds_per_epoch) == 3 and result.seconds_compile > 0


def test_same_seed_same_result_other_seed_other_result(digits):
    train, evals = splits(digits)
    a = jd.train(SMALL, train, evals, progress=False)
    b = jd.train(SMALL, train, evals, progress=False)
    c = jd.train(dataclasses.replace(SMALL, seed=1), train, evals, progress=False)
    for x, y in zip(jax.tree.leaves(a.state.params), jax.tree.leaves(b.state.params)):
        np.testing.assert_array_equal(x, y)
    assert [r["train_cost"] for r in a.history] == [r["train_cost"] for r in b.history]
    assert a.history[-1]["train_cost"] != c.history[-1]["train_cost"]


def test_divergence_is_detected_with_the_last_good_parameters(digits):
    train, evals = splits(digits)
    config = dataclasses.replace(SMALL, learning_rate=1e30, cost="cross_entropy", activation="relu")
    with pytest.raises(jd.errors.TrainingDiverged, match=r"epoch 1.*learning_rate 1e\+30") as info:
        jd.train(config, train, evals, progress=False)
    assert "first non-finite mini-batch cost at step" in str(info.value)
    last_good = info.value.last_good_state
    assert int(last_good.epoch) == 0
    for a, b in zip(
        jax.tree.leaves(last_good.params),
        jax.tree.leaves(jd.init_params(jax.random.split(jax.random.key(0))[0], SMALL.sizes)),
    ):
        np.testing.assert_array_equal(a, b)  # the untrained network: the epoch that failed is discarded


def _tiny(digits, n=160):
    return (digits.train_images[:n], digits.train_labels[:n]), {
        "test": (digits.test_images[:64], digits.test_labels[:64])
    }


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_mesh_matches_one_device(digits, optimizer):
    assert len(jax.devices()) == 4, "conftest simulates 4 CPU devices"
    config = dataclasses.replace(TINY, optimizer=optimizer, learning_rate=1.5 if optimizer == "sgd" else 1e-2)
    train_data, evals = _tiny(digits)
    single = jd.train(config, train_data, evals, progress=False)
    mesh = devices.mesh("batch")
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

    train_data, _ = _tiny(digits)
    optimizer = optimizer_for(TINY, len(train_data[1]))
    mesh = devices.mesh("batch")
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

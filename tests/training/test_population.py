"""K networks in one program equal K separate ``train`` runs (tiny data, fast)."""

import dataclasses

import jax
import numpy as np
import pytest

from jaxdigits import PRESETS, TrainConfig, train
from jaxdigits.devices import devices_sharing
from jaxdigits.errors import TrainingDiverged
from jaxdigits.training import (
    init_population,
    init_state,
    key_as_data,
    load_checkpoint,
    member,
    optimizer_for,
    population_members,
    save_checkpoint,
    train_population,
)

TINY = TrainConfig(sizes=(64, 16, 16, 10), batch_size=10, epochs=1, seed=3)


@pytest.fixture(scope="module")
def tiny(digits):
    return (digits.train_images[:120], digits.train_labels[:120]), {
        "test": (digits.test_images[:64], digits.test_labels[:64])
    }


def _assert_same_network(a, b, atol=2e-5):
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=2e-5, atol=atol)


def _train_alone(config, seed, train_data, evals):
    """``train`` with network ``seed``'s initial parameters and the population's shared shuffle."""
    optimizer = optimizer_for(config, len(train_data[1]))
    own, shared = (init_state(config, optimizer, key=jax.random.key(s)) for s in (seed, config.seed))
    return train(config, train_data, evals, state=own._replace(key=shared.key), progress=False)


def test_each_member_equals_its_own_run(tiny):
    """A sweep over seeds and learning rates (adam, cosine schedule: η scales the update)."""
    train_data, evals = tiny
    config = dataclasses.replace(TINY, optimizer="adam", schedule="cosine", learning_rate=1e-2)
    lrs = [config.learning_rate, config.learning_rate / 3]
    result = train_population(config, train_data, evals, seeds=[3, 5], learning_rates=lrs)
    assert result.params[0]["w"].shape == (2, 64, 16)
    k = 1  # seed 5 and η/3: both differ from config (member 0 is checked by the seed sweep below)
    alone = _train_alone(dataclasses.replace(config, learning_rate=result.learning_rates[k]), result.seeds[k], *tiny)
    # adam divides by sqrt(v): where a gradient is nearly 0, its float32 rounding (vmap sums
    # in another order) is amplified, to a few 1e-5 after 12 steps.
    _assert_same_network(member(result.params, k), alone.state.params, atol=2e-4)
    assert len(result.histories[k]) == len(alone.history) == config.epochs + 1
    np.testing.assert_allclose(result.histories[k][-1]["test_cost"], alone.history[-1]["test_cost"], rtol=1e-5)
    # The two networks really differ (different seeds and learning rates).
    assert not np.allclose(result.params[0]["w"][0], result.params[0]["w"][1])


def test_seed_sweep_matches_train_exactly_for_config_seed(tiny):
    train_data, evals = tiny
    result = train_population(TINY, train_data, evals, seeds=[TINY.seed, 11, 12])
    _assert_same_network(member(result.params, 0), train(TINY, train_data, evals, progress=False).state.params)
    finals = [h[-1]["test_cost"] for h in result.histories]
    assert len(set(finals)) == 3


def test_member_snapshots_equal_train_snapshots(tiny):
    """A learning-rate sweep from one initial network recording every 4 steps: member 0 (η = 0.5,
    not the config's) is the run ``train`` makes with η = 0.5, snapshot for snapshot."""
    train_data, evals = tiny
    config = dataclasses.replace(TINY, epochs=2)  # 12 steps an epoch: 3 blocks of 4
    result = train_population(config, train_data, evals, learning_rates=[0.5, 1.5], snapshot_every=4)
    assert len(result.snapshots) == 2 and result.snapshots[0][0]["w"].shape == (2, 3, 64, 16)
    alone = train(dataclasses.replace(config, learning_rate=0.5), train_data, evals, snapshot_every=4)
    for theirs, ours in zip(alone.snapshots, result.snapshots, strict=True):
        _assert_same_network(member(ours, 0), theirs)
    assert not np.allclose(result.snapshots[1][0]["w"][0], result.snapshots[1][0]["w"][1])  # η matters


def test_diverging_member_does_not_disturb_the_others(tiny):
    train_data, evals = tiny
    config = dataclasses.replace(TINY, activation="relu", init="he")
    with pytest.warns(RuntimeWarning, match="diverged"):  # reported, and the run goes on
        result = train_population(config, train_data, evals, learning_rates=[0.1, 1e30])
    assert np.isfinite(result.histories[0][-1]["test_cost"])
    assert not np.isfinite(result.histories[1][-1]["batch_cost"])
    assert len(result.judgements) == 2  # a sweep says which member failed, and why
    failed = result.judgements[1]
    assert failed.status == "failed_to_learn" and "learning rate 1e+30" in failed.reason and "nan" in failed.reason


def test_members_are_checked():
    with pytest.raises(ValueError, match="give seeds"):
        population_members(TINY)
    with pytest.raises(ValueError, match="pair up"):
        population_members(TINY, seeds=[1, 2], learning_rates=[0.1])
    with pytest.raises(ValueError, match="learning_rate"):
        population_members(TINY, learning_rates=[0.1, -1.0])
    assert population_members(TINY, seeds=range(3)) == ((0, 1, 2), (1.5, 1.5, 1.5))


class Interrupted(Exception):
    pass


def test_interrupted_population_resumes_bit_for_bit_from_a_checkpoint(tiny, tmp_path):
    """Stopped after epoch 1 of 3 (a checkpoint written, then on_epoch raises), loaded, resumed."""
    train_data, evals = tiny
    config = dataclasses.replace(TINY, epochs=3, optimizer="adam", learning_rate=1e-2, schedule="cosine")
    members = dict(seeds=[3, 7], learning_rates=[1e-2, 3e-3])
    whole = train_population(config, train_data, evals, **members)
    path = tmp_path / "population.npz"

    def stop_after_first(state, histories):
        save_checkpoint(path, state, histories, config)
        if int(state.epoch) == 1:
            raise Interrupted

    with pytest.raises(Interrupted):
        train_population(config, train_data, evals, **members, on_epoch=stop_after_first)
    optimizer = optimizer_for(dataclasses.replace(config, learning_rate=1.0), len(train_data[1]))
    like = init_population(config, optimizer, *population_members(config, **members))
    state, histories = load_checkpoint(path, like, config)
    assert int(state.epoch) == 1 and [len(h) for h in histories] == [2, 2]
    resumed = train_population(config, train_data, evals, **members, state=state, histories=histories)
    ends = (jax.tree.leaves(key_as_data(r.state)) for r in (whole, resumed))
    for a, b in zip(*ends, strict=True):
        np.testing.assert_array_equal(a, b)
    strip = lambda hs: [[{k: v for k, v in r.items() if k != "seconds"} for r in h] for h in hs]
    assert strip(resumed.histories) == strip(whole.histories)


def test_diverged_member_is_frozen_and_its_history_ends(tiny, tmp_path):
    train_data, evals = tiny
    config = dataclasses.replace(TINY, activation="relu", init="he", epochs=3)
    members = dict(learning_rates=[0.1, 1e30])
    with pytest.warns(RuntimeWarning, match="network 1 diverged in epoch 1"):
        result = train_population(config, train_data, evals, **members)
    assert result.diverged_at == (None, 1)
    assert len(result.histories[0]) == 4 and len(result.histories[1]) == 2  # ends with the failed epoch
    assert not result.state.active[1] and result.state.active[0]
    optimizer = optimizer_for(dataclasses.replace(config, learning_rate=1.0), len(train_data[1]))
    fresh = init_population(config, optimizer, *population_members(config, **members))
    for a, b in zip(jax.tree.leaves(member(result.params, 1)), jax.tree.leaves(member(fresh.params, 1)), strict=True):
        np.testing.assert_array_equal(a, b)  # back to its state before epoch 1: the initial one

    # Stopped after epoch 2 (network 1 already frozen) and resumed from the checkpoint: the same run.
    path = tmp_path / "frozen.npz"

    def stop_after_second(state, histories):
        save_checkpoint(path, state, histories, config)
        if int(state.epoch) == 2:
            raise Interrupted

    with pytest.raises(Interrupted), pytest.warns(RuntimeWarning):
        train_population(config, train_data, evals, **members, on_epoch=stop_after_second)
    state, histories = load_checkpoint(path, fresh, config)
    resumed = train_population(config, train_data, evals, **members, state=state, histories=histories)
    strip = lambda hs: [[{k: v for k, v in r.items() if k != "seconds"} for r in h] for h in hs]
    np.testing.assert_equal(strip(resumed.histories), strip(result.histories))  # NaN equals NaN here
    assert resumed.diverged_at == (None, 1)
    for a, b in zip(*(jax.tree.leaves(key_as_data(r.state)) for r in (result, resumed)), strict=True):
        np.testing.assert_array_equal(a, b)


def test_diverged_member_can_raise_or_go_on_as_nan(tiny):
    train_data, evals = tiny
    config = dataclasses.replace(TINY, activation="relu", init="he", epochs=2)
    with pytest.raises(TrainingDiverged, match="network 1 diverged in epoch 1"):
        train_population(config, train_data, evals, learning_rates=[0.1, 1e30], on_diverged="raise")
    with pytest.warns(RuntimeWarning):
        kept = train_population(config, train_data, evals, learning_rates=[0.1, 1e30], on_diverged="continue")
    assert len(kept.histories[1]) == 3 and not np.isfinite(kept.histories[1][-1]["batch_cost"])


def test_member_devices_share_the_networks_evenly():
    devices = jax.devices()  # four simulated CPU devices (conftest)
    assert len(devices_sharing(16, devices)) == 4
    assert len(devices_sharing(6, devices)) == 3
    assert len(devices_sharing(5, devices)) == 1
    assert devices_sharing(4, devices[:1]) == devices[:1]
    with pytest.raises(ValueError, match="devices is empty"):
        devices_sharing(4, [])


def test_networks_spread_over_devices_train_as_on_one(tiny):
    """Four networks on four devices (one each) and all on one device: the same numbers."""
    train_data, evals = tiny
    config = dataclasses.replace(TINY, epochs=2)
    members = dict(seeds=[3, 4, 5, 6], learning_rates=[3.0, 1.5, 1.0, 0.5])
    spread = train_population(config, train_data, evals, **members)
    assert len(spread.params[0]["w"].sharding.device_set) == 4
    alone = train_population(config, train_data, evals, **members, devices=jax.devices()[:1])
    assert len(alone.params[0]["w"].sharding.device_set) == 1
    _assert_same_network(spread.params, alone.params)
    for a, b in zip(spread.histories, alone.histories, strict=True):
        np.testing.assert_allclose([r["test_cost"] for r in a], [r["test_cost"] for r in b], rtol=1e-5)


@pytest.mark.slow  # two populations and a run
def test_a_speedrun_population_shifts_from_the_table_trains_clean_at_the_end_and_evaluates_when_due(digits):
    from tests.training.test_epoch import mnist_like

    images, labels = mnist_like(digits, n=300)
    config = dataclasses.replace(
        TrainConfig(), **{k: v for k, v in dataclasses.asdict(PRESETS["speedrun"]).items() if k != "sizes"}
    )
    config = dataclasses.replace(config, batch_size=50, epochs=3, augment_fraction=0.5, eval_every=2, seed=3)
    evals = {"test": (images[:100], labels[:100])}
    result = train_population(config, (images, labels), evals, seeds=[3, 4], learning_rates=[8e-3, 4e-3])
    plain = train_population(
        config, (images, labels), evals, seeds=[3, 4], learning_rates=[8e-3, 4e-3], shift_table_bytes=0
    )
    for a, b in zip(jax.tree.leaves(result.params), jax.tree.leaves(plain.params), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))  # the table changes no number
    alone = train(config, (images, labels), evals, progress=False)
    _assert_same_network(member(result.params, 0), alone.state.params)
    for history in result.histories:  # evaluated before training, after epoch 2 (every second) and 3 (the last)
        assert [sorted(r) for r in history] == [sorted(r) for r in alone.history]
        assert [("test_accuracy" in r) for r in history] == [True, False, True, True]
    assert all(j.ok for j in result.judgements)

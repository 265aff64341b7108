"""Checkpoints: a training state, its history and its config, saved and read back exactly."""

import dataclasses

import jax
import numpy as np
import pytest

from jaxdigits.errors import DamagedFile, MissingFile
from jaxdigits.training import TrainConfig, init_state, load_checkpoint, optimizer_for, read_checkpoint, save_checkpoint

CONFIG = TrainConfig(sizes=(6, 4, 3), optimizer="momentum", epochs=3)
HISTORY = [{"epoch": 0, "train_cost": 1.0}, {"epoch": 1, "train_cost": 0.5}]


def state_of(seed, epoch=0, config=CONFIG):
    state = init_state(config, optimizer_for(config, 20), key=jax.random.key(seed))
    return state._replace(epoch=jax.numpy.int32(epoch))


def test_a_state_comes_back_bit_for_bit_with_its_key_and_history(tmp_path):
    path = str(tmp_path / "checkpoint.npz")
    saved = state_of(1, epoch=1)
    save_checkpoint(path, saved, HISTORY, CONFIG)
    state, history = load_checkpoint(path, state_of(2), CONFIG)  # `like` gives only the structure
    assert history == HISTORY and int(state.epoch) == 1
    assert jax.tree.structure(state) == jax.tree.structure(saved)
    for a, b in zip(jax.tree.leaves(state._replace(key=0)), jax.tree.leaves(saved._replace(key=0)), strict=True):
        np.testing.assert_array_equal(a, b, strict=True)
    # the typed key is restored: it draws what the saved key draws
    np.testing.assert_array_equal(jax.random.uniform(state.key, (3,)), jax.random.uniform(saved.key, (3,)))
    leaves, history = read_checkpoint(path, CONFIG)  # no state needed to check a checkpoint
    assert history == HISTORY and len(leaves) == len(jax.tree.leaves(saved))


def test_a_missing_checkpoint_and_a_history_that_disagrees_with_the_epoch(tmp_path):
    with pytest.raises(MissingFile, match="nothing to resume"):
        read_checkpoint(str(tmp_path / "none.npz"), CONFIG)
    path = str(tmp_path / "checkpoint.npz")
    save_checkpoint(path, state_of(1, epoch=2), HISTORY, CONFIG)  # two records, but epoch 2 needs three
    with pytest.raises(DamagedFile, match="its history and its epoch count disagree; delete it"):
        load_checkpoint(path, state_of(1), CONFIG)
    sgd = dataclasses.replace(CONFIG, optimizer="sgd")
    save_checkpoint(path, state_of(1, epoch=1), HISTORY, sgd)  # momentum's state under sgd's config
    with pytest.raises(DamagedFile, match=r"\d+ arrays, but this run's state has \d+"):
        load_checkpoint(path, state_of(1, config=sgd), sgd)

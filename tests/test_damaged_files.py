"""Truncated and altered checkpoint and parameter files: a clear error naming the file, or the same data.

Fuzzed like the IDX reader (``test_idx.py``): hypothesis truncates the file or
replaces a few of its bytes. Reading must then raise ``DamagedFile`` (a ``UserInputError``)
whose message names the file — for a checkpoint, also the way out: start over with
``overwrite`` — or, where the change touched only bytes that carry no data (a zip
timestamp, say), return exactly the original arrays.
"""

import dataclasses

import jax
import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import jaxdigits as jd
from jaxdigits import io
from jaxdigits.errors import CheckpointMismatch, DamagedFile, UserInputError
from jaxdigits.training import init_state, load_checkpoint, optimizer_for, save_checkpoint

CONFIG = jd.TrainConfig(sizes=(6, 4, 3), optimizer="momentum", epochs=2)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def fresh_state(config=CONFIG):
    return init_state(config, optimizer_for(config, 20), key=jax.random.key(config.seed))


@pytest.fixture(scope="module")
def checkpoint_bytes(tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "checkpoint.npz"
    state = fresh_state()._replace(epoch=jax.numpy.int32(1))
    save_checkpoint(str(path), state, [{"epoch": 0, "train_cost": 1.0}, {"epoch": 1, "train_cost": 0.5}], CONFIG)
    return path.read_bytes()


@pytest.fixture(scope="module")
def params_bytes(tmp_path_factory):
    path = tmp_path_factory.mktemp("params") / "params.npz"
    io.save_params(str(path), jd.init_params(jax.random.key(1), (6, 4, 3)))
    return path.read_bytes()


def damage(data, edits, cut):
    data = bytearray(data)
    for position, value in edits:
        data[position % len(data)] = value
    return bytes(data[: len(data) - cut])


def damaged_copy(folder, name, data, edits, cut):
    """``folder/name`` holding ``data`` damaged (``damage``), and ``folder/original.npz`` the intact bytes."""
    path, original = folder / name, folder / "original.npz"
    path.write_bytes(damage(data, edits, cut % len(data)))
    original.write_bytes(data)
    return path, original


edits = st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=4)
cuts = st.one_of(st.just(0), st.integers(1, 4000))


@FUZZ
@given(edits, cuts)
def test_damaged_checkpoints_are_named_or_read_unchanged(tmp_path, checkpoint_bytes, edits, cut):
    path, original = damaged_copy(tmp_path, "checkpoint.npz", checkpoint_bytes, edits, cut)
    try:
        state, history = load_checkpoint(str(path), fresh_state(), CONFIG)
    except DamagedFile as e:
        assert str(path) in str(e) and "start the run again with overwrite" in str(e)
        return
    except CheckpointMismatch as e:  # an altered byte of the saved config that still parses
        assert str(path) in str(e)
        return
    want, want_history = load_checkpoint(str(original), fresh_state(), CONFIG)
    assert history == want_history
    for a, b in zip(jax.tree.leaves(io_safe(state)), jax.tree.leaves(io_safe(want))):
        np.testing.assert_array_equal(a, b, strict=True)


@FUZZ
@given(edits, cuts)
@example(edits=[(99999, 1)], cut=0)  # a central-directory record's length: the reader stops after two files
def test_damaged_parameter_files_are_named_or_read_unchanged(tmp_path, params_bytes, edits, cut):
    path, original = damaged_copy(tmp_path, "params.npz", params_bytes, edits, cut)
    try:
        params = io.load_params(str(path), sizes=(6, 4, 3))
    except UserInputError as e:
        assert isinstance(e, DamagedFile) and str(path) in str(e)
        return
    for a, b in zip(jax.tree.leaves(params), jax.tree.leaves(io.load_params(str(original)))):
        np.testing.assert_array_equal(a, b, strict=True)


def io_safe(state):
    return state._replace(key=jax.random.key_data(state.key))


def test_every_truncation_of_a_checkpoint_is_named(tmp_path, checkpoint_bytes):
    path = tmp_path / "checkpoint.npz"
    for cut in range(0, len(checkpoint_bytes), 97):
        path.write_bytes(checkpoint_bytes[:cut])
        with pytest.raises(DamagedFile, match="start the run again with overwrite"):
            load_checkpoint(str(path), fresh_state(), CONFIG)


def test_a_checkpoint_of_another_configuration_is_refused(tmp_path, checkpoint_bytes):
    path = tmp_path / "checkpoint.npz"
    path.write_bytes(checkpoint_bytes)
    other = dataclasses.replace(CONFIG, learning_rate=0.5)
    with pytest.raises(CheckpointMismatch, match=r"another configuration.*learning_rate.*\(1\.5, 0\.5\)"):
        load_checkpoint(str(path), fresh_state(other), other)

"""A run's output folder: refused when used, its config read back, complete when every output is there."""

import dataclasses
import os

import jax
import pytest

from jaxdigits import devices, io, training
from jaxdigits.errors import MissingFile, OutputExists
from jaxdigits.training import TrainConfig


def test_prepare_out_dir_makes_the_folder_and_refuses_a_used_one(tmp_path):
    out = tmp_path / "a" / "run"
    assert training.prepare_out_dir(str(out)) == str(out) and out.is_dir()
    training.prepare_out_dir(str(out))  # empty: still fine
    (out / "history.json").write_text("[]")
    with pytest.raises(OutputExists, match="already holds files; choose another out_dir or set overwrite"):
        training.prepare_out_dir(str(out))
    training.prepare_out_dir(str(out), overwrite=True)
    assert os.listdir(out) == ["history.json"]  # overwrite allows writing over, it deletes nothing


def test_the_config_written_with_a_run_reads_back_equal(tmp_path):
    config = TrainConfig(sizes=(64, 32, 10), activation="relu", learning_rate=0.25, epochs=4, seed=7)
    io.write_json(str(tmp_path / "config.json"), dataclasses.asdict(config))
    assert training.read_config(str(tmp_path)) == config
    with pytest.raises(MissingFile, match="holds no config.json: it is not a jaxdigits run folder"):
        training.read_config(str(tmp_path / "elsewhere"))


def test_a_run_is_complete_only_with_every_final_output(tmp_path):
    assert training.FINAL_OUTPUTS[-1] == "metrics.json"  # written last: its presence marks the end
    for name in training.FINAL_OUTPUTS[:-1]:
        (tmp_path / name).write_bytes(b"")
        assert not training.is_complete(str(tmp_path))
    (tmp_path / "metrics.json").write_text("{}")
    assert training.is_complete(str(tmp_path))


def test_the_environment_names_the_versions_and_the_devices():
    env = devices.environment()
    assert env["versions"]["jax"] == jax.__version__ and env["versions"]["jaxdigits"]
    assert env["device"]["count"] == len(jax.devices()) == 4  # conftest's simulated CPU devices
    assert env["machine"]["cpus"] == os.cpu_count()

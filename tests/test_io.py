"""Atomic writes and parameter files: a file is the old one or the new one, never half of either."""

import json
import os

import jax.numpy as jnp
import numpy as np
import pytest

from jaxdigits import io
from jaxdigits.errors import DamagedFile


def test_atomic_path_replaces_the_file_only_when_the_write_succeeds(tmp_path):
    path = tmp_path / "new" / "folder" / "result.txt"  # missing folders are made
    with io.atomic_path(str(path)) as tmp:
        assert os.path.dirname(tmp) == str(path.parent) and tmp.endswith(".txt")
        assert os.path.basename(tmp).startswith(".tmp-") and not path.exists()
        with open(tmp, "w") as f:
            f.write("first")
    assert path.read_text() == "first"
    with pytest.raises(RuntimeError, match="crash while writing"):
        with io.atomic_path(str(path)) as tmp:
            with open(tmp, "w") as f:
                f.write("half of the sec")
            raise RuntimeError("crash while writing")
    assert path.read_text() == "first"
    assert os.listdir(path.parent) == ["result.txt"]  # the temporary file is gone too


def test_write_json_writes_numpy_values_as_plain_json_or_nothing(tmp_path):
    path = tmp_path / "metrics.json"
    io.write_json(str(path), {"cost": np.float32(0.25), "counts": np.arange(3), "epochs": np.int64(2)})
    assert json.loads(path.read_text()) == {"cost": 0.25, "counts": [0, 1, 2], "epochs": 2}
    with pytest.raises(TypeError, match="cannot write object to JSON"):
        io.write_json(str(tmp_path / "bad.json"), {"thing": object()})
    assert sorted(os.listdir(tmp_path)) == ["metrics.json"]


def test_parameters_round_trip_with_extra_arrays(tmp_path):
    params = [
        {"w": jnp.arange(6.0).reshape(3, 2), "b": jnp.array([0.5, -0.5])},
        {"w": jnp.ones((2, 1)), "b": jnp.zeros(1)},
    ]
    path = str(tmp_path / "params.npz")
    io.save_params(path, params, steps=np.array(7))
    with np.load(path) as f:
        assert sorted(f.files) == ["b0", "b1", "steps", "w0", "w1"] and int(f["steps"]) == 7
    back = io.load_params(path, sizes=(3, 2, 1))
    assert len(back) == 2 and all(isinstance(x, np.ndarray) for layer in back for x in layer.values())
    for got, want in zip(back, params):
        np.testing.assert_array_equal(got["w"], want["w"])
        np.testing.assert_array_equal(got["b"], want["b"])


def test_a_layer_array_without_its_partner_is_a_damaged_file(tmp_path):
    path = str(tmp_path / "params.npz")
    np.savez(path, w0=np.zeros((3, 2)), b0=np.zeros(2), b1=np.zeros(1))
    with pytest.raises(DamagedFile, match=r"layer arrays \['b1'\] have no partner"):
        io.load_params(path)
    np.savez(path, w0=np.zeros((3, 2)), b0=np.zeros(5))
    with pytest.raises(DamagedFile, match=r"w of shape \(n_in, n_out\) and b of shape \(n_out,\)"):
        io.load_params(path)

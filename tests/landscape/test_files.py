"""Resumable surfaces: a job killed while writing resumes bit for bit; the file describes itself; other jobs' files
are refused."""

import json
import os
import signal
import subprocess
import sys
import textwrap

import h5py
import jax
import numpy as np
import pytest

from jaxdigits import landscape
from jaxdigits.errors import CheckpointMismatch, DamagedFile
from jaxdigits.network import VideoLoss
from tests.conftest import two_directions

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# One job: a 7×6 surface of the video's network on 8×8 digits, 6 points per write (7 blocks).
JOB = textwrap.dedent(
    """
    import sys
    import jax
    from jaxdigits import landscape, load_dataset
    from jaxdigits.network import VideoLoss
    from tests.conftest import numpy_net, two_directions

    digits = load_dataset("digits")
    net = numpy_net((64, 16, 16, 10))
    loss = VideoLoss()
    landscape.surface(loss, net, (digits.test_images, digits.test_labels), two_directions(net),
                      landscape.axis(1.0, 7), landscape.axis(0.5, 6), file=sys.argv[1], points_per_write=6,
                      metrics={"accuracy": loss.accuracy}, describe={"directions": "filter-normalised, keys 11, 12"})
    """
)


def run_job(path, stop_at=None):
    env = {**os.environ, "PYTHONPATH": ROOT, "JAX_PLATFORMS": "cpu"}
    env.pop("JAXDIGITS_STOP_AT", None)
    if stop_at:
        env["JAXDIGITS_STOP_AT"] = stop_at
    job = subprocess.Popen([sys.executable, "-c", JOB, str(path)], env=env, cwd=ROOT, stderr=subprocess.PIPE)
    if stop_at is None:
        assert job.wait(timeout=600) == 0, job.stderr.read().decode()
        return
    _, status = os.waitpid(job.pid, os.WUNTRACED)  # stopped at the moment named (jaxdigits._phases)
    assert os.WIFSTOPPED(status), job.stderr.read().decode()
    os.kill(job.pid, signal.SIGKILL)
    job.wait(timeout=60)


@pytest.mark.slow
def test_a_job_killed_while_writing_resumes_bit_for_bit(tmp_path):
    whole, killed = tmp_path / "whole.h5", tmp_path / "killed.h5"
    run_job(whole)
    # Writes: #1 creates the file, #k+1 writes block k. Killed with block 2's copy written but not renamed.
    run_job(killed, stop_at="write:killed.h5#4")
    partial = landscape.open_surface_file(killed)
    assert partial["done"].tolist() == [1, 1, 0, 0, 0, 0, 0]
    assert np.isfinite(partial["cost"].reshape(-1)[:12]).all() and np.isnan(partial["cost"].reshape(-1)[12:]).all()
    run_job(killed)  # the same command again: resumes at block 2
    a, b = landscape.open_surface_file(whole), landscape.open_surface_file(killed)
    assert a["done"].all() and b["done"].all()
    np.testing.assert_array_equal(a["cost"], b["cost"])  # bit for bit
    np.testing.assert_array_equal(a["metrics"]["accuracy"], b["metrics"]["accuracy"])


def test_the_file_describes_itself_and_other_jobs_are_refused(net, digits, tmp_path):
    loss, path = VideoLoss(), tmp_path / "surface.h5"
    data, ds = (digits.test_images, digits.test_labels), two_directions(net)
    alphas, betas = landscape.axis(1.0, 5), landscape.axis(1.0, 3)
    kept = landscape.surface(
        loss,
        net,
        data,
        ds,
        alphas,
        betas,
        file=str(path),
        points_per_write=4,
        describe={"directions": "filter-normalised Gaussian, keys 11 and 12"},
    )
    plain = landscape.surface(loss, net, data, ds, alphas, betas)
    np.testing.assert_allclose(kept.cost, plain.cost, rtol=1e-6)
    with h5py.File(path, "r") as f:  # read without jaxdigits
        assert f.attrs["format"] == "jaxdigits.landscape.surface" and f["cost"].shape == (5, 3)
        np.testing.assert_array_equal(f["cost"][...], kept.cost)
        assert json.loads(f.attrs["describe"])["directions"].startswith("filter-normalised")
        assert "versions" in json.loads(f.attrs["environment"])
        assert "VideoLoss(cost='mse'" in f.attrs["loss"] and f["done"][...].tolist() == [1, 1, 1, 1]
        assert json.loads(f.attrs["parameters"])[1] == {"path": "[0]['w']", "shape": [64, 16], "dtype": "float32"}
    again = landscape.surface(loss, net, data, ds, alphas, betas, file=str(path), points_per_write=4)
    np.testing.assert_array_equal(again.cost, kept.cost)  # all done: nothing recomputed
    refusals = [
        (dict(alphas=landscape.axis(2.0, 5)), "alphas differ"),
        (dict(directions=ds[::-1]), "directions differ"),
        (dict(loss=VideoLoss("cross_entropy")), "loss differ"),
        (dict(points_per_write=5), "points_per_write differ"),
        (dict(data=(digits.test_images[:100], digits.test_labels[:100])), "data differ"),
    ]
    for change, reason in refusals:
        args = dict(loss=loss, params=net, data=data, directions=ds, alphas=alphas, betas=betas, points_per_write=4)
        args.update(change)
        with pytest.raises(CheckpointMismatch, match=reason):
            landscape.surface(file=str(path), **args)
    (tmp_path / "junk.h5").write_bytes(b"not an HDF5 file")
    with pytest.raises(DamagedFile, match="not a readable HDF5 file"):
        landscape.surface(loss, net, data, ds, alphas, betas, file=str(tmp_path / "junk.h5"))
    assert jax.tree.structure(net) == jax.tree.structure(landscape.random_direction(net, key=jax.random.key(0)))

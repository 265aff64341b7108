"""Faults: a run killed with SIGKILL resumes bit for bit; divergence stops cleanly."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np

from jaxdigits import io
from tests.test_pipeline import ROOT, SCRIPT, run

TIMING = ("seconds", "seconds_per_epoch", "seconds_total", "seconds_compile", "resumed_from_epoch")


def without_timing(obj, timing=TIMING):
    """``obj`` (JSON-like) without the fields named in ``timing``, at any depth."""
    if isinstance(obj, dict):
        return {k: without_timing(v, timing) for k, v in obj.items() if k not in timing}
    if isinstance(obj, list):
        return [without_timing(v, timing) for v in obj]
    return obj


AUGMENTED = ("--augment", "affine", "--augment-shift", "1", "--augment-shear", "5")


def test_sigkill_then_resume_gives_bitwise_the_uninterrupted_result(tmp_path):
    """A run with augmentation (a key per mini-batch) killed at an unplanned moment, resumed bit for bit.

    Runs without augmentation are killed at every named moment in ``test_kill_anywhere.py``.
    """
    args = ["--dataset", "digits", "--epochs", "150", "--seed", "3", *AUGMENTED]
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    run(*args, "--out", str(whole))

    proc = subprocess.Popen([sys.executable, SCRIPT, "--no-progress", *args, "--out", str(broken)], cwd=ROOT)
    checkpoint = broken / "checkpoint.npz"
    deadline = time.time() + 120
    while not checkpoint.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.01)
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not (broken / "metrics.json").exists(), "the run finished before it could be killed; raise --epochs"
    with np.load(checkpoint) as f:
        killed_at = json.loads(str(f["meta"]))["history"][-1]["epoch"]
    assert 0 < killed_at < json.loads((broken / "config.json").read_text())["epochs"]
    for name in os.listdir(broken):  # every output there is whole: readable, not torn
        if name.startswith(".tmp-"):
            continue  # a write the kill interrupted: never renamed into place, removed on resume (checked below)
        if name.endswith(".json"):
            json.loads((broken / name).read_text())
        elif name.endswith(".npz"):
            assert np.load(broken / name).files

    run("--resume", str(broken))
    for name in ("metrics.json", "history.json"):
        a = json.loads((whole / name).read_text())
        b = json.loads((broken / name).read_text())
        assert without_timing(a) == without_timing(b), name
    resumed = json.loads((broken / "metrics.json").read_text())["resumed_from_epoch"]
    assert resumed >= killed_at
    for x, y in zip(io.load_params(str(whole / "params.npz")), io.load_params(str(broken / "params.npz"))):
        np.testing.assert_array_equal(x["w"], y["w"])
        np.testing.assert_array_equal(x["b"], y["b"])
    assert not [n for n in os.listdir(broken) if n.startswith(".tmp-")]


def test_divergence_stops_with_a_message_and_keeps_the_last_good_parameters(tmp_path):
    out = tmp_path / "run"
    proc = run(
        "--dataset",
        "digits",
        "--activation",
        "relu",
        "--cost",
        "cross_entropy",
        "--learning-rate",
        "1e30",
        "--epochs",
        "5",
        "--out",
        str(out),
        check=False,
    )
    assert proc.returncode != 0
    assert "training diverged in epoch 1" in proc.stderr and "learning_rate 1e+30" in proc.stderr
    assert "last_good_params.npz" in proc.stderr
    params = io.load_params(str(out / "last_good_params.npz"), sizes=(64, 16, 16, 10))
    assert all(np.isfinite(p["w"]).all() for p in params)
    assert not (out / "metrics.json").exists() and not (out / "params.npz").exists()


def test_resume_refuses_a_folder_that_is_not_a_run(tmp_path):
    proc = run("--resume", str(tmp_path), check=False)
    assert proc.returncode != 0 and "not a jaxdigits run folder" in proc.stderr

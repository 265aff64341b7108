"""The main experiment end to end, on a small real subset, as a user runs it."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import jaxdigits as jd

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "experiments", "train_digits.py")


def run(*args, check=True):
    return subprocess.run(
        [sys.executable, SCRIPT, "--no-progress", *args], capture_output=True, text=True, check=check, cwd=ROOT
    )


def test_train_digits_writes_every_output(tmp_path, digits):
    out = tmp_path / "run"
    proc = run("--dataset", "digits", "--epochs", "3", "--out", str(out))
    assert "test accuracy" in proc.stdout and str(out) in proc.stdout
    assert sorted(os.listdir(out)) == [
        "accuracy.png",
        "args.json",
        "checkpoint.npz",
        "config.json",
        "cost.png",
        "history.json",
        "metrics.json",
        "params.npz",
    ]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["status"] == "ok" and metrics["status_reason"] is None
    for field in (
        "dataset",
        "sizes",
        "num_params",
        "activation",
        "cost",
        "optimizer",
        "learning_rate",
        "batch_size",
        "epochs",
        "seed",
        "initial_train_cost",
        "initial_test_accuracy",
        "train_cost",
        "test_cost",
        "train_accuracy",
        "test_accuracy",
        "seconds_per_epoch",
        "seconds_total",
        "versions",
        "device",
    ):
        assert field in metrics, field
    assert metrics["dataset"] == "digits" and metrics["sizes"] == [64, 16, 16, 10] and metrics["num_params"] == 1_482
    assert metrics["test_accuracy"] > metrics["initial_test_accuracy"]
    history = json.loads((out / "history.json").read_text())
    assert [h["epoch"] for h in history] == [0, 1, 2, 3]
    # The saved parameters load back into the pytree and give the reported accuracy.
    params = jd.load_params(str(out / "params.npz"), sizes=(64, 16, 16, 10))
    acc = float(jd.accuracy(params, digits.test_images, digits.test_labels))
    assert acc == pytest.approx(metrics["test_accuracy"], abs=1e-6)
    # An existing output folder is not overwritten unless asked.
    again = run("--dataset", "digits", "--epochs", "1", "--out", str(out), check=False)
    assert again.returncode != 0 and "already holds files" in again.stderr
    assert json.loads((out / "metrics.json").read_text()) == metrics


def test_train_digits_on_a_small_real_mnist_subset(tmp_path, mnist):
    out = tmp_path / "mnist"
    run("--dataset", "mnist", "--train-limit", "2000", "--test-limit", "1000", "--epochs", "2", "--out", str(out))
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["dataset"] == "mnist" and metrics["num_params"] == 13_002 and metrics["num_train"] == 2000
    assert metrics["test_accuracy"] > 0.5
    assert np.isfinite(metrics["seconds_per_epoch"])


def test_bad_flags_fail_fast_with_a_clear_message(tmp_path):
    proc = run("--activation", "softplus", "--out", str(tmp_path / "x"), check=False)
    assert proc.returncode != 0 and "unknown activation 'softplus'" in proc.stderr
    proc = run("--learning-rate", "-1", "--out", str(tmp_path / "y"), check=False)
    assert proc.returncode == 2 and "error: --learning-rate must be a finite number > 0" in proc.stderr
    assert not os.path.exists(tmp_path / "x") and not os.path.exists(tmp_path / "y")

"""A run that learnt nothing is called so: by the library, the population and the script."""

import json

import numpy as np
import pytest

import jaxdigits as jd
from jaxdigits import training
from tests.test_pipeline import run


def history(first_cost, last_cost, accuracy):
    return [
        {"epoch": 0, "train_cost": first_cost, "test_accuracy": 0.1},
        {"epoch": 1, "train_cost": last_cost, "test_accuracy": accuracy},
    ]


def test_the_three_signs_each_fail_a_run():
    labels = np.array([0] * 30 + [1] * 70)  # always answering 1 scores 70 %
    assert training.majority_rate(labels) == 0.7
    assert training.judge(history(1.0, 0.5, 0.75), labels, learning_rate=1.5) == ("ok", None)
    chance = training.judge(history(1.0, 0.5, 0.72), labels, learning_rate=1.5)
    assert chance.status == "failed_to_learn"
    assert "test accuracy 72.00% is no better than always answering 1 (70.00%)" in chance.reason
    assert "learning rate 1.5" in chance.reason
    stalled = training.judge(history(1.0, 1.0, 0.9), labels, learning_rate=30.0)
    assert "the train cost went from 1 to 1" in stalled.reason
    assert training.judge(history(1.0, float("nan"), 0.9), labels, learning_rate=1.0).status == "failed_to_learn"
    saturated = training.judge(history(1.0, 0.5, 0.9), labels, learning_rate=1e9, saturated=0.95)
    assert saturated.record() == {
        "status": "failed_to_learn",
        "status_reason": "failed to learn with learning rate 1e+09: 95% of the hidden neurons are saturated "
        "on the training images",
    }
    assert training.judge(history(1.0, 0.5, 0.9), labels, learning_rate=1.0, saturated=0.5).ok


def test_saturation_is_measured_on_the_hidden_neurons(digits):
    rng = np.random.default_rng(0)
    sizes = (64, 16, 16, 10)
    params = [{"w": rng.normal(0, n**-0.5, (n, m)), "b": np.zeros(m)} for n, m in zip(sizes[:-1], sizes[1:])]
    images = digits.train_images
    assert training.saturated_fraction(params, images, "sigmoid") == 0.0
    huge = [{"w": p["w"] * 1e6, "b": p["b"] + 1e6} for p in params]  # every z far out on a tail
    assert training.saturated_fraction(huge, images, "sigmoid") == 1.0
    assert training.saturated_fraction(huge, images, "tanh") == 1.0
    assert training.saturated_fraction(huge, images, "relu") is None  # relu has no saturating tail


@pytest.mark.slow  # subprocesses, each importing JAX
def test_the_script_fails_loudly_and_resume_finishes_or_leaves_a_run(tmp_path):
    out = tmp_path / "run"
    args = ["--dataset", "digits", "--train-limit", "300", "--epochs", "2", "--learning-rate", "1e9"]
    failed = run(*args, "--out", str(out), check=False)
    assert failed.returncode == 3, failed.stderr
    assert "warning: failed to learn with learning rate 1e+09" in failed.stderr and "--allow-failure" in failed.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["status"] == "failed_to_learn" and "saturated" in metrics["status_reason"]

    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()}
    again = run("--resume", str(out), "--allow-failure")  # complete: nothing is touched
    assert "holds a complete run: nothing to do" in again.stdout and "warning: failed to learn" in again.stderr
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()} == before

    trained = jd.load_params(str(out / "params.npz"))
    for name in ("params.npz", "accuracy.png", "metrics.json"):  # as if killed during the final writes
        (out / name).unlink()
    run("--resume", str(out), "--allow-failure")  # from the checkpoint of the final epoch, no training
    assert (out / "accuracy.png").read_bytes() == before["accuracy.png"][0]
    for x, y in zip(trained, jd.load_params(str(out / "params.npz"))):
        np.testing.assert_array_equal(x["w"], y["w"])
        np.testing.assert_array_equal(x["b"], y["b"])
    rewritten = json.loads((out / "metrics.json").read_text())
    assert rewritten["resumed_from_epoch"] == 2 and rewritten["seconds_compile"] is None
    assert "no epoch ran in this process" in rewritten["seconds_compile_null_reason"]
    assert rewritten["seconds_per_epoch"] == metrics["seconds_per_epoch"]  # from the history's epochs
    timing = {"seconds_total", "seconds_compile", "seconds_compile_null_reason", "resumed_from_epoch"}
    assert {k: v for k, v in rewritten.items() if k not in timing} == {
        k: v for k, v in metrics.items() if k not in timing
    }

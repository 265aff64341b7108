"""``experiments/tune.py --fast``: the recipe search end to end on a small real subset."""

import json
import os
import subprocess
import sys

import pytest

import jaxdigits as jd
from tests.test_pipeline import ROOT

SCRIPT = os.path.join(ROOT, "experiments", "tune.py")


@pytest.mark.slow  # three compiled populations in a subprocess
def tune(*args):
    command = [sys.executable, SCRIPT, "--fast", "--dataset", "digits", "--no-progress", *args]
    return subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)


def test_tune_fast_writes_every_trial_a_figure_and_a_valid_winner(tmp_path):
    out = tmp_path / "tune"
    proc = tune("--out", str(out))
    assert "winner (validation accuracy" in proc.stdout and "TrainConfig(" in proc.stdout
    assert (out / "search.png").stat().st_size > 0
    trials = [json.loads(line) for line in (out / "trials.jsonl").read_text().splitlines()]
    # augment: none, shift 1; batch size 32, and 64 again (already tried: not rerun); 2 rates × 1 seed each
    assert len(trials) == 3 * 2
    assert {t["stage"] for t in trials} == {"augment", "batch_size"}
    assert {(t["augment"], t["batch_size"]) for t in trials} == {
        ("none", 64),
        ("shift", 64),
        (trials[-1]["augment"], 32),
    }
    assert all(0 <= t["validation_accuracy"] <= 1 for t in trials)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["num_validation"] == 300 and metrics["num_train"] == 1000  # --fast keeps 1,000 training images
    best = max(metrics["stages"][-1]["values"], key=lambda v: v["score"])
    assert metrics["validation_accuracy"] == best["score"]
    config = jd.TrainConfig(**{**metrics["winner"], "sizes": (64, 16, 16, 10)})  # a valid recipe
    assert config.batch_size in (32, 64) and config.learning_rate in (2e-3, 8e-3)

    again = tune("--out", str(tmp_path / "again"), "--reuse", str(out / "trials.jsonl"))  # nothing is retrained
    assert again.stdout.splitlines()[-3:-1] == proc.stdout.splitlines()[-3:-1]  # the same winner
    assert (tmp_path / "again" / "trials.jsonl").read_text() == (out / "trials.jsonl").read_text()


def test_tune_fast_time_objective_scores_seconds_to_the_target_and_draws_them(tmp_path):
    out = tmp_path / "time"
    proc = tune("--objective", "time", "--out", str(out))
    assert " to 50%, validation accuracy " in proc.stdout  # --fast lowers the target: 1,000 digits, 4 epochs
    assert (out / "search.png").stat().st_size > 0
    trials = [json.loads(line) for line in (out / "trials.jsonl").read_text().splitlines()]
    # batch 32 and 64: 2 populations of 2 rates × 1 seed, each with one network timed alone
    assert len(trials) == 2 * 2 and {(t["stage"], t["batch_size"]) for t in trials} == {
        ("batch_size", 32),
        ("batch_size", 64),
    }
    for t in trials:
        assert t["target"] == 0.5 and t["eval_every"] == 1 and len(t["validation_curve"]) == t["epochs"] == 4
        assert t["seconds_per_epoch_alone"] > 0 and t["seconds_compile_alone"] > 0  # one network, timed apart
        if t["epochs_to_target"] is not None:  # the seconds of the epochs up to the first at the target
            assert t["seconds_to_target"] == pytest.approx(t["epochs_to_target"] * t["seconds_per_epoch_alone"])
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["objective"] == "time" and metrics["target"] == 0.5
    stage = metrics["stages"][-1]
    reached = [v["score"] for v in stage["values"] if v["score"] is not None]
    assert metrics["seconds_to_target"] == (min(reached) if reached else None)
    winner = jd.TrainConfig(**{**metrics["winner"], "sizes": (64, 16, 16, 10)})
    assert winner.augment_fraction == 0.9 and winner.epochs == 4  # the speedrun's, shortened by --fast

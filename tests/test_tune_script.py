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

"""The mode-connectivity experiment end to end on tiny settings (scikit-learn's 8x8 digits)."""

import json
import os

import pytest

from experiments import mode_connectivity


@pytest.mark.slow  # several compiled training programs
def test_mode_connectivity_fast(tmp_path):
    out = tmp_path / "mc"
    args = ["--fast", "--dataset", "digits", "--no-progress", "--out", str(out), "--seeds", "2", "--widths", "16"]
    # The sweep's one run has the settings of the width-16 run: it is trained once, and shares its compiled paths.
    mode_connectivity.main(
        [*args, "--recipes", "video", "--sweep-video-init", "normal", "--points", "3", "--curve-pairs", "1"]
    )
    assert sorted(os.listdir(out)) == ["metrics.json", "paths.png", "weights.png", "width.png"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["experiment"] == "mode_connectivity" and metrics["fast"] is True
    lines = metrics["width_16"]["lines"]
    assert set(lines) == {"naive", "weights", "weights + flips", "activations", "activations + flips"}
    assert metrics["width_16"]["pairs"] == 1 and metrics["width_16"]["curves"]["pairs"] == 1
    for record in lines.values():
        assert record["test_cost_barrier"]["min"] >= 0 and record["train_accuracy_barrier"]["min"] >= 0
    # Permutations keep the length of θ_B and weight matching only raises ⟨θ_A, π(θ_B)⟩:
    # the matched pairs are never farther apart than the naive ones.
    assert lines["weights"]["distance"]["max"] <= lines["naive"]["distance"]["max"] + 1e-4
    assert set(metrics["sweep"]["video"]["16"]["lines"]) == set(lines)
    assert metrics["seconds"]["total"] > 0

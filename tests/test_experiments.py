"""The video's claims as experiments: the library pieces they use, and each script on tiny settings.

Each experiment runs in-process with ``--fast --dataset digits`` (jax is already imported and
compiled programs are cached, so each takes seconds); one runs as a subprocess, as a user
runs it.
"""

import importlib
import json
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxdigits as jd
from jaxdigits import importance, inputs, probes

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXPERIMENTS = os.path.join(ROOT, "experiments")


# --- probes ---------------------------------------------------------------------------------


def test_centre_mask_is_the_central_box():
    mask = probes.centre_mask((28, 28), 4)
    assert mask.sum() == 400 and mask[4, 4] and mask[23, 23] and not mask[3, 10] and not mask[24, 10]
    with pytest.raises(ValueError, match="margin"):
        probes.centre_mask((8, 8), 4)


def test_neighbour_correlation_of_noise_ramp_and_a_hand_example():
    rng = np.random.default_rng(0)
    assert abs(probes.neighbour_correlation(rng.normal(size=(16, 28, 28)))) < 0.03
    ramp = np.add.outer(np.arange(28.0), np.arange(28.0))[None]
    assert probes.neighbour_correlation(ramp) > 0.95
    # Pairs of [[0, 1, 0], [1, 0, 1]]: horizontal (0,1) (1,0) (1,0) (0,1), vertical (0,1) (1,0) (0,1).
    hand = np.array([[[0.0, 1, 0], [1, 0, 1]]])
    first, second = [0, 1, 1, 0, 0, 1, 0], [1, 0, 0, 1, 1, 0, 1]
    assert probes.neighbour_correlation(hand) == pytest.approx(np.corrcoef(first, second)[0, 1])


def test_neighbour_correlation_separates_a_smooth_centre_from_a_noisy_border():
    rng = np.random.default_rng(1)
    images = rng.normal(size=(4, 28, 28))
    centre = probes.centre_mask((28, 28), 4)
    smooth = np.sin(np.arange(20) / 4.0)[:, None] * np.cos(np.arange(20) / 5.0)[None, :]
    images[:, 4:24, 4:24] = smooth * 3
    assert probes.neighbour_correlation(images, centre) > 0.9
    assert abs(probes.neighbour_correlation(images, ~centre)) < 0.1


def test_weight_images_are_columns_of_w():
    w = np.arange(64 * 3, dtype=np.float32).reshape(64, 3)
    images = probes.weight_images(w, (8, 8))
    assert images.shape == (3, 8, 8)
    np.testing.assert_array_equal(images[2], w[:, 2].reshape(8, 8))
    with pytest.raises(ValueError, match="shape"):
        probes.weight_images(w, (7, 7))


def test_never_lit_and_best_window_share():
    images = np.zeros((3, 4), np.float32)
    images[1, 2] = 0.5
    np.testing.assert_array_equal(probes.never_lit(images), [True, True, False, True])
    assert probes.best_window_share(np.ones((1, 8, 8)), 2) == pytest.approx(4 / 64)
    spike = np.zeros((1, 8, 8))
    spike[0, 5, 6] = 3.0
    assert probes.best_window_share(spike, 2) == pytest.approx(1.0)


def test_probe_images_and_confidence(digits):
    key = jax.random.key(0)
    like = digits.test_images
    for kind in probes.PROBES:
        x = probes.probe_images(kind, 50, key=key, like=like)
        assert x.shape == (50, 64) and x.min() >= 0 and x.max() <= 1, kind
    assert np.all(probes.probe_images("blank", 3, key=key, like=like) == 0)
    inverted = probes.probe_images("inverted", 20, key=key, like=like)
    assert all(np.any(np.all(np.isclose(1 - row, like), axis=1)) for row in inverted)
    assert abs(probes.probe_images("uniform_noise", 2000, key=key, like=like).mean() - 0.5) < 0.01
    with pytest.raises(ValueError, match="unknown probe"):
        probes.probe_images("stripes", 1, key=key, like=like)
    c = probes.confidence(np.array([[0.1, 0.95, 0.0], [0.2, 0.3, 0.5], [0.0, 0.92, 0.1]]), 0.9)
    assert c["fraction_above"] == pytest.approx(2 / 3)
    np.testing.assert_allclose(c["called"], [0, 2 / 3, 1 / 3])
    np.testing.assert_allclose(c["top"], [0.95, 0.5, 0.92])


# --- inputs: gradient descent on the pixels -----------------------------------------------


def test_smoothness_of_constant_and_checkerboard():
    assert float(inputs.smoothness(jnp.full(16, 0.3), (4, 4))) == 0.0
    checker = (np.indices((4, 4)).sum(0) % 2).astype(np.float32).ravel()
    assert float(inputs.smoothness(checker, (4, 4))) == pytest.approx(1.0)


def test_draw_makes_each_chosen_output_win_and_penalties_act(key):
    params = jd.init_params(key, (16, 10))  # one layer: the pixel gradient is never flat
    start = np.full((10, 16), 0.5, np.float32)
    digits = jnp.arange(10)
    images, history = inputs.draw(params, digits, start, shape=(4, 4), steps=200, learning_rate=0.05)
    images = np.asarray(images)
    assert images.shape == (10, 16) and history.shape == (10, 200)
    assert images.min() >= 0 and images.max() <= 1
    np.testing.assert_array_equal(np.argmax(jd.predict(params, images), axis=1), np.arange(10))
    assert np.all(history[:, -1] < history[:, 0])
    smooth, _ = inputs.draw(params, digits, start, shape=(4, 4), steps=200, learning_rate=0.05, smooth=20.0, size=5.0)
    rough = np.mean([float(inputs.smoothness(x, (4, 4))) for x in images])
    assert np.mean([float(inputs.smoothness(x, (4, 4))) for x in np.asarray(smooth)]) < rough
    assert float(np.mean(smooth)) < float(images.mean())


# --- importance: the gradient ranks the parameters --------------------------------------------


def test_masks_choose_the_right_number_and_the_largest_entries():
    grads = [{"w": jnp.array([[0.1, -5.0], [2.0, 0.0]]), "b": jnp.array([-3.0, 0.5])}]
    top = importance.top_mask(grads, 0.5)  # 3 of 6 entries: -5, -3, 2
    np.testing.assert_array_equal(top[0]["w"], [[0, 1], [1, 0]])
    np.testing.assert_array_equal(top[0]["b"], [1, 0])
    rand = importance.random_mask(grads, 0.5, key=jax.random.key(3))
    assert sum(float(jnp.sum(m)) for m in jax.tree.leaves(rand)) == 3
    assert float(importance.gradient_share(grads, top)) == pytest.approx((25 + 9 + 4) / (0.01 + 25 + 4 + 9 + 0.25))
    with pytest.raises(ValueError, match="fraction"):
        importance.top_mask(grads, 0.0)


def test_full_mask_step_is_the_sgd_step_and_top_beats_random(key, digits):
    params = jd.init_params(key, (64, 16, 16, 10))
    x, y = digits.train_images, digits.train_labels
    cost, grads = jax.value_and_grad(jd.mse_cost)(params, x, y)
    full = importance.top_mask(grads, 1.0)
    for a, b in zip(jax.tree.leaves(importance.masked_step(params, grads, full, 1.5)),
                    jax.tree.leaves(jd.sgd_step(params, grads, 1.5))):  # fmt: skip
        np.testing.assert_array_equal(a, b)
    cost_after = jax.jit(lambda mask: jd.mse_cost(importance.masked_step(params, grads, mask, 1.5), x, y))
    top = cost_after(importance.top_mask(grads, 0.05))
    randoms = [cost_after(importance.random_mask(grads, 0.05, key=k)) for k in jax.random.split(key, 3)]
    assert cost - top > 3 * (cost - max(randoms))


# --- the experiment scripts ---------------------------------------------------------------


def run_experiment(name, tmp_path, *args):
    """Run ``experiments/<name>.py --fast --dataset digits`` in-process; return (metrics, files)."""
    sys.path.insert(0, EXPERIMENTS)
    try:
        module = importlib.import_module(name)
    finally:
        sys.path.remove(EXPERIMENTS)
    out = tmp_path / name
    module.main(["--fast", "--dataset", "digits", "--no-progress", "--out", str(out), *args])
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["experiment"] == name and metrics["dataset"] == "digits" and metrics["fast"] is True
    assert "versions" in metrics and "seed" in metrics
    return metrics, sorted(os.listdir(out))


def test_hidden_neurons(tmp_path):
    metrics, files = run_experiment("hidden_neurons", tmp_path)
    assert files == ["first_layer.png", "metrics.json", "second_layer.png"]
    before, after = metrics["ours, untrained"], metrics["ours, trained"]
    assert abs(before["neighbour_correlation_centre"]) < 0.3
    assert after["never_lit_unchanged_fraction"] == 1.0  # weights of always-black pixels get no gradient
    assert metrics["test_accuracy"]["ours, trained"] > metrics["test_accuracy"]["ours, untrained"]


def test_noise_confidence(tmp_path):
    metrics, files = run_experiment("noise_confidence", tmp_path)
    assert files == ["metrics.json", "noise_called.png", "top_output.png"]
    for record in metrics["networks"].values():
        for probe in ("real test images", "uniform noise", "gaussian noise", "blank", "inverted"):
            assert 0 <= record[probe]["fraction_top_above_threshold"] <= 1
            assert sum(record[probe]["called"].values()) == pytest.approx(1)


def test_draw_digit(tmp_path):
    metrics, files = run_experiment("draw_digit", tmp_path, "--steps", "30")
    assert files == ["drawn_digits.png", "metrics.json"]
    for record in metrics["networks"].values():
        assert len(record["blank, no penalty"]["own_confidence"]) == 10


@pytest.mark.slow  # several compiled training programs
def test_memorisation(tmp_path):
    metrics, files = run_experiment("memorisation", tmp_path, "--epochs", "1", "--images", "50")
    assert files == ["memorisation.png", "metrics.json"]
    assert len(metrics["runs"]) == 6 and metrics["images"] == 50
    for run in metrics["runs"].values():
        assert 0 <= run["test_accuracy"] <= 1


def test_gradient_importance(tmp_path):
    metrics, files = run_experiment("gradient_importance", tmp_path, "--randoms", "2")
    assert files == ["first_layer_gradient.png", "importance.png", "metrics.json"]
    untrained = metrics["networks"]["untrained"]
    assert untrained["decrease_top"][2] > untrained["decrease_random_mean"][2]  # top 1% beats random 1%


def test_smooth_cost(tmp_path):
    metrics, files = run_experiment("smooth_cost", tmp_path)
    assert files == ["metrics.json", "smooth_cost.png"]
    step, sigmoid = metrics["activations"]["step"], metrics["activations"]["sigmoid"]
    assert step["initial_gradient_norm"] == 0 and step["parameters_changed"] == 0
    assert sigmoid["initial_gradient_norm"] > 0 and sigmoid["train_cost"][-1] < sigmoid["train_cost"][0]


def test_an_experiment_runs_as_a_script_and_refuses_to_overwrite(tmp_path):
    out = tmp_path / "cli"
    script = os.path.join(EXPERIMENTS, "hidden_neurons.py")
    cmd = [sys.executable, script, "--fast", "--dataset", "digits", "--no-progress", "--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert f"wrote {out}" in proc.stdout and (out / "metrics.json").exists()
    again = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert again.returncode != 0 and "already holds files" in again.stderr


@pytest.mark.slow  # several compiled training programs
def test_local_minima(tmp_path):
    metrics, files = run_experiment("local_minima", tmp_path, "--seeds", "3", "--pairs", "2")
    assert files == ["local_minima.png", "metrics.json"]
    assert len(metrics["per_network"]) == 3 and len(metrics["barrier_heights"]) == 1
    cost = metrics["train_cost"]
    assert cost["min"] <= cost["mean"] <= cost["max"] and cost["std"] >= 0
    assert len({n["train_cost"] for n in metrics["per_network"]}) == 3  # different seeds, different minima


@pytest.mark.slow  # several compiled training programs
def test_step_size(tmp_path):
    metrics, files = run_experiment("step_size", tmp_path, "--epochs", "1", "--full-batch-epochs", "1")
    assert files == ["learning_rate_sweep.png", "metrics.json", "optimizers.png"]
    assert len(metrics["sweep"]) == 10
    # The handwritten step and optax.sgd give the same numbers, step for step.
    assert metrics["handwritten_vs_optax_max_param_difference"] == 0.0
    assert metrics["handwritten_vs_optax_max_cost_difference"] == 0.0

"""The video's claims as experiments: each script on tiny settings (their library pieces: test_probes.py,
test_inputs.py, test_importance.py).

Each experiment runs in-process with ``--fast --dataset digits`` (jax is already imported and
compiled programs are cached, so each takes seconds); one runs as a subprocess, as a user
runs it.
"""

import argparse
import importlib
import json
import os
import subprocess
import sys

import pytest

from jaxdigits import cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXPERIMENTS = os.path.join(ROOT, "experiments")


# --- the experiment scripts ---------------------------------------------------------------


def run_experiment(name, tmp_path, *args):
    """Run ``experiments/<name>.py --fast --dataset digits`` in-process; return (metrics, files)."""
    module = importlib.import_module(f"experiments.{name}")
    out = tmp_path / name
    module.main(["--fast", "--dataset", "digits", "--no-progress", "--out", str(out), *args])
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["experiment"] == name and metrics["dataset"] == "digits" and metrics["fast"] is True
    assert "versions" in metrics and "seed" in metrics
    return metrics, sorted(os.listdir(out))


# Tools with flags of their own: one timing file, an animation of explore.py's page, a launcher.
OWN_PARSERS = {"accelerator_check", "animate", "multiprocess_train"}
LEFT_OUT = {
    "train_digits": {"--fast", "--video-weights"},
    "loss_landscape": {"--video-weights", "--no-progress"},
    "landscape_zoo": {"--video-weights"},
}


class Parsed(BaseException):
    """Raised where a script parses its flags: no script's ``except Exception`` can take it."""


def test_every_experiment_takes_the_shared_flags_from_common_parser(monkeypatch):
    """Each script parses its command line with a parser ``cli.parser`` made: the shared flags
    (same help, type, default) in every one, less those it says it has no use for."""
    made, parsed = [], []
    real = cli.parser
    monkeypatch.setattr(cli, "parser", lambda *a, **kw: made.append(real(*a, **kw)) or made[-1])

    def stop(parser, argv=None, namespace=None):
        parsed.append(parser)
        raise Parsed

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", stop)
    describe = lambda a: (type(a), a.option_strings, a.dest, a.help, a.default, a.type, a.choices, a.nargs)
    shared = lambda p: {a.option_strings[0]: describe(a) for a in p._actions if a.option_strings[0] in cli.SHARED_FLAGS}
    names = sorted(n[:-3] for n in os.listdir(EXPERIMENTS) if n.endswith(".py") and n[0] != "_")
    assert OWN_PARSERS < set(names) and set(LEFT_OUT) < set(names)
    for name in sorted(set(names) - OWN_PARSERS):
        with pytest.raises(Parsed):
            importlib.import_module(f"experiments.{name}").main([])
        assert parsed[-1] is made[-1], name
        seed = parsed[-1].get_default("seed")
        assert seed == (None if name == "train_digits" else 0), name  # train_digits: the preset's seed
        expected = {f: d for f, d in shared(real("", seed=seed)).items() if f not in LEFT_OUT.get(name, ())}
        assert shared(parsed[-1]) == expected, name
    assert len(parsed) == len(names) - len(OWN_PARSERS) and len(shared(real(""))) == len(cli.SHARED_FLAGS)
    with pytest.raises(ValueError, match="expected some of the shared flags"):
        real("", without={"--fats"})


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


def test_an_experiment_runs_as_a_script_and_as_a_module_and_refuses_to_overwrite(tmp_path):
    out = tmp_path / "cli"
    script = os.path.join(EXPERIMENTS, "hidden_neurons.py")
    cmd = [sys.executable, script, "--fast", "--dataset", "digits", "--no-progress", "--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert f"wrote {out}" in proc.stdout and (out / "metrics.json").exists()
    as_module = [sys.executable, "-m", "experiments.hidden_neurons", *cmd[2:]]  # python -m experiments.<name>
    again = subprocess.run(as_module, capture_output=True, text=True, cwd=ROOT)
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


@pytest.mark.slow  # three models, each with a surface and three curvature programs
def test_landscape_zoo(tmp_path):
    for module in ("flax", "equinox"):
        pytest.importorskip(module, reason="the zoo's models need jaxdigits[models]")
    metrics, files = run_experiment("landscape_zoo", tmp_path, "--grid", "3")
    assert {
        "surface_digits_cnn.png",
        "surface_digits_mlp.png",
        "surface_digits_network.png",
        "density_digits.png",
        "barrier_digits.png",
        "metrics.json",
        "config.json",
    } == set(files)
    models = metrics["models"]["digits"]
    assert models["video network"]["surface_method"] == "span" and models["Flax NNX CNN"]["surface_method"] == "generic"
    for name in ("Flax NNX CNN", "Equinox MLP", "video network"):
        m = models[name]
        assert m["surface_points"] == 9 and m["hessian_trace_stderr"] > 0
        assert m["top_eigenvalue"] == pytest.approx(m["density_top_node"], rel=0.2)
    assert models["CNN barrier"]["line_cost_barrier"] >= 0

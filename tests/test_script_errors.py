"""Every experiment script reports a user's error as one ``error:`` line and exit status 2.

Each script runs as a subprocess with bad input, as a user would run it; the processes run
side by side (each check fires before training, most before any data is loaded). A bug —
an exception that is not a ``jaxdigits.errors.UserInputError`` — keeps its traceback.
"""

import dataclasses
import gzip
import json
import os
import subprocess
import sys

import jax
import pytest

from jaxdigits import TrainConfig
from jaxdigits.data import MNIST_FILES
from jaxdigits.training import init_state, optimizer_for, save_checkpoint
from tests.test_pipeline import ROOT

EXPERIMENTS = os.path.join(ROOT, "experiments")

SCRIPTS = sorted(name[:-3] for name in os.listdir(EXPERIMENTS) if name.endswith(".py") and name[0] != "_")
USED_OUT = "output folder {out!r} already holds files; choose another --out or pass --overwrite"


def damaged_mnist(folder):
    """Four MNIST-named files, the training labels truncated; the others too short to matter."""
    os.makedirs(folder)
    labels = gzip.compress(bytes([0, 0, 8, 1, 0, 0, 0xEA, 0x60]) + bytes(100))  # header says 60,000 labels
    for name in MNIST_FILES:
        with open(os.path.join(folder, name), "wb") as f:
            f.write(labels[: len(labels) // 2] if name.startswith("train-labels") else labels)
    return folder


def run_folder(folder, config, checkpoint_bytes=None, checkpoint_config=None):
    """A train_digits.py run folder with a damaged checkpoint or one of another configuration."""
    os.makedirs(folder)
    args = {"preset": "video", "dataset": "digits", "data_dir": None, "train_limit": 100, "test_limit": 50}
    args |= {"validation": 0, "checkpoint_every": 1}
    with open(os.path.join(folder, "args.json"), "w") as f:
        json.dump(args, f)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(dataclasses.asdict(config), f)
    path = os.path.join(folder, "checkpoint.npz")
    if checkpoint_bytes is not None:
        with open(path, "wb") as f:
            f.write(checkpoint_bytes)
    else:
        state = init_state(checkpoint_config, optimizer_for(checkpoint_config, 100), key=jax.random.key(0))
        save_checkpoint(path, state, [{"epoch": 0}], checkpoint_config)
    return folder


def cases(tmp):
    """(name, command line, the message the error line must hold)."""
    used = os.path.join(tmp, "used")
    os.makedirs(used)
    open(os.path.join(used, "x"), "w").close()
    bad = damaged_mnist(os.path.join(tmp, "mnist"))
    config = TrainConfig(sizes=(64, 16, 16, 10), epochs=2)
    damaged = run_folder(os.path.join(tmp, "damaged"), config, checkpoint_bytes=b"PK\x03\x04 truncated")
    other = run_folder(os.path.join(tmp, "other"), config, checkpoint_config=TrainConfig(sizes=(64, 16, 16, 10)))
    junk = os.path.join(tmp, "junk.npz")
    with open(junk, "wb") as f:
        f.write(b"\x93NUMPY not really")
    used_out = USED_OUT.format(out=used)
    corrupt = "the file is truncated or corrupt"
    return [
        ("draw_digit used --out", ["draw_digit", "--out", used], used_out),
        ("explore used --out", ["explore", "--out", used], used_out),
        ("animate missing page", ["animate", "--page", tmp + "/none.html", "--out", tmp + "/a"], "not found"),
        ("mode_connectivity used --out", ["mode_connectivity", "--out", used], used_out),
        ("tune used --out", ["tune", "--out", used], used_out),
        ("hidden_neurons used --out", ["hidden_neurons", "--out", used], used_out),
        ("memorisation used --out", ["memorisation", "--out", used], used_out),
        ("noise_confidence used --out", ["noise_confidence", "--out", used], used_out),
        ("smooth_cost used --out", ["smooth_cost", "--out", used], used_out),
        ("landscape_zoo used --out", ["landscape_zoo", "--out", used], used_out),
        (
            "gradient_importance damaged MNIST",
            ["gradient_importance", "--dataset", "mnist", "--data-dir", bad],
            corrupt,
        ),
        ("step_size damaged MNIST", ["step_size", "--dataset", "mnist", "--data-dir", bad], corrupt),
        (
            "local_minima no MNIST",
            ["local_minima", "--dataset", "mnist", "--data-dir", tmp + "/none"],
            "does not exist",
        ),
        ("loss_landscape damaged params", ["loss_landscape", "--params", junk], "not a readable .npz parameter file"),
        ("multiprocess_train bad epochs", ["multiprocess_train", "--epochs", "0"], "epochs must be a positive integer"),
        ("accelerator_check bad out", ["accelerator_check", "--out", tmp + "/none/x.json"], "in a folder that exists"),
        ("train_digits damaged MNIST", ["train_digits", "--dataset", "mnist", "--data-dir", bad], corrupt),
        ("train_digits bad rate", ["train_digits", "--learning-rate", "-1"], "--learning-rate must be a finite"),
        ("train_digits unknown preset", ["train_digits", "--preset", "fastest"], "'speedrun'"),
        (
            "train_digits speedrun, 0 epochs",
            ["train_digits", "--preset", "speedrun", "--epochs", "0"],
            "positive integer",
        ),
        ("train_digits not a run", ["train_digits", "--resume", used], "not a jaxdigits run folder"),
        (
            "train_digits damaged checkpoint",
            ["train_digits", "--resume", damaged],
            "start the run again with --overwrite",
        ),
        ("train_digits other checkpoint", ["train_digits", "--resume", other], "belongs to another configuration"),
    ]


@pytest.mark.slow  # subprocesses, each importing JAX
def test_every_script_reports_user_errors_in_one_line(tmp_path):
    checks = cases(str(tmp_path))
    procs = [
        subprocess.Popen(
            [sys.executable, os.path.join(EXPERIMENTS, f"{argv[0]}.py"), *argv[1:]],
            cwd=str(tmp_path),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _, argv, _ in checks
    ]
    for (name, _, message), proc in zip(checks, procs):
        _, err = proc.communicate(timeout=300)
        lines = [line for line in err.splitlines() if line.startswith("error:") or "error: " in line]
        assert proc.returncode == 2, f"{name}: status {proc.returncode}\n{err}"
        assert "Traceback" not in err, f"{name}:\n{err}"
        assert len(lines) == 1 and message in lines[0], f"{name}: {message!r} not in\n{err}"
    assert len({argv[0] for _, argv, _ in checks}) == len(SCRIPTS) == 17

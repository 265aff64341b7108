"""A run killed with SIGKILL at any moment of its life is finished by ``--resume``, bit for bit.

The script is stopped at named moments (``JAXDIGITS_STOP_AT``, see ``jaxdigits._phases``: it
sends itself SIGSTOP there) and killed while stopped, so each kill lands exactly where it is
meant to. The kills form a chain: each ``--resume`` is itself killed at the next moment, and
the last one finishes the run. Beside the chain, one more run is killed 0.2 s after it
starts compiling (during compilation or the first epochs: a moment no hook marks) and
resumed. Every file left after a kill must be whole (or a ``.tmp-`` file, which resume
removes); at the end every output is compared with an uninterrupted run of the same
command: JSON files equal except timings, arrays of ``.npz`` files bitwise, PNG files byte
for byte.
"""

import gzip
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.test_pipeline import ROOT, SCRIPT
from tests.test_reliability import without_timing

ARGS = ["--dataset", "fashion_mnist", "--epochs", "3", "--seed", "5"]  # with --data-dir: a folder of IDX files
# Fields that measure time or say how the run was resumed: excluded from the comparison.
TIMING = {
    "seconds",
    "seconds_per_epoch",
    "seconds_total",
    "seconds_compile",
    "seconds_compile_null_reason",
    "resumed_from_epoch",
}

# (moment to stop at, what the folder must hold after the kill). Counts (#k) are per process:
# a resumed run starts at its checkpoint's epoch.
CHAIN = [
    ("write:config.json", "settings only"),  # start-up: args.json written, config.json not yet
    ("train", "settings only"),  # data loaded, config.json written, nothing compiled
    ("write:checkpoint.npz#1", None),  # checkpoint of epoch 1 in its temporary file
    ("epoch-end#1", 1),  # between epochs 1 and 2
    ("write:checkpoint.npz#1", 1),  # checkpoint of epoch 2 being written
    ("epoch-end#2", 3),  # after the last epoch's checkpoint, before any final output
    ("write:history.json", 3),  # the final writes, one by one
    ("write:params.npz", 3),
    ("write:cost.png", 3),
    ("write:accuracy.png", 3),
    ("write:metrics.json", 3),
    ("done", 3),  # everything written, the process not yet exited
]


def idx_folder(folder, digits):
    """sklearn's 8x8 digits (200 train, 100 test) as the four IDX files of an MNIST-format folder.

    Read directly by jaxdigits (no TensorFlow, no scikit-learn in the killed processes), which
    keeps each of the test's 16 processes short.
    """
    os.makedirs(folder)
    splits = {"train": (digits.train_images[:200], digits.train_labels[:200])}
    splits["t10k"] = (digits.test_images[:100], digits.test_labels[:100])
    for prefix, (images, labels) in splits.items():
        pixels = np.round(images * 255).astype(np.uint8).reshape(-1, 8, 8)
        for kind, array, code in (("images", pixels, 3), ("labels", labels.astype(np.uint8), 1)):
            header = bytes([0, 0, 8, code]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
            with open(os.path.join(folder, f"{prefix}-{kind}-idx{code}-ubyte.gz"), "wb") as f:
                f.write(gzip.compress(header + array.tobytes()))
    return folder


def env(cache, stop_at=None):
    e = {**os.environ, "JAX_COMPILATION_CACHE_DIR": str(cache), "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0"}
    e.pop("JAXDIGITS_STOP_AT", None)
    if stop_at:
        e["JAXDIGITS_STOP_AT"] = stop_at
    return e


def start(args, cache, stop_at=None):
    return subprocess.Popen(
        [sys.executable, SCRIPT, "--no-progress", *args],
        cwd=ROOT,
        env=env(cache, stop_at),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def kill_at(args, cache, moment):
    """Run the script until ``moment``, then SIGKILL it there."""
    delay = None
    if "+" in moment:
        moment, delay = moment.split("+")
    proc = start(args, cache, moment)
    _, status = os.waitpid(proc.pid, os.WUNTRACED)  # returns when the process has stopped itself
    assert os.WIFSTOPPED(status), f"the run ended before reaching {moment}: {proc.communicate()}"
    if delay:
        os.kill(proc.pid, signal.SIGCONT)
        time.sleep(float(delay.removesuffix("s")))
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL


def checkpoint_epoch(folder):
    path = os.path.join(folder, "checkpoint.npz")
    if not os.path.exists(path):
        return None
    with np.load(path) as f:
        return json.loads(str(f["meta"]))["history"][-1]["epoch"]


def assert_whole(folder):
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        if name.startswith(".tmp-"):
            continue  # an interrupted write, never renamed into place
        if name.endswith(".json"):
            json.loads(open(path).read())
        elif name.endswith(".npz"):
            with np.load(path) as f:
                [f[k] for k in f.files]
        elif name.endswith(".png"):
            assert open(path, "rb").read().endswith(b"IEND\xaeB`\x82"), name


def assert_same_outputs(whole, resumed):
    names = sorted(n for n in os.listdir(whole))
    assert sorted(os.listdir(resumed)) == names
    for name in names:
        a, b = os.path.join(whole, name), os.path.join(resumed, name)
        if name.endswith(".json"):
            assert without_timing(json.load(open(a)), TIMING) == without_timing(json.load(open(b)), TIMING), name
        elif name.endswith(".npz"):
            with np.load(a) as x, np.load(b) as y:
                assert x.files == y.files, name
                for k in x.files:
                    if k == "meta":  # the checkpoint's config and history (with timings)
                        meta_x, meta_y = (without_timing(json.loads(str(m[k])), TIMING) for m in (x, y))
                        assert meta_x == meta_y, name
                    else:
                        np.testing.assert_array_equal(x[k], y[k], err_msg=f"{name}:{k}", strict=True)
        else:
            assert open(a, "rb").read() == open(b, "rb").read(), name


@pytest.mark.slow
def test_killed_at_every_moment_and_resumed_gives_the_uninterrupted_outputs(tmp_path, digits):
    args = [*ARGS, "--data-dir", idx_folder(str(tmp_path / "idx"), digits)]
    cache = tmp_path / "jax-cache"
    whole, broken, timed = tmp_path / "whole", tmp_path / "broken", tmp_path / "timed"
    reference = start([*args, "--out", str(whole)], cache)  # these two run beside the chain
    kill_at([*args, "--out", str(timed)], cache, "train+0.2s")
    timed_resume = start(["--resume", str(timed)], cache)

    kill_at([*args, "--out", str(broken)], cache, CHAIN[0][0])
    for i, (moment, expected) in enumerate(CHAIN):
        if i:
            kill_at(["--resume", str(broken)], cache, moment)
        assert_whole(broken)
        if expected == "settings only":
            assert checkpoint_epoch(broken) is None and "args.json" in os.listdir(broken)
        elif expected is not None:
            assert checkpoint_epoch(broken) == expected, moment
    finished = subprocess.run(
        [sys.executable, SCRIPT, "--no-progress", "--resume", str(broken)],
        cwd=ROOT,
        env=env(cache),
        capture_output=True,
        text=True,
    )
    assert finished.returncode == 0, finished.stderr
    assert "holds a complete run: nothing to do" in finished.stdout
    for proc in (reference, timed_resume):
        _, err = proc.communicate()
        assert proc.returncode == 0, err
    for folder in (broken, timed):
        assert not [n for n in os.listdir(folder) if n.startswith(".tmp-")]
        assert_same_outputs(whole, folder)

"""What every experiment script shares: flags, data, the video's own weights, training, output.

The scripts in ``experiments/`` are thin command-line programs over the library; this module
is the part they have in common, so that a script needs nothing but an installed jaxdigits.
Each experiment is ``python experiments/<name>.py [--out DIR] [--fast] [--seed N]
[--dataset NAME] [--data-dir DIR] [--video-weights PATH]``; it writes figures and
``metrics.json`` into ``--out`` (default ``runs/<name>-<dataset>-<time>/``), and ends with
``if __name__ == "__main__": cli.run(main)``: a user's error becomes one ``error:`` line and
exit status 2.

- ``--fast``: tiny settings for smoke tests (a small subset, a few epochs).
- Without ``--dataset``, MNIST is used if it can be had, else scikit-learn's 8x8 digits with
  a loud notice (as ``train_digits.py``).
- ``--video-weights``: 3Blue1Brown's trained 784-16-16-10 network, shown beside ours;
  default ``$JAXDIGITS_VIDEO_WEIGHTS``, else ``../shared/data/3b1b/video_784_16_16_10.npz``
  beside the folder the command runs in or beside the script's repository; skipped (with a
  note) when absent or when the images are not 28×28.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping

import jax
import numpy as np

from jaxdigits import devices, io
from jaxdigits.data import DATASETS, Dataset, load_dataset
from jaxdigits.devices import environment
from jaxdigits.errors import MissingFile, UserInputError
from jaxdigits.network import accuracy
from jaxdigits.training import PRESETS, TrainResult, init_state, optimizer_for, prepare_out_dir, train
from jaxdigits.typing import Network

__all__ = [
    "FAST_TEST",
    "FAST_TRAIN",
    "FLAGS",
    "SHARED_FLAGS",
    "USAGE_ERROR",
    "VIDEO_WEIGHTS_ENV",
    "finish",
    "load_data",
    "parser",
    "run",
    "setup",
    "sizes_for",
    "subset",
    "test_accuracy",
    "train_network",
    "video_params",
    "video_weights_candidates",
]

VIDEO_WEIGHTS_ENV = "JAXDIGITS_VIDEO_WEIGHTS"
_VIDEO_WEIGHTS = os.path.join("shared", "data", "3b1b", "video_784_16_16_10.npz")
FAST_TRAIN, FAST_TEST = 1000, 300  # images kept by --fast
SHARED_FLAGS = (  # what parser() gives every script, less those it is asked to leave out
    "--out",
    "--fast",
    "--seed",
    "--dataset",
    "--data-dir",
    "--video-weights",
    "--overwrite",
    "--no-progress",
)

USAGE_ERROR = 2  # exit status of a user error, as argparse uses for bad flags
# The library names its arguments; a person typed flags. Whole words only.
FLAGS = {
    "data_dir": "--data-dir",
    "out_dir": "--out",
    "set overwrite": "pass --overwrite",
    "start the run again with overwrite": "start the run again with --overwrite",
    "learning_rate": "--learning-rate",
    "batch_size": "--batch-size",
    "weight_decay": "--weight-decay",
    "warmup_fraction": "--warmup-fraction",
    "augment_fraction": "--augment-fraction",
    "eval_every": "--eval-every",
}


def run(main: Callable[[], object], *, flags: Mapping[str, str] = FLAGS, cpu_devices: str = "1") -> object:
    """Run a script's ``main()``; a user's error becomes one line on stderr and exit status 2.

    Every script ends with ``if __name__ == "__main__": cli.run(main)`` (with ``from
    jaxdigits import cli``): that is the whole change to give a script this behaviour.

    ``cpu_devices``: the shape of JAX's CPU backend this script runs fastest in
    (``jaxdigits.devices.configure``): ``"1"`` (one device, one thread: one network at a time) or
    ``"cores"`` (one device per core: populations, surfaces). ``$JAXDIGITS_CPU_DEVICES``, when
    set, wins.

    What counts as a user's error is decided by type, not by guessing from the message: an
    exception that is a ``jaxdigits.errors.UserInputError`` — a bad setting, a missing or
    damaged data, checkpoint or parameter file, a used output folder, a checkpoint of another
    configuration (``DataFileError`` and ``DataUnavailableError`` are among them) — is
    printed as ``error: <message>`` with the library's argument names turned into this
    script's flags (``flags``), and the script exits with status 2. Anything else, even a
    ``ValueError``, is a fault of the program (or of JAX, NumPy, …) and keeps its traceback:
    hiding it would make a bug look like a wrong setting. A script's own checks raise
    ``UserInputError`` subclasses (``InvalidArgument``, ``MissingFile``…) or call
    ``parser.error`` (argparse's ``error:`` line, also status 2).
    """
    try:
        devices.configure(cpu_devices, defer_to_user=True)
        return main()
    except UserInputError as e:
        message = str(e)
        for name, flag in flags.items():
            message = re.sub(rf"(?<![\w-]){re.escape(name)}(?!\w)", flag, message)
        print(f"error: {message}", file=sys.stderr)
        sys.exit(USAGE_ERROR)


def parser(doc: str | None, *, seed: int | None = 0, without: Iterable[str] = ()) -> argparse.ArgumentParser:
    """An ``argparse`` parser with the flags every experiment takes; add your own to it.

    ``seed``: the default of ``--seed``; None where the script's recipe supplies it
    (``train_digits.py``: the preset's seed). ``without``: shared flags this script has no use
    for (e.g. ``{"--video-weights"}``), left out rather than accepted and ignored.
    """
    if set(without) - set(SHARED_FLAGS):
        raise ValueError(f"without={sorted(without)}: expected some of the shared flags {SHARED_FLAGS}")
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    seed_help = "PRNG seed (recorded in metrics.json)" if seed is not None else "PRNG seed (default: the recipe's)"

    def add(flag, **options):
        if flag not in without:
            p.add_argument(flag, **options)

    add("--out", help="output folder (default: a fresh folder under runs/)")
    add("--fast", action="store_true", help="tiny settings for smoke tests")
    add("--seed", type=int, default=seed, help=seed_help)
    add("--dataset", choices=DATASETS, help="default: mnist, falling back to digits if unavailable")
    add("--data-dir", help="folder with the original IDX .gz files (default $JAXDIGITS_MNIST_DIR)")
    add("--video-weights", help=f"3Blue1Brown's weights (.npz; default ${VIDEO_WEIGHTS_ENV} or ../shared)")
    add("--overwrite", action="store_true", help="allow writing into a non-empty --out")
    add("--no-progress", action="store_true")
    return p


def setup(
    args: argparse.Namespace, name: str, *, fast_subset: bool = True, on_out: Callable[[str], object] | None = None
) -> tuple[Dataset, str]:
    """Create the output folder and load the data (``--fast``: a small subset).

    A used ``--out`` is refused before anything is loaded; without ``--out`` the folder is
    ``runs/<name>-<dataset>-<time>/``. ``on_out(out)`` is called as soon as the folder exists
    (a script that saves its settings there first). ``fast_subset=False``: ``--fast`` keeps
    the whole dataset (a script whose ``--fast`` shrinks its own work instead).
    Returns ``(dataset, out_dir)``.
    """
    out = prepare_out_dir(args.out, args.overwrite) if args.out else None  # before anything is loaded
    if out and on_out:
        on_out(out)
    dataset = load_data(args)
    if getattr(args, "fast", False) and fast_subset:  # a script may leave --fast out
        dataset = subset(dataset, FAST_TRAIN, FAST_TEST)
    if not out:
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        out = prepare_out_dir(os.path.join("runs", f"{name}-{dataset.name}-{stamp}"))
        if on_out:
            on_out(out)
    return dataset, out


def load_data(args: argparse.Namespace) -> Dataset:
    """The dataset ``--dataset`` names (default: MNIST, else the 8x8 digits with a notice)."""
    return load_dataset(args.dataset or "mnist", args.data_dir, fallback=args.dataset is None)


def subset(dataset: Dataset, train: int | None = None, test: int | None = None) -> Dataset:
    """The first ``train`` training and ``test`` test examples (None: all of that split)."""
    return dataset._replace(
        train_images=dataset.train_images[:train],
        train_labels=dataset.train_labels[:train],
        test_images=dataset.test_images[:test],
        test_labels=dataset.test_labels[:test],
    )


def video_weights_candidates(args: argparse.Namespace) -> list[str]:
    """Where 3Blue1Brown's weights are looked for, in order (see the module docstring)."""
    if args.video_weights:
        return [args.video_weights]
    if os.environ.get(VIDEO_WEIGHTS_ENV):
        return [os.environ[VIDEO_WEIGHTS_ENV]]
    script = os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else os.getcwd()
    beside = [os.getcwd(), os.path.dirname(os.path.dirname(script))]  # the working folder; the script's repository
    return list(dict.fromkeys(os.path.normpath(os.path.join(folder, "..", _VIDEO_WEIGHTS)) for folder in beside))


def video_params(args: argparse.Namespace, dataset: Dataset) -> Network | None:
    """3Blue1Brown's own trained network, or None (with a note) if absent or the images are not 784 pixels."""
    if dataset.num_pixels != 784:
        print(f"note: the video's network needs 28x28 images; {dataset.name} has {dataset.image_shape}, skipped")
        return None
    candidates = video_weights_candidates(args)
    path = next((c for c in candidates if os.path.exists(c)), None)
    if path is None:
        if args.video_weights:
            raise MissingFile(f"--video-weights {args.video_weights!r} not found")
        print(f"note: the video's weights are not at {candidates[0]}; pass --video-weights PATH to compare with them")
        return None
    return io.load_params(path, sizes=(784, 16, 16, 10))


def sizes_for(dataset: Dataset, hidden: tuple[int, ...] = (16, 16)) -> tuple[int, ...]:
    """Layer sizes for this dataset's images: pixels, the hidden widths, 10 outputs."""
    return (dataset.num_pixels, *hidden, 10)


def train_network(
    dataset: Dataset,
    args: argparse.Namespace,
    *,
    eval_test: bool = True,
    train_data: tuple | None = None,
    **overrides,
) -> tuple[TrainResult, Network]:
    """Train the video's recipe (``PRESETS["video"]`` with ``overrides``) on the dataset.

    Returns ``(result, initial_params)``: the ``TrainResult`` (its ``history`` holds train,
    and test, cost and accuracy per epoch) and a host copy of the untrained network.
    """
    overrides.setdefault("seed", args.seed)
    overrides.setdefault("sizes", sizes_for(dataset))
    config = dataclasses.replace(PRESETS["video"], **overrides)
    train_data = train_data or (dataset.train_images, dataset.train_labels)
    evals = {"train": train_data}
    if eval_test:
        evals["test"] = (dataset.test_images, dataset.test_labels)
    state = init_state(config, optimizer_for(config, len(train_data[1])), key=jax.random.key(config.seed))
    initial = jax.tree.map(np.array, state.params)  # a copy: training donates the state
    return train(config, train_data, evals, state=state, progress=not args.no_progress), initial


def test_accuracy(params: Network, dataset: Dataset) -> float:
    """Accuracy of ``params`` on the dataset's test images, as a float."""
    return float(accuracy(params, dataset.test_images, dataset.test_labels))


def finish(
    out: str, name: str, args: argparse.Namespace, dataset: Dataset, metrics: dict, summary: Iterable[str]
) -> dict:
    """Write ``metrics.json`` (with dataset, flags and environment) and print ``summary`` lines."""
    record = {
        "experiment": name,
        "dataset": dataset.name,
        "dataset_source": dataset.source,
        "num_train": len(dataset.train_labels),
        "num_test": len(dataset.test_labels),
        "seed": args.seed,
        "fast": args.fast,
        **metrics,
        **environment(),
    }
    io.write_json(os.path.join(out, "metrics.json"), record)
    for line in summary:
        print(line)
    print(f"wrote {out}")
    return record

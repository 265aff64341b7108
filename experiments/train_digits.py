"""Train the video's 784-16-16-10 network on MNIST and write metrics, parameters and figures.

    python experiments/train_digits.py                  # the video's recipe (--preset video)
    python experiments/train_digits.py --preset best    # the best recipe found for this shape

Without --dataset, MNIST is used if it can be had (TFDS cache, $JAXDIGITS_MNIST_DIR or
--data-dir, or a download); otherwise scikit-learn's 8x8 digits, with a loud notice.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from jaxdigits import PRESETS, TrainingDiverged, load_dataset  # noqa: E402
from jaxdigits.augment import AUGMENTATIONS  # noqa: E402
from jaxdigits.data import DATASETS  # noqa: E402
from jaxdigits.io import write_json  # noqa: E402
from jaxdigits.runs import prepare_out_dir, read_config, train_and_evaluate  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="video", choices=sorted(PRESETS), help="named recipe (default: video)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--learning-rate", type=float, help="η on the chosen cost")
    p.add_argument("--activation", help="sigmoid, relu, tanh, gelu or step")
    p.add_argument("--cost", help="mse (the video's) or cross_entropy")
    p.add_argument("--optimizer", help="sgd (handwritten), optax_sgd, momentum, adam or adamw")
    p.add_argument("--init", help="normal (N(0,1), the video's), scaled or he")
    p.add_argument("--hidden", type=int, nargs="+", help="hidden layer widths (default 16 16)")
    p.add_argument("--seed", type=int)
    p.add_argument(
        "--augment", choices=AUGMENTATIONS, help="random variants of each mini-batch (default: the preset's)"
    )
    p.add_argument("--augment-shift", type=int, help="largest shift, in whole pixels each way")
    p.add_argument("--augment-rotate", type=float, help="largest rotation in degrees each way (affine)")
    p.add_argument("--augment-scale", type=float, help="largest relative change of size (affine)")
    p.add_argument("--augment-shear", type=float, help="largest shear angle in degrees (affine)")
    p.add_argument("--dataset", choices=DATASETS, help="default: mnist, falling back to digits if unavailable")
    p.add_argument("--data-dir", help="folder with the original IDX .gz files (default $JAXDIGITS_MNIST_DIR)")
    p.add_argument("--validation", type=int, default=0, help="hold out this many training images")
    p.add_argument("--train-limit", type=int, help="use only the first N training images (smoke tests)")
    p.add_argument("--test-limit", type=int, help="use only the first N test images (smoke tests)")
    p.add_argument("--out", help="output folder (default: a fresh folder under runs/)")
    p.add_argument("--overwrite", action="store_true", help="allow writing into a non-empty --out")
    p.add_argument("--resume", metavar="DIR", help="continue the interrupted run in DIR from its checkpoint")
    p.add_argument("--checkpoint-every", type=int, default=1, help="epochs between checkpoints (0: none)")
    p.add_argument("--no-progress", action="store_true")
    return p.parse_args(argv)


DATA_ARGS = ("preset", "dataset", "data_dir", "train_limit", "test_limit", "validation")


def main(argv=None):
    args = parse_args(argv)
    if args.resume:  # the interrupted run's own settings, whatever else was passed
        config = read_config(args.resume)
        with open(os.path.join(args.resume, "args.json")) as f:
            vars(args).update(json.load(f))
    else:
        config = configure(args)  # names and values are checked here, before loading data
    dataset = load_dataset(args.dataset or "mnist", args.data_dir, fallback=args.dataset is None)
    for limit, split in ((args.train_limit, "train"), (args.test_limit, "test")):
        if limit is not None:
            images, labels = getattr(dataset, f"{split}_images"), getattr(dataset, f"{split}_labels")
            dataset = dataset._replace(**{f"{split}_images": images[:limit], f"{split}_labels": labels[:limit]})
    if not args.resume:
        hidden = tuple(args.hidden) if args.hidden else config.sizes[1:-1]
        config = dataclasses.replace(config, sizes=(dataset.num_pixels, *hidden, config.sizes[-1]))
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = args.resume or args.out or os.path.join("runs", f"train_digits-{args.preset}-{dataset.name}-{stamp}")
    if not args.resume:
        prepare_out_dir(out, args.overwrite)
        write_json(os.path.join(out, "args.json"), {k: getattr(args, k) for k in DATA_ARGS})
    try:
        metrics, _ = train_and_evaluate(
            config,
            dataset,
            out,
            validation=args.validation,
            overwrite=True,
            resume=bool(args.resume),
            checkpoint_every=args.checkpoint_every,
            progress=not args.no_progress,
            extra={"preset": args.preset},
        )
    except TrainingDiverged as diverged:
        sys.exit(
            f"error: {diverged.args[0]}\nthe last good parameters are in {os.path.join(out, 'last_good_params.npz')}"
        )
    print(
        f"{dataset.name}: test accuracy {metrics['test_accuracy']:.2%} (from {metrics['initial_test_accuracy']:.2%}), "
        f"test cost {metrics['test_cost']:.4f}, {metrics['seconds_per_epoch']:.3f} s/epoch, "
        f"{metrics['seconds_total']:.1f} s in all\nwrote {out}"
    )
    return metrics


def configure(args):
    """The preset with the flags that were given applied over it."""
    fields = ("epochs", "batch_size", "learning_rate", "activation", "cost", "optimizer", "init", "seed")
    fields += ("augment", "augment_shift", "augment_rotate", "augment_scale", "augment_shear")
    overrides = {field: getattr(args, field) for field in fields if getattr(args, field) is not None}
    return dataclasses.replace(PRESETS[args.preset], **overrides)


if __name__ == "__main__":
    main()

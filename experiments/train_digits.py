"""Train the video's 784-16-16-10 network on MNIST and write metrics, parameters and figures.

    python experiments/train_digits.py                  # the video's recipe (--preset video)
    python experiments/train_digits.py --preset best    # the best recipe found for this shape
    python experiments/train_digits.py --preset speedrun  # 97 % in the fewest seconds

Without --dataset, MNIST is used if it can be had (TFDS cache, $JAXDIGITS_MNIST_DIR or
--data-dir, or a download); otherwise scikit-learn's 8x8 digits, with a loud notice.

--resume DIR finishes the run in DIR whatever state a kill left it in: it continues from the
checkpoint (or from the start), writes the outputs of a run killed after its last epoch, and
leaves a complete run as it is. Exit status: 0 done; 1 training diverged; 2 a user error
(bad setting, missing or damaged file, used --out); 3 the network failed to learn (see
jaxdigits.training.judge), unless --allow-failure.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys

from jaxdigits import PRESETS, cli
from jaxdigits.data import AUGMENTATIONS, SHIFT_TABLE_BYTES
from jaxdigits.errors import MissingFile, TrainingDiverged
from jaxdigits.io import write_json
from jaxdigits.training import CHECKPOINT, is_complete, read_checkpoint, read_config, train_and_evaluate

FAILED_TO_LEARN = 3  # exit status of a run judged "failed_to_learn" (without --allow-failure)


def parse_args(argv=None):
    # The seed is the preset's unless given; --train-limit and --test-limit take the place of --fast.
    p = cli.parser(__doc__, seed=None, without={"--fast", "--video-weights"})
    p.add_argument("--preset", default="video", choices=sorted(PRESETS), help="named recipe (default: video)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--learning-rate", type=float, help="η on the chosen cost")
    p.add_argument("--weight-decay", type=float, help="adamw's decoupled weight decay")
    p.add_argument("--activation", help="sigmoid, relu, tanh, gelu or step")
    p.add_argument("--cost", help="mse (the video's) or cross_entropy")
    p.add_argument("--optimizer", help="sgd (handwritten), optax_sgd, momentum, adam or adamw")
    p.add_argument("--init", help="normal (N(0,1), the video's), scaled or he")
    p.add_argument("--hidden", type=int, nargs="+", help="hidden layer widths (default 16 16)")
    p.add_argument(
        "--augment", choices=AUGMENTATIONS, help="random variants of each mini-batch (default: the preset's)"
    )
    p.add_argument("--augment-shift", type=int, help="largest shift, in whole pixels each way")
    p.add_argument("--augment-rotate", type=float, help="largest rotation in degrees each way (affine)")
    p.add_argument("--augment-scale", type=float, help="largest relative change of size (affine)")
    p.add_argument("--augment-shear", type=float, help="largest shear angle in degrees (affine)")
    p.add_argument("--augment-fraction", type=float, help="fraction of the epochs, from the first, augmented")
    p.add_argument("--warmup-fraction", type=float, help="fraction of the steps spent warming η up from 0")
    p.add_argument("--eval-every", type=int, help="evaluate every k epochs and after the last (0: the last only)")
    p.add_argument(
        "--shift-table-mb",
        type=float,
        default=SHIFT_TABLE_BYTES / 2**20,
        help="memory for the table of shifted training images (MiB; 0: shift each mini-batch); same results",
    )
    p.add_argument("--validation", type=int, default=0, help="hold out this many training images")
    p.add_argument("--train-limit", type=int, help="use only the first N training images (smoke tests)")
    p.add_argument("--test-limit", type=int, help="use only the first N test images (smoke tests)")
    p.add_argument("--resume", metavar="DIR", help="continue the interrupted run in DIR from its checkpoint")
    p.add_argument("--checkpoint-every", type=int, default=1, help="epochs between checkpoints (0: none)")
    p.add_argument("--allow-failure", action="store_true", help="exit 0 even if the network failed to learn")
    return p.parse_args(argv)


# What defines the run, saved in args.json before the data is loaded: --resume reads it back.
RUN_ARGS = ("preset", "dataset", "data_dir", "train_limit", "test_limit", "validation", "checkpoint_every")
RUN_ARGS += ("epochs", "batch_size", "learning_rate", "activation", "cost", "optimizer", "init", "hidden", "seed")
RUN_ARGS += ("augment", "augment_shift", "augment_rotate", "augment_scale", "augment_shear")
RUN_ARGS += ("weight_decay", "augment_fraction", "warmup_fraction", "eval_every")


def main(argv=None):
    args = parse_args(argv)
    if args.resume:  # the interrupted run's own settings, whatever else was passed
        args_file = os.path.join(args.resume, "args.json")
        if not os.path.exists(args_file):
            raise MissingFile(
                f"{args.resume!r} holds no args.json: it is not a jaxdigits run folder "
                "(a run killed before it wrote its settings leaves nothing to resume: start it again)"
            )
        with open(args_file) as f:
            vars(args).update(json.load(f))
        if is_complete(args.resume):
            with open(os.path.join(args.resume, "metrics.json")) as f:
                return report(json.load(f), args.resume, args, complete=True)
    config = configure(args)  # names and values are checked here, before loading data
    saved_config = bool(args.resume) and os.path.exists(os.path.join(args.resume, "config.json"))
    if saved_config:
        config = read_config(args.resume)
        if os.path.exists(os.path.join(args.resume, CHECKPOINT)):
            read_checkpoint(os.path.join(args.resume, CHECKPOINT), config)  # damaged or foreign: say so now
    if args.resume:
        dataset, out = cli.load_data(args), args.resume
    else:  # the folder and its settings first: from here on, --resume can finish the run
        save_args = lambda out: write_json(os.path.join(out, "args.json"), {k: getattr(args, k) for k in RUN_ARGS})
        dataset, out = cli.setup(args, f"train_digits-{args.preset}", on_out=save_args)
    dataset = cli.subset(dataset, args.train_limit, args.test_limit)
    if not saved_config:
        hidden = tuple(args.hidden) if args.hidden else config.sizes[1:-1]
        config = dataclasses.replace(config, sizes=(dataset.num_pixels, *hidden, config.sizes[-1]))
    try:
        metrics, result = train_and_evaluate(
            config,
            dataset,
            out,
            validation=args.validation,
            overwrite=True,
            resume=bool(args.resume),
            checkpoint_every=args.checkpoint_every,
            progress=not args.no_progress,
            extra={"preset": args.preset},
            shift_table_bytes=int(args.shift_table_mb * 2**20),
        )
    except TrainingDiverged as diverged:
        sys.exit(
            f"error: {diverged.args[0]}\nthe last good parameters are in {os.path.join(out, 'last_good_params.npz')}"
        )
    return report(metrics, out, args, complete=result is None)


def report(metrics, out, args, *, complete=False):
    """Print the outcome; exit with status 3 if the network failed to learn (unless allowed)."""
    if complete:
        print(f"{out} holds a complete run: nothing to do")
    per_epoch = metrics["seconds_per_epoch"]
    print(
        f"{metrics['dataset']}: test accuracy {metrics['test_accuracy']:.2%} "
        f"(from {metrics['initial_test_accuracy']:.2%}), test cost {metrics['test_cost']:.4f}, "
        f"{'?' if per_epoch is None else f'{per_epoch:.3f}'} s/epoch, {metrics['seconds_total']:.1f} s in all\n"
        f"wrote {out}"
    )
    if metrics.get("status", "ok") != "ok":
        print(f"warning: {metrics['status_reason']}", file=sys.stderr)
        if not args.allow_failure:
            print(f"(exit status {FAILED_TO_LEARN}; pass --allow-failure to accept such a run)", file=sys.stderr)
            sys.exit(FAILED_TO_LEARN)
    return metrics


def configure(args):
    """The preset with the flags that were given applied over it."""
    fields = ("epochs", "batch_size", "learning_rate", "activation", "cost", "optimizer", "init", "seed")
    fields += ("augment", "augment_shift", "augment_rotate", "augment_scale", "augment_shear")
    fields += ("weight_decay", "augment_fraction", "warmup_fraction", "eval_every")
    overrides = {field: getattr(args, field) for field in fields if getattr(args, field) is not None}
    return dataclasses.replace(PRESETS[args.preset], **overrides)


if __name__ == "__main__":
    cli.run(main)

"""Search for the best training recipe of the 784-16-16-10 network, on a validation split.

    python experiments/tune.py            # the search behind the `best` preset
    python experiments/tune.py --fast     # a tiny version for the test suite

Every choice is made on a validation split — train on the first 50,000 training images,
score on the last 10,000 (``jaxdigits.data.split_validation``); the test set is not read.

The search starts from ``START`` (the recipe without augmentation) and is greedy, one
setting at a time, in the order of ``STAGES``: augmentation,
weight decay, epochs, batch size, activation, schedule, and epochs once more. A stage tries each of its values
with every other setting at the best found so far, keeps the value that scores best, and
hands it on. Each try is one ``train_population`` call: the learning rates of
``LEARNING_RATES`` × the seeds of ``--seeds``, all in one compiled program sharing its
mini-batches and their augmented variants. A try's score is the validation accuracy after
the last epoch, averaged over the seeds, at its best learning rate; that learning rate is
carried on too. ``train_population`` batches only learning rates and seeds: every other
setting changes the compiled program (batch size, epochs, activation, augmentation) or the
optimiser all networks share (weight decay, schedule), so the values of a stage run one
population after another. A try already made (same settings) is not made again.

Writes ``trials.jsonl`` (one line per network: stage, settings, learning rate, seed, final
and best validation accuracy, seconds), ``search.png`` (validation accuracy against each
stage's values, one line per learning rate) and ``metrics.json`` with the winner, which it
prints.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time

import numpy as np

import jaxdigits as jd
from jaxdigits import cli, io
from jaxdigits.data import split_validation
from jaxdigits.plots import pyplot, save_figure
from jaxdigits.training import train_population

# Where the search starts: the recipe without augmentation found by hand (docs/training.md).
START = jd.PRESETS["best_no_augment"]
LEARNING_RATES = (2e-3, 4e-3, 8e-3)
AUGMENTATIONS = (
    {"augment": "none"},
    {"augment": "shift", "augment_shift": 1},
    {"augment": "affine", "augment_shift": 0, "augment_rotate": 8.0, "augment_scale": 0.08, "augment_shear": 0.0},
)
# Augmentation and weight decay both regularise, so they are searched together.
STAGES = (
    ("augment × weight decay", tuple({**a, "weight_decay": wd} for a in AUGMENTATIONS for wd in (0.01, 0.03, 0.1))),
    ("epochs", tuple({"epochs": v} for v in (80, 120, 160))),
    ("batch_size", tuple({"batch_size": v} for v in (32, 64, 128))),
    ("activation", tuple({"activation": v} for v in ("relu", "gelu"))),
    ("schedule", tuple({"schedule": v} for v in ("cosine", "constant"))),
    # A second look at the length of training, once the activation is chosen: a smoother
    # activation may keep improving where relu had stopped.
    ("epochs, second pass", tuple({"epochs": v} for v in (120, 180, 240))),
)
FAST_STAGES = (
    ("augment", tuple({**a, "weight_decay": 0.1} for a in AUGMENTATIONS[:2])),
    ("batch_size", ({"batch_size": 32}, {"batch_size": 64})),
)
VALIDATION, FAST_VALIDATION = 10_000, 300


def label(setting):
    """Short text for a stage value, e.g. ``shift 1, wd 0.03`` or ``120``."""
    parts = []
    if "augment" in setting:
        kind = setting["augment"]
        if kind == "affine":
            parts.append(f"affine {setting['augment_rotate']:g}° ±{setting['augment_scale']:g}")
            if setting["augment_shift"]:
                parts[-1] += f" shift {setting['augment_shift']}"
        else:
            parts.append(kind if kind == "none" else f"shift {setting['augment_shift']}")
    if "weight_decay" in setting and len(setting) > 1:
        parts.append(f"wd {setting['weight_decay']:g}")
    parts += [
        f"{v:g}" if isinstance(v, float) else str(v)
        for k, v in setting.items()
        if not k.startswith(("augment", "weight_decay"))
    ]
    if list(setting) == ["weight_decay"]:
        parts.append(f"{setting['weight_decay']:g}")
    return ", ".join(parts)


def run_try(config, train_data, val, seeds, learning_rates):
    """One population: every learning rate × every seed. Returns per-network records and timings."""
    pairs = [(lr, seed) for lr in learning_rates for seed in seeds]
    start = time.perf_counter()
    result = train_population(
        config, train_data, {"validation": val}, seeds=[s for _, s in pairs], learning_rates=[lr for lr, _ in pairs]
    )
    seconds = time.perf_counter() - start
    records = [
        {
            "learning_rate": lr,
            "seed": seed,
            "validation_accuracy": history[-1]["validation_accuracy"],
            "best_validation_accuracy": max(h["validation_accuracy"] for h in history[1:]),
            "best_epoch": int(np.argmax([h["validation_accuracy"] for h in history[1:]])) + 1,
        }
        for (lr, seed), history in zip(pairs, result.histories)
    ]
    timing = {
        "seconds": seconds,
        "seconds_compile": result.seconds_compile,
        "seconds_per_epoch": float(np.median(result.seconds_per_epoch)),
    }
    return records, timing


def by_learning_rate(records):
    """Final validation accuracy per learning rate, averaged over the seeds."""
    rates = dict.fromkeys(r["learning_rate"] for r in records)
    return {lr: float(np.mean([r["validation_accuracy"] for r in records if r["learning_rate"] == lr])) for lr in rates}


def try_key(config):
    """What identifies a try: every setting but the learning rate and seed, which it sweeps."""
    return json.dumps(dataclasses.asdict(dataclasses.replace(config, learning_rate=1.0, seed=0)), sort_keys=True)


def earlier_tries(path):
    """``{try_key: (records, timing)}`` and the lines of an earlier search's ``trials.jsonl``."""
    fields = [f.name for f in dataclasses.fields(jd.TrainConfig)]
    done, lines = {}, []
    with open(path) as f:
        for line in map(json.loads, f):
            config = jd.TrainConfig(**{k: line[k] for k in fields if k != "sizes"}, sizes=tuple(line["sizes"]))
            records, _ = done.setdefault(
                try_key(config), ([], {k: line[k] for k in ("seconds", "seconds_compile", "seconds_per_epoch")})
            )
            records.append(
                {
                    k: line[k]
                    for k in ("learning_rate", "seed", "validation_accuracy", "best_validation_accuracy", "best_epoch")
                }
            )
            lines.append(line)
    return done, lines


def write_trials(out, lines):
    """``out/trials.jsonl``, written whole (after every try, so a killed search can be reused)."""
    with io.atomic_path(os.path.join(out, "trials.jsonl")) as tmp, open(tmp, "w") as f:
        f.writelines(json.dumps(line) + "\n" for line in lines)


def search(base, stages, train_data, val, seeds, learning_rates, out, done=None, lines=None):
    """Greedy search over ``stages`` from ``base``; writes every network to ``out/trials.jsonl``.

    A value replaces the one chosen so far only if it scores strictly better (ties keep the
    incumbent). ``done``/``lines``: tries of an earlier search (``earlier_tries``), not rerun.
    """
    best, done, lines, summary = base, dict(done or {}), list(lines or []), []
    for stage, values in stages:
        scores = []
        for setting in values:
            config = dataclasses.replace(best, **setting)
            key = try_key(config)
            if key not in done:
                done[key] = run_try(config, train_data, val, seeds, learning_rates)
                records, timing = done[key]
                lines += [{"stage": stage, **setting, **dataclasses.asdict(config), **r, **timing} for r in records]
                write_trials(out, lines)
            records, timing = done[key]
            rates = by_learning_rate(records)
            print(
                f"{stage:>24} {label(setting):>28}: "
                + "  ".join(f"η={lr:g} {a:.2%}" for lr, a in rates.items())
                + f"  ({timing['seconds']:.0f} s)",
                flush=True,
            )
            best_rate = max(rates, key=rates.get)
            incumbent = all(getattr(best, k) == v for k, v in setting.items())
            scores.append((rates[best_rate], incumbent, setting, best_rate, rates))
        score, _, setting, best_rate, _ = max(scores, key=lambda s: s[:2])
        best = dataclasses.replace(best, **setting, learning_rate=best_rate)
        write_trials(out, lines)
        summary.append(
            {
                "stage": stage,
                "chosen": label(setting),
                "score": score,
                "learning_rate": best_rate,
                "values": [{"value": label(s), "score": sc, "by_learning_rate": br} for sc, _, s, _, br in scores],
            }
        )
    return best, summary


def plot_search(summary, path):
    """Validation accuracy against each stage's values, one line per learning rate."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(summary), figsize=(3.2 * len(summary), 3.4), sharey=True, squeeze=False)
    for ax, stage in zip(axes[0], summary):
        names = [v["value"] for v in stage["values"]]
        for lr in stage["values"][0]["by_learning_rate"]:
            ax.plot(names, [100 * v["by_learning_rate"][lr] for v in stage["values"]], "o-", ms=3, label=f"η={lr:g}")
        ax.plot([stage["chosen"]], [100 * stage["score"]], "k*", ms=12)
        ax.set_title(stage["stage"], fontsize=9)
        ax.tick_params(axis="x", labelsize=7)
        pyplot().setp(ax.get_xticklabels(), rotation=35, ha="right", rotation_mode="anchor")
    axes[0][0].set_ylabel("validation accuracy (%)")
    axes[0][0].legend(fontsize=7)
    fig.suptitle("greedy search, mean of seeds (★ chosen)", fontsize=10)
    save_figure(fig, path)


def main(argv=None):
    p = cli.parser(__doc__)
    p.add_argument("--seeds", type=int, nargs="+", help="seeds per try (default 0 1; --fast 0)")
    p.add_argument("--epochs", type=int, help="epochs of the starting recipe (default the best preset's)")
    p.add_argument("--reuse", metavar="TRIALS", help="trials.jsonl of an earlier search: its tries are not rerun")
    args = p.parse_args(argv)
    seeds = tuple(args.seeds or ((0,) if args.fast else (0, 1)))
    dataset, out = cli.setup(args, "tune")
    base = dataclasses.replace(START, sizes=cli.sizes_for(dataset), seed=seeds[0])
    stages, learning_rates = STAGES, LEARNING_RATES
    if args.fast:
        base, stages, learning_rates = dataclasses.replace(base, epochs=2), FAST_STAGES, (2e-3, 8e-3)
    if args.epochs:
        base = dataclasses.replace(base, epochs=args.epochs)
    train, val = split_validation(dataset, FAST_VALIDATION if args.fast else VALIDATION)
    start = time.perf_counter()
    done, lines = earlier_tries(args.reuse) if args.reuse else (None, None)
    data = (train.train_images, train.train_labels)
    winner, summary = search(base, stages, data, val, seeds, learning_rates, out, done, lines)
    plot_search(summary, os.path.join(out, "search.png"))
    recipe = {k: v for k, v in dataclasses.asdict(winner).items() if k not in ("sizes", "seed")}
    return cli.finish(
        out,
        "tune",
        args,
        dataset,
        {
            "winner": recipe,
            "validation_accuracy": summary[-1]["score"],
            "stages": summary,
            "seeds": list(seeds),
            "num_validation": len(val[1]),
            "seconds_search": time.perf_counter() - start,
        },
        [
            f"winner (validation accuracy {summary[-1]['score']:.2%}, mean of seeds {list(seeds)}):",
            "TrainConfig(" + ", ".join(f"{k}={v!r}" for k, v in recipe.items()) + ")",
        ],
    )


if __name__ == "__main__":
    cli.run(main, cpu_devices="cores")  # populations: one device per core

"""Search for the best training recipe of the 784-16-16-10 network, on a validation split.

    python experiments/tune.py                    # the search behind the `best` preset
    python experiments/tune.py --objective time   # the fastest recipe to 97 % (around `speedrun`)
    python experiments/tune.py --fast             # a tiny version for the test suite

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

**The time objective** (``--objective time``): the seconds to reach ``--target`` (97 %) on
the validation split. Every epoch is evaluated on it, and the try's score at a learning
rate is the seconds of training up to the first epoch after which the seeds' mean
validation accuracy is at least the target — epochs × the seconds of one epoch of one network
alone. That epoch is timed apart, per try, by a run of one network (``TIME_EPOCHS`` epochs, no
evaluation, median epoch; compilation counted apart, as ``seconds_compile_alone``), because the
population's epoch holds all its networks' work. A try that never reaches the target scores
as infinitely long; between such tries the higher final accuracy wins. The search starts
from the ``speedrun`` preset and its stages (``TIME_STAGES``) try the settings that trade
accuracy for time.

Writes ``trials.jsonl`` (one line per network: stage, settings, learning rate, seed, final
and best validation accuracy, seconds; with the time objective also every epoch's validation
accuracy, the epochs and seconds to the target and the seconds of one epoch alone),
``search.png`` (validation accuracy, or with the time objective the seconds to the target,
against each stage's values, one line per learning rate) and ``metrics.json`` with the
winner, which it prints.
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
from jaxdigits.training import train, train_population

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

# The time objective: from the speedrun, the settings that trade accuracy for seconds.
TIME_START = dataclasses.replace(jd.PRESETS["speedrun"], eval_every=1)  # every epoch's accuracy is needed
TIME_STAGES = (
    ("epochs", tuple({"epochs": v} for v in (80, 100, 120, 160))),
    ("batch_size", tuple({"batch_size": v} for v in (64, 128, 256))),
    ("warm-up", tuple({"warmup_fraction": v} for v in (0.0, 0.05, 0.1))),
    ("clean final epochs", tuple({"augment_fraction": v} for v in (1.0, 0.9, 0.8))),
    ("weight_decay", tuple({"weight_decay": v} for v in (0.03, 0.06, 0.1))),
)
FAST_TIME_STAGES = (("batch_size", ({"batch_size": 32}, {"batch_size": 64})),)
TARGET, FAST_TARGET = 0.97, 0.5  # --fast: 1,000 digits for 4 epochs do not reach 97 %
TIME_EPOCHS = 4  # epochs of the one network whose epoch is timed (the first is left out of the median)


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


def run_try(config, train_data, val, seeds, learning_rates, target=None):
    """One population: every learning rate × every seed. Returns per-network records and timings.

    With a ``target`` (the time objective) each record also holds every epoch's validation
    accuracy, and the timing the seconds of one epoch of one network alone (``epoch_alone``).
    """
    pairs = [(lr, seed) for lr in learning_rates for seed in seeds]
    start = time.perf_counter()
    result = train_population(
        config, train_data, {"validation": val}, seeds=[s for _, s in pairs], learning_rates=[lr for lr, _ in pairs]
    )
    seconds = time.perf_counter() - start
    records = []
    for (lr, seed), history in zip(pairs, result.histories):
        curve = [h["validation_accuracy"] for h in history[1:] if "validation_accuracy" in h]
        records.append(
            {
                "learning_rate": lr,
                "seed": seed,
                "validation_accuracy": history[-1]["validation_accuracy"],
                "best_validation_accuracy": max(curve),
                "best_epoch": [h["epoch"] for h in history[1:] if "validation_accuracy" in h][int(np.argmax(curve))],
            }
        )
        if target is not None:
            records[-1]["validation_curve"] = curve
    timing = {
        "seconds": seconds,
        "seconds_compile": result.seconds_compile,
        "seconds_per_epoch": float(np.median(result.seconds_per_epoch)),
    }
    if target is not None:
        timing.update(epoch_alone(config, train_data, val))
    return records, timing


def epoch_alone(config, train_data, val):
    """Seconds of one epoch of one network with ``config`` (median after the first), and its compilation."""
    alone = dataclasses.replace(config, epochs=TIME_EPOCHS, eval_every=0)
    result = train(alone, train_data, {"validation": val}, progress=False)
    return {
        "seconds_per_epoch_alone": float(np.median(result.seconds_per_epoch[1:])),
        "seconds_compile_alone": result.seconds_compile,
    }


def finite(seconds):
    """``seconds``, or None for a target never reached (JSON has no infinity)."""
    return None if seconds == float("inf") else seconds


def time_to_target(records, timing, target):
    """Per learning rate: ``(epochs, seconds)`` until the seeds' mean validation accuracy first reaches ``target``.

    ``(None, inf)`` where it never does.
    """
    out = {}
    for lr in dict.fromkeys(r["learning_rate"] for r in records):
        mean = np.mean([r["validation_curve"] for r in records if r["learning_rate"] == lr], axis=0)
        reached = np.flatnonzero(mean >= target)
        epochs = int(reached[0]) + 1 if len(reached) else None
        out[lr] = (epochs, float("inf") if epochs is None else epochs * timing["seconds_per_epoch_alone"])
    return out


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
            kept = ("learning_rate", "seed", "validation_accuracy", "best_validation_accuracy", "best_epoch")
            records.append({k: line[k] for k in (*kept, "validation_curve") if k in line})
            for k in ("seconds_per_epoch_alone", "seconds_compile_alone"):  # the time objective's
                if k in line:
                    done[try_key(config)][1][k] = line[k]
            lines.append(line)
    return done, lines


def write_trials(out, lines):
    """``out/trials.jsonl``, written whole (after every try, so a killed search can be reused)."""
    with io.atomic_path(os.path.join(out, "trials.jsonl")) as tmp, open(tmp, "w") as f:
        f.writelines(json.dumps(line) + "\n" for line in lines)


def search(base, stages, train_data, val, seeds, learning_rates, out, done=None, lines=None, target=None):
    """Greedy search over ``stages`` from ``base``; writes every network to ``out/trials.jsonl``.

    A value replaces the one chosen so far only if it scores strictly better (ties keep the
    incumbent). ``done``/``lines``: tries of an earlier search (``earlier_tries``), not rerun.
    ``target``: optimise the seconds to this validation accuracy instead of the accuracy.
    """
    best, done, lines, summary = base, dict(done or {}), list(lines or []), []
    for stage, values in stages:
        scores = []
        for setting in values:
            config = dataclasses.replace(best, **setting)
            key = try_key(config)
            if key not in done:
                done[key] = run_try(config, train_data, val, seeds, learning_rates, target)
                records, timing = done[key]
                times = time_to_target(records, timing, target) if target is not None else {}
                for r in records:
                    line = {"stage": stage, **setting, **dataclasses.asdict(config), **r, **timing}
                    if target is not None:
                        line["target"] = target
                        epochs, seconds = times[r["learning_rate"]]
                        line["epochs_to_target"], line["seconds_to_target"] = epochs, finite(seconds)
                    lines.append(line)
                write_trials(out, lines)
            records, timing = done[key]
            rates = by_learning_rate(records)
            if target is None:
                shown = "  ".join(f"η={lr:g} {a:.2%}" for lr, a in rates.items())
                values_by_rate = rates
                score_of = lambda lr: (rates[lr],)  # noqa: B023
            else:
                times = time_to_target(records, timing, target)
                shown = "  ".join(
                    f"η={lr:g} {'not reached' if e is None else f'{t:.3g} s, epoch {e}'} ({rates[lr]:.2%})"
                    for lr, (e, t) in times.items()
                )
                values_by_rate = {lr: finite(t) for lr, (_, t) in times.items()}
                score_of = lambda lr: (-times[lr][1], rates[lr])  # noqa: B023 - fewest seconds, then accuracy
            print(f"{stage:>24} {label(setting):>28}: {shown}  ({timing['seconds']:.0f} s)", flush=True)
            best_rate = max(rates, key=score_of)
            incumbent = all(getattr(best, k) == v for k, v in setting.items())
            scores.append((score_of(best_rate), incumbent, setting, best_rate, values_by_rate))
        score, _, setting, best_rate, _ = max(scores, key=lambda s: s[:2])
        best = dataclasses.replace(best, **setting, learning_rate=best_rate)
        write_trials(out, lines)
        summary.append(
            {
                "stage": stage,
                "chosen": label(setting),
                "score": score[0] if target is None else finite(-score[0]),
                "validation_accuracy": score[-1],
                "learning_rate": best_rate,
                "values": [
                    {"value": label(s), "score": sc[0] if target is None else finite(-sc[0]), "by_learning_rate": br}
                    for sc, _, s, _, br in scores
                ],
            }
        )
    return best, summary


def plot_search(summary, path, target=None):
    """Validation accuracy (or seconds to ``target``) against each stage's values, one line per learning rate."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(summary), figsize=(3.2 * len(summary), 3.4), sharey=True, squeeze=False)
    for ax, stage in zip(axes[0], summary):
        names = [v["value"] for v in stage["values"]]
        scale = 100 if target is None else 1
        for lr in stage["values"][0]["by_learning_rate"]:
            values = [v["by_learning_rate"][lr] for v in stage["values"]]
            ax.plot(names, [np.nan if v is None else scale * v for v in values], "o-", ms=3, label=f"η={lr:g}")
        if stage["score"] is not None:
            ax.plot([stage["chosen"]], [scale * stage["score"]], "k*", ms=12)
        ax.set_title(stage["stage"], fontsize=9)
        ax.tick_params(axis="x", labelsize=7)
        pyplot().setp(ax.get_xticklabels(), rotation=35, ha="right", rotation_mode="anchor")
    axes[0][0].set_ylabel("validation accuracy (%)" if target is None else f"seconds to {target:.0%} (validation)")
    axes[0][0].legend(fontsize=7)
    objective = "" if target is None else f", time to {target:.0%}: one network's epoch × epochs; gaps: not reached"
    fig.suptitle(f"greedy search, mean of seeds{objective} (★ chosen)", fontsize=10)
    save_figure(fig, path)


def main(argv=None):
    p = cli.parser(__doc__)
    p.add_argument("--seeds", type=int, nargs="+", help="seeds per try (default 0 1; --fast 0)")
    p.add_argument("--epochs", type=int, help="epochs of the starting recipe (default the best preset's)")
    p.add_argument("--reuse", metavar="TRIALS", help="trials.jsonl of an earlier search: its tries are not rerun")
    p.add_argument("--objective", choices=("accuracy", "time"), default="accuracy", help="what the search optimises")
    p.add_argument("--target", type=float, help="time objective: the validation accuracy to reach (default 0.97)")
    args = p.parse_args(argv)
    seeds = tuple(args.seeds or ((0,) if args.fast else (0, 1)))
    timed = args.objective == "time"
    target = (args.target or (FAST_TARGET if args.fast else TARGET)) if timed else None
    if target is not None and not 0 < target <= 1:
        p.error(f"--target must be an accuracy in (0, 1], got {target}")
    dataset, out = cli.setup(args, "tune")
    base = dataclasses.replace(TIME_START if timed else START, sizes=cli.sizes_for(dataset), seed=seeds[0])
    stages, learning_rates = (TIME_STAGES, (4e-3, 8e-3, 1.2e-2)) if timed else (STAGES, LEARNING_RATES)
    if args.fast:
        stages = FAST_TIME_STAGES if timed else FAST_STAGES
        base, learning_rates = dataclasses.replace(base, epochs=4 if timed else 2, batch_size=64), (2e-3, 8e-3)
    if args.epochs:
        base = dataclasses.replace(base, epochs=args.epochs)
    train, val = split_validation(dataset, FAST_VALIDATION if args.fast else VALIDATION)
    start = time.perf_counter()
    done, lines = earlier_tries(args.reuse) if args.reuse else (None, None)
    data = (train.train_images, train.train_labels)
    winner, summary = search(base, stages, data, val, seeds, learning_rates, out, done, lines, target)
    plot_search(summary, os.path.join(out, "search.png"), target)
    recipe = {k: v for k, v in dataclasses.asdict(winner).items() if k not in ("sizes", "seed")}
    score = f"validation accuracy {summary[-1]['validation_accuracy']:.2%}"
    if timed:
        reached = summary[-1]["score"]
        score = ("not reached" if reached is None else f"{reached:.3g} s") + f" to {target:.0%}, " + score
    return cli.finish(
        out,
        "tune",
        args,
        dataset,
        {
            "winner": recipe,
            "objective": args.objective,
            "target": target,
            "seconds_to_target": summary[-1]["score"] if timed else None,
            "validation_accuracy": summary[-1]["validation_accuracy"],
            "stages": summary,
            "seeds": list(seeds),
            "num_validation": len(val[1]),
            "seconds_search": time.perf_counter() - start,
        },
        [
            f"winner ({score}, mean of seeds {list(seeds)}):",
            "TrainConfig(" + ", ".join(f"{k}={v!r}" for k, v in recipe.items()) + ")",
        ],
    )


if __name__ == "__main__":
    cli.run(main, cpu_devices="cores")  # populations: one device per core

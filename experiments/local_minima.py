"""Experiment 5 — many local minima of similar quality.

The video says gradient descent finds *a* local minimum, not the global one, and that for
this problem the local minima found tend to be about equally good. This trains many seeds
of the video's network in one compiled program (``jaxdigits.training.train_population``: the networks are
vmapped, share one mini-batch order, and differ only in their random initial weights), and
reports the spread of the final training cost and test accuracy. Then it walks straight
lines between pairs of the trained networks (``jaxdigits.landscape.line``): if the minima
were one basin the cost would stay low along them; the barrier height is the highest
cost on the line minus the higher of its two ends.

    python experiments/local_minima.py [--fast] [--seeds 16] [--epochs 15] [--out DIR]
"""

from __future__ import annotations

import dataclasses
import itertools
import os

import numpy as np

import jaxdigits as jd
from jaxdigits import cli, landscape
from jaxdigits.plots import pyplot, save_figure
from jaxdigits.training import member, train_population


def spread(values):
    values = np.asarray(values, np.float64)
    return {"mean": values.mean(), "std": values.std(ddof=1), "min": values.min(), "max": values.max()}


def main(argv=None):
    p = cli.parser(__doc__)
    p.add_argument("--seeds", type=int, help="networks trained together (default 16; --fast 4)")
    p.add_argument("--epochs", type=int, help="epochs of the video's recipe (default 15; --fast 2)")
    p.add_argument("--pairs", type=int, default=4, help="lines between all pairs of the first N networks")
    p.add_argument("--points", type=int, help="points per line (default 41; --fast 11)")
    p.add_argument("--line-images", type=int, default=10_000, help="training images the line costs average over")
    args = p.parse_args(argv)
    dataset, out = cli.setup(args, "local_minima")
    k = args.seeds or (4 if args.fast else 16)
    epochs = args.epochs or (2 if args.fast else 15)
    config = dataclasses.replace(jd.PRESETS["video"], sizes=cli.sizes_for(dataset), epochs=epochs, seed=args.seed)
    train_data = (dataset.train_images, dataset.train_labels)
    seeds = [args.seed + i for i in range(k)]
    result = train_population(
        config, train_data, {"train": train_data, "test": (dataset.test_images, dataset.test_labels)}, seeds=seeds
    )
    finals = [h[-1] for h in result.histories]
    metrics = {
        "seeds": seeds,
        "epochs": epochs,
        "train_cost": spread([f["train_cost"] for f in finals]),
        "test_accuracy": spread([f["test_accuracy"] for f in finals]),
        "train_accuracy": spread([f["train_accuracy"] for f in finals]),
        "per_network": [{"seed": s, **f} for s, f in zip(seeds, finals)],
        "seconds_compile": result.seconds_compile,
        "seconds_per_epoch_all_networks": float(np.median(result.seconds_per_epoch)),
    }
    video = cli.video_params(args, dataset)
    if video is not None:
        metrics["video_network"] = {
            "train_cost": float(jd.mse_cost(video, *train_data)),
            "test_accuracy": cli.test_accuracy(video, dataset),
        }

    # Straight lines between pairs of minima: cost at (1 − t)·θ_i + t·θ_j.
    n_points = args.points or (11 if args.fast else 41)
    ts = np.linspace(0.0, 1.0, n_points)
    images, labels = dataset.train_images[: args.line_images], dataset.train_labels[: args.line_images]
    lines, barriers = {}, {}
    loss = jd.network.VideoLoss(config.cost, config.activation)
    for i, j in itertools.combinations(range(min(args.pairs, k)), 2):
        start, end = member(result.params, i), member(result.params, j)
        line = landscape.line(loss, start, (images, labels), landscape.direction_between(start, end), ts,
                              metrics={"accuracy": loss.accuracy})  # fmt: skip
        name = f"seed {seeds[i]} → seed {seeds[j]}"
        lines[name] = line
        barriers[name] = float(line.cost.max() - max(line.cost[0], line.cost[-1]))
    metrics["line_images"] = len(labels)
    metrics["barrier_heights"] = barriers
    metrics["barrier_height"] = spread(list(barriers.values())) if len(barriers) > 1 else None
    metrics["line_accuracy_at_midpoint"] = {name: float(line.accuracy[n_points // 2]) for name, line in lines.items()}

    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
    axes[0].hist([f["train_cost"] for f in finals], bins=12, color="C0")
    axes[0].set(xlabel="final training cost", ylabel="networks", title=f"{k} seeds, {epochs} epochs")
    axes[1].hist([f["test_accuracy"] * 100 for f in finals], bins=12, color="C2")
    axes[1].set(xlabel="test accuracy (%)", title="test accuracy")
    if video is not None:
        axes[0].axvline(metrics["video_network"]["train_cost"], color="k", linestyle=":", label="the video's network")
        axes[1].axvline(metrics["video_network"]["test_accuracy"] * 100, color="k", linestyle=":",
                        label="the video's network")  # fmt: skip
        axes[0].legend(fontsize=8)
    for name, line in lines.items():
        axes[2].plot(ts, line.cost, label=f"{name} (barrier {barriers[name]:.2f})")
    axes[2].set(xlabel="t: (1 − t)·θ_i + t·θ_j", ylabel=f"training cost ({len(labels):,} images)",
                title="straight lines between minima")  # fmt: skip
    axes[2].set_yscale("log")
    axes[2].legend(fontsize=7)
    for ax in axes:
        ax.grid(alpha=0.3)
    save_figure(fig, os.path.join(out, "local_minima.png"))

    c, a = metrics["train_cost"], metrics["test_accuracy"]
    summary = [
        f"{k} seeds: final training cost {c['mean']:.4f} ± {c['std']:.4f} (min {c['min']:.4f}, max {c['max']:.4f})",
        f"test accuracy {a['mean']:.2%} ± {a['std']:.2%} (min {a['min']:.2%}, max {a['max']:.2%})",
        "barrier heights on straight lines: " + ", ".join(f"{v:.3f}" for v in barriers.values()),
    ]
    cli.finish(out, "local_minima", args, dataset, metrics, summary)
    return metrics


if __name__ == "__main__":
    cli.run(main, cpu_devices="cores")  # populations: one device per core

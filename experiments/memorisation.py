"""Experiment 4 — memorising shuffled labels, and structure is learned faster.

The video closes on Zhang et al. (2017): a network that learns MNIST can also learn a
training set whose labels were shuffled — it memorises, and knows nothing about the test
set — and on Arpit et al. (2017): real, structured data is learned much faster than noise.
This trains on a subset small enough for 13,002 parameters to memorise, three ways: true
labels, shuffled labels, and random pixels (Gaussian noise with the pixel statistics of
the digits) with the original labels; with the video's recipe and with a stronger one
(adam on cross-entropy). It records training accuracy and cost per epoch, the epochs to
reach a training-accuracy threshold, and test accuracy.

    python experiments/memorisation.py [--fast] [--images 2000] [--epochs 300] [--out DIR]
"""

from __future__ import annotations

import os

import jax
import numpy as np

from jaxdigits import cli, network
from jaxdigits.plots import pyplot, save_figure

RECIPES = {
    "video recipe (mse, sgd η=1.5, batch 10)": {},
    "adam + cross-entropy (η=3e-3, batch 32)": dict(
        optimizer="adam", learning_rate=3e-3, cost="cross_entropy", batch_size=32, init="scaled"
    ),
}


def first_epoch(history, key, threshold):
    """The first epoch whose ``history[key]`` reaches ``threshold``, or None."""
    return next((h["epoch"] for h in history if h[key] >= threshold), None)


def main(argv=None):
    p = cli.parser(__doc__)
    p.add_argument("--images", type=int, help="training images (default 2000; --fast 200)")
    p.add_argument("--epochs", type=int, help="epochs (default 300; --fast 5)")
    p.add_argument("--threshold", type=float, default=0.9, help="training accuracy to count epochs to")
    args = p.parse_args(argv)
    dataset, out = cli.setup(args, "memorisation")
    n = args.images or (200 if args.fast else 2000)
    epochs = args.epochs or (5 if args.fast else 300)
    images, labels = dataset.train_images[:n], dataset.train_labels[:n]
    label_key, pixel_key = jax.random.split(jax.random.key(args.seed))
    data = {
        "true labels": (images, labels),
        "shuffled labels": (images, np.asarray(jax.random.permutation(label_key, labels))),
        "random pixels": (network.probe_images("gaussian_noise", n, key=pixel_key, like=images), labels),
    }

    metrics = {"images": n, "epochs": epochs, "threshold": args.threshold, "num_params": None, "runs": {}}
    histories = {}
    for recipe, overrides in RECIPES.items():
        for name, train_data in data.items():
            result, initial = cli.train_network(dataset, args, epochs=epochs, train_data=train_data, **overrides)
            metrics["num_params"] = sum(x.size for x in jax.tree.leaves(initial))
            h = histories[recipe, name] = result.history
            metrics["runs"][f"{recipe} / {name}"] = {
                "final_train_accuracy": h[-1]["train_accuracy"],
                "final_train_cost": h[-1]["train_cost"],
                "test_accuracy": h[-1]["test_accuracy"],
                "epochs_to_threshold": first_epoch(h, "train_accuracy", args.threshold),
                "train_accuracy_at": {str(e): h[e]["train_accuracy"] for e in (1, 10, 50, 100, 200) if e < len(h)},
                "seconds": sum(r.get("seconds", 0) for r in h),
            }
    metrics["label_bits"] = n * float(np.log2(10))

    plt = pyplot()
    fig, axes = plt.subplots(2, len(RECIPES), figsize=(5.5 * len(RECIPES), 6.5), sharex=True, squeeze=False)
    for c, recipe in enumerate(RECIPES):
        for i, name in enumerate(data):
            h = histories[recipe, name]
            e = [r["epoch"] for r in h]
            run = metrics["runs"][f"{recipe} / {name}"]
            reach = run["epochs_to_threshold"]
            label = f"{name} (≥{args.threshold:.0%} at epoch {reach}; test {run['test_accuracy']:.0%})"
            axes[0, c].plot(e, [r["train_accuracy"] * 100 for r in h], color=f"C{i}", label=label)
            axes[1, c].plot(e, [r["train_cost"] for r in h], color=f"C{i}", label=name)
        axes[0, c].axhline(args.threshold * 100, color="grey", linewidth=0.8, linestyle=":")
        axes[0, c].set_title(recipe, fontsize=9)
        axes[0, c].set_ylabel("training accuracy (%)")
        axes[1, c].set_ylabel("training cost")
        axes[1, c].set_yscale("log")
        axes[1, c].set_xlabel("epoch")
        axes[0, c].legend(fontsize=7)
        for ax in axes[:, c]:
            ax.grid(alpha=0.3)
    fig.suptitle(f"{n} training images, {metrics['num_params']:,} parameters", fontsize=10)
    save_figure(fig, os.path.join(out, "memorisation.png"))

    summary = [
        f"{k}: train accuracy {r['final_train_accuracy']:.1%}, test {r['test_accuracy']:.1%}, "
        f"≥{args.threshold:.0%} at epoch {r['epochs_to_threshold']}"
        for k, r in metrics["runs"].items()
    ]
    cli.finish(out, "memorisation", args, dataset, metrics, summary)
    return metrics


if __name__ == "__main__":
    cli.run(main)

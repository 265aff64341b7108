"""Experiment 3 — the network cannot draw a digit.

If the network had learned what a 5 looks like, the image it finds most convincing as a 5
would look like a 5. The video shows that it does not. Here the network's parameters stay
fixed and gradient descent moves the pixels (``jaxdigits.network.draw_digits``) to make each
output win, from a blank image and from uniform noise, with and without a penalty for
rough and heavy ink. We show the images, the network's own confidence in them, and two
outside opinions: does an independently trained network call the image the same digit,
and is the image closest (by correlation) to the average training image of that digit?

    python experiments/draw_digit.py [--fast] [--steps 2000] [--out DIR]
"""

from __future__ import annotations

import os

import jax
import jax.numpy as jnp
import numpy as np

import jaxdigits as jd
from jaxdigits import cli, network, plots
from jaxdigits.plots import pyplot, save_figure

SMOOTH, SIZE = 3.0, 1.0  # penalty weights of the "smooth, light ink" setting


def class_means(dataset):
    """(10, pixels) average training image of each digit."""
    return np.stack([dataset.train_images[dataset.train_labels == d].mean(axis=0) for d in range(10)])


def nearest_mean(images, means):
    """Digit whose average image correlates best with each image (pixels,) -> (N,)."""
    centred = lambda x: (x - x.mean(axis=1, keepdims=True)) / (x.std(axis=1, keepdims=True) + 1e-12)
    return np.argmax(centred(images) @ centred(means).T, axis=1)


def drawn_figure(path, means, drawn, shape, rows):
    """Top row the average training image of each digit; below, the image each output likes best."""
    plt = pyplot()
    fig, axes = plt.subplots(rows, 10, figsize=(10, 1.15 * rows))
    plots.image_grid(axes[0], means.reshape(10, *shape), cmap="gray_r", vmax=1.0,
                      titles=[f"mean {d}" for d in range(10)])  # fmt: skip
    for r, key in enumerate(drawn, start=1):
        images, conf = drawn[key]
        plots.image_grid(axes[r], images.reshape(10, *shape), cmap="gray_r", vmax=max(float(images.max()), 1e-3),
                          titles=[f"{d}: {c:.2f}" for d, c in enumerate(conf)])  # fmt: skip
        axes[r, -1].text(1.05, 0.5, f"brightest\npixel {images.max():.2f}", transform=axes[r, -1].transAxes,
                         fontsize=6, va="center")  # fmt: skip
        axes[r, 0].set_ylabel(f"{key[0]}\n{key[1]}\n{key[2]}", fontsize=6, rotation=0, ha="right", va="center")
    fig.suptitle("Top row: average training image. Others: the image each output likes best (title: that output's\n"
                 "activation; each row's grey scale runs from 0 to its brightest pixel)", fontsize=9)  # fmt: skip
    save_figure(fig, path)


def main(argv=None):
    p = cli.parser(__doc__)
    p.add_argument("--epochs", type=int, help="epochs for our network (default 30; --fast 2)")
    p.add_argument("--steps", type=int, help="gradient steps on the pixels (default 2000; --fast 100)")
    p.add_argument("--learning-rate", type=float, default=0.01, help="adam step size on the pixels")
    args = p.parse_args(argv)
    dataset, out = cli.setup(args, "draw_digit")
    steps = args.steps or (100 if args.fast else 2000)
    shape = dataset.image_shape

    networks = {}
    video = cli.video_params(args, dataset)
    if video is not None:
        networks["the video's own network"] = video
    networks["ours"] = cli.train_network(dataset, args, epochs=args.epochs or (2 if args.fast else 30))[0].state.params
    if len(networks) == 1:  # no outside judge: train a second network from another seed
        networks["ours, seed + 1"] = cli.train_network(
            dataset, args, epochs=args.epochs or (2 if args.fast else 30), seed=args.seed + 1
        )[0].state.params
    names = list(networks)
    means = class_means(dataset)
    digits = jnp.arange(10)
    starts = {
        "blank": np.zeros((10, dataset.num_pixels), np.float32),
        "noise": np.asarray(jax.random.uniform(jax.random.key(args.seed), (10, dataset.num_pixels))),
    }
    settings = [(start, pen) for start in starts for pen in ("no penalty", "smooth, light ink")]

    metrics = {"steps": steps, "learning_rate": args.learning_rate, "smooth": SMOOTH, "size": SIZE, "networks": {}}
    drawn = {}
    for i, name in enumerate(names):
        params, judge_name = networks[name], names[1 - i]
        record = {"test_accuracy": cli.test_accuracy(params, dataset)}
        mean_outputs = np.asarray(jd.predict(params, means))
        record["class_mean_images"] = {
            "own_confidence_mean": float(np.mean(np.diag(mean_outputs))),
            "called_right": float(np.mean(mean_outputs.argmax(1) == np.arange(10))),
        }
        for start, pen in settings:
            smooth, size = (SMOOTH, SIZE) if pen != "no penalty" else (0.0, 0.0)
            images, _ = network.draw_digits(
                params, digits, starts[start], shape=shape, steps=steps,
                learning_rate=args.learning_rate, smooth=smooth, size=size,
            )  # fmt: skip
            images = np.asarray(images)
            own = np.asarray(jd.predict(params, images))
            judged = np.asarray(jd.predict(networks[judge_name], images))
            drawn[name, start, pen] = (images, np.diag(own))
            record[f"{start}, {pen}"] = {
                "own_confidence": [float(v) for v in np.diag(own)],
                "own_confidence_min": float(np.diag(own).min()),
                "own_called_right": float(np.mean(own.argmax(1) == np.arange(10))),
                "other_network_called_right": float(np.mean(judged.argmax(1) == np.arange(10))),
                "other_network": judge_name,
                "nearest_class_mean_right": float(np.mean(nearest_mean(images, means) == np.arange(10))),
                "mean_ink": float(images.mean()),
            }
        metrics["networks"][name] = record

    drawn_figure(os.path.join(out, "drawn_digits.png"), means, drawn, shape, len(names) * len(settings) + 1)

    summary = []
    for name, record in metrics["networks"].items():
        for start, pen in settings:
            s = record[f"{start}, {pen}"]
            summary.append(
                f"{name}, from {start}, {pen}: own confidence ≥ {s['own_confidence_min']:.2f}, own call right "
                f"{s['own_called_right']:.0%}, other network agrees {s['other_network_called_right']:.0%}, "
                f"nearest average digit right {s['nearest_class_mean_right']:.0%}"
            )
    cli.finish(out, "draw_digit", args, dataset, metrics, summary)
    return metrics


if __name__ == "__main__":
    cli.run(main)

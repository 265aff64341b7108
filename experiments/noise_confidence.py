"""Experiment 2 — the network is confidently wrong on noise.

The video shows that the trained network, given an image of random noise, confidently
names a digit: it never saw anything but digits and has no way to say "none of these".
This feeds uniform noise, Gaussian noise (the pixel mean and spread of real digits),
a blank image and inverted test images to three networks — 3Blue1Brown's own, ours
(the same recipe) and a wider 784-36-10 network — next to the real test images, and
measures the top output (how sure the network is), the share of images with a top output
above 0.9, and which digit the noise is called.

    python experiments/noise_confidence.py [--fast] [--epochs 30] [--out DIR]
"""

from __future__ import annotations

import os

import jax
import numpy as np

import jaxdigits as jd
from jaxdigits import cli, network
from jaxdigits.plots import pyplot, save_figure

THRESHOLD = 0.9


def main(argv=None):
    p = cli.parser(__doc__)
    p.add_argument("--epochs", type=int, help="epochs of the video's recipe (default 30; --fast 2)")
    p.add_argument("--wide", type=int, default=36, help="hidden width of the one-hidden-layer comparison network")
    args = p.parse_args(argv)
    dataset, out = cli.setup(args, "noise_confidence")
    epochs = args.epochs or (2 if args.fast else 30)

    networks = {}
    video = cli.video_params(args, dataset)
    if video is not None:
        networks["the video's own network"] = video
    networks["ours 16-16"] = cli.train_network(dataset, args, epochs=epochs)[0].state.params
    wide = cli.sizes_for(dataset, (args.wide,))
    networks[f"wider {args.wide}"] = cli.train_network(dataset, args, epochs=epochs, sizes=wide)[0].state.params

    n = len(dataset.test_labels)
    keys = jax.random.split(jax.random.key(args.seed), len(network.PROBES))
    inputs = {"real test images": dataset.test_images}
    for kind, key in zip(network.PROBES, keys):
        inputs[kind.replace("_", " ")] = network.probe_images(
            kind, 1 if kind == "blank" else n, key=key, like=dataset.test_images
        )

    metrics = {"threshold": THRESHOLD, "networks": {}}
    tops = {}
    for name, params in networks.items():
        record = {"test_accuracy": cli.test_accuracy(params, dataset), "num_params": jd.network.num_params(params)}
        for probe, images in inputs.items():
            c = network.confidence(jd.predict(params, images), THRESHOLD)
            tops[name, probe] = c["top"]
            record[probe] = {
                "fraction_top_above_threshold": c["fraction_above"],
                "mean_top_output": c["mean_top"],
                "called": {str(d): float(f) for d, f in enumerate(c["called"])},
                "most_called_digit": int(np.argmax(c["called"])),
                "most_called_fraction": float(np.max(c["called"])),
            }
        metrics["networks"][name] = record

    plt = pyplot()
    fig, axes = plt.subplots(1, len(networks), figsize=(4.2 * len(networks), 3.4), sharey=True, squeeze=False)
    bins = np.linspace(0, 1, 41)
    for ax, name in zip(axes[0], networks):
        for probe in inputs:
            if probe == "blank":
                ax.axvline(tops[name, probe][0], color="k", linestyle=":", label=f"blank ({tops[name, probe][0]:.2f})")
            else:
                ax.hist(tops[name, probe], bins=bins, histtype="step", density=True, linewidth=1.4, label=probe)
        ax.axvline(THRESHOLD, color="grey", linewidth=0.8)
        ax.set_title(f"{name} ({metrics['networks'][name]['test_accuracy']:.1%} on test)", fontsize=9)
        ax.set_xlabel("top output activation")
        ax.set_yscale("log")
    axes[0, 0].set_ylabel("density")
    axes[0, -1].legend(fontsize=7)
    save_figure(fig, os.path.join(out, "top_output.png"))

    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    width = 0.8 / len(networks)
    for i, name in enumerate(networks):
        called = [metrics["networks"][name]["uniform noise"]["called"][str(d)] for d in range(10)]
        ax.bar(np.arange(10) + i * width - 0.4 + width / 2, np.array(called) * 100, width, label=name)
    ax.set_xticks(range(10))
    ax.set_xlabel("digit the uniform-noise image is called")
    ax.set_ylabel("% of noise images")
    ax.legend(fontsize=8)
    save_figure(fig, os.path.join(out, "noise_called.png"))

    summary = []
    for name, record in metrics["networks"].items():
        u = record["uniform noise"]
        summary.append(
            f"{name}: uniform noise top output > {THRESHOLD} for {u['fraction_top_above_threshold']:.1%}, "
            f"called '{u['most_called_digit']}' {u['most_called_fraction']:.1%}; real test images > {THRESHOLD}: "
            f"{record['real test images']['fraction_top_above_threshold']:.1%}"
        )
    cli.finish(out, "noise_confidence", args, dataset, metrics, summary)
    return metrics


if __name__ == "__main__":
    cli.run(main)

"""Experiment 1 — what the hidden neurons look for.

The video hoped the first hidden layer would learn edge detectors, then showed that it does
not: its weights look almost random, with loose patterns in the middle. This trains the
video's network, draws the 16 first-layer weight vectors as 28×28 images before and after
training (and 3Blue1Brown's own trained weights), the second-layer weights, and measures
structure: the neighbour-pixel correlation in the central 20×20 region vs the border, the
share of weights never touched by a gradient, and how localised each neuron is.

    python experiments/hidden_neurons.py [--fast] [--epochs 30] [--out DIR]
"""

from __future__ import annotations

import os

import numpy as np

from jaxdigits import cli, network, plots
from jaxdigits.plots import pyplot, save_figure


def structure(w, shape, centre, window, lit_never=None, initial=None):
    """Structure measures of one first-layer weight matrix (pixels, neurons)."""
    images = network.weight_images(w, shape)
    measures = {
        "neighbour_correlation_centre": network.neighbour_correlation(images, centre),
        "neighbour_correlation_border": network.neighbour_correlation(images, ~centre),
        "weight_std_centre": float(images[:, centre].std()),
        "weight_std_border": float(images[:, ~centre].std()),
        "best_window_share_mean": float(network.best_window_share(images, window).mean()),
    }
    if lit_never is not None:
        measures["weight_std_never_lit"] = float(np.asarray(w)[lit_never].std())
    if initial is not None and lit_never is not None:
        measures["never_lit_unchanged_fraction"] = float(np.mean(np.asarray(w)[lit_never] == initial[lit_never]))
    return measures


def main(argv=None):
    p = cli.parser(__doc__)
    p.add_argument("--epochs", type=int, help="epochs of the video's recipe (default 30; --fast 2)")
    args = p.parse_args(argv)
    dataset, out = cli.setup(args, "hidden_neurons")
    shape = dataset.image_shape
    margin = round(shape[0] * 4 / 28)  # MNIST digits fill the central 20×20 of 28×28
    window = max(2, round(shape[0] * 7 / 28))
    centre = network.centre_mask(shape, margin)
    lit_never = network.never_lit(dataset.train_images)

    result, initial = cli.train_network(dataset, args, epochs=args.epochs or (2 if args.fast else 30))
    trained = [{k: np.asarray(v) for k, v in layer.items()} for layer in result.state.params]
    networks = {"ours, untrained": initial, "ours, trained": trained}
    video = cli.video_params(args, dataset)
    if video is not None:
        networks["the video's own network"] = video

    metrics = {
        "epochs": len(result.history) - 1,
        "test_accuracy": {name: cli.test_accuracy(net, dataset) for name, net in networks.items()},
        "centre_margin": margin,
        "window": window,
        "never_lit_pixels": int(lit_never.sum()),
        "uniform_window_share": window**2 / dataset.num_pixels,
    }
    for name, net in networks.items():
        metrics[name] = structure(
            net[0]["w"], shape, centre, window, lit_never, initial[0]["w"] if name == "ours, trained" else None
        )

    plt = pyplot()
    rows = len(networks)
    fig, axes = plt.subplots(2 * rows, 8, figsize=(8, 2.0 * rows + 0.4), gridspec_kw={"hspace": 0.3})
    scale = float(np.percentile(np.abs(np.concatenate([n[0]["w"].ravel() for n in networks.values()])), 99))
    for r, (name, net) in enumerate(networks.items()):
        shown = plots.image_grid(axes[2 * r : 2 * r + 2], network.weight_images(net[0]["w"], shape), vmax=scale)
        m = metrics[name]
        axes[2 * r, 0].set_title(
            f"{name}: neighbour corr. centre {m['neighbour_correlation_centre']:.2f}, "
            f"border {m['neighbour_correlation_border']:.2f}",
            fontsize=8,
            loc="left",
        )
    fig.colorbar(shown, ax=axes, shrink=0.5, label="weight (one shared scale)")
    save_figure(fig, os.path.join(out, "first_layer.png"))

    fig, axes = plt.subplots(len(networks) - 1, 2, figsize=(7, 3.2 * (len(networks) - 1)), squeeze=False)
    for r, (name, net) in enumerate(list(networks.items())[1:]):
        for c, layer in enumerate((1, 2)):
            w = np.asarray(net[layer]["w"])
            scale = float(np.abs(w).max())
            im = axes[r, c].imshow(w, cmap="RdBu_r", vmin=-scale, vmax=scale)
            axes[r, c].set_title(f"{name}: layer {layer + 1} weights {w.shape}", fontsize=8)
            axes[r, c].set_xlabel("neuron of this layer")
            axes[r, c].set_ylabel("neuron of the layer before")
            fig.colorbar(im, ax=axes[r, c], shrink=0.8)
    save_figure(fig, os.path.join(out, "second_layer.png"))

    summary = [
        f"{name}: test accuracy {metrics['test_accuracy'][name]:.2%}, neighbour correlation "
        f"centre {metrics[name]['neighbour_correlation_centre']:.3f} "
        f"vs border {metrics[name]['neighbour_correlation_border']:.3f}"
        for name in networks
    ]
    if "never_lit_unchanged_fraction" in metrics["ours, trained"]:
        summary.append(
            f"{metrics['never_lit_pixels']} pixels are black in every training image; "
            f"{metrics['ours, trained']['never_lit_unchanged_fraction']:.1%} of their weights never moved"
        )
    cli.finish(out, "hidden_neurons", args, dataset, metrics, summary)
    return metrics


if __name__ == "__main__":
    cli.run(main)

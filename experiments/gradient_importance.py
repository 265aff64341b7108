"""Experiment 6 — the gradient as a measure of importance.

The video reads each entry of the negative gradient as how much the cost cares about that
weight. Test it: rank the 13,002 entries by |∂C/∂θ|, take one gradient descent step on only
the top k% of them, and compare the decrease of the cost with a step on k% chosen at
random (``jaxdigits.network.top_mask``), over k from 0.1% to 100%, for an untrained network,
one after one epoch, and 3Blue1Brown's trained network. Also draw the first-layer gradient
magnitudes as 28×28 images: pixels that are black in every image get none.

    python experiments/gradient_importance.py [--fast] [--learning-rate 1.5] [--out DIR]
"""

from __future__ import annotations

import os

import jax
import jax.numpy as jnp
import numpy as np

import jaxdigits as jd
from jaxdigits import cli, network, plots
from jaxdigits.plots import pyplot, save_figure

FRACTIONS = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)


@jax.jit
def costs_after_steps(params, grads, masks, learning_rate, images, labels):
    """The cost after ``masked_step`` for each mask of ``masks`` (a pytree with a leading mask axis)."""
    step = lambda mask: jd.mse_cost(network.masked_step(params, grads, mask, learning_rate), images, labels)
    return jax.lax.map(step, masks, batch_size=8)


def curve(params, images, labels, learning_rate, randoms, key):
    """Cost decrease for top-k and random-k steps, for every k in FRACTIONS."""
    cost, grads = jax.value_and_grad(jd.mse_cost)(params, images, labels)
    keys = jax.random.split(key, len(FRACTIONS) * randoms).reshape(len(FRACTIONS), randoms)
    masks = []
    for fraction, fraction_keys in zip(FRACTIONS, keys):
        masks.append(network.top_mask(grads, fraction))
        masks += [network.random_mask(grads, fraction, key=k) for k in fraction_keys]
    stacked = jax.tree.map(lambda *m: jnp.stack(m), *masks)
    after = np.asarray(costs_after_steps(params, grads, stacked, learning_rate, images, labels))
    after = after.reshape(len(FRACTIONS), 1 + randoms)
    drop = float(cost) - after
    return {
        "cost": float(cost),
        "fractions": list(FRACTIONS),
        "decrease_top": drop[:, 0].tolist(),
        "decrease_random_mean": drop[:, 1:].mean(axis=1).tolist(),
        "decrease_random_max": drop[:, 1:].max(axis=1).tolist(),
        "gradient_share_top": [
            float(network.gradient_share(grads, masks[i * (1 + randoms)])) for i in range(len(FRACTIONS))
        ],
    }, grads


def main(argv=None):
    p = cli.parser(__doc__)
    p.add_argument("--learning-rate", type=float, default=1.5, help="step size η of the masked steps")
    p.add_argument("--images", type=int, default=10_000, help="training images the cost averages over")
    p.add_argument("--randoms", type=int, default=8, help="random masks per fraction")
    args = p.parse_args(argv)
    dataset, out = cli.setup(args, "gradient_importance")
    images, labels = dataset.train_images[: args.images], dataset.train_labels[: args.images]
    result, initial = cli.train_network(dataset, args, epochs=1)
    networks = {"untrained": initial, "after 1 epoch": result.state.params}
    video = cli.video_params(args, dataset)
    if video is not None:
        networks["the video's own network (trained)"] = video

    metrics = {"learning_rate": args.learning_rate, "images": len(labels), "randoms": args.randoms, "networks": {}}
    gradients = {}
    for i, (name, params) in enumerate(networks.items()):
        metrics["networks"][name], gradients[name] = curve(
            params, images, labels, args.learning_rate, args.randoms, jax.random.fold_in(jax.random.key(args.seed), i)
        )

    plt = pyplot()
    fig, axes = plt.subplots(1, len(networks), figsize=(4.3 * len(networks), 3.6), squeeze=False)
    for ax, (name, m) in zip(axes[0], metrics["networks"].items()):
        k = np.array(FRACTIONS) * 100
        full = m["decrease_top"][-1]
        ax.plot(k, np.array(m["decrease_top"]) / full, "o-", label="top k% by |gradient|")
        ax.plot(k, np.array(m["decrease_random_mean"]) / full, "s-", label="random k% (mean)")
        ax.plot(k, np.array(m["decrease_random_max"]) / full, ":", color="C1", label="random k% (best of draws)")
        ax.plot(k, m["gradient_share_top"], "--", color="grey", label="share of Σg² kept (top)")
        ax.set_xscale("log")
        ax.set_xlabel("k: % of the 13,002 parameters nudged" if dataset.num_pixels == 784 else "k: % of parameters")
        ax.set_title(f"{name}: cost {m['cost']:.3f}", fontsize=9)
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("cost decrease / decrease of the full step")
    axes[0, 0].legend(fontsize=7)
    save_figure(fig, os.path.join(out, "importance.png"))

    shape = dataset.image_shape
    fig, axes = plt.subplots(len(networks) * 2, 8, figsize=(8, 2.0 * len(networks) + 0.4), gridspec_kw={"hspace": 0.3})
    for r, (name, g) in enumerate(gradients.items()):
        magnitude = np.abs(network.weight_images(g[0]["w"], shape))
        shown = plots.image_grid(axes[2 * r : 2 * r + 2], magnitude, cmap="magma")
        axes[2 * r, 0].set_title(f"{name}: |∂C/∂w| of the first layer (own scale)", fontsize=8, loc="left")
    fig.colorbar(shown, ax=axes, shrink=0.5)
    save_figure(fig, os.path.join(out, "first_layer_gradient.png"))

    summary = []
    for name, m in metrics["networks"].items():
        i = FRACTIONS.index(0.01)
        summary.append(
            f"{name}: nudging the top 1% lowers the cost by {m['decrease_top'][i]:.4f} "
            f"({m['decrease_top'][i] / m['decrease_top'][-1]:.0%} of the full step), a random 1% by "
            f"{m['decrease_random_mean'][i]:.5f} ({m['decrease_random_mean'][i] / m['decrease_top'][-1]:.1%})"
        )
    cli.finish(out, "gradient_importance", args, dataset, metrics, summary)
    return metrics


if __name__ == "__main__":
    cli.run(main)

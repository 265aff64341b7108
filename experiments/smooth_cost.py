"""Experiment 7 — why the cost must be smooth.

The video explains that real neurons' on/off firing would not do for gradient descent: the
activation must change smoothly so that the cost does. Here the same 784-16-16-10 network,
from the same initial weights, is trained with the video's recipe twice: with sigmoid
neurons and with the step neuron (1 if z > 0 else 0). With steps, the cost is flat almost
everywhere and jumps at edges, so its gradient is exactly zero: the parameters never move.
The cost along one random direction shows why (a staircase vs a smooth curve).

    python experiments/smooth_cost.py [--fast] [--epochs 5] [--out DIR]
"""

from __future__ import annotations

import os

import jax
import jax.numpy as jnp
import numpy as np

import jaxdigits as jd
from jaxdigits import cli
from jaxdigits.plots import pyplot, save_figure

ACTIVATIONS = ("sigmoid", "step")


@jax.jit
def _costs_along(params, direction, alphas, images, labels):
    def costs(alpha):
        moved = jax.tree.map(lambda p, d: p + alpha * d, params, direction)
        return {activation: jd.mse_cost(moved, images, labels, activation) for activation in ACTIVATIONS}

    return jax.lax.map(costs, alphas, batch_size=64)


def random_direction(params, key):
    """Gaussian direction scaled so that each layer's part has a tenth of that layer's length."""
    leaves, tree = jax.tree.flatten(params)
    noise = [jax.random.normal(k, jnp.shape(x)) for k, x in zip(jax.random.split(key, len(leaves)), leaves)]
    return jax.tree.unflatten(tree, [0.1 * n * jnp.linalg.norm(x) / jnp.linalg.norm(n) for n, x in zip(noise, leaves)])


def main(argv=None):
    p = cli.parser(__doc__)
    p.add_argument("--epochs", type=int, help="epochs for each activation (default 5; --fast 2)")
    p.add_argument("--points", type=int, help="points along the random direction (default 2001; --fast 101)")
    args = p.parse_args(argv)
    dataset, out = cli.setup(args, "smooth_cost")
    epochs = args.epochs or (2 if args.fast else 5)
    train_data = (dataset.train_images, dataset.train_labels)

    metrics = {"epochs": epochs, "activations": {}}
    histories = {}
    for activation in ACTIVATIONS:
        result, initial = cli.train_network(dataset, args, epochs=epochs, activation=activation)
        grads = jax.grad(jd.mse_cost)(initial, *train_data, activation)
        moved = sum(
            int(np.sum(np.asarray(a) != b))
            for a, b in zip(jax.tree.leaves(result.state.params), jax.tree.leaves(initial))
        )
        histories[activation] = result.history
        metrics["activations"][activation] = {
            "initial_gradient_norm": float(jnp.sqrt(sum(jnp.sum(g**2) for g in jax.tree.leaves(grads)))),
            "parameters_changed": moved,
            "num_params": jd.network.num_params(initial),
            "train_cost": [h["train_cost"] for h in result.history],
            "test_accuracy": [h["test_accuracy"] for h in result.history],
        }

    # One random direction through the untrained network, cost on a subset of the training images.
    n_points = args.points or (101 if args.fast else 2001)
    alphas = jnp.linspace(-1.0, 1.0, n_points)
    direction = random_direction(initial, jax.random.key(args.seed + 1))
    subset = (dataset.train_images[:2000], dataset.train_labels[:2000])
    along = jax.device_get(_costs_along(initial, direction, alphas, *subset))
    for activation, costs in along.items():
        steps = np.diff(costs)
        metrics["activations"][activation]["slice_distinct_costs"] = int(len(np.unique(costs)))
        metrics["activations"][activation]["slice_flat_fraction"] = float(np.mean(steps == 0))
        metrics["activations"][activation]["slice_largest_jump"] = float(np.abs(steps).max())

    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for activation in ACTIVATIONS:
        m = metrics["activations"][activation]
        epochs_axis = range(len(m["train_cost"]))
        axes[0].plot(
            epochs_axis, m["train_cost"], "o-", label=f"{activation} (|∇C| at start {m['initial_gradient_norm']:.3g})"
        )
        axes[1].plot(epochs_axis, np.array(m["test_accuracy"]) * 100, "o-", label=activation)
        axes[2].plot(np.asarray(alphas), along[activation], label=activation, linewidth=1)
    axes[0].set(xlabel="epoch", ylabel="training cost", title="learning")
    axes[1].set(xlabel="epoch", ylabel="test accuracy (%)", title="accuracy")
    axes[2].set(xlabel="α along one random direction", ylabel="cost (2,000 training images)", title="cost along a line")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    save_figure(fig, os.path.join(out, "smooth_cost.png"))

    summary = [
        f"{a}: |∇C| at start {m['initial_gradient_norm']:.3g}, {m['parameters_changed']} of {m['num_params']} "
        f"parameters changed, test accuracy {m['test_accuracy'][0]:.1%} -> {m['test_accuracy'][-1]:.1%}, "
        f"cost along a line flat between {m['slice_flat_fraction']:.0%} of neighbouring points"
        for a, m in metrics["activations"].items()
    ]
    cli.finish(out, "smooth_cost", args, dataset, metrics, summary)
    return metrics


if __name__ == "__main__":
    cli.run(main)

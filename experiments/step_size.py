"""Experiment 8 — step size and optimisers.

The video's step is θ ← θ − η∇C, with mini-batches standing in for the whole training set
("a drunk man stumbling quickly downhill rather than a careful one"). This measures:

- a learning-rate sweep: the video's network trained with many η in one compiled program
  (``jaxdigits.training.train_population``), final training cost against η — too small crawls, too large
  stalls or diverges;
- full-batch gradient descent (one step per epoch, on the exact gradient) against
  mini-batch SGD (6,000 steps per epoch of 10 images), per epoch and per second;
- the handwritten SGD step against ``optax.sgd``: the same numbers, step for step;
- momentum and adam on the same network and cost.

    python experiments/step_size.py [--fast] [--epochs 5] [--out DIR]
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np

import jaxdigits as jd
from jaxdigits import cli
from jaxdigits.plots import pyplot, save_figure
from jaxdigits.training import member, train_population

RATES = (0.01, 0.03, 0.1, 0.3, 1.0, 1.5, 3.0, 10.0, 30.0, 100.0)


def curve(history):
    """Epochs, cumulative seconds (compilation excluded) and training cost of a history."""
    seconds = np.cumsum([0.0] + [h["seconds"] for h in history[1:]])
    return [h["epoch"] for h in history], seconds, [h["train_cost"] for h in history]


def parse_args(argv=None):
    p = cli.parser(__doc__)
    p.add_argument("--epochs", type=int, help="epochs of every mini-batch run (default 5; --fast 2)")
    p.add_argument("--full-batch-epochs", type=int, help="epochs (= steps) of full-batch descent (default 50)")
    p.add_argument("--full-batch-learning-rate", type=float, default=10.0, help="η of full-batch descent")
    return p.parse_args(argv)


def learning_rate_sweep(config, train_data, evals):
    """Every η of ``RATES`` from the same start, one population; returns (metrics, histories)."""
    sweep = train_population(config, train_data, evals, learning_rates=RATES)
    metrics = {
        str(lr): {
            "train_cost": h[-1]["train_cost"],
            "test_accuracy": h[-1]["test_accuracy"],
            **sweep.judgements[k].record(),
            "mean_top_output": float(np.mean(np.max(jd.predict(member(sweep.params, k), evals["test"][0]), axis=1))),
        }
        for k, (lr, h) in enumerate(zip(RATES, sweep.histories))
    }
    return metrics, sweep.histories


def optimizer_runs(args, dataset, epochs, full_epochs):
    """The same start under each optimiser (handwritten SGD and optax.sgd in lockstep)."""
    runs = {
        "SGD, handwritten (η=1.5, batch 10)": dict(optimizer="sgd"),
        "optax.sgd (η=1.5, batch 10)": dict(optimizer="optax_sgd"),
        "momentum 0.9 (η=0.15, batch 10)": dict(optimizer="momentum", learning_rate=0.15),
        "adam (η=1e-3, batch 10)": dict(optimizer="adam", learning_rate=1e-3),
        f"full-batch GD (η={args.full_batch_learning_rate:g})": dict(
            batch_size=len(dataset.train_labels), learning_rate=args.full_batch_learning_rate, epochs=full_epochs
        ),
    }
    metrics, histories, params = {}, {}, {}
    for name, overrides in runs.items():
        result, _ = cli.train_network(dataset, args, **{"epochs": epochs, **overrides})
        histories[name], params[name] = result.history, result.state.params
        metrics[name] = {
            "epochs": len(result.history) - 1,
            "train_cost": result.history[-1]["train_cost"],
            "test_accuracy": result.history[-1]["test_accuracy"],
            "seconds_per_epoch": float(np.median(result.seconds_per_epoch)),
            "seconds_compile": result.seconds_compile,
        }
    hand, lib = list(runs)[:2]
    metrics["handwritten_vs_optax_max_param_difference"] = max(
        float(np.abs(np.asarray(a) - np.asarray(b)).max()) for a, b in zip(_leaves(params[hand]), _leaves(params[lib]))
    )
    metrics["handwritten_vs_optax_max_cost_difference"] = max(
        abs(a["train_cost"] - b["train_cost"]) for a, b in zip(histories[hand], histories[lib])
    )
    return list(runs), metrics, histories


def sweep_figure(path, sweep, sweep_histories, epochs):
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    costs = [sweep[str(lr)]["train_cost"] for lr in RATES]
    axes[0].plot(RATES, np.where(np.isfinite(costs), costs, np.nan), "o-")
    for lr, c in zip(RATES, costs):
        if not np.isfinite(c) or c > 0.95:  # NaN, or stuck with every output at 0 (cost 1)
            note = "diverged" if not np.isfinite(c) else "stuck (outputs ≈ 0)"
            axes[0].annotate(note, (lr, 0.5), xycoords=("data", "axes fraction"), rotation=90, va="center", fontsize=7)
    axes[0].set(xscale="log", yscale="log", xlabel="learning rate η", ylabel=f"training cost after {epochs} epochs",
                title=f"{len(RATES)} learning rates, one compiled program")  # fmt: skip
    for lr, h in zip(RATES, sweep_histories):
        axes[1].plot([r["epoch"] for r in h], [r["train_cost"] for r in h], "o-", markersize=3, label=f"η={lr:g}")
    axes[1].set(yscale="log", xlabel="epoch", ylabel="training cost", title="cost per epoch")
    axes[1].legend(fontsize=7, ncol=2)
    for ax in axes:
        ax.grid(alpha=0.3)
    save_figure(fig, path)


def optimizers_figure(path, histories, lib):
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
    for i, (name, h) in enumerate(histories.items()):
        e, s, c = curve(h)
        style = dict(linestyle="--", color="k", linewidth=1) if name == lib else dict(color=f"C{i}")
        axes[0].plot(e, c, label=name, **style)
        axes[1].plot(s, c, label=name, **style)
    axes[0].set(xlabel="epoch", ylabel="training cost", yscale="log", title="per epoch")
    axes[1].set(xlabel="seconds of training (compilation excluded)", title="per second")
    for ax in axes:
        ax.set_xscale("symlog", linthresh=1)  # linear up to 1, then logarithmic
        ax.set_xlim(left=0)
    axes[0].legend(fontsize=7)
    for ax in axes:
        ax.grid(alpha=0.3)
    save_figure(fig, path)


def main(argv=None):
    args = parse_args(argv)
    dataset, out = cli.setup(args, "step_size")
    epochs = args.epochs or (2 if args.fast else 5)
    full_epochs = args.full_batch_epochs or (5 if args.fast else 50)
    train_data = (dataset.train_images, dataset.train_labels)
    evals = {"train": train_data, "test": (dataset.test_images, dataset.test_labels)}

    config = dataclasses.replace(jd.PRESETS["video"], sizes=cli.sizes_for(dataset), epochs=epochs, seed=args.seed)
    sweep, sweep_histories = learning_rate_sweep(config, train_data, evals)
    metrics = {"epochs": epochs, "sweep": sweep}
    finite = {lr: h[-1]["train_cost"] for lr, h in zip(RATES, sweep_histories) if np.isfinite(h[-1]["train_cost"])}
    metrics["sweep_best_learning_rate"] = min(finite, key=finite.get)
    names, runs, histories = optimizer_runs(args, dataset, epochs, full_epochs)
    metrics.update(runs)

    sweep_figure(os.path.join(out, "learning_rate_sweep.png"), sweep, sweep_histories, epochs)
    optimizers_figure(os.path.join(out, "optimizers.png"), histories, names[1])
    summary = [
        "sweep: " + ", ".join(f"η={lr:g}: {sweep[str(lr)]['train_cost']:.3f}" for lr in RATES),
        *(
            f"{name}: cost {metrics[name]['train_cost']:.4f}, test {metrics[name]['test_accuracy']:.2%} after "
            f"{metrics[name]['epochs']} epochs, {metrics[name]['seconds_per_epoch']:.2f} s/epoch"
            for name in names
        ),
        "handwritten SGD vs optax.sgd: largest parameter difference "
        f"{metrics['handwritten_vs_optax_max_param_difference']}",
    ]
    cli.finish(out, "step_size", args, dataset, metrics, summary)
    return metrics


def _leaves(params):
    return [leaf for layer in params for leaf in (layer["w"], layer["b"])]


if __name__ == "__main__":
    cli.run(main, cpu_devices="cores")  # populations: one device per core

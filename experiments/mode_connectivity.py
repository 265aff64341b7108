"""Experiment 5b — one valley or many? Minima aligned through the network's symmetries.

Experiment 5 found that the straight line between two trained networks climbs over a high
barrier. But swapping (and, for sigmoid, flipping) hidden neurons gives the same function
elsewhere in parameter space. This trains the 16 seeds of experiment 5 (video recipe, in
one vmapped program), aligns every pair (``jaxdigits.network``: weight matching with and
without flips, activation matching with and without flips) and measures the barrier on the
straight line of each (``jaxdigits.landscape.path_metrics``), then trains quadratic Bézier curves
between a few pairs, naive and aligned. A width sweep repeats the line measurements for
two hidden layers of 16 … 512 neurons, for the video recipe and the best recipe without
augmentation (``PRESETS["best_no_augment"]``: relu, cross-entropy, AdamW).

    python experiments/mode_connectivity.py [--fast] [--seeds 16] [--epochs 15] [--out DIR]

Default settings (chosen to run in under 10 minutes on 2 cores): 16 seeds × 15 epochs at
width 16, all 120 pairs, lines at 17 values of t on 5,000 training and 5,000 test images;
4 pairs of curves, 5 epochs each; the width sweep trains 4 seeds (3 from width 256 on) for
4 epochs on the first 20,000 training images and measures lines on 2,000 + 2,000 images.
Its video recipe starts from N(0, 1/n_in) weights (``--sweep-video-init scaled``): with the
video's N(0, 1), layers of 128 or more sigmoid neurons start saturated and reach only 24–72%
test accuracy in that budget. It stops at width 128: from 256 on, η = 1.5 makes every
network call every image the same digit (about 10% accuracy, a barrier of 0).
"""

from __future__ import annotations

import dataclasses
import os
import time

import jax
import jax.numpy as jnp
import numpy as np

import jaxdigits as jd
from jaxdigits import cli, landscape, network, plots
from jaxdigits.plots import pyplot, save_figure
from jaxdigits.training import optimizer_for, train_population

WIDTHS = {"video": (16, 32, 64, 128), "best_no_augment": (16, 32, 64, 128, 256, 512)}
BEST_ALIGNED = "weights + flips"  # the alignment the curves and the weight figure use
METHODS = {  # name: (matching, flips)
    "naive": (None, False),
    "weights": ("weights", False),
    "weights + flips": ("weights", True),
    "activations": ("activations", False),
    "activations + flips": ("activations", True),
}


def stats(values):
    values = np.asarray(values, np.float64)
    return {"mean": values.mean(), "std": values.std(), "min": values.min(), "max": values.max()}


def pairs_of(stacked, first, second):
    """Two stacked pytrees: networks ``first[p]`` and ``second[p]`` for every pair p."""
    return jax.tree.map(lambda x: x[np.asarray(first)], stacked), jax.tree.map(lambda x: x[np.asarray(second)], stacked)


def align_all(a, b, activation, match_images, *, key):
    """B aligned to A by every method that applies to ``activation``: {name: (aligned, seconds)}."""
    aligned = {}
    for name, (matching, flips) in METHODS.items():
        if flips and activation not in network.FLIP_OFFSET:
            continue
        tick = time.perf_counter()
        if matching is None:
            aligned[name] = (b, 0.0)
            continue
        if matching == "weights":
            sym, _ = network.weight_matching(a, b, key=key, activation=activation, flips=flips)
        else:
            sym = network.activation_matching(a, b, match_images, activation=activation, flips=flips)
        aligned[name] = (network.align(b, sym, activation), time.perf_counter() - tick)
    return aligned


def measure_lines(a, aligned, splits, ts, config):
    """Per method: barriers (per pair) on each split's cost and accuracy, distances, path values."""
    results = {}
    for name, (b, seconds) in aligned.items():
        tick = time.perf_counter()
        record = {"seconds_matching": seconds, "distance": np.asarray(network.distance(a, b)), "paths": {}}
        for split, (images, labels) in splits.items():
            loss = network.VideoLoss(config.cost, config.activation)
            path = landscape.path_metrics(
                loss, [a, b], (images, labels), ts, pairs=True, metrics={"accuracy": loss.accuracy}
            )
            record["paths"][split] = path
            record[f"{split}_cost_barrier"] = landscape.barrier(path.cost, ts)
            record[f"{split}_accuracy_barrier"] = landscape.barrier(path.accuracy, ts, higher_is_better=True)
        record["seconds_lines"] = time.perf_counter() - tick
        results[name] = record
    return results


def summarise(records):
    """JSON-ready summary of ``measure_lines`` output (statistics over pairs)."""
    summary = {}
    for name, r in records.items():
        summary[name] = {k: stats(v) for k, v in r.items() if k.endswith("barrier") or k == "distance"}
        summary[name]["seconds_matching"] = r["seconds_matching"]
        summary[name]["seconds_lines"] = r["seconds_lines"]
    return summary


def train_seeds(config, dataset, seeds, n_train=None, *, cache):
    """``train_population`` of ``seeds``; a run with the same settings is trained once (``cache``)."""
    n_train = len(dataset.train_labels) if n_train is None else min(n_train, len(dataset.train_labels))
    name = (config, tuple(seeds), n_train)
    if name not in cache:
        cache[name] = _train_seeds(config, dataset, seeds, n_train)
    return cache[name]


def _train_seeds(config, dataset, seeds, n_train):
    train_data = (dataset.train_images[:n_train], dataset.train_labels[:n_train])
    evals = {"train": train_data, "test": (dataset.test_images, dataset.test_labels)}
    tick = time.perf_counter()
    result = train_population(config, train_data, evals, seeds=seeds)
    return result, time.perf_counter() - tick


def parse_args(argv=None):
    p = cli.parser(__doc__)
    p.add_argument("--seeds", type=int, help="networks of width 16 (default 16; --fast 4)")
    p.add_argument("--epochs", type=int, help="epochs of the video's recipe at width 16 (default 15; --fast 1)")
    p.add_argument("--points", type=int, help="values of t per path (default 17; --fast 5)")
    p.add_argument("--line-images", type=int, default=5000, help="train and test images per path (width 16)")
    p.add_argument("--curve-pairs", type=int, help="pairs joined by trained curves (default 4; --fast 1)")
    p.add_argument("--curve-epochs", type=int, help="epochs of curve training (default 5; --fast 1)")
    p.add_argument("--widths", type=int, nargs="*", help=f"hidden widths of the sweep (default {WIDTHS})")
    p.add_argument("--recipes", nargs="*", choices=tuple(WIDTHS), help="recipes of the sweep (default both)")
    p.add_argument(
        "--sweep-video-init",
        default="scaled",
        choices=("normal", "scaled"),
        help="init of the video recipe in the sweep (default scaled: N(0, 1) saturates wide layers)",
    )
    p.add_argument("--sweep-epochs", type=int, help="epochs per network of the sweep (default 4; --fast 1)")
    p.add_argument("--sweep-images", type=int, default=20000, help="training images of the sweep")
    p.add_argument("--sweep-line-images", type=int, default=2000, help="train and test images per path (sweep)")
    args = p.parse_args(argv)
    if (args.seeds or (4 if args.fast else 16)) < 2:
        p.error("--seeds must be at least 2: a barrier needs a pair")
    return args


def first_images(dataset, n):
    """The first ``n`` training and test images (one shape: one compiled path program)."""
    return {
        "train": (dataset.train_images[:n], dataset.train_labels[:n]),
        "test": (dataset.test_images[:n], dataset.test_labels[:n]),
    }


def width_16(args, dataset, ts, key, trained, timings):
    """Phase 1: the video recipe at width 16 — every pair, every alignment, straight lines."""
    k = args.seeds or (4 if args.fast else 16)
    config = dataclasses.replace(
        jd.PRESETS["video"],
        sizes=cli.sizes_for(dataset),
        epochs=args.epochs or (1 if args.fast else 15),
        seed=args.seed,
    )
    seeds = [args.seed + i for i in range(k)]
    result, timings["train_width_16"] = train_seeds(config, dataset, seeds, cache=trained)
    first, second = np.triu_indices(k, 1)
    a, b = pairs_of(result.params, first, second)
    n = min(args.line_images, len(dataset.train_labels), len(dataset.test_labels))
    splits = first_images(dataset, n)
    aligned = align_all(a, b, config.activation, dataset.train_images[:n], key=key)
    lines = measure_lines(a, aligned, splits, ts, config)
    timings["matching_width_16"] = sum(r["seconds_matching"] for r in lines.values())
    timings["lines_width_16"] = sum(r["seconds_lines"] for r in lines.values())
    return dict(config=config, seeds=seeds, result=result, pairs=len(first), a=a, b=b, n=n, splits=splits,
                aligned=aligned, lines=lines)  # fmt: skip


def curves(args, dataset, ts, key, w16, timings):
    """Phase 2: quadratic Bézier curves for the first few pairs, naive and aligned (weights + flips)."""
    a, b, aligned, config = w16["a"], w16["b"], w16["aligned"], w16["config"]
    n_curves = min(args.curve_pairs or (1 if args.fast else 4), w16["pairs"])
    curve_config = dataclasses.replace(config, epochs=args.curve_epochs or (1 if args.fast else 5))
    ends = jax.tree.map(lambda x, y: jnp.concatenate([x[:n_curves], y[:n_curves]]), b, aligned[BEST_ALIGNED][0])
    starts = jax.tree.map(lambda x: jnp.concatenate([x[:n_curves], x[:n_curves]]), a)
    tick = time.perf_counter()
    loss = network.VideoLoss(curve_config.cost, curve_config.activation)
    train_data = (dataset.train_images, dataset.train_labels)
    trained = landscape.train_curve(
        loss, starts, ends, train_data, key=jax.random.fold_in(key, 1),
        optimizer=optimizer_for(curve_config, len(dataset.train_labels)),
        epochs=curve_config.epochs, batch_size=curve_config.batch_size, pairs=True,
    )  # fmt: skip
    metrics = {"accuracy": loss.accuracy}
    paths = {
        split: landscape.path_metrics(loss, [starts, trained.middle, ends], (x, y), ts, pairs=True, metrics=metrics)
        for split, (x, y) in w16["splits"].items()
    }
    timings["curves_width_16"] = time.perf_counter() - tick
    barriers = {}
    for label, part in (("curve (naive)", slice(0, n_curves)), (f"curve ({BEST_ALIGNED})", slice(n_curves, None))):
        barriers[label] = {
            f"{split}_{what}_barrier": stats(
                landscape.barrier(getattr(path, what)[part], ts, higher_is_better=what == "accuracy")
            )
            for split, path in paths.items()
            for what in ("cost", "accuracy")
        }
    return dict(n_curves=n_curves, epochs=curve_config.epochs, paths=paths, barriers=barriers)


def _correlations(x, y):
    return np.array([np.corrcoef(x[:, i], y[:, i])[0, 1] for i in range(x.shape[1])])


def weight_correlations(w16):
    """First-layer weights of seeds 0 and 1, before and after alignment, and the mean over all pairs."""
    a, b, aligned = w16["a"], w16["b"], w16["aligned"]
    w_a = np.asarray(a[0]["w"][0])
    w_b, w_aligned = np.asarray(b[0]["w"][0]), np.asarray(aligned[BEST_ALIGNED][0][0]["w"][0])
    pair_0 = {"naive": _correlations(w_a, w_b), BEST_ALIGNED: _correlations(w_a, w_aligned)}
    all_pairs = {
        name: float(
            np.mean(
                [
                    _correlations(np.asarray(a[0]["w"][q]), np.asarray(aligned[name][0][0]["w"][q])).mean()
                    for q in range(w16["pairs"])
                ]
            )
        )  # fmt: skip
        for name in aligned
    }
    return dict(w_a=w_a, w_b=w_b, w_aligned=w_aligned, pair_0=pair_0, all_pairs=all_pairs)


def width_16_metrics(w16, curved, correlation):
    return {
        "seeds": w16["seeds"],
        "epochs": w16["config"].epochs,
        "pairs": w16["pairs"],
        "points_per_path": None,  # filled in by main
        "line_images_per_split": w16["n"],
        "test_accuracy": stats([h[-1]["test_accuracy"] for h in w16["result"].histories]),
        "train_cost": stats([h[-1]["train_cost"] for h in w16["result"].histories]),
        "lines": summarise(w16["lines"]),
        "curves": {"pairs": curved["n_curves"], "epochs": curved["epochs"], **curved["barriers"]},
        "first_layer_weight_correlation_seed_pair_0": {k: v.tolist() for k, v in correlation["pair_0"].items()},
        "first_layer_weight_correlation_mean_all_pairs": correlation["all_pairs"],
    }


def width_sweep(args, dataset, ts, key, trained):
    """Phase 3: both recipes over hidden widths, straight lines only. Returns (widths, sweep)."""
    widths = {recipe: args.widths or ((16, 32) if args.fast else WIDTHS[recipe]) for recipe in WIDTHS}
    sweep_epochs = args.sweep_epochs or (1 if args.fast else 4)
    splits = first_images(dataset, min(args.sweep_line_images, len(dataset.train_labels), len(dataset.test_labels)))
    n_train = min(args.sweep_images, len(dataset.train_labels))
    sweep = {}
    for recipe in args.recipes or tuple(WIDTHS):
        sweep[recipe] = {}
        for width in widths[recipe]:
            k_w = 2 if args.fast else (4 if width <= 128 else 3)
            cfg = dataclasses.replace(jd.PRESETS[recipe], sizes=cli.sizes_for(dataset, (width, width)),
                                      epochs=sweep_epochs, seed=args.seed)  # fmt: skip
            if recipe == "video":
                cfg = dataclasses.replace(cfg, init=args.sweep_video_init)
            res, seconds_train = train_seeds(cfg, dataset, [args.seed + i for i in range(k_w)], n_train, cache=trained)
            f, s = np.triu_indices(k_w, 1)
            wa, wb = pairs_of(res.params, f, s)
            tick = time.perf_counter()
            records = measure_lines(wa, align_all(wa, wb, cfg.activation, splits["train"][0], key=key), splits, ts, cfg)
            records_summary = summarise(records)
            sweep[recipe][width] = {
                "seeds": k_w,
                "test_accuracy": stats([h[-1]["test_accuracy"] for h in res.histories]),
                "lines": records_summary,
                "seconds_train": seconds_train,
                "seconds_align_and_lines": time.perf_counter() - tick,
            }
            barriers = ", ".join(f"{m} {r['test_cost_barrier']['mean']:.3f}" for m, r in records_summary.items())
            print(f"{recipe} width {width}: trained {seconds_train:.0f} s; mean barrier in test cost: {barriers}")
    header = {"epochs": sweep_epochs, "video_recipe_init": args.sweep_video_init, "training_images": n_train,
              "line_images_per_split": len(splits["train"][1])}  # fmt: skip
    return widths, sweep, header


def paths_figure(path, ts, w16, curved):
    plt = pyplot()
    lines, seeds = w16["lines"], w16["seeds"]
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.2))
    for name, r in lines.items():
        axes[0].plot(ts, r["paths"]["train"].cost[0], marker=".", label=f"line, {name}")
    for label, index in (("curve (naive)", 0), (f"curve ({BEST_ALIGNED})", curved["n_curves"])):
        axes[0].plot(ts, curved["paths"]["train"].cost[index], linestyle="--", linewidth=2, label=label)
    axes[0].set(xlabel="t", ylabel=f"training cost ({w16['n']:,} images)",
                title=f"seed {seeds[0]} → seed {seeds[1]}: lines and curves")  # fmt: skip
    axes[0].legend(fontsize=7)
    names = list(lines)
    axes[1].boxplot([lines[m]["test_cost_barrier"] for m in names], showfliers=True)
    axes[1].set_xticks(range(1, len(names) + 1), [m.replace(" + ", "\n+ ") for m in names], fontsize=8)
    axes[1].set(ylabel="barrier in test cost", title=f"all {w16['pairs']} pairs, straight lines")
    for ax in axes:
        ax.grid(alpha=0.3)
    save_figure(fig, path)


def width_figure(path, widths, sweep, video_init):
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4), sharey=False)
    for ax, recipe in zip(axes, sweep):
        for name in METHODS:
            if name in sweep[recipe][widths[recipe][0]]["lines"]:
                values = [sweep[recipe][w]["lines"][name]["test_cost_barrier"]["mean"] for w in widths[recipe]]
                ax.plot(widths[recipe], values, marker="o", color=f"C{list(METHODS).index(name)}", label=name)
        ax.set_xscale("log", base=2)
        ax.set_xticks(widths[recipe], [str(w) for w in widths[recipe]])
        ax.set(xlabel="hidden neurons per layer", ylabel="mean barrier in test cost",
               title=f"{recipe} recipe ({jd.PRESETS[recipe].activation}, {jd.PRESETS[recipe].cost}"
                     + (f", {video_init} init)" if recipe == "video" else ")"))  # fmt: skip
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    save_figure(fig, path)


def weights_figure(path, shape, seeds, correlation):
    plt = pyplot()
    w_a = correlation["w_a"]
    fig, axes = plt.subplots(3, w_a.shape[1], figsize=(w_a.shape[1] * 0.9, 3.3))
    rows = [(w_a, f"seed {seeds[0]}"), (correlation["w_b"], f"seed {seeds[1]}"),
            (correlation["w_aligned"], f"seed {seeds[1]}, aligned")]  # fmt: skip
    vmax = max(np.abs(w).max() for w, _ in rows)
    pair_0 = correlation["pair_0"]
    for row, ((w, label), corrs) in enumerate(zip(rows, (None, pair_0["naive"], pair_0[BEST_ALIGNED]))):
        titles = None if corrs is None else [f"{c:+.2f}" for c in corrs]
        plots.image_grid(axes[row], network.weight_images(w, shape), vmax=vmax, titles=titles)
        axes[row][0].set_ylabel(label, fontsize=7)
    save_figure(fig, path)


def summary_lines(metrics, curve_barriers, timings):
    w16 = metrics["width_16"]["lines"]
    return [
        f"width 16, {metrics['width_16']['pairs']} pairs, mean barrier in test cost: "
        + ", ".join(f"{m} {r['test_cost_barrier']['mean']:.3f}" for m, r in w16.items())
        + "".join(f", {c} {v['test_cost_barrier']['mean']:.3f}" for c, v in curve_barriers.items()),
        "distance ‖θ_A − θ_B‖: " + ", ".join(f"{m} {r['distance']['mean']:.1f}" for m, r in w16.items()),
        f"time: {timings['total']:.0f} s ("
        + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items() if k != "total")
        + ")",
    ]


def main(argv=None):
    args = parse_args(argv)
    dataset, out = cli.setup(args, "mode_connectivity")
    start = time.perf_counter()
    ts = np.linspace(0.0, 1.0, args.points or (5 if args.fast else 17))
    key = jax.random.key(args.seed)
    timings, trained = {}, {}

    w16 = width_16(args, dataset, ts, key, trained, timings)
    curved = curves(args, dataset, ts, key, w16, timings)
    correlation = weight_correlations(w16)
    metrics = {"width_16": width_16_metrics(w16, curved, correlation)}
    metrics["width_16"]["points_per_path"] = len(ts)
    widths, sweep, header = width_sweep(args, dataset, ts, key, trained)
    metrics["sweep"] = {**header, **sweep}

    paths_figure(os.path.join(out, "paths.png"), ts, w16, curved)
    width_figure(os.path.join(out, "width.png"), widths, sweep, args.sweep_video_init)
    weights_figure(os.path.join(out, "weights.png"), dataset.image_shape, w16["seeds"], correlation)

    timings["total"] = time.perf_counter() - start
    timings["sweep_train"] = sum(r["seconds_train"] for rec in sweep.values() for r in rec.values())
    timings["sweep_align_and_lines"] = sum(r["seconds_align_and_lines"] for rec in sweep.values() for r in rec.values())
    metrics["seconds"] = timings
    cli.finish(out, "mode_connectivity", args, dataset, metrics, summary_lines(metrics, curved["barriers"], timings))
    return metrics


if __name__ == "__main__":
    cli.run(main, cpu_devices="cores")  # populations: one device per core

"""Look at the cost landscape of the video's network: slices, surfaces, a trajectory, curvature.

    python experiments/loss_landscape.py                       # MNIST; trains 3 seeds x 5 epochs
    python experiments/loss_landscape.py --params runs/X/params.npz   # around a saved network
    python experiments/loss_landscape.py --dataset digits --fast      # smoke run in seconds

Unless --params is given, three networks are trained with the video's recipe (sigmoid,
N(0, 1) init, SGD, η = 1.5 on Σ(a−y)², mini-batches of 10) for --epochs epochs (default 5,
not the video's 30, to fit in a few minutes on two CPU cores), seeds --seed, --seed+1,
--seed+2 (--seed also seeds the random directions). The first is the network at the centre
of every figure; its parameters after every epoch are the trajectory; the three together span
the plane through three minima. With --params only the figures around that network are made
(no init line, trajectory or three-minima plane: those need the training runs). --fast, a smoke
run, keeps the whole dataset and shrinks the grids, iterations and epochs.

Writes to --out: the figures (PNG), landscape.npz (alphas, betas, cost, accuracy of the
main surface), params.npz (the centre network, when trained here), metrics.json (seeds,
centre cost, Hessian eigenvalues and trace, PCA explained variance, seconds_surface,
whether the init→trained line falls monotonically) and config.json.
"""

from __future__ import annotations

import dataclasses
import os
import time

import jax
import numpy as np

from jaxdigits import PRESETS, cli, devices, io, landscape, load_params
from jaxdigits.devices import environment
from jaxdigits.errors import TrainingDiverged
from jaxdigits.network import VideoLoss
from jaxdigits.training import init_state, optimizer_for, train

# Sizes of everything but the main surface: (normal run, --fast run).
SIZES = {"extra_grid": (31, 7), "line_points": (61, 13), "lanczos": (30, 6), "hutchinson": (32, 4)}


def parse_args(argv=None):
    # The networks are trained here, silently: no --video-weights, no --no-progress.
    p = cli.parser(__doc__, without={"--video-weights", "--no-progress"})
    p.add_argument("--grid", type=int, help="points per axis of the main surface (default 51; --fast 9)")
    p.add_argument("--span", type=float, default=1.0, help="main surface covers offsets -span..span (default 1)")
    p.add_argument("--split", choices=("train", "test"), default="train", help="data the surfaces average over")
    p.add_argument("--norm", choices=landscape.NORMS, default="filter", help="direction normalisation (default filter)")
    p.add_argument("--bias", choices=("zero", "move"), default="zero", help="biases: zero (do not move) or move")
    p.add_argument("--epochs", type=int, help="epochs of each training run (default 5; --fast 2)")
    p.add_argument("--params", help="params.npz saved by train_digits.py: look around it instead of training")
    p.add_argument("--log", action="store_true", help="main surface on a log cost scale")
    p.add_argument(
        "--cpu-devices",
        type=int,
        help="on a CPU, expose this many JAX devices for the grids to shard over (default: one per core, "
        "see jaxdigits.devices; takes effect when the script is run, not when main() is called from Python)",
    )
    args = p.parse_args(argv)
    if args.cpu_devices is not None and args.cpu_devices < 1:
        p.error(f"--cpu-devices must be at least 1, got {args.cpu_devices}")
    return args


def train_three(config, train_data, seeds):
    """Train one network per seed; return per seed the parameters after epochs 0, 1, …

    Each is ``train``'s run for ``config.seed = seed`` (the driver's loop, divergence check
    included), its parameters copied to the host after every epoch by the ``on_epoch`` hook.
    """
    optimizer = optimizer_for(config, len(train_data[1]))
    start = jax.jit(lambda key: init_state(config, optimizer, key=key))
    trajectories = []
    for seed in seeds:
        state = start(jax.random.key(seed))  # as train() starts for config.seed = seed
        path = [jax.tree.map(np.asarray, state.params)]
        record = lambda state, history: path.append(jax.tree.map(np.asarray, state.params))  # noqa: B023
        try:
            train(config, train_data, {}, state=state, on_epoch=record, progress=False)
        except TrainingDiverged as diverged:
            raise TrainingDiverged(f"seed {seed}: {diverged.args[0]}", diverged.last_good_state) from None
        trajectories.append(path)
    return trajectories


def span_around(coords, margin=0.25):
    """An (lo, hi) span per axis covering ``coords`` (points, 2) with a margin."""
    lo, hi = coords.min(axis=0), coords.max(axis=0)
    pad = margin * np.maximum(hi - lo, 1e-3)
    return [(lo[i] - pad[i], hi[i] + pad[i]) for i in range(2)]


def main(argv=None):
    args = parse_args(argv)
    pick = lambda name: SIZES[name][1 if args.fast else 0]
    grid = args.grid or (9 if args.fast else 51)
    epochs = args.epochs or (2 if args.fast else 5)
    seeds = [args.seed, args.seed + 1, args.seed + 2]
    landscape.axis(args.span, grid)  # bad span or grid: fail before any work
    if args.params:
        load_params(args.params)  # a missing or damaged parameter file, too (setup refuses a used --out)
    dataset, out = cli.setup(args, "loss_landscape", fast_subset=False)
    config = dataclasses.replace(
        PRESETS["video"], sizes=(dataset.num_pixels, 16, 16, 10), epochs=epochs, seed=args.seed
    )
    params_file = load_params(args.params, sizes=config.sizes) if args.params else None
    path = lambda name: os.path.join(out, name)
    data = {"train": (dataset.train_images, dataset.train_labels), "test": (dataset.test_images, dataset.test_labels)}
    loss = VideoLoss(config.cost, config.activation)
    keys = dict(zip(("d1", "d2", "lanczos", "hutchinson", "unit"), jax.random.split(jax.random.key(args.seed), 5)))
    metrics = {
        "dataset": dataset.name,
        "dataset_source": dataset.source,
        "sizes": config.sizes,
        "seeds": seeds,
        "direction_seed": args.seed,
        "grid": grid,
        "span": args.span,
        "split": args.split,
        "norm": args.norm,
        "bias": args.bias,
        "params_file": args.params,
        "epochs": None if args.params else epochs,
    }
    io.write_json(
        path("config.json"), {**vars(args), "grid": grid, "epochs": epochs, "train_config": dataclasses.asdict(config)}
    )
    start = time.perf_counter()

    trajectories = None if args.params else train_three(config, data["train"], seeds)
    params = params_file if args.params else trajectories[0][-1]
    if trajectories is not None:  # the network at the centre, for --params next time
        io.save_params(path("params.npz"), params)
    images, labels = data[args.split]

    at_params = float(jax.jit(loss)(params, (images, labels)))
    d1, surface_metrics = main_surface(loss, params, (images, labels), keys, grid, args, path, at_params)
    metrics.update(surface_metrics)

    line_alphas = landscape.axis(args.span, pick("line_points"))
    split_lines(loss, params, d1, data, line_alphas, path("slice_random.png"), title="along the first random direction")

    metrics.update(curvature(loss, params, data["train"], keys, pick, path, args.norm, args.bias))
    if trajectories is not None:
        metrics.update(init_line(loss, trajectories[0], data, pick, path))
        metrics.update(trajectory_plane(loss, trajectories[0], (images, labels), pick, path, args.split))
        metrics.update(
            three_minima(loss, [t[-1] for t in trajectories], seeds, (images, labels), pick, path, args.split)
        )
    metrics.update(seconds_total=time.perf_counter() - start, **environment())
    io.write_json(path("metrics.json"), metrics)  # last: its presence means the run finished
    print(
        f"{dataset.name}: centre {args.split} cost {metrics['centre_cost']:.4f}; {grid}x{grid} surface in "
        f"{metrics['seconds_surface']:.2f} s (+{metrics['seconds_compile_surface']:.1f} s compile); top Hessian "
        f"eigenvalues {np.round(metrics['top_eigenvalues'], 3).tolist()}; wrote {out}"
    )
    return metrics


def main_surface(loss, params, data, keys, grid, args, path, cost_at_params):
    """The main surface: two filter-normalised Gaussian directions through the network.

    Writes landscape.npz and the four surface figures; returns (the first direction, metrics).
    """
    moves = dict(norm=args.norm, include_1d=args.bias == "move")
    d1, d2 = (landscape.random_direction(params, key=keys[k], **moves) for k in ("d1", "d2"))
    axis = landscape.axis(args.span, grid)
    result = landscape.surface(loss, params, data, (d1, d2), axis, axis, metrics={"accuracy": loss.accuracy})
    centre = int(np.flatnonzero(axis == 0)[0])
    metrics = dict(
        centre_cost=float(result.cost[centre, centre]),
        cost_at_params=cost_at_params,
        centre_accuracy=float(result.accuracy[centre, centre]),
        seconds_surface=result.seconds,
        seconds_compile_surface=result.seconds_compile,
        surface_points=grid * grid,
        surface_images=len(data[1]),
    )
    with io.atomic_path(path("landscape.npz")) as tmp:
        np.savez(tmp, alphas=result.alphas, betas=result.betas, cost=result.cost, accuracy=result.accuracy,
                 seed=args.seed, norm=args.norm, bias=args.bias, split=args.split)  # fmt: skip
    what = f"{args.split} cost, {args.norm}-normalised random directions"
    landscape.plot_contour(path("surface_contour.png"), result, log=args.log, title=what)
    landscape.plot_contour(path("surface_filled.png"), result, filled=True, log=args.log, title=what)
    landscape.plot_surface_3d(path("surface_3d.png"), result, log=args.log, title=what)
    landscape.plot_contour(path("surface_accuracy.png"), result, filled=True, value="accuracy",
                           title=f"{args.split} accuracy, same plane")  # fmt: skip
    return d1, metrics


def split_lines(loss, params, direction, data, offsets, figure, **plot):
    """The same 1-D slice on every data split, drawn as cost and accuracy side by side."""
    accuracy = {"accuracy": loss.accuracy}
    lines = {split: landscape.line(loss, params, data[split], direction, offsets, metrics=accuracy) for split in data}
    costs = {split: r.cost for split, r in lines.items()}
    accuracies = {split: r.accuracy for split, r in lines.items()}
    landscape.plot_slices(figure, offsets, costs, accuracies, **plot)
    return lines


def curvature(loss, params, train_data, keys, pick, path, norm, bias):
    """Top eigenvalues and trace on the full training set; slices along top/random/gradient."""
    eig = landscape.top_eigenvalues(loss, params, train_data, key=keys["lanczos"], k=3, iterations=pick("lanczos"))
    trace = landscape.hessian_trace(loss, params, train_data, key=keys["hutchinson"], samples=pick("hutchinson"))
    top = float(eig.values[0])
    span = float(np.sqrt(2.0 / top)) if top > 0 else 1.0  # where ½λ₁α² reaches 1
    alphas = landscape.axis(span, pick("line_points"))
    directions = {
        "top eigenvector": eig.vectors[0],
        "random (unit)": landscape.unit(
            landscape.random_direction(params, key=keys["unit"], norm=norm, include_1d=bias == "move")
        ),
        "gradient (unit)": landscape.gradient_direction(loss, params, train_data),
    }
    lines = {name: landscape.line(loss, params, train_data, d, alphas).cost for name, d in directions.items()}
    centre = lines["top eigenvector"][alphas == 0][0]
    lines["C(θ) + ½λ₁α² (quadratic model)"] = centre + 0.5 * top * alphas**2
    landscape.plot_slices(
        path("slice_curvature.png"),
        alphas,
        lines,
        xlabel="step along a unit direction",
        title=f"train cost; top Hessian eigenvalue λ₁ = {top:.3g}",
    )
    return {
        "top_eigenvalues": eig.values.tolist(),
        "lanczos_iterations": pick("lanczos"),
        "hessian_trace": trace.estimate,
        "hessian_trace_stderr": trace.stderr,
        "hutchinson_samples": trace.samples,
    }


def init_line(loss, trajectory, data, pick, path):
    """Goodfellow et al.'s straight line from the initial network (t = 0) to the trained one (t = 1)."""
    points = pick("line_points")
    steps = round((points - 1) / 1.5)  # t = 0 and t = 1 exactly, about a sixth beyond each end
    ts = np.arange(points) / steps - (points - 1 - steps) // 2 / steps
    toward = landscape.direction_between(trajectory[0], trajectory[-1])
    lines = split_lines(
        loss,
        trajectory[0],
        toward,
        data,
        ts,
        path("line_init_to_trained.png"),
        xlabel="t  (θ = (1−t)·θ_init + t·θ_trained)",
        title="from the initial to the trained network",
        marks={"init": 0.0, "trained": 1.0},
    )
    inside = (ts >= 0) & (ts <= 1)
    rises = {split: float(np.max(np.diff(r.cost[inside]))) for split, r in lines.items()}
    return {
        "init_to_trained_monotonic": {s: rise <= 0 for s, rise in rises.items()},
        "init_to_trained_largest_rise": rises,
    }


def trajectory_plane(loss, trajectory, data, pick, path, split):
    """The SGD path (parameters after each epoch) on the plane of its top two principal directions."""
    pca = landscape.pca_directions(trajectory)
    (a_span, b_span), n = span_around(pca.coords), pick("extra_grid")
    result = landscape.surface(
        loss, trajectory[-1], data, (pca.d1, pca.d2), landscape.axis(a_span, n), landscape.axis(b_span, n)
    )
    ratio = pca.explained_variance_ratio
    landscape.plot_contour(
        path("trajectory_pca.png"),
        result,
        filled=True,
        log=True,
        trajectory=pca.coords,
        xlabel=f"PC1 ({ratio[0]:.1%} of variance)",
        ylabel=f"PC2 ({ratio[1]:.1%})",
        title=f"{split} cost around the SGD path (one point per epoch)",
    )
    return {"pca_explained_variance_ratio": ratio.tolist(), "trajectory_points": len(trajectory)}


def three_minima(loss, minima, seeds, data, pick, path, split):
    """The plane through three trained networks, and the straight lines between them."""
    d1, d2, coords = landscape.plane_through(*minima)
    (a_span, b_span), n = span_around(coords), pick("extra_grid")
    result = landscape.surface(loss, minima[0], data, (d1, d2), landscape.axis(a_span, n), landscape.axis(b_span, n))
    landscape.plot_contour(
        path("plane_three_minima.png"),
        result,
        filled=True,
        log=True,
        points={f"seed {s}": c for s, c in zip(seeds, coords)},
        title=f"{split} cost on the plane through three trained networks",
    )
    ts = np.linspace(0, 1, pick("line_points"))
    barriers, lines = {}, {}
    for i, j in ((0, 1), (0, 2), (1, 2)):
        name = f"seed {seeds[i]} → seed {seeds[j]}"
        lines[name] = landscape.line(
            loss, minima[i], data, landscape.direction_between(minima[i], minima[j]), ts,
            metrics={"accuracy": loss.accuracy},
        )  # fmt: skip
        barriers[name] = float(lines[name].cost.max() - max(lines[name].cost[0], lines[name].cost[-1]))
    landscape.plot_slices(
        path("line_between_minima.png"),
        ts,
        {k: r.cost for k, r in lines.items()},
        {k: r.accuracy for k, r in lines.items()},
        xlabel="t along the straight line",
        title=f"{split} cost between trained networks",
    )
    return {"three_minima_coords": coords.tolist(), "barrier_between_minima": barriers}


if __name__ == "__main__":
    if (requested := parse_args().cpu_devices) is not None:
        devices.configure(requested)  # the flag, before JAX starts (and before $JAXDIGITS_CPU_DEVICES)
    cli.run(main, cpu_devices="cores")  # the surfaces: one device per core

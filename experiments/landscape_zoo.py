"""The landscape tools on models of three libraries: a Flax NNX CNN, an Equinox MLP and the video's network.

    python experiments/landscape_zoo.py                   # MNIST, and Fashion-MNIST when installed
    python experiments/landscape_zoo.py --dataset digits --fast   # smoke run in seconds

Each model is trained briefly (the CNN and the MLP: --epochs of Adam, η = 10⁻³, mini-batches of
128; the video's network: its own recipe for --epochs), then, through nothing but
``loss(params, batch)`` and ``jaxdigits.landscape``:

- the 2-D surface of the test cost on two filter-normalised Gaussian directions (biases and
  other 1-D leaves fixed), over --grid × --grid points;
- the Hessian's eigenvalue density (stochastic Lanczos quadrature), its top eigenvalue
  (Lanczos) and its trace (Hutchinson), on --hessian-images training images;
- for the CNN, two seeds and the barrier between them: along the straight line, and along a
  quadratic Bézier curve trained with optax for --curve-epochs.

Fashion-MNIST comes from --fashion-dir (Debian's ``dataset-fashion-mnist`` installs it at
/usr/share/datasets/fashion-mnist) and is skipped, with a note, when the folder is absent or
with --fast. Flax and Equinox come with jaxdigits' optional extra (``pip install
jaxdigits[models]``). Writes the figures (surface_<dataset>_<model>.png, density_<dataset>.png,
barrier_<dataset>.png), metrics.json and config.json to --out.
"""

from __future__ import annotations

import dataclasses
import os
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

import jaxdigits as jd
from jaxdigits import cli, io, landscape
from jaxdigits.network import VideoLoss

FASHION_DIR = "/usr/share/datasets/fashion-mnist"
# (normal run, --fast run)
SIZES = {
    "grid": (21, 5),
    "epochs": (1, 1),
    "surface_images": (1000, 200),
    "hessian_images": (500, 200),
    "lanczos": (20, 6),
    "probes": (2, 1),
    "hutchinson": (16, 4),
    "curve_epochs": (1, 1),
    "points": (11, 5),
}


def parse_args(argv=None):
    p = cli.parser(__doc__, without={"--video-weights"})
    p.add_argument("--grid", type=int, help="points per axis of each surface (default 21; --fast 5)")
    p.add_argument("--epochs", type=int, help="training epochs of every model (default 1)")
    p.add_argument("--surface-images", type=int, help="test images each surface averages over (default 1000)")
    p.add_argument("--hessian-images", type=int, help="training images of the curvature (default 500)")
    p.add_argument("--curve-epochs", type=int, help="epochs of the CNN's Bézier curve (default 1)")
    p.add_argument("--fashion-dir", default=FASHION_DIR, help=f"Fashion-MNIST's IDX files (default {FASHION_DIR})")
    return p.parse_args(argv)


def cross_entropy(logits, labels):
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()


def flax_cnn(image_shape, seed):
    """A small Flax NNX CNN: two 3×3 convolutions (8 and 16 filters), 2×2 average pooling after each, a dense layer."""
    from flax import nnx  # the optional extra: only this script and the docs use it

    class CNN(nnx.Module):
        def __init__(self, *, rngs):
            self.conv1 = nnx.Conv(1, 8, kernel_size=(3, 3), rngs=rngs)
            self.conv2 = nnx.Conv(8, 16, kernel_size=(3, 3), rngs=rngs)
            rows, cols = image_shape[0] // 4, image_shape[1] // 4
            self.out = nnx.Linear(16 * rows * cols, 10, rngs=rngs)

        def __call__(self, x):
            x = nnx.avg_pool(nnx.relu(self.conv1(x)), (2, 2), strides=(2, 2))
            x = nnx.avg_pool(nnx.relu(self.conv2(x)), (2, 2), strides=(2, 2))
            return self.out(x.reshape(x.shape[0], -1))

    graphdef, params = nnx.split(CNN(rngs=nnx.Rngs(seed)))

    def loss(params, batch):
        images, labels = batch
        return cross_entropy(nnx.merge(graphdef, params)(images.reshape(-1, *image_shape, 1)), labels)

    def accuracy(params, batch):
        images, labels = batch
        logits = nnx.merge(graphdef, params)(images.reshape(-1, *image_shape, 1))
        return jnp.mean(jnp.argmax(logits, axis=-1) == labels).astype(jnp.float32)

    return loss, accuracy, params


def equinox_mlp(pixels, seed):
    """An Equinox MLP: pixels → 64 → 64 → 10, relu."""
    import equinox as eqx

    model = eqx.nn.MLP(pixels, 10, 64, 2, activation=jax.nn.relu, key=jax.random.key(seed))
    params, static = eqx.partition(model, eqx.is_inexact_array)

    def logits(params, images):
        return jax.vmap(eqx.combine(params, static))(images)

    def loss(params, batch):
        return cross_entropy(logits(params, batch[0]), batch[1])

    def accuracy(params, batch):
        return jnp.mean(jnp.argmax(logits(params, batch[0]), axis=-1) == batch[1]).astype(jnp.float32)

    return loss, accuracy, params


def train_briefly(loss, params, data, *, key, epochs, batch_size=128, learning_rate=1e-3):
    """Adam on ``loss`` for ``epochs`` passes over ``data``, each a compiled ``lax.scan``; the final parameters."""
    optimizer = optax.adam(learning_rate)

    @jax.jit
    def epoch(params, state, key, data):
        n = data[1].shape[0]
        steps = n // batch_size
        order = jax.random.permutation(key, n)[: steps * batch_size].reshape(steps, batch_size)

        def step(carry, idx):
            params, state = carry
            grads = jax.grad(loss)(params, jax.tree.map(lambda x: x[idx], data))
            updates, state = optimizer.update(grads, state, params)
            return (optax.apply_updates(params, updates), state), None

        return jax.lax.scan(step, (params, state), order)[0]

    state = optimizer.init(params)
    for k in jax.random.split(key, epochs):
        params, state = epoch(params, state, k, data)
    return params


def train_models(dataset, args, pick):
    """{name: (loss, accuracy, params, seconds)} for the three models, trained on the training set."""
    data = (jnp.asarray(dataset.train_images), jnp.asarray(dataset.train_labels))
    epochs = args.epochs or pick("epochs")
    models = {}
    for name, make in (
        ("Flax NNX CNN", lambda: flax_cnn(dataset.image_shape, args.seed)),
        ("Equinox MLP", lambda: equinox_mlp(dataset.num_pixels, args.seed)),
    ):
        tick = time.perf_counter()
        loss, accuracy, params = make()
        params = train_briefly(loss, params, data, key=jax.random.key(args.seed), epochs=epochs)
        models[name] = (loss, accuracy, params, time.perf_counter() - tick)
    tick = time.perf_counter()
    config = dataclasses.replace(jd.PRESETS["video"], sizes=cli.sizes_for(dataset), epochs=epochs, seed=args.seed)
    video = jd.train(config, (dataset.train_images, dataset.train_labels), progress=not args.no_progress).state.params
    loss = VideoLoss(config.cost, config.activation)
    models["video network"] = (loss, loss.accuracy, video, time.perf_counter() - tick)
    return models


def analyse(name, loss, accuracy, params, dataset, args, pick, key, path):
    """Surface, density, top eigenvalue and trace of one model; returns (metrics, density)."""
    n_test = args.surface_images or pick("surface_images")
    test = (dataset.test_images[:n_test], dataset.test_labels[:n_test])
    n_hessian = args.hessian_images or pick("hessian_images")
    train = (jnp.asarray(dataset.train_images[:n_hessian]), jnp.asarray(dataset.train_labels[:n_hessian]))
    k1, k2, k3, k4, k5 = jax.random.split(key, 5)
    directions = [landscape.random_direction(params, key=k) for k in (k1, k2)]
    axis = landscape.axis(1.0, args.grid or pick("grid"))
    surface = landscape.surface(loss, params, test, directions, axis, axis, metrics={"accuracy": accuracy})
    centre = len(axis) // 2
    landscape.plot_contour(
        path, surface, filled=True, log=True, title=f"{name}, {dataset.name}: test cost, filter-normalised directions"
    )
    tick = time.perf_counter()
    density = landscape.spectral_density(loss, params, train, key=k3, iterations=pick("lanczos"), probes=pick("probes"))
    top = landscape.top_eigenvalues(loss, params, train, key=k4, k=1, iterations=pick("lanczos"))
    trace = landscape.hessian_trace(loss, params, train, key=k5, samples=pick("hutchinson"))
    metrics = {
        "parameters": int(sum(np.size(x) for x in jax.tree.leaves(params))),
        "test_cost": float(surface.cost[centre, centre]),
        "test_accuracy": float(surface.accuracy[centre, centre]),
        "surface_points": int(surface.cost.size),
        "surface_images": n_test,
        "surface_method": surface.method,
        "seconds_surface": surface.seconds,
        "seconds_compile_surface": surface.seconds_compile,
        "surface_cost_range": [float(np.nanmin(surface.cost)), float(np.nanmax(surface.cost))],
        "top_eigenvalue": float(top.values[0]),
        "density_top_node": density.top,
        "hessian_trace": trace.estimate,
        "hessian_trace_stderr": trace.stderr,
        "smallest_node": float(density.nodes.min()),  # below 0: the cost curves downward somewhere (not a minimum)
        "seconds_curvature": time.perf_counter() - tick,
    }
    return metrics, density


def cnn_barrier(dataset, args, pick, path):
    """Two seeds of the CNN, the line between them and a trained Bézier curve: costs along both and barriers."""
    data = (jnp.asarray(dataset.train_images), jnp.asarray(dataset.train_labels))
    epochs = args.epochs or pick("epochs")
    ends = []
    for seed in (args.seed, args.seed + 1):
        loss, accuracy, params = flax_cnn(dataset.image_shape, seed)
        ends.append(train_briefly(loss, params, data, key=jax.random.key(seed), epochs=epochs))
    tick = time.perf_counter()
    curve = landscape.train_curve(
        loss,
        ends[0],
        ends[1],
        data,
        key=jax.random.key(args.seed),
        optimizer=optax.adam(1e-3),
        epochs=args.curve_epochs or pick("curve_epochs"),
    )
    seconds_curve = time.perf_counter() - tick
    n_test = args.surface_images or pick("surface_images")
    test = (dataset.test_images[:n_test], dataset.test_labels[:n_test])
    ts = np.linspace(0, 1, pick("points"))
    metrics = {"accuracy": accuracy}
    line = landscape.path_metrics(loss, ends, test, ts, metrics=metrics)
    bent = landscape.path_metrics(loss, [ends[0], curve.middle, ends[1]], test, ts, metrics=metrics)
    landscape.plot_slices(
        path,
        ts,
        {"straight line": line.cost, "trained Bézier curve": bent.cost},
        {"straight line": line.accuracy, "trained Bézier curve": bent.accuracy},
        xlabel="t",
        title=f"Flax NNX CNN, {dataset.name}: two seeds, test cost between them",
    )
    return {
        "line_cost_barrier": float(landscape.barrier(line.cost, ts)),
        "curve_cost_barrier": float(landscape.barrier(bent.cost, ts)),
        "line_accuracy_barrier": float(landscape.barrier(line.accuracy, ts, higher_is_better=True)),
        "curve_accuracy_barrier": float(landscape.barrier(bent.accuracy, ts, higher_is_better=True)),
        "end_costs": [float(line.cost[0]), float(line.cost[-1])],
        "curve_epochs": args.curve_epochs or pick("curve_epochs"),
        "seconds_curve_training": seconds_curve,
    }


def datasets(args, first):
    """The main dataset, and Fashion-MNIST when its folder exists (not with --fast)."""
    found = [first]
    if args.fast or first.name == "fashion_mnist":
        return found
    if os.path.isdir(args.fashion_dir):
        found.append(jd.load_dataset("fashion_mnist", args.fashion_dir))
    else:
        print(f"note: no Fashion-MNIST at {args.fashion_dir}; install Debian's dataset-fashion-mnist to add it")
    return found


def main(argv=None):
    args = parse_args(argv)
    pick = lambda name: SIZES[name][1 if args.fast else 0]
    first, out = cli.setup(args, "landscape_zoo")
    io.write_json(os.path.join(out, "config.json"), vars(args))
    results = {}
    for dataset in datasets(args, first):
        models = train_models(dataset, args, pick)
        record, densities = {}, {}
        for i, (name, (loss, accuracy, params, seconds)) in enumerate(models.items()):
            slug = name.split()[-1].lower()
            figure = os.path.join(out, f"surface_{dataset.name}_{slug}.png")
            key = jax.random.fold_in(jax.random.key(args.seed), i)
            record[name], densities[name] = analyse(name, loss, accuracy, params, dataset, args, pick, key, figure)
            print(
                f"{dataset.name}, {name}: trained in {seconds:.0f} s, surface and curvature in "
                f"{record[name]['seconds_surface'] + record[name]['seconds_curvature']:.0f} s",
                flush=True,
            )
            record[name]["seconds_training"] = seconds
        landscape.plot_density(
            os.path.join(out, f"density_{dataset.name}.png"),
            densities,
            title=f"Hessian eigenvalue density, {dataset.name} (dotted: the largest node)",
        )
        record["CNN barrier"] = cnn_barrier(dataset, args, pick, os.path.join(out, f"barrier_{dataset.name}.png"))
        results[dataset.name] = record
    summary = []
    for name, record in results.items():
        for model, m in record.items():
            if model == "CNN barrier":
                summary.append(
                    f"{name}: CNN barrier {m['line_cost_barrier']:.3f} on the line, "
                    f"{m['curve_cost_barrier']:.3f} on the trained curve"
                )
            else:
                summary.append(
                    f"{name}, {model}: test accuracy {m['test_accuracy']:.1%}, top eigenvalue "
                    f"{m['top_eigenvalue']:.3g}, trace {m['hessian_trace']:.3g} ± {m['hessian_trace_stderr']:.2g}, "
                    f"{m['surface_points']}-point surface in {m['seconds_surface']:.2f} s"
                )
    return cli.finish(out, "landscape_zoo", args, first, {"models": results}, summary)


if __name__ == "__main__":
    cli.run(main, cpu_devices="cores")  # the surfaces: one device per core

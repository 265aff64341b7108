"""The explorer's page data: training runs made into one self-contained HTML page.

Runs become a page in three moves:

1. **frames** — each run's parameters at chosen moments: the untrained network, every
   snapshot of the first epoch (where most of the learning happens), and the network at the
   end of later epochs (``frames_from_snapshots``; snapshots are recorded inside the compiled
   epoch by ``jaxdigits.training.scan_with_snapshots``). A page carries one or more ``Run``s
   on the same schedule of steps, e.g. the K learning rates of the page's dial
   (``jaxdigits.explorer.runs_from_population``);
2. **measurements** — the test cost and accuracy of every frame, where a run blew up, a few
   test images (the misclassified ones among them), and the cost landscape on one plane for
   all runs: the top-2 principal directions of all their frames
   (``jaxdigits.landscape.pca_directions``, centred on the final network of the run the page
   opens with) and the cost on grids of that plane (``jaxdigits.landscape.surface``);
3. **render** — the page template (``jaxdigits/explorer/page/``: HTML, CSS and JavaScript shipped in
   the package) with everything inlined: no file or server is asked for anything.

Parameters travel as one vector per frame, layer by layer, each layer's weights (n_in, n_out)
row by row and then its biases — the layout ``flat_params`` writes and the page's ``forward``
reads — in float16 (``PAGE_DTYPE``; half the bytes of float32, so that six runs fit in a few MB)
or float32. ``frames_of`` reads back exactly the numbers the page computes with. The page's
forward pass, its backpropagation, its drawing preprocessing (``jaxdigits.data.mnist_style``)
and its frames are tested against this module and ``jax.grad`` in a real browser.

Left out: networks other than fully connected ones with at most ``MAX_HIDDEN`` neurons per
hidden layer (the page draws every neuron), and outputs other than the 10 digits.
"""

from __future__ import annotations

import base64
import json
import re
from importlib import resources
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxdigits import landscape
from jaxdigits.errors import InvalidArgument
from jaxdigits.network import VideoLoss, accuracy, cost_function, layer_sizes_of, predict
from jaxdigits.training import MARGIN, majority_rate
from jaxdigits.typing import ArrayLike, Network

__all__ = [
    "PAGE_DTYPE",
    "PAGE_FILES",
    "Run",
    "blew_up_at",
    "check_network",
    "check_sizes",
    "flat_params",
    "frame_metrics",
    "frames_from_snapshots",
    "frames_of",
    "later_epochs",
    "page_data",
    "pick_examples",
    "read_page",
    "render_page",
    "trajectory_landscape",
]

MAX_HIDDEN, MAX_LAYERS = 32, 4
PAGE_FILES = ("explorer.html", "explorer.css", "backprop.js", "explorer.js")  # the scripts in order
PAGE_DTYPE = "float16"  # how frames travel in a page; "float32" keeps them exact


class Run(NamedTuple):
    """One training run a page replays.

    ``frames``: its parameters on the page's schedule of steps (``frames_from_snapshots``);
    ``history``: its per-epoch records (``train``'s history); ``status`` and ``reason``: the
    ``jaxdigits.training.judge`` verdict (``"ok"``, ``"failed_to_learn"``) or ``"diverged"``;
    ``blew_up``: the first frame of a blow-up when known (else found from the test accuracy).
    """

    learning_rate: float
    frames: list
    history: list
    status: str = "ok"
    reason: str | None = None
    blew_up: int | None = None


def check_network(params: Network, num_pixels: int) -> None:
    """Raise a one-line ValueError unless the page can draw ``params`` for images of ``num_pixels``."""
    return check_sizes(layer_sizes_of(params), num_pixels)


def check_sizes(sizes: tuple[int, ...], num_pixels: int) -> None:
    """``check_network`` for a network of layer ``sizes`` (inputs first)."""
    sizes = tuple(sizes)
    shape = "-".join(map(str, sizes))
    if sizes[0] != num_pixels:
        raise InvalidArgument(f"a {shape} network takes {sizes[0]} pixels, the images have {num_pixels}")
    if sizes[-1] != 10:
        raise InvalidArgument(f"a {shape} network has {sizes[-1]} outputs; the explorer shows the 10 digits")
    if len(sizes) - 1 > MAX_LAYERS or max(sizes[1:-1], default=0) > MAX_HIDDEN:
        raise InvalidArgument(
            f"the explorer draws up to {MAX_LAYERS} layers of up to {MAX_HIDDEN} neurons, got {shape}"
        )
    return sizes


def frames_from_snapshots(
    initial: Network,
    snapshots: list,
    final: Network,
    steps_per_epoch: int,
    every: int,
    dense_epochs: int = 1,
    later: int | None = None,
) -> tuple[list[int], list[Network]]:
    """The moments the page replays: ``(steps, params)``, two lists in order of training.

    Args:
      initial: the untrained parameters (step 0).
      snapshots: per epoch, the stacked parameters after steps k, 2k, … of that epoch (from
        ``train(..., snapshot_every=k)``).
      final: the parameters at the end of training.
      steps_per_epoch, every: steps in an epoch and k.
      dense_epochs: epochs whose every snapshot is kept; later epochs keep their last one.
      later: how many later epochs keep theirs: all (None), or about this many spaced
        geometrically (denser early, where the cost still falls fast), the last one always.

    The final parameters are the last frame (added if the last snapshot is not the end).
    """
    steps, frames = [0], [jax.tree.map(np.asarray, initial)]
    kept_epochs = later_epochs(dense_epochs, len(snapshots), later)
    for e, stacked in enumerate(snapshots):
        if e >= dense_epochs and e not in kept_epochs:
            continue
        count = jax.tree.leaves(stacked)[0].shape[0]
        kept = range(count) if e < dense_epochs else [count - 1]
        for j in kept:
            steps.append(e * steps_per_epoch + (j + 1) * every)
            frames.append(jax.tree.map(lambda x, j=j: np.asarray(x[j]), stacked))
    end = len(snapshots) * steps_per_epoch
    if steps[-1] != end:
        steps.append(end)
        frames.append(jax.tree.map(np.asarray, final))
    return steps, frames


def later_epochs(dense_epochs: int, epochs: int, count: int | None) -> set[int]:
    """0-based epochs after the dense ones whose ends ``frames_from_snapshots`` keeps."""
    if count is None or count >= epochs - dense_epochs:
        return set(range(dense_epochs, epochs))
    if count <= 1:
        return {epochs - 1}
    for n in range(count, epochs + 1):  # rounding merges early points: ask for more until enough
        kept = {int(e) - 1 for e in np.round(np.geomspace(dense_epochs + 1, epochs, n))}  # 1-based -> 0-based
        if len(kept) >= count:
            break
    return kept | {epochs - 1}


def flat_params(params: Network) -> np.ndarray:
    """One float32 vector: per layer the weights (n_in, n_out) row by row, then the biases."""
    parts = [part for layer in params for part in (layer["w"], layer["b"])]
    return np.concatenate([np.asarray(part, np.float32).ravel() for part in parts])


def _finite_or_none(value):
    """JSON has no NaN or infinity (a diverged run's last record holds them): None instead."""
    return None if isinstance(value, float) and not np.isfinite(value) else value


def _b64(array):
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii")


@jax.jit
def _stack(frames):
    return jax.tree.map(lambda *xs: jnp.stack(xs), *frames)


def frame_metrics(
    frames: list[Network], images: ArrayLike, labels: ArrayLike, *, cost: str = "mse", activation: str = "sigmoid"
) -> dict:
    """Cost and accuracy of every frame on ``images``, ``labels``: two (F,) float arrays."""

    def measure(params):
        return cost_function(cost)(params, images, labels, activation), accuracy(params, images, labels, activation)

    costs, accuracies = jax.jit(jax.vmap(measure))(_stack(frames))
    return np.asarray(costs, np.float64), np.asarray(accuracies, np.float64)


def trajectory_landscape(
    runs: list[list[Network]],
    images: ArrayLike,
    labels: ArrayLike,
    *,
    center: int = 0,
    grid: int = 41,
    margin: float = 0.25,
    cost: str = "mse",
    activation: str = "sigmoid",
) -> dict:
    """The cost on one plane for every run: the top-2 principal directions of all their frames.

    A run whose η is far too large travels far from the others (or jumps to a plateau), so one
    grid over every path would leave the valley the good runs walk in a few cells wide. The
    plane gets two grids, each ``grid`` points a side: one over every path, and the valley, over
    the path of run ``center`` (the page opens with it).

    Args:
      runs: each run's frames (a list of parameter pytrees per run; one run is ``[frames]``).
      images, labels: the set the cost is measured on.
      center: the run whose final frame is the plane's origin and whose path the valley frames.
      grid, margin: points per axis; room around the paths, as a share of their extent.

    Returns a dict for the page: ``alphas`` (A,), ``betas`` (B,), ``cost`` (A·B, row α) of the
    whole grid, ``valley`` (the same three for the valley grid; None for one run), ``coords`` —
    per run, its (F, 2) frames projected on the plane (the centre at (0, 0)) — ``explained``
    (the two explained variance ratios of all the frames), ``center`` and the seconds the grids took.
    """
    every = [frame for frames in runs for frame in frames]
    pca = landscape.pca_directions(every, center=runs[center][-1])
    bounds = np.cumsum([0] + [len(frames) for frames in runs])
    coords = [pca.coords[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
    regions = [pca.coords] + ([coords[center]] if len(runs) > 1 else [])
    loss = VideoLoss(cost, activation)
    grids, seconds = [], 0.0
    for points in regions:  # the whole plane, then the valley
        lo, hi = points.min(axis=0), points.max(axis=0)
        pad = margin * np.maximum(hi - lo, 1e-3)
        axes = [landscape.axis((lo[i] - pad[i], hi[i] + pad[i]), grid) for i in range(2)]
        result = landscape.surface(loss, runs[center][-1], (images, labels), (pca.d1, pca.d2), *axes)
        values = np.asarray(result.cost, np.float64).ravel()
        values = np.where(np.isfinite(values), values, np.max(values[np.isfinite(values)]))  # JSON has no inf
        grids.append({"alphas": axes[0].tolist(), "betas": axes[1].tolist(), "cost": values.tolist()})
        seconds += result.seconds + result.seconds_compile
    return {
        **grids[0],
        "valley": grids[1] if len(grids) > 1 else None,
        "coords": [c.tolist() for c in coords],
        "explained": pca.explained_variance_ratio.tolist(),
        "center": center,
        "images": int(len(labels)),
        "seconds": seconds,
    }


def blew_up_at(test_accuracy: ArrayLike, labels: ArrayLike) -> int | None:
    """The frame from which a run stays no better than guessing the commonest class, or None.

    A learning rate far too large need not make the cost infinite: with sigmoid neurons the
    network saturates and answers one class for every image (``jaxdigits.training.judge``).
    ``page_data`` asks this of the runs that learnt nothing (``Run.status``) whose η is larger
    than that of the page's best run, or whose cost ended no lower than it started; a run whose
    η was too small to get anywhere also learnt nothing, but did not blow up. Frame 0, the
    untrained network, is never the blow-up.
    """
    bad = np.asarray(test_accuracy) <= majority_rate(labels) + MARGIN
    if len(bad) < 2 or not bad[-1]:
        return None
    good = np.flatnonzero(~bad)
    return int(good[-1]) + 1 if len(good) else 1


def pick_examples(
    params: Network,
    images: ArrayLike,
    labels: ArrayLike,
    *,
    activation: str = "sigmoid",
    first: int = 28,
    wrong: int = 12,
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of test images to choose from: the ``first`` ones and up to ``wrong`` misclassified."""
    guesses = np.asarray(jnp.argmax(predict(params, images, activation), axis=1))
    missed = np.flatnonzero(guesses != np.asarray(labels))
    chosen = list(range(min(first, len(labels)))) + [int(i) for i in missed if i >= first][:wrong]
    return np.array(chosen), guesses[chosen]


def page_data(
    steps: list[int],
    runs: list[Run],
    images: ArrayLike,
    labels: ArrayLike,
    *,
    meta: dict,
    surface: dict | None = None,
    default_run: int = 0,
    activation: str = "sigmoid",
    cost: str = "mse",
    dtype: str = PAGE_DTYPE,
) -> dict:
    """Everything the page shows, as one JSON-ready dict (see the module docstring for the layout).

    Args:
      steps: the training step of every frame, shared by the runs (``frames_from_snapshots``;
        one frame is allowed: no replay).
      runs: ``Run``s with one frame per step (several: the page's learning-rate dial).
      images, labels: the test set; every frame's cost and accuracy and a choice of examples go in.
      meta: key numbers of the training (dataset, preset, seconds, image shape, …).
      surface: ``trajectory_landscape``'s dict, or None when there is no trajectory.
      default_run: the run the page opens with; its final network chooses the examples.
      dtype: ``"float16"`` or ``"float32"``, how the frames travel (``PAGE_DTYPE``).
    """
    if dtype not in ("float16", "float32"):
        raise InvalidArgument(f'dtype must be "float16" or "float32", got {dtype!r}')
    for run in runs:
        if len(run.frames) != len(steps):
            raise InvalidArgument(f"a run has {len(run.frames)} frames for {len(steps)} steps; give one per step")
    shown = runs[default_run]
    chosen, guesses = pick_examples(shown.frames[-1], images, labels, activation=activation)
    every = [frame for run in runs for frame in run.frames]  # one program measures every run's frames
    costs, accuracies = frame_metrics(every, images, labels, cost=cost, activation=activation)
    costs, accuracies = costs.reshape(len(runs), -1), accuracies.reshape(len(runs), -1)
    best = runs[int(np.argmax(accuracies[:, -1]))].learning_rate
    pages = []
    for run, test_cost, test_accuracy in zip(runs, costs, accuracies):
        blew_up = run.blew_up
        if blew_up is None and run.status != "ok" and (run.learning_rate > best or test_cost[-1] >= test_cost[0]):
            blew_up = blew_up_at(test_accuracy, labels)
        pages.append(
            {
                "learning_rate": float(run.learning_rate),
                "status": run.status,
                "reason": run.reason,
                "blew_up": blew_up,
                "test_cost": test_cost.tolist(),
                "test_accuracy": test_accuracy.tolist(),
                "history": [{k: _finite_or_none(v) for k, v in row.items()} for row in run.history],
                "params": _b64(np.stack([flat_params(f) for f in run.frames]).astype(dtype)),
            }
        )
    return {
        "meta": {
            **meta,
            "sizes": list(layer_sizes_of(shown.frames[-1])),
            "activation": activation,
            "cost": cost,
            "param_dtype": dtype,
        },
        "frames": {"step": [int(s) for s in steps]},
        "runs": pages,
        "default_run": int(default_run),
        "examples": {
            "index": chosen.tolist(),
            "labels": np.asarray(labels)[chosen].tolist(),
            "guesses": guesses.tolist(),
            "pixels": _b64(np.asarray(images, np.float32)[chosen]),
        },
        "landscape": surface,
    }


def render_page(data: dict) -> str:
    """The page's HTML: the template with its CSS, JavaScript and ``data`` inlined."""
    folder = resources.files("jaxdigits.explorer") / "page"
    html, css, *scripts = (folder.joinpath(name).read_text(encoding="utf-8") for name in PAGE_FILES)
    js = "\n".join(scripts)
    # allow_nan=False: JSON has no NaN, the page's JSON.parse would fail on one
    payload = json.dumps(data, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")  # never closes the script
    for mark, text in (("/*{{CSS}}*/", css), ("/*{{JS}}*/", js), ("{{DATA}}", payload)):
        if html.count(mark) != 1:
            raise RuntimeError(f"explorer template: expected one {mark}")
        head, tail = html.split(mark)
        html = head + text + tail
    return html


def read_page(path: str) -> dict:
    """The data dict inlined in an explorer page written by ``render_page``."""
    with open(path, encoding="utf-8") as f:
        html = f.read()
    found = re.search(r'<script type="application/json" id="run-data">(.*?)</script>', html, re.S)
    if found is None:
        raise InvalidArgument(f"{path}: not an explorer page (no run-data script in it)")
    return json.loads(found.group(1))


def frames_of(data: dict, run: int | None = None) -> list[Network]:
    """A run's frames back from page data (default: the run the page opens with).

    A list of ``{"w", "b"}`` layer lists in float32: the numbers the page computes with
    (float16 frames widen to float32 exactly).
    """
    sizes = data["meta"]["sizes"]
    page_run = data["runs"][data["default_run"] if run is None else run]
    dtype = data["meta"].get("param_dtype", "float32")
    vectors = np.frombuffer(base64.b64decode(page_run["params"]), dtype).astype(np.float32)
    vectors = vectors.reshape(len(data["frames"]["step"]), -1)
    frames = []
    for vector in vectors:
        params, offset = [], 0
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            w = vector[offset : offset + n_in * n_out].reshape(n_in, n_out)
            b = vector[offset + n_in * n_out : offset + (n_in + 1) * n_out]
            params.append({"w": w, "b": b})
            offset += (n_in + 1) * n_out
        frames.append(params)
    return frames

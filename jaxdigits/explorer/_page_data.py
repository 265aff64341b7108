"""The explorer's page data: a run made into one self-contained HTML page.

A run becomes a page in three moves:

1. **frames** — the parameters at chosen moments: the untrained network, every snapshot of
   the first epoch (where most of the learning happens), and the network at the end of every
   later epoch (``frames_from_snapshots``; snapshots are recorded inside the compiled epoch by
   ``jaxdigits.training.scan_with_snapshots``);
2. **measurements** — the test cost and accuracy of every frame, a few test images (the
   misclassified ones among them), and the cost landscape on the plane of the trajectory: its
   top-2 principal directions (``jaxdigits.landscape.pca_directions``, centred on the final
   network) and the cost on a grid of that plane (``jaxdigits.landscape.surface``);
3. **render** — the page template (``jaxdigits/explorer/page/``: HTML, CSS and JavaScript shipped in
   the package) with everything inlined: no file or server is asked for anything.

Parameters travel as one float32 vector per frame, layer by layer, each layer's weights
(n_in, n_out) row by row and then its biases — the layout ``flat_params`` writes and the
page's ``forward`` reads. The page's forward pass, its drawing preprocessing
(``jaxdigits.data.mnist_style``) and its frames are tested against this module in a real browser.

Left out: networks other than fully connected ones with at most ``MAX_HIDDEN`` neurons per
hidden layer (the page draws every neuron), and outputs other than the 10 digits.
"""

from __future__ import annotations

import base64
import json
import re
from importlib import resources

import jax
import jax.numpy as jnp
import numpy as np

from jaxdigits import landscape
from jaxdigits.errors import InvalidArgument
from jaxdigits.network import VideoLoss, accuracy, cost_function, layer_sizes_of, predict
from jaxdigits.typing import ArrayLike, Network

__all__ = [
    "PAGE_FILES",
    "check_network",
    "check_sizes",
    "flat_params",
    "frame_metrics",
    "frames_from_snapshots",
    "frames_of",
    "page_data",
    "pick_examples",
    "read_page",
    "render_page",
    "trajectory_landscape",
]

MAX_HIDDEN, MAX_LAYERS = 32, 4
PAGE_FILES = ("explorer.html", "explorer.css", "explorer.js")


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
) -> tuple[list[int], list[Network]]:
    """The moments the page replays: ``(steps, params)``, two lists in order of training.

    Args:
      initial: the untrained parameters (step 0).
      snapshots: per epoch, the stacked parameters after steps k, 2k, … of that epoch (from
        ``train(..., snapshot_every=k)``).
      final: the parameters at the end of training.
      steps_per_epoch, every: steps in an epoch and k.
      dense_epochs: epochs whose every snapshot is kept; later epochs keep their last one.

    The final parameters are the last frame (added if the last snapshot is not the end).
    """
    steps, frames = [0], [jax.tree.map(np.asarray, initial)]
    for e, stacked in enumerate(snapshots):
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


def flat_params(params: Network) -> np.ndarray:
    """One float32 vector: per layer the weights (n_in, n_out) row by row, then the biases."""
    parts = [part for layer in params for part in (layer["w"], layer["b"])]
    return np.concatenate([np.asarray(part, np.float32).ravel() for part in parts])


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
    frames: list[Network],
    images: ArrayLike,
    labels: ArrayLike,
    *,
    grid: int = 41,
    margin: float = 0.25,
    cost: str = "mse",
    activation: str = "sigmoid",
) -> dict:
    """The cost on the plane of the trajectory's top-2 principal directions, around the final frame.

    Returns a dict for the page: ``alphas`` (A,), ``betas`` (B,), ``cost`` (A·B, row α),
    ``coords`` (F, 2) — every frame projected on the plane, the final one at (0, 0) —
    ``explained`` (the two explained variance ratios) and the seconds the grid took.
    """
    pca = landscape.pca_directions(frames)
    lo, hi = pca.coords.min(axis=0), pca.coords.max(axis=0)
    pad = margin * np.maximum(hi - lo, 1e-3)
    axes = [landscape.axis((lo[i] - pad[i], hi[i] + pad[i]), grid) for i in range(2)]
    loss = VideoLoss(cost, activation)
    result = landscape.surface(loss, frames[-1], (images, labels), (pca.d1, pca.d2), *axes)
    return {
        "alphas": axes[0].tolist(),
        "betas": axes[1].tolist(),
        "cost": np.asarray(result.cost, np.float64).ravel().tolist(),
        "coords": pca.coords.tolist(),
        "explained": pca.explained_variance_ratio.tolist(),
        "images": int(len(labels)),
        "seconds": result.seconds + result.seconds_compile,
    }


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
    frames: list[Network],
    images: ArrayLike,
    labels: ArrayLike,
    *,
    meta: dict,
    history: list,
    surface: dict | None = None,
    activation: str = "sigmoid",
    cost: str = "mse",
) -> dict:
    """Everything the page shows, as one JSON-ready dict (see the module docstring for the layout).

    Args:
      steps, frames: from ``frames_from_snapshots`` (one frame is allowed: no replay).
      images, labels: the test set; its costs per frame and a choice of examples go in.
      meta: key numbers of the run (dataset, preset, accuracy, seconds, image shape, …).
      history: per-epoch records from ``train`` (cost and accuracy curves).
      surface: ``trajectory_landscape``'s dict, or None when there is no trajectory.
    """
    test_cost, test_accuracy = frame_metrics(frames, images, labels, cost=cost, activation=activation)
    chosen, guesses = pick_examples(frames[-1], images, labels, activation=activation)
    return {
        "meta": {**meta, "sizes": list(layer_sizes_of(frames[-1])), "activation": activation, "cost": cost},
        "frames": {
            "step": [int(s) for s in steps],
            "test_cost": test_cost.tolist(),
            "test_accuracy": test_accuracy.tolist(),
            "params": _b64(np.stack([flat_params(f) for f in frames])),
        },
        "history": history,
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
    html, css, js = (folder.joinpath(name).read_text(encoding="utf-8") for name in PAGE_FILES)
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")  # never closes the script tag
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


def frames_of(data: dict) -> list[Network]:
    """The frames' parameters back from page data: a list of ``{"w", "b"}`` layer lists (float32)."""
    sizes = data["meta"]["sizes"]
    vectors = np.frombuffer(base64.b64decode(data["frames"]["params"]), np.float32)
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

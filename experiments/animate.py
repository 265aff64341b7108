"""Animations of training from an explorer page: gradient descent on the PCA plane of the paths,
the first layer's weight images as they learn, and every learning rate of the page's dial racing
on one plane. GIF and MP4 each.

    python experiments/explore.py --out runs/explore                 # the page first
    python experiments/animate.py --page runs/explore/explorer.html --out runs/animations

Writes into ``--out``: ``descent.gif``/``.mp4`` (the run the page opens with: the cost map of its
valley with the moving point and its fading path, the test cost beside it), ``weights.gif``/``.mp4``
(its 16 weight images) and, for a page with several runs, ``learning_rates.gif``/``.mp4`` (every
run's path on the whole plane, each in its colour, with its test cost beside). One animation frame
per recorded frame of the page (dense in epoch 1), the last one held. MP4s are encoded by the
ffmpeg that ``imageio-ffmpeg`` ships.
"""

from __future__ import annotations

import argparse
import os

import numpy as np

from jaxdigits import cli, explorer, io
from jaxdigits.errors import InvalidArgument, MissingFile, OutputExists
from jaxdigits.plots import pyplot

FPS, HOLD = 8, 16  # frames per second; frames the last picture is held


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--page", required=True, help="an explorer.html written by experiments/explore.py")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--overwrite", action="store_true", help="allow replacing animations in --out")
    p.add_argument("--dpi", type=int, default=90)
    return p.parse_args(argv)


def canvas_rgb(fig):
    """The figure's pixels as an (H, W, 3) uint8 array."""
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()


def cost_map(ax, grid, explained):
    """The test cost (log) of one grid of the plane as filled contours, axes named by their PCs."""
    alphas, betas = np.array(grid["alphas"]), np.array(grid["betas"])
    cost = np.log10(np.array(grid["cost"]).reshape(len(alphas), len(betas)))
    ax.contourf(alphas, betas, cost.T, levels=24, cmap="viridis")
    ax.contour(alphas, betas, cost.T, levels=12, colors="white", linewidths=0.4, alpha=0.5)
    ax.set_xlabel(f"PC1 ({explained[0]:.1%} of the paths' variance)")
    ax.set_ylabel(f"PC2 ({explained[1]:.1%})")
    ax.set_xlim(alphas[0], alphas[-1])
    ax.set_ylim(betas[0], betas[-1])


def descent_frames(data, dpi):
    """Pictures of the descent: cost map with the path so far (left), test cost so far (right)."""
    land, shown = data["landscape"], data["runs"][data["default_run"]]
    frames = {"test_cost": shown["test_cost"], "test_accuracy": shown["test_accuracy"]}
    coords = np.array(land["coords"][data["default_run"]])
    epochs = np.array(data["frames"]["step"]) / data["meta"]["steps_per_epoch"]
    fig, (left, right) = pyplot().subplots(1, 2, figsize=(9, 4), dpi=dpi, gridspec_kw={"width_ratios": [1.1, 1]})
    cost_map(left, land["valley"] or land, land["explained"])
    left.set_title(f"test cost (log) on the plane of the paths, η = {shown['learning_rate']:g}", fontsize=10)
    right.set_xscale("function", functions=(np.sqrt, np.square))
    right.set_xlim(0, epochs[-1] * 1.03)
    right.set_ylim(0, max(frames["test_cost"]) * 1.05)
    right.set_xlabel("epoch (square-root scale)")
    right.set_title("test cost")
    path_line = left.plot([], [], color="white", lw=1.5)[0]
    trail = left.scatter([], [], s=8, color="white")
    point = left.plot([], [], "o", ms=9, color="#ff3b30", mec="white")[0]
    curve = right.plot([], [], color="#1f5fbf", lw=2)[0]
    cursor = right.plot([], [], "o", color="#1f5fbf")[0]
    label = right.text(0.95, 0.6, "", transform=right.transAxes, ha="right", fontsize=12)
    fig.suptitle(f"Gradient descent on {data['meta']['dataset']}: the video's 784-16-16-10 network learning")
    fig.tight_layout()
    pictures = []
    for f in range(len(epochs)):
        path_line.set_data(coords[: f + 1, 0], coords[: f + 1, 1])
        fade = np.clip(1 - (f - np.arange(f + 1)) / 12, 0.15, 1)  # older points fade
        trail.set_offsets(coords[: f + 1])
        trail.set_alpha(None)
        trail.set_facecolor([(1, 1, 1, a) for a in fade])
        path_line.set_alpha(0.6)
        point.set_data([coords[f, 0]], [coords[f, 1]])
        curve.set_data(epochs[: f + 1], frames["test_cost"][: f + 1])
        cursor.set_data([epochs[f]], [frames["test_cost"][f]])
        label.set_text(f"epoch {epochs[f]:.2f}\naccuracy {frames['test_accuracy'][f]:.1%}")
        pictures.append(canvas_rgb(fig))
    pyplot().close(fig)
    return pictures


def learning_rate_frames(data, dpi):
    """Pictures of every run at once: all paths so far on the whole plane (left), test costs (right)."""
    land, runs = data["landscape"], data["runs"]
    epochs = np.array(data["frames"]["step"]) / data["meta"]["steps_per_epoch"]
    colours = pyplot().get_cmap("plasma")(np.linspace(0, 0.85, len(runs)))
    fig, (left, right) = pyplot().subplots(1, 2, figsize=(10, 4.4), dpi=dpi, gridspec_kw={"width_ratios": [1.1, 1]})
    cost_map(left, land, land["explained"])
    left.set_title("every learning rate on one plane: test cost (log)", fontsize=10)
    right.set_xscale("function", functions=(np.sqrt, np.square))
    right.set_xlim(0, epochs[-1] * 1.03)
    right.set_ylim(0, max(max(run["test_cost"]) for run in runs) * 1.05)
    right.set_xlabel("epoch (square-root scale)")
    right.set_title("test cost", fontsize=10)
    lines = []
    for run, colour in zip(runs, colours):
        style = "--" if run["blew_up"] is not None else "-"
        words = f"η = {run['learning_rate']:g}" + (" (blew up)" if run["blew_up"] is not None else "")
        path = left.plot([], [], style, color=colour, lw=1.8, path_effects=[outline()])[0]
        point = left.plot([], [], "o", ms=6, color=colour, mec="white")[0]
        curve = right.plot([], [], style, color=colour, lw=2, label=words)[0]
        lines.append((np.array(land["coords"][len(lines)]), np.array(run["test_cost"]), path, point, curve))
    right.legend(loc="upper right", fontsize=8)
    title = fig.suptitle("")
    fig.tight_layout(rect=(0, 0, 1, 0.94))
    pictures = []
    for f in range(len(epochs)):
        for coords, cost, path, point, curve in lines:
            path.set_data(coords[: f + 1, 0], coords[: f + 1, 1])
            point.set_data([coords[f, 0]], [coords[f, 1]])
            curve.set_data(epochs[: f + 1], cost[: f + 1])
        title.set_text(f"{len(runs)} learning rates from one initial network, epoch {epochs[f]:.2f}")
        pictures.append(canvas_rgb(fig))
    pyplot().close(fig)
    return pictures


def outline():
    """A white edge under a line, so that it reads on any colour of the map."""
    from matplotlib import patheffects  # matplotlib comes in through jaxdigits.plots.pyplot

    return patheffects.withStroke(linewidth=3.2, foreground="white")


def weight_frames(data, dpi):
    """Pictures of the first layer's weight images (one per hidden neuron), frame by frame.

    Blue positive, red negative, as on the page.
    """
    meta = data["meta"]
    shape = tuple(meta["image_shape"])
    epochs = np.array(data["frames"]["step"]) / meta["steps_per_epoch"]
    frames = explorer.frames_of(data)  # the run the page opens with
    n = frames[0][0]["w"].shape[1]
    cols = 8 if n > 8 else n
    fig, axes = pyplot().subplots(-(-n // cols), cols, figsize=(1.1 * cols, 1.1 * -(-n // cols) + 0.4), dpi=dpi)
    axes = np.ravel(axes)
    images = []
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
        # 15 colours, no smoothing: flat areas that GIF's compression keeps small
        images.append(
            ax.imshow(np.zeros(shape), cmap=pyplot().get_cmap("RdBu", 15), vmin=-1, vmax=1, interpolation="nearest")
        )
    title = fig.suptitle("")
    fig.tight_layout(rect=(0, 0, 1, 0.9))
    pictures = []
    for f, params in enumerate(frames):
        w = params[0]["w"]
        for j, image in enumerate(images[:n]):
            column = w[:, j]
            image.set_data(column.reshape(shape) / max(np.abs(column).max(), 1e-12))  # each on its own scale
        title.set_text(f"first-layer weights (blue +, red −, each on its own scale), epoch {epochs[f]:.2f}")
        pictures.append(canvas_rgb(fig))
    pyplot().close(fig)
    return pictures


def write(pictures, path):
    """``pictures`` as a GIF or MP4 (by the extension), the last one held; atomically."""
    import imageio.v2 as imageio  # only here: video encoding is this script's alone
    from PIL import Image

    with io.atomic_path(path) as tmp:
        if path.endswith(".gif"):
            # One shared palette, no dithering: dithered noise would defeat GIF's compression.
            palette = Image.fromarray(np.concatenate(pictures[:: max(1, len(pictures) // 8)])).quantize(
                128, method=Image.Quantize.FASTOCTREE
            )
            frames = [Image.fromarray(p).quantize(palette=palette, dither=Image.Dither.NONE) for p in pictures]
            durations = [1000 // FPS] * (len(frames) - 1) + [1000 * HOLD // FPS]
            frames[0].save(tmp, format="GIF", save_all=True, append_images=frames[1:], duration=durations, loop=0)
        else:
            pictures = pictures + [pictures[-1]] * HOLD
            # H.264 players want sides in whole 16-pixel blocks: crop the few pixels over
            blocks = [p[: p.shape[0] // 16 * 16, : p.shape[1] // 16 * 16] for p in pictures]
            imageio.mimsave(tmp, blocks, format="FFMPEG", fps=FPS, codec="libx264", pixelformat="yuv420p", quality=7)
    return os.path.getsize(path)


def main(argv=None):
    args = parse_args(argv)
    if not os.path.isfile(args.page):
        raise MissingFile(f"--page {args.page!r} not found; make one with experiments/explore.py")
    data = explorer.read_page(args.page)
    if data["landscape"] is None or len(data["frames"]["step"]) < 3:
        raise InvalidArgument(f"{args.page} holds no training trajectory (made with --params?): nothing to animate")
    kinds = {"descent": descent_frames, "weights": weight_frames}
    if len(data["runs"]) > 1:
        kinds["learning_rates"] = learning_rate_frames
    names = [f"{what}.{ext}" for what in kinds for ext in ("gif", "mp4")]
    clash = [n for n in names if os.path.exists(os.path.join(args.out, n))]
    if clash and not args.overwrite:
        raise OutputExists(f"{args.out} already holds {', '.join(clash)}; choose another --out or pass --overwrite")
    sizes = {}
    for what, make in kinds.items():
        pictures = make(data, args.dpi)
        for ext in ("gif", "mp4"):
            path = os.path.join(args.out, f"{what}.{ext}")
            sizes[path] = write(pictures, path)
    for path, size in sizes.items():
        print(f"wrote {path} ({size / 1e6:.2f} MB)")
    return sizes


if __name__ == "__main__":
    cli.run(main)

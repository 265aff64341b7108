"""Animations of a run from its explorer page: gradient descent on the trajectory's PCA plane,
and the first layer's weight images as they learn. GIF and MP4 each.

    python experiments/explore.py --out runs/explore                 # the page first
    python experiments/animate.py --page runs/explore/explorer.html --out runs/animations

Writes ``descent.gif``/``.mp4`` (the cost map with the moving point and its fading path, the
test cost beside it) and ``weights.gif``/``.mp4`` (the 16 weight images) into ``--out``. One
animation frame per recorded frame of the page (dense in epoch 1), the last one held.
MP4s are encoded by the ffmpeg that ``imageio-ffmpeg`` ships.
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


def descent_frames(data, dpi):
    """Pictures of the descent: cost map with the path so far (left), test cost so far (right)."""
    land, frames = data["landscape"], data["frames"]
    alphas, betas = np.array(land["alphas"]), np.array(land["betas"])
    cost = np.log10(np.array(land["cost"]).reshape(len(alphas), len(betas)))
    coords = np.array(land["coords"])
    epochs = np.array(frames["step"]) / data["meta"]["steps_per_epoch"]
    fig, (left, right) = pyplot().subplots(1, 2, figsize=(9, 4), dpi=dpi, gridspec_kw={"width_ratios": [1.1, 1]})
    left.contourf(alphas, betas, cost.T, levels=24, cmap="viridis")
    left.contour(alphas, betas, cost.T, levels=12, colors="white", linewidths=0.4, alpha=0.5)
    left.set_xlabel(f"PC1 ({land['explained'][0]:.1%} of the path's variance)")
    left.set_ylabel(f"PC2 ({land['explained'][1]:.1%})")
    left.set_title("test cost (log) on the plane of the path")
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


def weight_frames(data, dpi):
    """Pictures of the first layer's weight images (one per hidden neuron), frame by frame.

    Blue positive, red negative, as on the page.
    """
    meta = data["meta"]
    shape = tuple(meta["image_shape"])
    epochs = np.array(data["frames"]["step"]) / meta["steps_per_epoch"]
    frames = explorer.frames_of(data)
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
    names = [f"{what}.{ext}" for what in ("descent", "weights") for ext in ("gif", "mp4")]
    clash = [n for n in names if os.path.exists(os.path.join(args.out, n))]
    if clash and not args.overwrite:
        raise OutputExists(f"{args.out} already holds {', '.join(clash)}; choose another --out or pass --overwrite")
    sizes = {}
    for what, pictures in (("descent", descent_frames(data, args.dpi)), ("weights", weight_frames(data, args.dpi))):
        for ext in ("gif", "mp4"):
            path = os.path.join(args.out, f"{what}.{ext}")
            sizes[path] = write(pictures, path)
    for path, size in sizes.items():
        print(f"wrote {path} ({size / 1e6:.2f} MB)")
    return sizes


if __name__ == "__main__":
    cli.run(main)

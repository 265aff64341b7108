"""Figures (PNG), drawn with matplotlib's non-interactive backend: the shared helpers.

matplotlib is imported inside the functions, so ``import jaxdigits`` stays light. Every
figure is written atomically (``jaxdigits.io.atomic_path``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from jaxdigits.io import atomic_path
from jaxdigits.typing import ArrayLike

__all__ = ["image_grid", "plot_history", "pyplot", "save_figure"]


def pyplot() -> Any:
    """matplotlib.pyplot with the file-only Agg backend."""
    import matplotlib  # here, not at the top: matplotlib is heavy and only figures need it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: str) -> None:
    """Atomically save ``fig`` as a PNG and close it."""
    plt = pyplot()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, bbox_inches="tight")
    plt.close(fig)


def plot_history(history: list[dict], path: str, title: str = "", quantity: str = "cost") -> None:
    """Plot ``<split>_<quantity>`` per epoch for every split in a training history.

    Args:
      history: list of per-epoch dicts as ``train`` returns (epoch 0 = untrained); a
        record without ``<split>_<quantity>`` (an epoch not evaluated) is left out.
      path: PNG file to write.
      quantity: ``"cost"`` or ``"accuracy"``.
    """
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for key in sorted(k for k in history[0] if k.endswith(f"_{quantity}") and k != "batch_cost"):
        measured = [r for r in history if key in r]  # epochs without an evaluation have no point
        values = [r[key] * (100 if quantity == "accuracy" else 1) for r in measured]
        ax.plot(
            [r["epoch"] for r in measured], values, marker="o", markersize=3, label=key.removesuffix(f"_{quantity}")
        )
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy (%)" if quantity == "accuracy" else "cost")
    if quantity == "cost":
        ax.set_yscale("log")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    save_figure(fig, path)


def image_grid(
    axes: Any, images: ArrayLike, *, vmax: float | None = None, cmap: str = "RdBu_r", titles: list | None = None
) -> Any:
    """Draw (K, rows, cols) ``images`` on ``axes`` (K of them); diverging colours on one shared scale.

    Returns the last ``AxesImage`` (for a colour bar).
    """
    images = np.asarray(images)
    diverging = cmap in ("RdBu_r", "bwr", "coolwarm", "seismic")
    vmax = float(np.abs(images).max()) if vmax is None else vmax
    vmin = -vmax if diverging else 0.0
    shown = None
    for i, (ax, image) in enumerate(zip(np.ravel(axes), images)):
        shown = ax.imshow(image, cmap=cmap, vmin=vmin, vmax=vmax)
        ax.set_xticks([])
        ax.set_yticks([])
        if titles is not None:
            ax.set_title(titles[i], fontsize=7)
    return shown

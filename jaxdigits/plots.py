"""Figures of training runs (PNG), drawn with matplotlib's non-interactive backend.

matplotlib is imported inside the functions, so ``import jaxdigits`` stays light. Every
figure is written atomically (``jaxdigits.io.atomic_path``).
"""

from __future__ import annotations

from jaxdigits.io import atomic_path

__all__ = ["plot_history", "pyplot", "save_figure"]


def pyplot():
    """matplotlib.pyplot with the file-only Agg backend."""
    import matplotlib  # here, not at the top: matplotlib is heavy and only figures need it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path):
    """Atomically save ``fig`` as a PNG and close it."""
    plt = pyplot()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, bbox_inches="tight")
    plt.close(fig)


def plot_history(history, path, title="", quantity="cost"):
    """Plot ``<split>_<quantity>`` per epoch for every split in a training history.

    Args:
      history: list of per-epoch dicts as ``train`` returns (epoch 0 = untrained).
      path: PNG file to write.
      quantity: ``"cost"`` or ``"accuracy"``.
    """
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    epochs = [r["epoch"] for r in history]
    for key in sorted(k for k in history[0] if k.endswith(f"_{quantity}") and k != "batch_cost"):
        values = [r[key] * (100 if quantity == "accuracy" else 1) for r in history]
        ax.plot(epochs, values, marker="o", markersize=3, label=key.removesuffix(f"_{quantity}"))
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy (%)" if quantity == "accuracy" else "cost")
    if quantity == "cost":
        ax.set_yscale("log")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    save_figure(fig, path)

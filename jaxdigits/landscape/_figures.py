"""Figures of the cost landscape (PNG): 1-D slices, contours, filled contours, 3-D surfaces.

Far from the trained network the cost can overflow to ``inf`` or ``nan`` (e.g.
cross-entropy with enormous weighted sums). Such points are masked — left blank, and
counted in the title — rather than crashing the plot or stretching its colour scale.
With ``log=True`` the cost is drawn on a log scale (values ≤ 0 are masked too).
"""

from __future__ import annotations

import numpy as np

from jaxdigits.landscape._grids import Landscape
from jaxdigits.plots import pyplot, save_figure
from jaxdigits.typing import ArrayLike

__all__ = ["masked", "plot_contour", "plot_density", "plot_slices", "plot_surface_3d"]


def masked(values: ArrayLike, log: bool = False) -> np.ma.MaskedArray:
    """``values`` as a masked array: non-finite (and, for ``log``, non-positive) entries hidden."""
    values = np.ma.masked_invalid(np.asarray(values, np.float64))
    return np.ma.masked_less_equal(values, 0) if log else values


def _levels(z, count, log):
    if z.count() == 0:
        return None
    lo, hi = float(z.min()), float(z.max())
    if hi <= lo:
        return None
    return np.geomspace(lo, hi, count) if log else np.linspace(lo, hi, count)


def _masked_note(z):
    hidden = int(np.ma.count_masked(z))
    return f" ({hidden} overflowing points masked)" if hidden else ""


def plot_slices(
    path: str,
    alphas: ArrayLike,
    costs: dict,
    accuracies: dict | None = None,
    *,
    xlabel: str = "α",
    title: str = "",
    log: bool = False,
    marks: dict | None = None,
) -> None:
    """Cost (left) and accuracy (right) along 1-D slices, one line per entry.

    Args:
      path: PNG file to write.
      alphas: (A,) offsets, or a dict of them keyed like ``costs`` when slices differ.
      costs, accuracies: ``{label: (A,) values}``, e.g. ``{"train": …, "test": …}``.
      marks: ``{label: α}`` vertical lines to draw, e.g. ``{"trained": 1.0}``.
    """
    plt = pyplot()
    panels = [("cost", costs)] + ([("accuracy (%)", accuracies)] if accuracies else [])
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 3.8), squeeze=False)
    for ax, (name, series) in zip(axes[0], panels):
        for label, values in series.items():
            x = alphas[label] if isinstance(alphas, dict) else alphas
            y = masked(values, log and name == "cost") * (100 if name.startswith("accuracy") else 1)
            ax.plot(x, y, label=label)
        for label, at in (marks or {}).items():
            ax.axvline(at, color="grey", linestyle=":", linewidth=1)
            ax.annotate(label, (at, 1), xycoords=("data", "axes fraction"), ha="center", va="bottom", fontsize=8)
        if log and name == "cost":
            ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    save_figure(fig, path)


def plot_contour(
    path: str,
    landscape: Landscape,
    *,
    filled: bool = False,
    log: bool = False,
    title: str = "",
    xlabel: str = "α",
    ylabel: str = "β",
    levels: int = 30,
    trajectory: ArrayLike | None = None,
    points: dict | None = None,
    value: str = "cost",
) -> None:
    """Contour lines (or filled contours) of a 2-D ``Landscape`` with a colour bar.

    Args:
      landscape: a 2-D ``jaxdigits.landscape.Landscape``.
      trajectory: optional (T, 2) coordinates drawn as a path with markers (e.g. the SGD
        trajectory projected on its PCA plane), first point labelled "start".
      points: optional ``{label: (α, β)}`` to mark, e.g. three trained networks.
      value: ``"cost"`` or ``"accuracy"``.
    """
    plt = pyplot()
    z = masked(getattr(landscape, value), log).T  # rows of the image are β
    if value == "accuracy":
        z = z * 100
    fig, ax = plt.subplots(figsize=(6, 5))
    steps = _levels(z, levels, log)
    if steps is not None:
        kwargs = {"levels": steps}
        if log:
            from matplotlib.colors import LogNorm  # matplotlib loads only when a figure is drawn

            kwargs["norm"] = LogNorm(steps[0], steps[-1])
        draw = ax.contourf if filled else ax.contour
        mappable = draw(landscape.alphas, landscape.betas, z, cmap="viridis", **kwargs)
        if not filled:
            ax.clabel(mappable, mappable.levels[::4], fontsize=7, fmt="%.3g")
        bar = fig.colorbar(mappable, ax=ax, ticks=steps[:: max(1, len(steps) // 8)], format="%.3g")
        bar.minorticks_off()
        bar.set_label(("accuracy (%)" if value == "accuracy" else "cost") + (" (log scale)" if log else ""))
    if trajectory is not None:
        trajectory = np.asarray(trajectory)
        ax.plot(
            trajectory[:, 0], trajectory[:, 1], "o-", color="crimson", markersize=3, linewidth=1.2, label="SGD path"
        )
        ax.annotate("start", trajectory[0], textcoords="offset points", xytext=(4, 4), fontsize=8, color="crimson")
        ax.legend(fontsize=8, loc="upper right")
    for label, (a, b) in (points or {}).items():
        ax.plot(a, b, "*", color="crimson", markersize=11)
        ax.annotate(label, (a, b), textcoords="offset points", xytext=(6, 4), fontsize=8, color="crimson")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_aspect("auto")
    ax.set_title(title + _masked_note(z), fontsize=10)
    save_figure(fig, path)


def plot_surface_3d(
    path: str, landscape: Landscape, *, log: bool = False, title: str = "", xlabel: str = "α", ylabel: str = "β"
) -> None:
    """The cost of a 2-D ``Landscape`` as a 3-D surface (the video's "ball rolling downhill")."""
    plt = pyplot()
    z = masked(landscape.cost, log)
    shown = np.log10(z) if log else z
    fig = plt.figure(figsize=(6.5, 5))
    ax = fig.add_subplot(projection="3d")
    a, b = np.meshgrid(landscape.alphas, landscape.betas, indexing="ij")
    surf = ax.plot_surface(
        a,
        b,
        shown.filled(np.nan),
        cmap="viridis",
        linewidth=0,
        antialiased=True,
        vmin=shown.min() if shown.count() else None,
        vmax=shown.max() if shown.count() else None,
    )
    ax.locator_params(axis="x", nbins=5)
    ax.locator_params(axis="y", nbins=5)
    bar = fig.colorbar(surf, ax=ax, shrink=0.6, pad=0.1)
    bar.set_label("log₁₀ cost" if log else "cost")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_zlabel("log₁₀ cost" if log else "cost")
    ax.set_title(title + _masked_note(z), fontsize=10)
    save_figure(fig, path)


def plot_density(path: str, densities: dict, *, title: str = "", log: bool = True) -> None:
    """Hessian eigenvalue densities (``SpectralDensity``), one line per entry, top eigenvalue marked.

    Args:
      path: PNG file to write.
      densities: ``{label: SpectralDensity}``.
      log: density on a log scale (the bulk near 0 and the few large eigenvalues both show).
    """
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for i, (label, d) in enumerate(densities.items()):
        ax.plot(d.grid, np.maximum(d.density, 1e-12) if log else d.density, color=f"C{i}", label=label)
        ax.axvline(d.top, color=f"C{i}", linestyle=":", linewidth=1)
    if log:
        ax.set_yscale("log")
        ax.set_ylim(bottom=1e-6)
    ax.set_xlabel("eigenvalue of the Hessian")
    ax.set_ylabel("density")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=10)
    save_figure(fig, path)

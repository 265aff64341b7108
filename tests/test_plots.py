"""Training figures: one line per split, accuracy in percent, cost on a log scale, written atomically."""

import os

import numpy as np
import pytest

from jaxdigits import plots

HISTORY = [
    {"epoch": 0, "train_cost": 0.9, "test_cost": 1.0, "train_accuracy": 0.1, "test_accuracy": 0.12},
    {"epoch": 1, "batch_cost": 0.5, "train_cost": 0.2, "test_cost": 0.3, "train_accuracy": 0.9, "test_accuracy": 0.85},
]


@pytest.fixture
def drawn(monkeypatch):
    """The figures ``plot_history`` would save, kept open to be read: ``[(figure, path)]``."""
    figures = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path: figures.append((fig, path)))
    yield figures
    for fig, _ in figures:
        plots.pyplot().close(fig)


def test_history_figures_have_a_line_per_split(drawn):
    plots.plot_history(HISTORY, "cost.png", title="a run")
    plots.plot_history(HISTORY, "accuracy.png", quantity="accuracy")
    (cost_fig, cost_path), (acc_fig, acc_path) = drawn
    assert (cost_path, acc_path) == ("cost.png", "accuracy.png")
    cost, accuracy = cost_fig.axes[0], acc_fig.axes[0]
    assert [line.get_label() for line in cost.get_lines()] == ["test", "train"]  # not the mini-batch cost
    assert cost.get_yscale() == "log" and cost.get_title() == "a run" and cost.get_xlabel() == "epoch"
    assert [list(line.get_ydata()) for line in cost.get_lines()] == [[1.0, 0.3], [0.9, 0.2]]
    assert accuracy.get_yscale() == "linear" and accuracy.get_ylabel() == "accuracy (%)"
    np.testing.assert_allclose([line.get_ydata() for line in accuracy.get_lines()], [[12, 85], [10, 90]])
    assert list(accuracy.get_lines()[0].get_xdata()) == [0, 1]


def test_epochs_without_an_evaluation_have_no_point(drawn):
    sparse = [HISTORY[0], {"epoch": 1, "batch_cost": 0.6, "seconds": 0.1}, {**HISTORY[1], "epoch": 2}]
    plots.plot_history(sparse, "accuracy.png", quantity="accuracy")
    ((fig, _),) = drawn
    test = fig.axes[0].get_lines()[0]
    assert list(test.get_xdata()) == [0, 2] and list(test.get_ydata()) == pytest.approx([12, 85])


def test_save_figure_writes_a_png_and_closes_the_figure(tmp_path):
    plt = plots.pyplot()
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    plots.save_figure(fig, str(tmp_path / "line.png"))
    assert os.listdir(tmp_path) == ["line.png"]  # no temporary file left
    assert (tmp_path / "line.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not plt.fignum_exists(fig.number)

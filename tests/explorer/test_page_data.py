"""The explorer's library side: training with snapshots, frames, the page's data and template,
the plane of several runs, where a run blew up, and explore.py's refusals of bad input."""

import dataclasses
import json
import os
import re

import jax
import numpy as np
import pytest

import jaxdigits as jd
from experiments import animate, explore
from jaxdigits import cli, explorer
from jaxdigits.errors import MissingFile, OutputExists

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def tiny_run(digits):
    """Two epochs of the video's recipe on 300 8x8 digits, with and without snapshots."""
    config = dataclasses.replace(jd.PRESETS["video"], sizes=(64, 16, 16, 10), epochs=2)
    data = (digits.train_images[:300], digits.train_labels[:300])
    plain = jd.train(config, data, progress=False)
    recorded = jd.train(config, data, progress=False, snapshot_every=7)  # 30 steps: 4 blocks and 2 left over
    return config, data, plain, recorded


def test_snapshots_leave_training_bit_identical(tiny_run):
    _, _, plain, recorded = tiny_run
    assert plain.snapshots is None
    for a, b in zip(jax.tree.leaves(plain.state.params), jax.tree.leaves(recorded.state.params)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    for a, b in zip(plain.history, recorded.history):  # the same evaluations; the mean of the
        assert a.keys() == b.keys()  # mini-batch costs is summed in another order when k ∤ steps
        assert {k: v for k, v in a.items() if "batch" not in k and k != "seconds"} == {
            k: v for k, v in b.items() if "batch" not in k and k != "seconds"
        }
        assert a.get("batch_cost", 0.0) == pytest.approx(b.get("batch_cost", 0.0), rel=1e-6)
    assert len(recorded.snapshots) == 2 and recorded.snapshots[0][0]["w"].shape == (4, 64, 16)


def test_frames_are_the_dense_first_epoch_then_epoch_ends_then_the_final_network(tiny_run, digits):
    config, data, _, recorded = tiny_run
    initial = jd.init_params(jax.random.split(jax.random.key(config.seed))[0], config.sizes)
    steps, frames = explorer.frames_from_snapshots(initial, recorded.snapshots, recorded.state.params, 30, 7)
    assert steps == [0, 7, 14, 21, 28, 58, 60]
    np.testing.assert_array_equal(frames[0][0]["w"], np.asarray(initial[0]["w"]))
    for a, b in zip(jax.tree.leaves(frames[-1]), jax.tree.leaves(recorded.state.params)):
        np.testing.assert_array_equal(a, np.asarray(b))
    costs, accuracies = explorer.frame_metrics(frames, digits.test_images, digits.test_labels)
    assert costs[-1] < costs[0] and accuracies[-1] > accuracies[0]
    assert costs[-1] == pytest.approx(float(jd.mse_cost(frames[-1], digits.test_images, digits.test_labels)), rel=1e-6)
    steps, _ = explorer.frames_from_snapshots(initial, recorded.snapshots, recorded.state.params, 30, 7, later=0)
    assert steps == [0, 7, 14, 21, 28, 58, 60]  # the last epoch's end is always kept


def test_later_epochs_are_spaced_geometrically_and_end_with_the_last():
    assert explorer.later_epochs(1, 30, None) == set(range(1, 30))
    kept = sorted(explorer.later_epochs(1, 30, 12))
    assert len(kept) == 12 and kept[0] == 1 and kept[-1] == 29  # 0-based: epochs 2 … 30
    gaps = np.diff(kept)
    assert gaps[0] == 1 and gaps[-1] > 3  # dense early, sparse late
    assert explorer.later_epochs(1, 3, 12) == {1, 2}


def test_blew_up_is_where_accuracy_falls_to_guessing_for_good():
    labels = np.repeat(np.arange(10), 10)  # chance: 10%
    assert explorer.blew_up_at([0.1, 0.5, 0.8, 0.1, 0.09, 0.1], labels) == 3
    assert explorer.blew_up_at([0.1, 0.1, 0.1], labels) == 1  # at once: the first step
    assert explorer.blew_up_at([0.1, 0.5, 0.1, 0.6], labels) is None  # it recovered


def forward_from_flat(vector, sizes, image):
    """The page's forward pass, written from its documented layout: an independent reading."""
    a, offset = np.asarray(image, np.float64), 0
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        w = vector[offset : offset + n_in * n_out].reshape(n_in, n_out)
        b = vector[offset + n_in * n_out : offset + (n_in + 1) * n_out]
        offset += (n_in + 1) * n_out
        a = 1 / (1 + np.exp(-(a @ w + b)))
    return a


def test_flat_params_layout_is_the_one_the_page_reads(key, digits):
    params = jd.init_params(key, (64, 16, 16, 10))
    vector = explorer.flat_params(params).astype(np.float64)
    assert vector.size == jd.network.num_params(params)
    got = forward_from_flat(vector, (64, 16, 16, 10), digits.test_images[0])
    np.testing.assert_allclose(got, jd.predict(params, digits.test_images[0]), atol=1e-6)


def test_page_is_self_contained_and_carries_its_data(key, digits, tmp_path):
    params = jd.init_params(key, (64, 16, 16, 10))
    meta = {"dataset": "digits", "image_shape": [8, 8], "num_train": 1, "num_test": 1, "source": "a </script> test"}
    test = digits.test_images[:50], digits.test_labels[:50]
    data = explorer.page_data([0], [explorer.Run(1.5, [params], [])], *test, meta=meta)
    html = explorer.render_page(data)
    assert not re.search(r"""(src|href)\s*=|https?://|@import|url\(""", html)  # nothing to fetch
    blob = re.search(r'<script type="application/json" id="run-data">(.*?)</script>', html, re.S).group(1)
    back = json.loads(blob)
    assert back["meta"]["source"] == "a </script> test" and back["meta"]["sizes"] == [64, 16, 16, 10]
    assert len(back["examples"]["labels"]) >= 20
    page = tmp_path / "page.html"
    page.write_text(html, encoding="utf-8")
    (frame,) = explorer.frames_of(explorer.read_page(page))
    assert back["meta"]["param_dtype"] == "float16"  # half the bytes; read back exactly as the page reads them
    for a, b in zip(jax.tree.leaves(frame), jax.tree.leaves(params)):
        np.testing.assert_array_equal(a, np.asarray(b, np.float16).astype(np.float32))
    exact = explorer.page_data([0], [explorer.Run(1.5, [params], [])], *test, meta=meta, dtype="float32")
    for a, b in zip(jax.tree.leaves(explorer.frames_of(exact)), jax.tree.leaves(params)):
        np.testing.assert_array_equal(a, np.asarray(b))
    with pytest.raises(ValueError, match="one per step"):
        explorer.page_data([0, 1], [explorer.Run(1.5, [params], [])], *test, meta=meta)
    diverged = explorer.Run(1e30, [params], [{"epoch": 1, "batch_cost": float("nan")}], "diverged", "nan", 1)
    back = json.loads(explorer.render_page(explorer.page_data([0], [diverged], *test, meta=meta)).split(
        '<script type="application/json" id="run-data">')[1].split("</script>")[0])  # fmt: skip
    assert back["runs"][0]["history"] == [{"epoch": 1, "batch_cost": None}]  # JSON has no NaN


def test_one_plane_for_several_runs(tiny_run, digits):
    """Two runs (the snapshots of one, and its first half): coordinates per run, the centre at the
    origin, a grid over every path and one over the valley of the centre run."""
    config, _, _, recorded = tiny_run
    initial = jd.init_params(jax.random.split(jax.random.key(config.seed))[0], config.sizes)
    _, frames = explorer.frames_from_snapshots(initial, recorded.snapshots, recorded.state.params, 30, 7)
    runs = [frames, frames[:3] + [frames[3]] * (len(frames) - 3)]
    test = digits.test_images[:100], digits.test_labels[:100]
    plane = explorer.trajectory_landscape(runs, *test, center=0, grid=5)
    assert [len(c) for c in plane["coords"]] == [len(frames)] * 2
    np.testing.assert_allclose(plane["coords"][0][-1], [0, 0], atol=1e-5)  # the centre run's final network
    np.testing.assert_allclose(plane["coords"][1][:3], plane["coords"][0][:3])  # the same networks
    assert len(plane["cost"]) == len(plane["valley"]["cost"]) == 25 and sum(plane["explained"]) <= 1
    for grid, paths in ((plane, plane["coords"]), (plane["valley"], plane["coords"][:1])):  # each grid holds its paths
        points = np.concatenate(paths)
        assert grid["alphas"][0] < points[:, 0].min() and points[:, 0].max() < grid["alphas"][-1]
        assert grid["betas"][0] < points[:, 1].min() and points[:, 1].max() < grid["betas"][-1]
    single = explorer.trajectory_landscape([frames], *test, grid=5)
    assert single["valley"] is None


def test_check_network_names_what_the_page_cannot_draw():
    zeros = lambda sizes: [{"w": np.zeros((a, b)), "b": np.zeros(b)} for a, b in zip(sizes[:-1], sizes[1:])]
    assert explorer.check_network(zeros((784, 16, 16, 10)), 784) == (784, 16, 16, 10)
    with pytest.raises(ValueError, match="takes 784 pixels, the images have 64"):
        explorer.check_network(zeros((784, 16, 16, 10)), 64)
    with pytest.raises(ValueError, match="3 outputs"):
        explorer.check_network(zeros((64, 16, 3)), 64)
    with pytest.raises(ValueError, match="up to 32 neurons"):
        explorer.check_sizes((64, 100, 10), 64)


def test_explore_refuses_a_used_output_folder_and_a_run_folder_without_parameters(tmp_path):

    used = tmp_path / "used"
    used.mkdir()
    (used / "something").write_text("x")
    with pytest.raises(OutputExists, match="already holds files"):
        explore.main(["--out", str(used), "--no-progress"])
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text("{}")
    with pytest.raises(MissingFile, match="has no history.json"):
        explore.main(["--run", str(run), "--out", str(tmp_path / "out")])
    assert not (tmp_path / "out").exists()  # nothing half-written


def test_explore_reports_bad_input_in_one_line_with_status_2(tmp_path, key, capsys):

    wrong = tmp_path / "wrong.npz"
    jd.save_params(str(wrong), jd.init_params(key, (784, 16, 10)))
    argv = ["--params", str(wrong), "--dataset", "digits", "--out", str(tmp_path / "out")]
    with pytest.raises(SystemExit) as exited:
        cli.run(lambda: explore.main(argv))
    assert exited.value.code == 2
    assert capsys.readouterr().err == "error: a 784-16-10 network takes 784 pixels, the images have 64\n"
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(
    not os.path.isdir(explore.DEBIAN_FASHION_MNIST), reason="no Fashion-MNIST: apt-get install dataset-fashion-mnist"
)
def test_fashion_mnist_comes_from_debians_package_with_its_class_names():
    dataset = explore.load_data(explore.parse_args(["--dataset", "fashion_mnist", "--fast"]))
    assert dataset.name == "fashion_mnist" and dataset.image_shape == (28, 28)
    assert len(dataset.test_labels) == cli.FAST_TEST and dataset.source.startswith("idx:")
    assert len(explore.CLASS_NAMES["fashion_mnist"]) == 10


@pytest.fixture(scope="module")
def made_page(tmp_path_factory):
    """``explore.py --fast --dataset digits --grid 5``, run once: (out folder, metrics)."""

    out = tmp_path_factory.mktemp("explore") / "page"
    return out, explore.main(["--fast", "--dataset", "digits", "--grid", "5", "--no-progress", "--out", str(out)])


@pytest.mark.slow
def test_explore_makes_a_page_end_to_end(made_page):
    out, metrics = made_page
    assert sorted(os.listdir(out)) == ["explorer.html", "metrics.json"]
    assert metrics["page_bytes"] == os.path.getsize(out / "explorer.html") and metrics["experiment"] == "explore"
    data = explorer.read_page(out / "explorer.html")
    assert len(data["frames"]["step"]) == metrics["frames"] >= 1 + 20 + 2  # untrained, epoch 1, epochs 2 and 3
    rates = [run["learning_rate"] for run in data["runs"]]
    assert rates == list(explorer.VIDEO_LEARNING_RATES) and data["default_run"] == rates.index(1.5)
    assert data["runs"][data["default_run"]]["test_accuracy"][-1] == pytest.approx(metrics["test_accuracy"])
    assert [len(c) for c in data["landscape"]["coords"]] == [metrics["frames"]] * 6
    assert len(data["landscape"]["cost"]) == 25 and sum(data["landscape"]["explained"]) <= 1
    assert 0 < metrics["float16_max_cost_change"] < 1e-3


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:os.fork:RuntimeWarning")  # imageio starts ffmpeg: fork, then exec at once
def test_animate_writes_gifs_and_mp4s_from_a_page(made_page, tmp_path):
    from PIL import Image

    page = made_page[0] / "explorer.html"
    out = tmp_path / "animations"
    sizes = animate.main(["--page", str(page), "--out", str(out), "--dpi", "30"])
    names = [f"{what}.{ext}" for what in ("descent", "learning_rates", "weights") for ext in ("gif", "mp4")]
    assert sorted(os.path.basename(p) for p in sizes) == names
    for name in ("descent.gif", "learning_rates.gif"):
        with Image.open(out / name) as gif:
            assert gif.n_frames == made_page[1]["frames"]
    with pytest.raises(OutputExists, match="already holds"):
        animate.main(["--page", str(page), "--out", str(out)])

"""``jaxdigits.cli``: what the experiment scripts share — flags, output folder, data, error lines."""

import argparse
import os

import pytest

from jaxdigits import cli, errors


def test_a_bug_keeps_its_traceback_and_user_errors_speak_of_flags(capsys):
    def bug():
        raise ValueError("a bug deep inside")

    with pytest.raises(ValueError, match="a bug deep inside"):
        cli.run(bug)

    def user_error():
        raise errors.InvalidArgument("batch_size 5000 is larger than the training set; set data_dir")

    with pytest.raises(SystemExit) as exit_:
        cli.run(user_error)
    assert exit_.value.code == 2
    assert capsys.readouterr().err == "error: --batch-size 5000 is larger than the training set; set --data-dir\n"


def test_the_parser_has_the_shared_flags_less_those_left_out():
    full = cli.parser("doc")
    flags = {a.option_strings[0] for a in full._actions if a.option_strings and a.option_strings[0] != "-h"}
    assert flags == set(cli.SHARED_FLAGS)
    assert full.parse_args([]).seed == 0 and cli.parser("doc", seed=None).parse_args([]).seed is None
    lean = cli.parser("doc", without={"--video-weights", "--fast"})
    assert "--video-weights" not in lean.format_help() and "--fast" not in lean.format_help()
    with pytest.raises(ValueError, match="expected some of the shared flags"):
        cli.parser("doc", without={"--fats"})


def test_setup_refuses_a_used_folder_before_loading_anything(tmp_path, monkeypatch):
    (tmp_path / "old.txt").write_text("a run's file")
    args = cli.parser("doc").parse_args(["--out", str(tmp_path), "--dataset", "digits"])
    monkeypatch.setattr(cli, "load_data", lambda args: pytest.fail("loaded data for a folder it must refuse"))
    with pytest.raises(errors.OutputExists, match="already holds files"):
        cli.setup(args, "name")


def test_setup_fast_keeps_a_small_subset(tmp_path):
    args = cli.parser("doc").parse_args(["--out", str(tmp_path / "run"), "--dataset", "digits", "--fast"])
    dataset, out = cli.setup(args, "name")
    assert out == str(tmp_path / "run") and os.path.isdir(out)
    assert len(dataset.train_labels) == cli.FAST_TRAIN and len(dataset.test_labels) == 300
    assert cli.sizes_for(dataset) == (64, 16, 16, 10) and cli.sizes_for(dataset, (8,)) == (64, 8, 10)


def test_the_videos_weights_are_looked_for_in_order(tmp_path, monkeypatch):
    args = argparse.Namespace(video_weights=None)
    monkeypatch.setenv(cli.VIDEO_WEIGHTS_ENV, str(tmp_path / "w.npz"))
    assert cli.video_weights_candidates(args) == [str(tmp_path / "w.npz")]
    monkeypatch.delenv(cli.VIDEO_WEIGHTS_ENV)
    monkeypatch.chdir(tmp_path)
    first = cli.video_weights_candidates(args)[0]
    assert first == os.path.normpath(os.path.join(tmp_path, "..", "shared", "data", "3b1b", "video_784_16_16_10.npz"))
    args.video_weights = "given.npz"
    assert cli.video_weights_candidates(args) == ["given.npz"]


def test_a_named_video_weights_file_that_is_missing_is_an_error(digits):
    args = argparse.Namespace(video_weights="/nowhere/w.npz")
    mnist_like = digits._replace(image_shape=(28, 28))
    with pytest.raises(errors.MissingFile, match="--video-weights '/nowhere/w.npz' not found"):
        cli.video_params(args, mnist_like)
    assert cli.video_params(args, digits) is None  # 8x8 images: the video's network does not apply

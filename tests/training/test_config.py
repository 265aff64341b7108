"""The recipe: every value checked when a ``TrainConfig`` is made, and the named presets."""

import dataclasses

import pytest

from jaxdigits.network import VIDEO_SIZES
from jaxdigits.training import PRESETS, TrainConfig


def test_the_default_config_is_the_video_recipe():
    video = PRESETS["video"]
    assert video == TrainConfig()
    assert (video.sizes, video.activation, video.cost, video.init) == (VIDEO_SIZES, "sigmoid", "mse", "normal")
    assert (video.optimizer, video.learning_rate, video.batch_size, video.epochs) == ("sgd", 1.5, 10, 30)


def test_every_preset_keeps_the_videos_network():
    for name, config in PRESETS.items():
        assert config.sizes == VIDEO_SIZES, name  # 784-16-16-10: 13,002 parameters, nothing added


@pytest.mark.parametrize(
    "change, message",
    [
        ({"activation": "softplus"}, "unknown activation 'softplus'"),
        ({"cost": "hinge"}, "unknown cost 'hinge'"),
        ({"optimizer": "rmsprop"}, "unknown optimizer 'rmsprop'"),
        ({"epochs": 0}, "epochs must be a positive integer"),
        ({"batch_size": 2.5}, "batch_size must be a positive integer"),
        ({"learning_rate": -1.0}, "learning_rate must be a finite number > 0"),
        ({"weight_decay": -0.1}, "weight_decay must be >= 0"),
        ({"sizes": (784,)}, "at least two positive integer layer widths"),
        ({"warmup_fraction": 1.0}, r"warmup_fraction must be a number >= 0 and < 1 \(a fraction of the run\)"),
        ({"warmup_fraction": float("nan")}, "warmup_fraction must be a number >= 0 and < 1"),
        ({"augment_fraction": 1.5}, "augment_fraction must be a number >= 0 and <= 1"),
        ({"augment_fraction": -0.1}, "augment_fraction must be a number >= 0 and <= 1"),
        ({"eval_every": -1}, r"eval_every must be a whole number of epochs >= 0 \(0: after the last epoch only\)"),
        ({"eval_every": 2.5}, "eval_every must be a whole number of epochs"),
        ({"eval_every": True}, "eval_every must be a whole number of epochs"),
    ],
)
def test_a_bad_value_is_refused_when_the_config_is_made(change, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(TrainConfig(), **change)


def test_the_new_fields_default_to_what_every_run_did_before_them():
    # every preset but the speedrun is written without them: its runs are unchanged (tests/training/test_epoch.py)
    defaults = TrainConfig()
    assert (defaults.warmup_fraction, defaults.augment_fraction, defaults.eval_every) == (0.0, 1.0, 1)
    for name in ("video", "best", "best_no_augment"):
        assert (PRESETS[name].warmup_fraction, PRESETS[name].augment_fraction, PRESETS[name].eval_every) == (0, 1, 1)


def test_the_speedrun_is_best_with_a_quarter_of_its_steps_a_warm_up_clean_final_epochs_and_no_evaluation():
    speedrun, best = PRESETS["speedrun"], PRESETS["best"]
    changed = {f.name for f in dataclasses.fields(TrainConfig) if getattr(speedrun, f.name) != getattr(best, f.name)}
    assert changed == {"batch_size", "epochs", "weight_decay", "warmup_fraction", "augment_fraction", "eval_every"}
    assert (speedrun.batch_size, speedrun.epochs, speedrun.weight_decay) == (128, 120, 0.06)
    assert (speedrun.warmup_fraction, speedrun.augment_fraction, speedrun.eval_every) == (0.05, 0.9, 0)

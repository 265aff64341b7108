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
    ],
)
def test_a_bad_value_is_refused_when_the_config_is_made(change, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(TrainConfig(), **change)

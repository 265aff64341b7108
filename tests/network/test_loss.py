"""VideoLoss: the cost as loss(params, batch), and its fast path in the shape jaxdigits.landscape asks for."""

import jax
import numpy as np
import pytest

import jaxdigits as jd
from jaxdigits import landscape
from jaxdigits.network import VideoLoss


def test_video_loss_is_the_cost_and_carries_its_fast_path(net, digits):
    x, y = digits.test_images, digits.test_labels
    loss = VideoLoss("cross_entropy", "tanh")
    assert float(jax.jit(loss)(net, (x, y))) == pytest.approx(float(jd.cross_entropy_cost(net, x, y, "tanh")), rel=1e-6)
    assert float(loss.accuracy(net, (x, y))) == pytest.approx(float(jd.accuracy(net, x, y, "tanh")))
    assert isinstance(loss, landscape.SpanLoss) and hash(loss) == hash(VideoLoss("cross_entropy", "tanh"))
    assert loss.span_supports(net, {"accuracy": loss.accuracy})
    assert not loss.span_supports(net, {"other": lambda p, b: 0.0})
    assert not loss.span_supports(net[:1], {}) and not loss.span_supports({"w": net[0]["w"]}, {})
    # span_values at the coefficients (1, 0) of the basis (θ, 0·θ) with no origin: the cost at θ.
    basis = jax.tree.map(lambda a: np.stack([a, 0 * a]), net)
    values = loss.span_values(np.array([1.0, 0.0], np.float32), loss.span((x, y), basis, None), ("accuracy",))
    assert float(values["cost"]) == pytest.approx(float(loss(net, (x, y))), rel=1e-5)
    assert float(values["accuracy"]) == pytest.approx(float(loss.accuracy(net, (x, y))))
    with pytest.raises(ValueError, match="cost"):
        VideoLoss("hinge")

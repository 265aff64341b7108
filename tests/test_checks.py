"""The argument checks (``jaxdigits._checks``) called directly: what passes, what is refused, and why."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdigits import _checks
from jaxdigits.errors import InvalidArgument, InvalidArgumentType


def test_name_returns_a_known_name_and_lists_the_choices_sorted():
    assert _checks.name("mse", {"mse": 1, "cross_entropy": 2}, "cost") == "mse"
    with pytest.raises(InvalidArgument, match=r"^unknown cost 'hinge'; expected one of: cross_entropy, mse$"):
        _checks.name("hinge", ("mse", "cross_entropy"), "cost")
    with pytest.raises(InvalidArgument, match="unknown cost None"):
        _checks.name(None, ("mse",), "cost")


def test_layer_sizes_become_python_ints_and_booleans_are_not_widths():
    sizes = _checks.layer_sizes(np.array([784, 16, 10]))
    assert sizes == (784, 16, 10) and all(type(n) is int for n in sizes)
    assert _checks.layer_sizes(n for n in (3, 2)) == (3, 2)
    with pytest.raises(InvalidArgument, match=r"got \(784, True, 10\)"):
        _checks.layer_sizes((784, True, 10))


@pytest.mark.parametrize("value", [1, 0.5, np.float32(2.0), 1e-300])
def test_positive_accepts_finite_numbers_above_zero(value):
    assert _checks.positive(value, "learning_rate") is value


@pytest.mark.parametrize("value", [0, -1.0, float("inf"), float("nan"), True, "0.1", None])
def test_positive_refuses_everything_else(value):
    with pytest.raises(InvalidArgument, match=r"^learning_rate must be a finite number > 0, got"):
        _checks.positive(value, "learning_rate")


def test_params_structure_accepts_a_tuple_of_layers_and_refuses_integer_weights():
    layer = {"w": jnp.zeros((3, 2)), "b": jnp.zeros(2)}
    _checks.params_structure((layer,))
    with pytest.raises(InvalidArgumentType, match=r"params\[0\] must be floating point, got dtype int32"):
        _checks.params_structure([{"w": jnp.zeros((3, 2), jnp.int32), "b": jnp.zeros(2)}])


def test_label_values_are_checked_only_on_concrete_arrays():
    images = jnp.zeros((3, 4))
    with pytest.raises(InvalidArgument, match="labels must lie in 0..9"):
        _checks.labels(jnp.array([0, 11, 3]), images, 10)

    def traced(labels):
        _checks.labels(labels, images, 10)
        return labels

    np.testing.assert_array_equal(jax.jit(traced)(jnp.array([0, 11, 3])), [0, 11, 3])  # values unknown while tracing
    with pytest.raises(InvalidArgument, match=r"labels must have shape \(3,\)"):
        jax.jit(traced)(jnp.array([0, 1]))  # shapes are known while tracing
    _checks.labels(jnp.int32(7), jnp.zeros(4), 10)  # one image, one label


def test_pixels_must_be_finite_and_in_the_unit_interval():
    _checks.pixels(np.zeros((0, 4)))
    _checks.pixels(np.array([[0.0, 1.0]]))
    with pytest.raises(InvalidArgument, match="^test images contain NaN or infinite pixels"):
        _checks.pixels(np.array([0.5, np.inf]), "test images")
    with pytest.raises(InvalidArgument, match=r"from -0\.5 to 1\.5; divide raw 0-255 bytes by 255"):
        _checks.pixels(np.array([-0.5, 1.5]))

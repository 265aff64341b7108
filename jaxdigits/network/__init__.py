"""The video's network: 784 inputs, two hidden layers of 16, 10 outputs, as pure functions.

- the network (``init_params``, ``predict``: every layer computes σ(a·W + b)) and its cost
  (``mse_cost``, the video's Σ(a − y)² averaged over the images; ``cross_entropy_cost``;
  ``accuracy``);
- the gradient by hand (``backprop``, the four equations), the reference ``jax.grad`` is
  tested against;
- the first layer computed apart (``batch_cost``, ``first_layer_span``): the tricks that
  make training, cost surfaces and paths between minima fast, and ``VideoLoss``, the cost as
  ``loss(params, batch)`` for ``jaxdigits.landscape``, which carries that fast path with it;
- its symmetries (``transform``, ``weight_matching``, ``activation_matching``): permuted and
  flipped neurons that compute the same function;
- probes of what it learnt (``weight_images``, ``neighbour_correlation``, ``probe_images``,
  ``confidence``), gradient descent on its input image (``draw_digits``), and the gradient
  as a measure of each weight's importance (``top_mask``, ``masked_step``).

Parameters are a list with one ``{"w": (n_in, n_out), "b": (n_out,)}`` dict per layer.
"""

from jaxdigits.network._backprop import backprop as backprop
from jaxdigits.network._costs import COST_FUNCTIONS as COST_FUNCTIONS
from jaxdigits.network._costs import COSTS as COSTS
from jaxdigits.network._costs import accuracy as accuracy
from jaxdigits.network._costs import cost_function as cost_function
from jaxdigits.network._costs import cross_entropy_cost as cross_entropy_cost
from jaxdigits.network._costs import mse_cost as mse_cost
from jaxdigits.network._first_layer import FirstLayerSpan as FirstLayerSpan
from jaxdigits.network._first_layer import batch_cost as batch_cost
from jaxdigits.network._first_layer import first_layer_span as first_layer_span
from jaxdigits.network._first_layer import inputs_times_weights as inputs_times_weights
from jaxdigits.network._first_layer import span_metrics as span_metrics
from jaxdigits.network._importance import gradient_share as gradient_share
from jaxdigits.network._importance import masked_step as masked_step
from jaxdigits.network._importance import random_mask as random_mask
from jaxdigits.network._importance import top_mask as top_mask
from jaxdigits.network._input_descent import draw_digits as draw_digits
from jaxdigits.network._input_descent import drawing_objective as drawing_objective
from jaxdigits.network._input_descent import smoothness as smoothness
from jaxdigits.network._loss import VideoLoss as VideoLoss
from jaxdigits.network._model import ACTIVATIONS as ACTIVATIONS
from jaxdigits.network._model import INITS as INITS
from jaxdigits.network._model import VIDEO_SIZES as VIDEO_SIZES
from jaxdigits.network._model import hidden_activations as hidden_activations
from jaxdigits.network._model import init_params as init_params
from jaxdigits.network._model import layer_sizes_of as layer_sizes_of
from jaxdigits.network._model import num_params as num_params
from jaxdigits.network._model import output_sums as output_sums
from jaxdigits.network._model import predict as predict
from jaxdigits.network._probes import PROBES as PROBES
from jaxdigits.network._probes import best_window_share as best_window_share
from jaxdigits.network._probes import centre_mask as centre_mask
from jaxdigits.network._probes import confidence as confidence
from jaxdigits.network._probes import neighbour_correlation as neighbour_correlation
from jaxdigits.network._probes import never_lit as never_lit
from jaxdigits.network._probes import probe_images as probe_images
from jaxdigits.network._probes import weight_images as weight_images
from jaxdigits.network._symmetry import FLIP_OFFSET as FLIP_OFFSET
from jaxdigits.network._symmetry import Symmetry as Symmetry
from jaxdigits.network._symmetry import activation_correlations as activation_correlations
from jaxdigits.network._symmetry import activation_matching as activation_matching
from jaxdigits.network._symmetry import align as align
from jaxdigits.network._symmetry import check_flips as check_flips
from jaxdigits.network._symmetry import check_pair as check_pair
from jaxdigits.network._symmetry import distance as distance
from jaxdigits.network._symmetry import identity_symmetry as identity_symmetry
from jaxdigits.network._symmetry import inner_product as inner_product
from jaxdigits.network._symmetry import random_symmetry as random_symmetry
from jaxdigits.network._symmetry import transform as transform
from jaxdigits.network._symmetry import weight_matching as weight_matching

__all__ = [  # in the order of the topics above
    "VIDEO_SIZES",
    "ACTIVATIONS",
    "INITS",
    "init_params",
    "num_params",
    "layer_sizes_of",
    "output_sums",
    "hidden_activations",
    "predict",
    "COSTS",
    "mse_cost",
    "cross_entropy_cost",
    "accuracy",
    "COST_FUNCTIONS",
    "cost_function",
    "backprop",
    "inputs_times_weights",
    "batch_cost",
    "FirstLayerSpan",
    "first_layer_span",
    "span_metrics",
    "VideoLoss",
    "FLIP_OFFSET",
    "Symmetry",
    "identity_symmetry",
    "random_symmetry",
    "check_flips",
    "transform",
    "check_pair",
    "align",
    "inner_product",
    "weight_matching",
    "activation_correlations",
    "activation_matching",
    "distance",
    "PROBES",
    "centre_mask",
    "weight_images",
    "neighbour_correlation",
    "never_lit",
    "best_window_share",
    "probe_images",
    "confidence",
    "smoothness",
    "drawing_objective",
    "draw_digits",
    "top_mask",
    "random_mask",
    "masked_step",
    "gradient_share",
]

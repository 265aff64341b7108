"""jaxdigits: 3Blue1Brown's "Gradient descent, how neural networks learn" in JAX.

The network (``init_params``, ``predict``), its cost (``mse_cost``), the gradient by hand
(``backprop``) and by ``jax.grad``, the gradient descent step (``sgd_step``), and training
that compiles a whole epoch into one XLA program (``train``).
"""

from jaxdigits.backprop import backprop
from jaxdigits.costs import accuracy, cross_entropy_cost, mse_cost
from jaxdigits.data import Dataset, DataUnavailableError, load_dataset
from jaxdigits.io import load_params, save_params
from jaxdigits.model import init_params, num_params, predict
from jaxdigits.optim import handwritten_sgd, make_optimizer, sgd_step
from jaxdigits.train import PRESETS, TrainConfig, TrainingDiverged, train

__all__ = [
    "PRESETS",
    "Dataset",
    "DataUnavailableError",
    "TrainConfig",
    "TrainingDiverged",
    "accuracy",
    "backprop",
    "cross_entropy_cost",
    "handwritten_sgd",
    "init_params",
    "load_dataset",
    "load_params",
    "make_optimizer",
    "mse_cost",
    "num_params",
    "predict",
    "save_params",
    "sgd_step",
    "train",
]
__version__ = "0.1.0"

# Loss landscapes: directions through parameter space, slices and surfaces, curvature.
from jaxdigits.curvature import hessian_trace, top_eigenvalues  # noqa: E402
from jaxdigits.directions import direction_between, pca_directions, plane_through, random_direction  # noqa: E402
from jaxdigits.landscape import line, surface  # noqa: E402

__all__ += [
    "direction_between",
    "hessian_trace",
    "line",
    "pca_directions",
    "plane_through",
    "random_direction",
    "surface",
    "top_eigenvalues",
]

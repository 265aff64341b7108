"""jaxdigits: 3Blue1Brown's "Gradient descent, how neural networks learn" in JAX.

The network (``init_params``, ``predict``), its cost (``mse_cost``), the gradient by hand
(``backprop``) and by ``jax.grad``, the gradient descent step (``sgd_step``), training that
compiles a whole epoch into one XLA program (``train``), many networks in one program
(``train_population``), and the cost landscape around a network (``surface``, ``line``,
``top_eigenvalues``). TensorFlow and matplotlib are imported only where data is prepared
or figures are drawn.

On a CPU, importing jaxdigits asks JAX (before its backend starts) for one device with one
worker thread, the fastest shape for one network; ``jaxdigits.cores.configure("cores")`` asks
for one device per core, for populations and surfaces. ``JAXDIGITS_CPU_DEVICES=off`` leaves
JAX's defaults. See ``jaxdigits.cores``.
"""

from jaxdigits import cores
from jaxdigits.backprop import backprop
from jaxdigits.costs import accuracy, cross_entropy_cost, mse_cost
from jaxdigits.curvature import hessian_trace, top_eigenvalues
from jaxdigits.data import Dataset, DataUnavailableError, load_dataset
from jaxdigits.directions import direction_between, pca_directions, plane_through, random_direction
from jaxdigits.io import load_params, save_params
from jaxdigits.landscape import line, surface
from jaxdigits.model import init_params, num_params, predict
from jaxdigits.optim import handwritten_sgd, make_optimizer, sgd_step
from jaxdigits.population import train_population
from jaxdigits.train import PRESETS, TrainConfig, TrainingDiverged, train, train_data_parallel

cores.configure("1", defer_to_user=True)  # nothing above touches a device, so JAX has not started

__all__ = [
    "PRESETS",
    "Dataset",
    "DataUnavailableError",
    "TrainConfig",
    "TrainingDiverged",
    "accuracy",
    "backprop",
    "cross_entropy_cost",
    "direction_between",
    "handwritten_sgd",
    "hessian_trace",
    "init_params",
    "line",
    "load_dataset",
    "load_params",
    "make_optimizer",
    "mse_cost",
    "num_params",
    "pca_directions",
    "plane_through",
    "predict",
    "random_direction",
    "save_params",
    "sgd_step",
    "surface",
    "top_eigenvalues",
    "train",
    "train_data_parallel",
    "train_population",
]
__version__ = "0.1.0"

"""jaxdigits: 3Blue1Brown's "Gradient descent, how neural networks learn" in JAX.

The video's names are here: the network (``init_params``, ``predict``), its cost
(``mse_cost``, ``cross_entropy_cost``, ``accuracy``), the gradient by hand (``backprop``)
and by ``jax.grad``, the gradient descent step (``sgd_step``, ``handwritten_sgd``,
``make_optimizer``), training that compiles a whole epoch into one XLA program (``train``,
``TrainConfig``, ``PRESETS``), many networks in one program (``train_population``), the
data (``load_dataset``, ``Dataset``) and saved parameters (``save_params``,
``load_params``). The rest lives in subpackages, one topic each:

- ``jaxdigits.network``: the video's network, its costs, backprop, symmetries, probes;
- ``jaxdigits.data``: MNIST and its files, pixels, augmentation, drawn digits;
- ``jaxdigits.training``: recipes, optimisers, the compiled epoch, populations, runs;
- ``jaxdigits.landscape``: directions, grids, curvature and paths through parameter space;
- ``jaxdigits.explorer``: the offline page that replays a run;

and small modules that cut across them: ``errors``, ``precision``, ``io``, ``devices``,
``plots``, ``typing``, and ``cli`` (what the experiment scripts share).

Importing jaxdigits changes no JAX setting and no environment variable. The CPU's shape (one
device with one thread for one network, one device per core for populations and surfaces)
is a choice: ``jaxdigits.devices.configure`` before anything touches a device, or
``JAXDIGITS_CPU_DEVICES`` in the environment, which importing jaxdigits then applies.
TensorFlow and matplotlib are imported only where data is prepared or figures are drawn.
"""

from jaxdigits import data as data
from jaxdigits import devices as devices
from jaxdigits import errors as errors
from jaxdigits import explorer as explorer
from jaxdigits import io as io
from jaxdigits import landscape as landscape
from jaxdigits import network as network
from jaxdigits import precision as precision
from jaxdigits import training as training
from jaxdigits.data import Dataset as Dataset
from jaxdigits.data import load_dataset as load_dataset
from jaxdigits.io import load_params as load_params
from jaxdigits.io import save_params as save_params
from jaxdigits.network import accuracy as accuracy
from jaxdigits.network import backprop as backprop
from jaxdigits.network import cross_entropy_cost as cross_entropy_cost
from jaxdigits.network import init_params as init_params
from jaxdigits.network import mse_cost as mse_cost
from jaxdigits.network import predict as predict
from jaxdigits.training import PRESETS as PRESETS
from jaxdigits.training import TrainConfig as TrainConfig
from jaxdigits.training import handwritten_sgd as handwritten_sgd
from jaxdigits.training import make_optimizer as make_optimizer
from jaxdigits.training import sgd_step as sgd_step
from jaxdigits.training import train as train
from jaxdigits.training import train_population as train_population

devices.configure_from_environment()  # only JAXDIGITS_CPU_DEVICES, when the user set it

__all__ = [
    "PRESETS",
    "Dataset",
    "TrainConfig",
    "accuracy",
    "backprop",
    "cross_entropy_cost",
    "data",
    "devices",
    "errors",
    "explorer",
    "handwritten_sgd",
    "init_params",
    "io",
    "landscape",
    "load_dataset",
    "load_params",
    "make_optimizer",
    "mse_cost",
    "network",
    "precision",
    "predict",
    "save_params",
    "sgd_step",
    "train",
    "train_population",
    "training",
]
__version__ = "0.1.0"

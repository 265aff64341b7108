"""Learning: gradient descent on the cost, one compiled XLA program per epoch.

- the recipe (``TrainConfig``, ``PRESETS``: the video's, and the best found for the same
  network) and the optimisers (``sgd_step``: θ ← θ − η∇C; ``handwritten_sgd`` and optax's);
- the epoch as one program (``make_train_epoch``: shuffle, every mini-batch step, the
  evaluation when it is due, parameter snapshots on request), and the one Python loop over epochs
  (``run_epochs``), shared by ``train`` (one network) and ``train_population`` (K networks
  in one program, over seeds or learning rates, spread over the devices);
- runs written to a folder (``train_and_evaluate``: config, history, parameters, figures,
  checkpoints that resume bit for bit) and judged (``judge``: did it learn anything?).
"""

from jaxdigits.training._checkpoint import START_OVER as START_OVER
from jaxdigits.training._checkpoint import load_checkpoint as load_checkpoint
from jaxdigits.training._checkpoint import read_checkpoint as read_checkpoint
from jaxdigits.training._checkpoint import save_checkpoint as save_checkpoint
from jaxdigits.training._config import PRESETS as PRESETS
from jaxdigits.training._config import TrainConfig as TrainConfig
from jaxdigits.training._epoch import FAST_SHUFFLE_MAX as FAST_SHUFFLE_MAX
from jaxdigits.training._epoch import TrainState as TrainState
from jaxdigits.training._epoch import augmented_epochs as augmented_epochs
from jaxdigits.training._epoch import epoch_batches as epoch_batches
from jaxdigits.training._epoch import evaluate as evaluate
from jaxdigits.training._epoch import evaluate_when_due as evaluate_when_due
from jaxdigits.training._epoch import init_state as init_state
from jaxdigits.training._epoch import make_train_epoch as make_train_epoch
from jaxdigits.training._epoch import optimizer_for as optimizer_for
from jaxdigits.training._epoch import shuffle as shuffle
from jaxdigits.training._epoch import steps_per_epoch as steps_per_epoch
from jaxdigits.training._loop import ON_DIVERGED as ON_DIVERGED
from jaxdigits.training._loop import Epochs as Epochs
from jaxdigits.training._loop import check_data as check_data
from jaxdigits.training._loop import compile_epoch as compile_epoch
from jaxdigits.training._loop import evaluation_sets as evaluation_sets
from jaxdigits.training._loop import key_as_data as key_as_data
from jaxdigits.training._loop import key_from_data as key_from_data
from jaxdigits.training._loop import place_data as place_data
from jaxdigits.training._loop import records as records
from jaxdigits.training._loop import run_epochs as run_epochs
from jaxdigits.training._loop import training_images as training_images
from jaxdigits.training._optimizers import OPTIMIZERS as OPTIMIZERS
from jaxdigits.training._optimizers import SCHEDULES as SCHEDULES
from jaxdigits.training._optimizers import HandwrittenSGDState as HandwrittenSGDState
from jaxdigits.training._optimizers import handwritten_sgd as handwritten_sgd
from jaxdigits.training._optimizers import make_optimizer as make_optimizer
from jaxdigits.training._optimizers import schedule_for as schedule_for
from jaxdigits.training._optimizers import sgd_step as sgd_step
from jaxdigits.training._population import LINEAR_IN_LEARNING_RATE as LINEAR_IN_LEARNING_RATE
from jaxdigits.training._population import PopulationResult as PopulationResult
from jaxdigits.training._population import PopulationState as PopulationState
from jaxdigits.training._population import evaluate_population as evaluate_population
from jaxdigits.training._population import freeze_member as freeze_member
from jaxdigits.training._population import init_population as init_population
from jaxdigits.training._population import judge_members as judge_members
from jaxdigits.training._population import make_population_epoch as make_population_epoch
from jaxdigits.training._population import member as member
from jaxdigits.training._population import place_population as place_population
from jaxdigits.training._population import population_members as population_members
from jaxdigits.training._population import train_population as train_population
from jaxdigits.training._runs import CHECKPOINT as CHECKPOINT
from jaxdigits.training._runs import FINAL_OUTPUTS as FINAL_OUTPUTS
from jaxdigits.training._runs import is_complete as is_complete
from jaxdigits.training._runs import prepare_out_dir as prepare_out_dir
from jaxdigits.training._runs import read_config as read_config
from jaxdigits.training._runs import run_metrics as run_metrics
from jaxdigits.training._runs import train_and_evaluate as train_and_evaluate
from jaxdigits.training._runs import write_outputs as write_outputs
from jaxdigits.training._snapshots import scan_with_snapshots as scan_with_snapshots
from jaxdigits.training._snapshots import snapshot_every as snapshot_every
from jaxdigits.training._train import TrainResult as TrainResult
from jaxdigits.training._train import train as train
from jaxdigits.training._train import train_data_parallel as train_data_parallel
from jaxdigits.training._verdict import MARGIN as MARGIN
from jaxdigits.training._verdict import NEARLY_EVERY as NEARLY_EVERY
from jaxdigits.training._verdict import SATURATED_SHARE as SATURATED_SHARE
from jaxdigits.training._verdict import SATURATED_SLOPE as SATURATED_SLOPE
from jaxdigits.training._verdict import Judgement as Judgement
from jaxdigits.training._verdict import judge as judge
from jaxdigits.training._verdict import majority_rate as majority_rate
from jaxdigits.training._verdict import saturated_fraction as saturated_fraction

__all__ = [  # in the order of the topics above
    "TrainConfig",
    "PRESETS",
    "OPTIMIZERS",
    "SCHEDULES",
    "sgd_step",
    "HandwrittenSGDState",
    "handwritten_sgd",
    "schedule_for",
    "make_optimizer",
    "TrainState",
    "steps_per_epoch",
    "FAST_SHUFFLE_MAX",
    "shuffle",
    "epoch_batches",
    "optimizer_for",
    "init_state",
    "evaluate",
    "augmented_epochs",
    "evaluate_when_due",
    "make_train_epoch",
    "scan_with_snapshots",
    "snapshot_every",
    "ON_DIVERGED",
    "Epochs",
    "check_data",
    "evaluation_sets",
    "training_images",
    "place_data",
    "compile_epoch",
    "key_as_data",
    "key_from_data",
    "records",
    "run_epochs",
    "TrainResult",
    "train",
    "train_data_parallel",
    "LINEAR_IN_LEARNING_RATE",
    "PopulationState",
    "PopulationResult",
    "member",
    "population_members",
    "init_population",
    "freeze_member",
    "evaluate_population",
    "place_population",
    "make_population_epoch",
    "train_population",
    "judge_members",
    "save_checkpoint",
    "START_OVER",
    "read_checkpoint",
    "load_checkpoint",
    "CHECKPOINT",
    "FINAL_OUTPUTS",
    "prepare_out_dir",
    "read_config",
    "is_complete",
    "train_and_evaluate",
    "run_metrics",
    "write_outputs",
    "MARGIN",
    "SATURATED_SLOPE",
    "SATURATED_SHARE",
    "NEARLY_EVERY",
    "Judgement",
    "majority_rate",
    "saturated_fraction",
    "judge",
]

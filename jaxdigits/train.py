"""Learning: mini-batch stochastic gradient descent, one compiled XLA program per epoch.

An epoch shuffles the training images with a fresh PRNG key, cuts them into mini-batches
and takes one optimiser step per mini-batch: compute the cost of the mini-batch and its
gradient (``jax.value_and_grad`` — backpropagation), then step downhill. When the
mini-batch is the whole training set this is plain (full-batch) gradient descent.

The whole epoch — shuffle, every step, and the evaluation on each data split afterwards —
is one ``jax.jit``-compiled function: a ``lax.scan`` over mini-batches that gathers each
batch from the device-resident data. Python is involved once per epoch, when the few
metric numbers come back to the host. Two things keep the epoch near the cost of its
arithmetic on a CPU: the shuffle sorts random keys without dragging the indices along
(``shuffle``), and MNIST-like images stay on the device as their bytes, decoded exactly
per mini-batch (``jaxdigits.pixels``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdigits import _checks, augment, driver, parallel, pixels
from jaxdigits.costs import COSTS, accuracy, cost_function
from jaxdigits.driver import TrainingDiverged, check_data
from jaxdigits.errors import InvalidArgument
from jaxdigits.model import ACTIVATIONS, INITS, VIDEO_SIZES, init_params
from jaxdigits.optim import OPTIMIZERS, SCHEDULES, make_optimizer
from jaxdigits.precision import matmul
from jaxdigits.snapshots import scan_with_snapshots

__all__ = [
    "FAST_SHUFFLE_MAX",
    "PRESETS",
    "TrainConfig",
    "TrainResult",
    "TrainState",
    "TrainingDiverged",
    "batch_cost",
    "check_data",
    "epoch_batches",
    "evaluate",
    "init_state",
    "inputs_times_weights",
    "make_train_epoch",
    "optimizer_for",
    "shuffle",
    "steps_per_epoch",
    "train",
    "train_data_parallel",
]


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run. ``learning_rate`` is η for the chosen cost."""

    sizes: tuple = VIDEO_SIZES
    activation: str = "sigmoid"
    cost: str = "mse"
    init: str = "normal"
    optimizer: str = "sgd"
    learning_rate: float = 1.5
    schedule: str = "constant"
    weight_decay: float = 0.0
    batch_size: int = 10
    epochs: int = 30
    seed: int = 0
    augment: str = "none"  # "shift" or "affine": random variants of each mini-batch (jaxdigits.augment)
    augment_shift: int = 2  # pixels, each way
    augment_rotate: float = 10.0  # degrees, each way ("affine")
    augment_scale: float = 0.1  # 1 ± this ("affine")
    augment_shear: float = 0.0  # degrees, each way ("affine")

    def __post_init__(self):
        _checks.layer_sizes(self.sizes)
        _checks.name(self.activation, ACTIVATIONS, "activation")
        _checks.name(self.cost, COSTS, "cost")
        _checks.name(self.init, INITS, "init")
        _checks.name(self.optimizer, OPTIMIZERS, "optimizer")
        _checks.name(self.schedule, SCHEDULES, "schedule")
        _checks.positive(self.learning_rate, "learning_rate")
        for field in ("batch_size", "epochs"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise InvalidArgument(f"{field} must be a positive integer, got {value!r}")
        if self.weight_decay < 0:
            raise InvalidArgument(f"weight_decay must be >= 0, got {self.weight_decay!r}")
        augment.check(self)


# Named recipes. "video": 3Blue1Brown's (Nielsen's) recipe — sigmoid, N(0, 1) init, plain
# SGD, mini-batches of 10, 30 epochs, η = 3.0 on Nielsen's cost ½Σ(a−y)², which is η = 1.5
# on the video's cost Σ(a−y)² (its gradient is twice as large). "best": the best recipe found
# for the same 784-16-16-10 shape by ``experiments/tune.py``, every choice made on a validation
# split (the last 10,000 training images), never on the test set — gelu, cross-entropy, He
# init, AdamW with weight decay 0.03, cosine decay from 8e-3 to 0, batch 64, 240 epochs, each
# mini-batch shifted by up to one pixel each way (docs/recipe.md explains each choice).
# "best_no_augment": where that search started, the best recipe found without augmentation —
# relu, cross-entropy, He init, AdamW with weight decay 0.1, cosine decay from 2e-3, batch 64,
# 80 epochs.
_BEST_NO_AUGMENT = TrainConfig(
    activation="relu",
    cost="cross_entropy",
    init="he",
    optimizer="adamw",
    learning_rate=2e-3,
    schedule="cosine",
    weight_decay=0.1,
    batch_size=64,
    epochs=80,
)
PRESETS = {
    "video": TrainConfig(),
    # The search's winner, written as what it changed in its starting point.
    "best": dataclasses.replace(
        _BEST_NO_AUGMENT,
        activation="gelu",
        learning_rate=8e-3,
        weight_decay=0.03,
        epochs=240,
        augment="shift",
        augment_shift=1,
    ),
    "best_no_augment": _BEST_NO_AUGMENT,
}


class TrainState(NamedTuple):
    """What travels from one epoch to the next."""

    params: list
    opt_state: optax.OptState
    key: jax.Array
    epoch: jax.Array


def steps_per_epoch(num_train, batch_size):
    """Mini-batches per epoch; the last partial batch is dropped (the shuffle varies it)."""
    if batch_size > num_train:
        raise InvalidArgument(f"batch_size {batch_size} is larger than the training set ({num_train} images)")
    return num_train // batch_size


# Above this many images the chance that two of n 32-bit keys tie, about n²/2³³, makes
# re-drawing (see ``shuffle``) too likely: ``jax.random.permutation`` takes over.
FAST_SHUFFLE_MAX = 2**16


def shuffle(key, n, *, key_bits=32):
    """A uniformly random permutation of ``0 … n-1`` (int32), drawn from ``key``.

    Give each index an independent uniform 32-bit key; the ranks of the keys are a uniformly
    random permutation when the keys are distinct. Ranks are found without sorting the
    indices along with the keys (a two-operand sort, slow on XLA's CPU backend): sort the
    keys alone, then find each key's position in the sorted keys by binary search. When
    two keys tie (probability ≈ n²/2³³: 0.34 for n = 60,000) all keys are drawn again from
    a fresh split of ``key``; conditioning on distinct keys leaves every permutation equally
    likely. Expected cost ~1.5 sorts of n keys; 4.4 ms vs 34 ms for ``jax.random.permutation``
    on one CPU core for n = 60,000 (``benchmarks/NOTES.md``, "the shuffle and the gather"). For n above
    ``FAST_SHUFFLE_MAX`` this returns ``jax.random.permutation(key, n)``. ``key_bits``
    (tests only) keeps fewer key bits, to make ties frequent.
    """
    if n > FAST_SHUFFLE_MAX:
        return jax.random.permutation(key, n).astype(jnp.int32)
    mask = jnp.uint32((1 << key_bits) - 1)

    def draw(carry):
        key, _, _ = carry
        key, sub = jax.random.split(key)
        keys = jax.random.bits(sub, (n,), jnp.uint32) & mask
        ordered = jnp.sort(keys)
        ranks = jnp.searchsorted(ordered, keys).astype(jnp.int32)
        return key, ranks, jnp.any(ordered[1:] == ordered[:-1])

    first = draw((key, jnp.zeros(n, jnp.int32), jnp.bool_(True)))
    return jax.lax.while_loop(lambda carry: carry[2], draw, first)[1]


def epoch_batches(key, num_train, batch_size):
    """One epoch's mini-batches: a fresh shuffle of the training indices, cut into rows.

    Returns an int array (steps, batch_size); row s holds the images of step s.
    """
    n_steps = steps_per_epoch(num_train, batch_size)
    order = shuffle(key, num_train)
    return order[: n_steps * batch_size].reshape(n_steps, batch_size)


def optimizer_for(config, num_train):
    """The optax optimiser that ``config`` names, with its schedule sized to the run."""
    return make_optimizer(
        config.optimizer,
        config.learning_rate,
        schedule=config.schedule,
        total_steps=config.epochs * steps_per_epoch(num_train, config.batch_size),
        weight_decay=config.weight_decay,
    )


def init_state(config, optimizer, *, key):
    """Initial ``TrainState``: parameters from ``key``'s first half, shuffles from its second."""
    init_key, shuffle_key = jax.random.split(key)
    params = init_params(init_key, config.sizes, config.init)
    return TrainState(params, optimizer.init(params), shuffle_key, jnp.zeros([], jnp.int32))


def evaluate(params, eval_sets, config):
    """``{"<split>_cost": …, "<split>_accuracy": …}`` for each ``(images, labels)`` split."""
    cost = cost_function(config.cost)
    metrics = {}
    for split, (images, labels) in eval_sets.items():
        metrics[f"{split}_cost"] = cost(params, images, labels, config.activation)
        metrics[f"{split}_accuracy"] = accuracy(params, images, labels, config.activation)
    return metrics


@jax.custom_vjp
def inputs_times_weights(images, weights):
    """``images @ weights`` — the first layer's product — with a weight gradient that runs fast.

    The value and the gradient are the usual ones: ∂C/∂W = xᵀ·g for the cotangent g of the
    product (shape (B, n_out)). Only how XLA is asked to compute xᵀ·g differs: left to
    itself it emits one dot contracting the batch axis of both operands, which XLA's CPU
    backend runs on a slow generic path (100–270 µs per step at batch 128,
    ``benchmarks/NOTES.md``). Here it is (gᵀ·x)ᵀ: a plain (n_out, B) @ (B, pixels) product,
    which goes to YNNPACK, then a small transpose. The optimisation barriers keep XLA from
    folding the two transposes back into the slow form. Only the rounding of the sum over
    the mini-batch changes. No gradient flows to the images: they are data.
    """
    return matmul(images, weights)


def _inputs_times_weights_fwd(images, weights):
    return matmul(images, weights), images


def _inputs_times_weights_bwd(images, g):
    g_t = jax.lax.optimization_barrier(g.T)  # (n_out, B), laid out row by row
    return None, jax.lax.optimization_barrier(matmul(g_t, images)).T


inputs_times_weights.defvjp(_inputs_times_weights_fwd, _inputs_times_weights_bwd)


def batch_cost(cost, params, images, labels, activation):
    """``cost(params, images, labels, activation)``, the first layer through ``inputs_times_weights``.

    The network is cut after its first layer: the hidden activations
    σ(x @ W₁ + b₁) are the inputs of the rest of the network, whose cost is the same
    function of them. Same numbers forward; the weight gradient of layer 1 is computed as
    ``inputs_times_weights`` says. A one-layer network is passed through unchanged.
    """
    if len(params) == 1:
        return cost(params, images, labels, activation)
    first = params[0]
    hidden = ACTIVATIONS[activation](inputs_times_weights(images, first["w"]) + first["b"])
    return cost(params[1:], hidden, labels, activation)


def make_train_epoch(config, optimizer, *, batch_sharding=None, snapshot_every=None):
    """Build ``train_epoch(state, images, labels, eval_sets) -> (state, metrics)``, jitted.

    ``images`` (N, pixels) and ``labels`` (N,) are the device-resident training set, the
    images float32 or, as ``train`` keeps them when that is exact, uint8 bytes from
    ``pixels.resident`` (decoded per mini-batch to the same float32 pixels);
    ``eval_sets`` maps split names to ``(images, labels)`` evaluated after the epoch.
    ``metrics`` also holds ``batch_cost``, the mean mini-batch cost during the epoch.
    ``batch_sharding`` (optional, a ``jax.sharding.Sharding`` of a (batch, ...) array) splits
    every mini-batch across devices; see ``jaxdigits.parallel``.
    ``snapshot_every`` (optional, a number of steps k) also returns ``metrics["snapshots"]``:
    the parameters after steps k, 2k, … of the epoch, stacked on a leading axis (the scan
    runs as an outer scan over blocks of k steps whose outputs are the parameters; the
    steps themselves are unchanged). See ``jaxdigits.snapshots``.
    """
    cost = cost_function(config.cost)
    augment_batch = augment.make_augment(config)  # None: mini-batches as they are

    def step(carry, xs, images, labels):
        params, opt_state = carry
        batch_indices, key = xs if augment_batch else (xs, None)
        if batch_sharding is not None:
            # Each device gathers and differentiates its rows of the mini-batch; XLA then
            # sums the partial gradients across devices (data parallelism).
            batch_indices = jax.lax.with_sharding_constraint(batch_indices, batch_sharding)
        x = pixels.as_float(images[batch_indices])
        if augment_batch:
            x = augment_batch(x, key=key)
        cost_value, grads = jax.value_and_grad(batch_cost, argnums=1)(
            cost, params, x, labels[batch_indices], config.activation
        )
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), cost_value

    def train_epoch(state, images, labels, eval_sets):
        key, shuffle_key = jax.random.split(state.key)
        batches = epoch_batches(shuffle_key, images.shape[0], config.batch_size)
        if augment_batch:
            batches = (batches, augment.step_keys(shuffle_key, len(batches)))
        steps = lambda carry, rows: jax.lax.scan(lambda c, xs: step(c, xs, images, labels), carry, rows)
        snapshots = None
        if snapshot_every is None:
            (params, opt_state), batch_costs = steps((state.params, state.opt_state), batches)
        else:
            (params, opt_state), batch_costs, snapshots = scan_with_snapshots(
                steps, (state.params, state.opt_state), batches, snapshot_every
            )
        metrics = evaluate(params, eval_sets, config)
        if snapshots is not None:
            metrics["snapshots"] = snapshots
        metrics["batch_cost"] = jnp.mean(batch_costs)
        metrics["batch_costs"] = batch_costs  # per step: locates the first bad step if training diverges
        return TrainState(params, opt_state, key, state.epoch + 1), metrics

    return jax.jit(train_epoch, donate_argnums=0)


class TrainResult(NamedTuple):
    """Outcome of ``train``: final state, per-epoch history and timings."""

    state: TrainState
    history: list
    seconds_compile: float
    seconds_per_epoch: list
    snapshots: list | None = None  # with ``snapshot_every``: per epoch, parameters every k steps (host arrays)


def train(
    config,
    train_data,
    eval_sets=None,
    *,
    state=None,
    history=None,
    on_epoch: Callable | None = None,
    progress=True,
    mesh=None,
    snapshot_every=None,
):
    """Train a network as ``config`` says.

    Args:
      config: a ``TrainConfig``.
      train_data: ``(images, labels)`` — (N, pixels) float32 in [0, 1] and (N,) int labels.
      eval_sets: ``{"train": (images, labels), "test": ...}`` to evaluate before training
        and after every epoch (default: the training data as ``"train"``).
      state: a ``TrainState`` to continue from (default: fresh from ``config.seed``), with
        ``history``, the records of the epochs it already ran (e.g. from a checkpoint).
      on_epoch: called as ``on_epoch(state, history)`` after each epoch (e.g. to checkpoint).
      progress: show a tqdm bar over epochs.
      mesh: a ``jax.sharding.Mesh`` with a ``"batch"`` axis to split every mini-batch over
        its devices (data parallelism, ``jaxdigits.parallel``); default: one device.
      snapshot_every: record the parameters every this many steps inside the compiled
        epoch (``jaxdigits.snapshots``); they come back as ``TrainResult.snapshots``.

    Returns:
      A ``TrainResult``. ``history[0]`` describes the untrained network (epoch 0).

    Raises:
      TrainingDiverged: when an epoch ends with a non-finite cost; the message names the
        epoch, the first mini-batch whose cost was not finite and the learning rate, and the
        exception carries the last good state (``last_good_state``).
    """
    eval_sets = driver.evaluation_sets(config, train_data, eval_sets)
    steps_per_epoch(len(train_data[1]), config.batch_size)

    optimizer = optimizer_for(config, len(train_data[1]))
    if state is None:
        state = init_state(config, optimizer, key=jax.random.key(config.seed))
    put, to_host, batch_sharding = jax.device_put, jax.device_get, None
    if mesh is not None:
        put, to_host, batch_sharding = parallel.placement(config, mesh)
    state = driver.key_from_data(put(driver.key_as_data(state)))
    device_data, device_evals = driver.place_data(train_data, eval_sets, put)
    train_epoch = make_train_epoch(config, optimizer, batch_sharding=batch_sharding, snapshot_every=snapshot_every)
    train_epoch, seconds_compile = driver.compile_epoch(train_epoch, state, device_data, device_evals)

    if history is None:
        initial = jax.jit(evaluate, static_argnums=2)(state.params, device_evals, config)
        history = driver.records(int(state.epoch), to_host(initial), None, None)
    run = driver.run_epochs(
        train_epoch,
        state,
        device_data,
        device_evals,
        total_epochs=config.epochs,
        histories=[history],
        learning_rates=config.learning_rate,
        on_epoch=None if on_epoch is None else lambda state, histories: on_epoch(state, histories[0]),
        progress=progress,
        to_host=to_host,
    )
    snapshots = (run.snapshots or []) if snapshot_every else None
    return TrainResult(run.state, run.histories[0], seconds_compile, run.seconds_per_epoch, snapshots)


def train_data_parallel(config, train_data, eval_sets=None, *, mesh=None, state=None, progress=False):
    """Train like ``train`` with every mini-batch split across ``mesh``'s devices.

    Args:
      config: a ``TrainConfig``; ``batch_size`` must be a multiple of the number of devices.
      train_data: ``(images, labels)``, (N, pixels) float32 in [0, 1] and (N,) int labels;
        in a multi-process run every process passes the same arrays.
      eval_sets: splits to evaluate after each epoch, as in ``train``.
      mesh: a mesh with a ``"batch"`` axis (default: ``jaxdigits.parallel.batch_mesh()``, all devices).
      state: a ``TrainState`` to continue from (default: fresh from ``config.seed``).

    Returns:
      A ``TrainResult`` like ``train``'s (it is ``train(..., mesh=mesh)``): ``state.params``
      are replicated on every device; divergence raises ``TrainingDiverged`` as there.
    """
    mesh = parallel.batch_mesh() if mesh is None else mesh
    return train(config, train_data, eval_sets, state=state, progress=progress, mesh=mesh)

"""Learning: mini-batch stochastic gradient descent, one compiled XLA program per epoch.

An epoch shuffles the training images with a fresh PRNG key, cuts them into mini-batches
and takes one optimiser step per mini-batch: compute the cost of the mini-batch and its
gradient (``jax.value_and_grad`` — backpropagation), then step downhill. When the
mini-batch is the whole training set this is plain (full-batch) gradient descent.

The whole epoch — shuffle, every step, and the evaluation on each data split afterwards
(every ``eval_every`` epochs and after the last) — is one ``jax.jit``-compiled function: a
``lax.scan`` over mini-batches that gathers each batch from the device-resident data. Python
is involved once per epoch, when the few metric numbers come back to the host. Three things
keep the epoch near the cost of its arithmetic on a CPU: the shuffle sorts random keys
without dragging the indices along (``shuffle``), MNIST-like images stay on the device as
their bytes, decoded exactly per mini-batch (``jaxdigits.data.resident_pixels``), and random
shifts are read from a table of shifted copies when it fits (``jaxdigits.data.shift_table``).
The first layer's weight gradient goes through ``jaxdigits.network.batch_cost``, which
computes it the fast way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from jaxdigits.data import augment_keys, make_augment, make_gather, shift_moves
from jaxdigits.errors import InvalidArgument
from jaxdigits.network import accuracy, batch_cost, cost_function, init_params
from jaxdigits.training._config import TrainConfig
from jaxdigits.training._optimizers import make_optimizer
from jaxdigits.training._snapshots import scan_with_snapshots
from jaxdigits.typing import Array, Network, PRNGKey

__all__ = [
    "FAST_SHUFFLE_MAX",
    "TrainState",
    "augmented_epochs",
    "epoch_batches",
    "evaluate",
    "evaluate_when_due",
    "init_state",
    "make_train_epoch",
    "optimizer_for",
    "shuffle",
    "steps_per_epoch",
]


class TrainState(NamedTuple):
    """What travels from one epoch to the next."""

    params: Network
    opt_state: optax.OptState
    key: jax.Array
    epoch: jax.Array


def steps_per_epoch(num_train: int, batch_size: int) -> int:
    """Mini-batches per epoch; the last partial batch is dropped (the shuffle varies it)."""
    if batch_size > num_train:
        raise InvalidArgument(f"batch_size {batch_size} is larger than the training set ({num_train} images)")
    return num_train // batch_size


# Above this many images the chance that two of n 32-bit keys tie, about n²/2³³, makes
# re-drawing (see ``shuffle``) too likely: ``jax.random.permutation`` takes over.
FAST_SHUFFLE_MAX = 2**16


def shuffle(key: PRNGKey, n: int, *, key_bits: int = 32) -> Array:
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


def epoch_batches(key: PRNGKey, num_train: int, batch_size: int) -> Array:
    """One epoch's mini-batches: a fresh shuffle of the training indices, cut into rows.

    Returns an int array (steps, batch_size); row s holds the images of step s.
    """
    n_steps = steps_per_epoch(num_train, batch_size)
    order = shuffle(key, num_train)
    return order[: n_steps * batch_size].reshape(n_steps, batch_size)


def optimizer_for(config: TrainConfig, num_train: int) -> optax.GradientTransformation:
    """The optax optimiser that ``config`` names, with its schedule (and warm-up) sized to the run."""
    total_steps = config.epochs * steps_per_epoch(num_train, config.batch_size)
    return make_optimizer(
        config.optimizer,
        config.learning_rate,
        schedule=config.schedule,
        total_steps=total_steps,
        warmup_steps=int(round(config.warmup_fraction * total_steps)),
        weight_decay=config.weight_decay,
    )


def augmented_epochs(config: TrainConfig) -> int:
    """How many epochs, from the first, see augmented mini-batches: round(augment_fraction · epochs)."""
    return config.epochs if config.augment_fraction == 1 else int(round(config.augment_fraction * config.epochs))


def evaluate_when_due(evaluate_fn: Callable, params: Network, epochs_done: Array, config: TrainConfig) -> dict:
    """``evaluate_fn(params)`` after every ``eval_every``-th epoch and the last, else skipped.

    With ``eval_every`` 1 every epoch is due: the evaluation alone (no ``"evaluated"``).

    ``epochs_done`` is the (traced) number of epochs finished. One compiled program serves
    both kinds of epoch: ``lax.cond`` runs the evaluation only when it is due (otherwise the
    metrics are NaN placeholders), and ``metrics["evaluated"]`` says which it was, so the
    epoch loop records the metrics of evaluated epochs only.
    """
    if config.eval_every == 1:
        return evaluate_fn(params)
    due = epochs_done == config.epochs
    if config.eval_every:
        due = due | (epochs_done % config.eval_every == 0)

    def skipped(params):
        # NaN placeholders shaped like the metrics, made from a parameter so that they vary
        # over devices as the metrics do (a population inside shard_map).
        anchor = 0 * jax.tree.leaves(params)[0].reshape(-1)[0]
        shapes = jax.eval_shape(evaluate_fn, params)
        return jax.tree.map(lambda s: jnp.full(s.shape, jnp.nan, s.dtype) + anchor.astype(s.dtype), shapes)

    return {**jax.lax.cond(due, evaluate_fn, skipped, params), "evaluated": due}


def init_state(config: TrainConfig, optimizer: optax.GradientTransformation, *, key: PRNGKey) -> TrainState:
    """Initial ``TrainState``: parameters from ``key``'s first half, shuffles from its second."""
    init_key, shuffle_key = jax.random.split(key)
    params = init_params(init_key, config.sizes, config.init)
    return TrainState(params, optimizer.init(params), shuffle_key, jnp.zeros([], jnp.int32))


def evaluate(params: Network, eval_sets: dict, config: TrainConfig) -> dict[str, Array]:
    """``{"<split>_cost": …, "<split>_accuracy": …}`` for each ``(images, labels)`` split."""
    cost = cost_function(config.cost)
    metrics = {}
    for split, (images, labels) in eval_sets.items():
        metrics[f"{split}_cost"] = cost(params, images, labels, config.activation)
        metrics[f"{split}_accuracy"] = accuracy(params, images, labels, config.activation)
    return metrics


def make_train_epoch(
    config: TrainConfig,
    optimizer: optax.GradientTransformation,
    *,
    batch_sharding: jax.sharding.Sharding | None = None,
    snapshot_every: int | None = None,
    from_table: bool = False,
) -> Callable:
    """Build ``train_epoch(state, images, labels, eval_sets) -> (state, metrics)``, jitted.

    ``images`` (N, pixels) and ``labels`` (N,) are the device-resident training set, the
    images float32 or, as ``train`` keeps them when that is exact, uint8 bytes from
    ``resident_pixels`` (decoded per mini-batch to the same float32 pixels);
    ``eval_sets`` maps split names to ``(images, labels)`` evaluated after the epoch.
    ``metrics`` also holds ``batch_cost``, the mean mini-batch cost during the epoch.
    ``batch_sharding`` (optional, a ``jax.sharding.Sharding`` of a (batch, ...) array) splits
    every mini-batch across devices; see ``train_data_parallel``.
    ``snapshot_every`` (optional, a number of steps k) also returns ``metrics["snapshots"]``:
    the parameters after steps k, 2k, … of the epoch, stacked on a leading axis (the scan
    runs as an outer scan over blocks of k steps whose outputs are the parameters; the
    steps themselves are unchanged). See ``scan_with_snapshots``.
    ``from_table``: ``images`` is the training set's ``shift_table`` (``augment="shift"``);
    each step reads its shifted images from it, the same numbers as shifting them.

    From ``config``: the epochs after the first ``augmented_epochs(config)`` gather their
    mini-batches unaugmented (decided inside the program from ``state.epoch``), and with
    ``eval_every`` ≠ 1 the evaluation runs only when due (``evaluate_when_due``). With the
    defaults (every epoch augmented and evaluated) neither adds anything to the program.
    """
    cost = cost_function(config.cost)
    augmenting = make_augment(config) is not None
    gather = make_gather(config, from_table=from_table)
    copies = len(shift_moves(config.augment_shift)) if from_table else 1  # table rows per image
    clean_from = augmented_epochs(config) if augmenting and config.augment_fraction < 1 else None

    def step(carry, xs, images, labels, augmented):
        params, opt_state = carry
        batch_indices, key = xs if augmenting else (xs, None)
        if batch_sharding is not None:
            # Each device gathers and differentiates its rows of the mini-batch; XLA then
            # sums the partial gradients across devices (data parallelism).
            batch_indices = jax.lax.with_sharding_constraint(batch_indices, batch_sharding)
        x = gather(images, batch_indices, key=key, augmented=augmented)
        cost_value, grads = jax.value_and_grad(batch_cost, argnums=1)(
            cost, params, x, labels[batch_indices], config.activation
        )
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), cost_value

    def train_epoch(state, images, labels, eval_sets):
        key, shuffle_key = jax.random.split(state.key)
        batches = epoch_batches(shuffle_key, images.shape[0] // copies, config.batch_size)
        if augmenting:
            batches = (batches, augment_keys(shuffle_key, len(batches)))
        augmented = None if clean_from is None else state.epoch < clean_from
        steps = lambda carry, rows: jax.lax.scan(lambda c, xs: step(c, xs, images, labels, augmented), carry, rows)
        carry = (state.params, state.opt_state)
        (params, opt_state), batch_costs, snapshots = scan_with_snapshots(steps, carry, batches, snapshot_every)
        metrics = evaluate_when_due(lambda p: evaluate(p, eval_sets, config), params, state.epoch + 1, config)
        if snapshots is not None:
            metrics["snapshots"] = snapshots
        metrics["batch_cost"] = jnp.mean(batch_costs)
        metrics["batch_costs"] = batch_costs  # per step: locates the first bad step if training diverges
        return TrainState(params, opt_state, key, state.epoch + 1), metrics

    return jax.jit(train_epoch, donate_argnums=0)

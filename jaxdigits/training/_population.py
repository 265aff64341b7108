"""Many networks in one program: K networks trained side by side with ``jax.vmap``.

Experiments often train the same recipe many times — over seeds, to see how much the
result varies, or over learning rates, to pick one. Training them one after another pays
the per-step overhead K times and multiplies tiny 16-column matrices. Here the K networks
share one compiled epoch and one mini-batch order: each step gathers the mini-batch once,
and ``vmap`` turns the K first-layer products ``x @ W_k`` into one product with K·16
columns, so the machine does K networks' arithmetic in far fewer, larger operations.

Network k starts from ``init_params`` with key ``seeds[k]`` and steps with learning rate
``learning_rates[k]``; the mini-batch order comes from ``config.seed``, as in ``train``. So a
network whose seed is ``config.seed`` follows exactly the run ``train`` makes with its
learning rate (up to float rounding).

Different learning rates work because every optimiser here is linear in η: its update is
η times an update that does not depend on η (plain SGD, momentum, adam, adamw, and their
cosine schedules and warm-ups). The optimiser is built once with η = 1 and each network's update is
scaled by its own η.

The Python loop over epochs is ``run_epochs``, as for ``train``: progress bar,
``on_epoch`` hook (checkpoints: ``save_checkpoint`` and ``load_checkpoint`` save and load a
``PopulationState`` as it does a ``TrainState``), bit-for-bit resume from a state and its
histories, and a divergence judgement per network. A network whose cost becomes NaN or
infinite is reported (``diverged_at``, ``judgements``) and, by default, frozen: its
parameters go back to those before the failed epoch, its updates stop (``state.active``)
and its history ends with the failed epoch's record, while the others go on.

With several devices (one per core on a CPU, see ``jaxdigits.devices``; or several GPUs) the K
networks are split between them along a ``"members"`` mesh axis: each device runs the same
epoch for its K/d networks with its own copy of the data, and nothing passes between devices
until the metrics come back (``shard_map``). The count used is the largest number of the
available devices that divides K evenly (``jaxdigits.devices.devices_sharing``); ``devices=[jax.devices()[0]]``
keeps everything on one.

Left out: different architectures or batch sizes per network (they would not batch).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import PartitionSpec as P

from jaxdigits import devices as _devices
from jaxdigits.data import SHIFT_TABLE_BYTES, augment_keys, make_augment, make_gather, shift_moves
from jaxdigits.errors import InvalidArgument
from jaxdigits.network import cost_function, init_params
from jaxdigits.training import _loop
from jaxdigits.training._config import TrainConfig
from jaxdigits.training._epoch import (
    augmented_epochs,
    epoch_batches,
    evaluate,
    evaluate_when_due,
    optimizer_for,
    steps_per_epoch,
)
from jaxdigits.training._snapshots import scan_with_snapshots
from jaxdigits.training._verdict import Judgement, judge, saturated_fraction
from jaxdigits.typing import Array, ArrayLike, Network

__all__ = [
    "LINEAR_IN_LEARNING_RATE",
    "PopulationResult",
    "PopulationState",
    "evaluate_population",
    "freeze_member",
    "init_population",
    "judge_members",
    "make_population_epoch",
    "member",
    "place_population",
    "population_members",
    "train_population",
]

LINEAR_IN_LEARNING_RATE = ("sgd", "optax_sgd", "momentum", "adam", "adamw")


class PopulationState(NamedTuple):
    """What travels between epochs: every leaf of ``params``/``opt_state`` has a leading K axis."""

    params: Network
    opt_state: optax.OptState
    learning_rates: jax.Array  # (K,)
    key: jax.Array  # the shared shuffle key
    epoch: jax.Array
    active: jax.Array  # (K,) bool: False for a frozen (diverged) network, whose updates stop


class PopulationResult(NamedTuple):
    """Outcome of ``train_population``.

    ``params``: the K final networks stacked (``params[i]["w"]`` has shape (K, n_in, n_out));
    ``member(params, k)`` takes one out. ``histories[k]`` is network k's list of per-epoch
    records, as ``train`` returns (``history[0]`` is the untrained network). ``seeds`` and
    ``learning_rates`` say which network is which. ``judgements[k]``: whether network k
    learnt anything (``judge``), so a sweep shows which members failed.
    """

    params: Network
    histories: list
    seeds: tuple
    learning_rates: tuple
    seconds_compile: float
    seconds_per_epoch: list
    state: PopulationState
    judgements: tuple = ()
    diverged_at: tuple = ()
    snapshots: list | None = None


def member(stacked: Network, k: int) -> Network:
    """Network ``k`` of a stacked parameter pytree, as a plain ``init_params``-style list."""
    return jax.tree.map(lambda leaf: leaf[k], stacked)


def population_members(
    config: TrainConfig, seeds: Sequence[int] | None = None, learning_rates: Sequence[float] | None = None
) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """The (seeds, learning_rates) tuples of the K networks, after checks.

    Either may be omitted (then every network uses ``config``'s value); when both are given
    they must have the same length and are paired element by element.
    """
    if seeds is None and learning_rates is None:
        raise InvalidArgument("give seeds, learning_rates or both: one network per entry")
    k = len(seeds) if seeds is not None else len(learning_rates)
    if seeds is not None and learning_rates is not None and len(learning_rates) != k:
        raise InvalidArgument(
            f"seeds ({len(seeds)}) and learning_rates ({len(learning_rates)}) must pair up one to one"
        )
    if k < 1:
        raise InvalidArgument("a population needs at least one network")
    seeds = tuple(int(s) for s in seeds) if seeds is not None else (config.seed,) * k
    learning_rates = (
        tuple(float(lr) for lr in learning_rates) if learning_rates is not None else (config.learning_rate,) * k
    )
    for lr in learning_rates:
        dataclasses.replace(config, learning_rate=lr)  # TrainConfig checks each value
    if any(lr != config.learning_rate for lr in learning_rates) and config.optimizer not in LINEAR_IN_LEARNING_RATE:
        raise InvalidArgument(f"optimizer {config.optimizer!r} is not known to be linear in the learning rate")
    return seeds, learning_rates


def init_population(
    config: TrainConfig, optimizer: optax.GradientTransformation, seeds: Sequence[int], learning_rates: Sequence[float]
) -> PopulationState:
    """Stacked initial state: network k from ``init_params(key(seeds[k]) split as in train)``."""

    def one(seed):
        init_key, _ = jax.random.split(jax.random.key(seed))
        params = init_params(init_key, config.sizes, config.init)
        return params, optimizer.init(params)

    params, opt_state = jax.vmap(one)(jnp.asarray(seeds, jnp.int32))
    _, shuffle_key = jax.random.split(jax.random.key(config.seed))
    k = len(seeds)
    rates = jnp.asarray(learning_rates, jnp.float32)
    return PopulationState(params, opt_state, rates, shuffle_key, jnp.zeros([], jnp.int32), jnp.ones(k, bool))


def freeze_member(state: PopulationState, last_good: PopulationState, k: int) -> PopulationState:
    """``state`` with network ``k`` back at its values in ``last_good`` and its updates stopped."""
    restore = lambda now, before: now.at[k].set(before[k])
    return state._replace(
        params=jax.tree.map(restore, state.params, last_good.params),
        opt_state=jax.tree.map(restore, state.opt_state, last_good.opt_state),
        active=state.active.at[k].set(False),
    )


def evaluate_population(params: Network, eval_sets: dict, config: TrainConfig) -> dict[str, Array]:
    """``evaluate`` for each of the K stacked networks: every metric has shape (K,)."""
    return jax.vmap(lambda p: evaluate(p, eval_sets, config))(params)


_SPLIT, _WHOLE = P("members"), P()
# How each field of a PopulationState lies on the mesh: the K axis split, the key and epoch whole.
_STATE_SPECS = PopulationState(_SPLIT, _SPLIT, _SPLIT, _WHOLE, _WHOLE, _SPLIT)


def place_population(state: PopulationState, mesh: jax.sharding.Mesh | None) -> PopulationState:
    """``state`` on ``mesh``: leaves with the K axis split along ``"members"``, key and epoch on every device."""
    return _loop.key_from_data(_devices.place(_loop.key_as_data(state), mesh, _STATE_SPECS))


def make_population_epoch(
    config: TrainConfig,
    optimizer: optax.GradientTransformation,
    *,
    scale_updates: bool,
    mesh: jax.sharding.Mesh | None = None,
    snapshot_every: int | None = None,
    from_table: bool = False,
) -> Callable:
    """Build ``epoch(state, images, labels, eval_sets) -> (state, metrics)``, jitted.

    Like ``make_train_epoch`` but for K networks: one shuffle, one gather per
    mini-batch, and a ``vmap`` over the networks inside each step. Every metric has shape (K,).
    ``scale_updates``: multiply network k's update by ``state.learning_rates[k]`` (the
    optimiser was built with η = 1). A network whose ``state.active`` is False keeps its
    parameters and optimiser state (a frozen, diverged member). ``mesh``: a 1-D mesh with
    axis ``"members"``; each device then runs the epoch for its share of the networks
    (``place_population`` puts a state there), data and evaluation sets whole on each.
    ``snapshot_every``: also return ``metrics["snapshots"]``, the K networks after steps k,
    2k, … of the epoch, leaves of shape (K, blocks, …) (``scan_with_snapshots``).
    ``from_table``, clean final epochs and ``eval_every``: as in ``make_train_epoch``.
    """
    cost = cost_function(config.cost)
    augmenting = make_augment(config) is not None
    gather = make_gather(config, from_table=from_table)
    copies = len(shift_moves(config.augment_shift)) if from_table else 1  # table rows per image
    clean_from = augmented_epochs(config) if augmenting and config.augment_fraction < 1 else None

    def network_step(params, opt_state, learning_rate, active, x, y):
        batch_cost, grads = jax.value_and_grad(cost)(params, x, y, config.activation)
        updates, new_opt_state = optimizer.update(grads, opt_state, params)
        if scale_updates:
            updates = jax.tree.map(lambda u: learning_rate.astype(u.dtype) * u, updates)
        keep = lambda new, old: jnp.where(active, new, old)
        new_params = jax.tree.map(keep, optax.apply_updates(params, updates), params)
        return new_params, jax.tree.map(keep, new_opt_state, opt_state), batch_cost

    def step(carry, xs, images, labels, learning_rates, active, augmented):
        params, opt_state = carry
        batch_indices, key = xs if augmenting else (xs, None)
        # One gather, shared by all, with the same variants for every network, as train draws them.
        x, y = gather(images, batch_indices, key=key, augmented=augmented), labels[batch_indices]
        params, opt_state, batch_cost = jax.vmap(network_step, in_axes=(0, 0, 0, 0, None, None))(
            params, opt_state, learning_rates, active, x, y
        )
        return (params, opt_state), batch_cost

    def epoch(state, images, labels, eval_sets):
        key, shuffle_key = jax.random.split(state.key)
        batches = epoch_batches(shuffle_key, images.shape[0] // copies, config.batch_size)  # train's order
        if augmenting:
            batches = (batches, augment_keys(shuffle_key, len(batches)))
        augmented = None if clean_from is None else state.epoch < clean_from
        steps = lambda carry, rows: jax.lax.scan(
            lambda c, xs: step(c, xs, images, labels, state.learning_rates, state.active, augmented), carry, rows
        )
        carry = (state.params, state.opt_state)
        (params, opt_state), batch_costs, snapshots = scan_with_snapshots(steps, carry, batches, snapshot_every)
        evaluate_all = lambda p: evaluate_population(p, eval_sets, config)
        metrics = evaluate_when_due(evaluate_all, params, state.epoch + 1, config)
        if "evaluated" in metrics:  # K axis first, as every metric
            metrics["evaluated"] = jnp.full(len(state.active), metrics["evaluated"])
        if snapshots is not None:  # (blocks, K, …) -> (K, blocks, …): the K axis first, as every metric
            metrics["snapshots"] = jax.tree.map(lambda x: jnp.swapaxes(x, 0, 1), snapshots)
        metrics["batch_cost"] = jnp.mean(batch_costs, axis=0)
        metrics["batch_costs"] = batch_costs.T  # (K, steps): locates a divergence
        return state._replace(params=params, opt_state=opt_state, key=key, epoch=state.epoch + 1), metrics

    if mesh is not None:  # every metric has the K axis first, so one spec fits all
        epoch = jax.shard_map(
            epoch, mesh=mesh, in_specs=(_STATE_SPECS, _WHOLE, _WHOLE, _WHOLE), out_specs=(_STATE_SPECS, _SPLIT)
        )

    def with_steps_first(state, images, labels, eval_sets):
        state, metrics = epoch(state, images, labels, eval_sets)
        return state, {**metrics, "batch_costs": metrics["batch_costs"].T}  # (steps, K), as the driver reads it

    return jax.jit(with_steps_first, donate_argnums=0)


def train_population(
    config: TrainConfig,
    train_data: tuple[ArrayLike, ArrayLike],
    eval_sets: dict | None = None,
    *,
    seeds: Sequence[int] | None = None,
    learning_rates: Sequence[float] | None = None,
    state: PopulationState | None = None,
    histories: list | None = None,
    on_epoch: Callable | None = None,
    on_diverged: str = "freeze",
    progress: bool = False,
    devices: Sequence[jax.Device] | None = None,
    snapshot_every: int | None = None,
    shift_table_bytes: int = SHIFT_TABLE_BYTES,
) -> PopulationResult:
    """Train K networks as ``config`` says, in one compiled program, with a shared batch order.

    Args:
      config: a ``TrainConfig``; everything but the seed and the learning rate is shared.
      train_data: ``(images, labels)`` — (N, pixels) float32 in [0, 1] and (N,) int labels.
      eval_sets: ``{"test": (images, labels), ...}`` evaluated for every network before
        training and after each epoch (default: the training data as ``"train"``).
      seeds: K integers, network k's initial parameters come from ``seeds[k]`` (default:
        ``config.seed`` for all).
      learning_rates: K values of η (default: ``config.learning_rate`` for all).
      state: a ``PopulationState`` to continue from (default: fresh from ``seeds``), with
        ``histories``, the records of the epochs it already ran (e.g. from a checkpoint:
        ``load_checkpoint(path, like, config)`` with ``like`` from
        ``init_population``). The same seeds and learning rates must be given again.
      on_epoch: called as ``on_epoch(state, histories)`` after each epoch (e.g. to checkpoint).
      on_diverged: what happens to a network whose cost becomes NaN or infinite:
        ``"freeze"`` (default: reported, put back to its state before that epoch, no more
        updates), ``"continue"`` (it trains on as NaN) or ``"raise"`` (``TrainingDiverged``).
      progress: show a tqdm bar over epochs.
      devices: where the networks train (default: ``devices_sharing(K)``, the most of
        ``jax.devices()`` that share K evenly); the result is the same on any number of
        devices, to float rounding.
      snapshot_every: record the K networks every this many steps inside the compiled epoch
        (``scan_with_snapshots``); they come back as ``PopulationResult.snapshots``.
      shift_table_bytes: the budget of the table of shifted copies, as in ``train``.

    Returns:
      A ``PopulationResult``; network k's history is ``histories[k]``, and
      ``judgements[k]`` says whether it learnt anything (a failed member does not stop the
      others); ``diverged_at[k]`` the epoch it diverged in, or None.

    Examples:
      >>> result = train_population(config, data, {"test": test}, seeds=range(16))
      >>> [h[-1]["test_accuracy"] for h in result.histories]
    """
    seeds, learning_rates = population_members(config, seeds, learning_rates)
    eval_sets = _loop.evaluation_sets(config, train_data, eval_sets)
    steps_per_epoch(len(train_data[1]), config.batch_size)

    sweep = any(lr != config.learning_rate for lr in learning_rates)
    optimizer = optimizer_for(dataclasses.replace(config, learning_rate=1.0) if sweep else config, len(train_data[1]))
    if state is None:
        state = init_population(config, optimizer, seeds, learning_rates)
    elif np.shape(state.learning_rates) != (len(seeds),):
        raise InvalidArgument(f"state holds {np.shape(state.learning_rates)[0]} networks, seeds name {len(seeds)}")
    devices = _devices.devices_sharing(len(seeds), devices)
    mesh = _devices.mesh("members", devices) if len(devices) > 1 else None
    images, from_table = _loop.training_images(config, train_data[0], budget=shift_table_bytes, copies=len(devices))
    put = lambda tree: _devices.place(tree, mesh, _WHOLE)
    data, evals = _loop.place_data(train_data, eval_sets, put=put, images=images)
    del images  # the host copy of a table is as large as a device's
    state = place_population(state, mesh)
    epoch = make_population_epoch(
        config, optimizer, scale_updates=sweep, mesh=mesh, snapshot_every=snapshot_every, from_table=from_table
    )
    epoch, seconds_compile = _loop.compile_epoch(epoch, state, data, evals)

    if histories is None:
        initial = jax.jit(evaluate_population, static_argnums=2)(state.params, evals, config)
        histories = [[row] for row in _loop.records(int(state.epoch), jax.device_get(initial), None, len(seeds))]
    run = _loop.run_epochs(
        epoch,
        state,
        data,
        evals,
        total_epochs=config.epochs,
        histories=histories,
        members=len(seeds),
        learning_rates=learning_rates,
        on_epoch=on_epoch,
        on_diverged=on_diverged,
        freeze=lambda state, last_good, k: place_population(freeze_member(state, last_good, k), mesh),
        progress=progress,
    )
    judgements = judge_members(config, run.state.params, run.histories, learning_rates, train_data[0], eval_sets)
    return PopulationResult(
        run.state.params,
        run.histories,
        seeds,
        learning_rates,
        seconds_compile,
        run.seconds_per_epoch,
        run.state,
        judgements,
        tuple(run.diverged_at),
        (run.snapshots or []) if snapshot_every else None,
    )


def judge_members(
    config: TrainConfig,
    params: Network,
    histories: list,
    learning_rates: Sequence[float],
    train_images: ArrayLike,
    eval_sets: dict,
) -> tuple[Judgement, ...]:
    """``judge`` for each network: did it learn anything (on "test" if given)."""
    split = "test" if "test" in eval_sets else next(iter(eval_sets))
    return tuple(
        judge(
            history,
            eval_sets[split][1],
            learning_rate=lr,
            split=split,
            saturated=saturated_fraction(member(params, k), train_images, config.activation),
        )
        for k, (history, lr) in enumerate(zip(histories, learning_rates))
    )

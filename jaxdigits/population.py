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
cosine schedules). The optimiser is built once with η = 1 and each network's update is
scaled by its own η.

Left out: different architectures or batch sizes per network (they would not batch), and
early stopping of diverged members — a network whose cost becomes NaN keeps training as
NaN and its history shows it, the others are unaffected.
"""

from __future__ import annotations

import dataclasses
import time
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdigits import augment, pixels
from jaxdigits.costs import cost_function
from jaxdigits.errors import InvalidArgument
from jaxdigits.judge import judge, saturated_fraction
from jaxdigits.model import init_params
from jaxdigits.train import check_data, epoch_batches, evaluate, optimizer_for, steps_per_epoch

LINEAR_IN_LEARNING_RATE = ("sgd", "optax_sgd", "momentum", "adam", "adamw")


class PopulationState(NamedTuple):
    """What travels between epochs: every leaf of ``params``/``opt_state`` has a leading K axis."""

    params: list
    opt_state: optax.OptState
    learning_rates: jax.Array  # (K,)
    key: jax.Array  # the shared shuffle key
    epoch: jax.Array


class PopulationResult(NamedTuple):
    """Outcome of ``train_population``.

    ``params``: the K final networks stacked (``params[i]["w"]`` has shape (K, n_in, n_out));
    ``member(params, k)`` takes one out. ``histories[k]`` is network k's list of per-epoch
    records, as ``train`` returns (``history[0]`` is the untrained network). ``seeds`` and
    ``learning_rates`` say which network is which. ``judgements[k]``: whether network k
    learnt anything (``jaxdigits.judge``), so a sweep shows which members failed.
    """

    params: list
    histories: list
    seeds: tuple
    learning_rates: tuple
    seconds_compile: float
    seconds_per_epoch: list
    state: PopulationState
    judgements: tuple = ()


def member(stacked, k):
    """Network ``k`` of a stacked parameter pytree, as a plain ``init_params``-style list."""
    return jax.tree.map(lambda leaf: leaf[k], stacked)


def population_members(config, seeds=None, learning_rates=None):
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


def init_population(config, optimizer, seeds, learning_rates):
    """Stacked initial state: network k from ``init_params(key(seeds[k]) split as in train)``."""

    def one(seed):
        init_key, _ = jax.random.split(jax.random.key(seed))
        params = init_params(init_key, config.sizes, config.init)
        return params, optimizer.init(params)

    params, opt_state = jax.vmap(one)(jnp.asarray(seeds, jnp.int32))
    _, shuffle_key = jax.random.split(jax.random.key(config.seed))
    return PopulationState(
        params, opt_state, jnp.asarray(learning_rates, jnp.float32), shuffle_key, jnp.zeros([], jnp.int32)
    )


def evaluate_population(params, eval_sets, config):
    """``evaluate`` for each of the K stacked networks: every metric has shape (K,)."""
    return jax.vmap(lambda p: evaluate(p, eval_sets, config))(params)


def make_population_epoch(config, optimizer, *, scale_updates):
    """Build ``epoch(state, images, labels, eval_sets) -> (state, metrics)``, jitted.

    Like ``jaxdigits.train.make_train_epoch`` but for K networks: one shuffle, one gather per
    mini-batch, and a ``vmap`` over the networks inside each step. Every metric has shape (K,).
    ``scale_updates``: multiply network k's update by ``state.learning_rates[k]`` (the
    optimiser was built with η = 1).
    """
    cost = cost_function(config.cost)
    augment_batch = augment.make_augment(config)  # None: mini-batches as they are

    def network_step(params, opt_state, learning_rate, x, y):
        batch_cost, grads = jax.value_and_grad(cost)(params, x, y, config.activation)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        if scale_updates:
            updates = jax.tree.map(lambda u: learning_rate.astype(u.dtype) * u, updates)
        return optax.apply_updates(params, updates), opt_state, batch_cost

    def step(carry, xs, images, labels, learning_rates):
        params, opt_state = carry
        batch_indices, key = xs if augment_batch else (xs, None)
        x, y = pixels.as_float(images[batch_indices]), labels[batch_indices]  # one gather, shared by all
        if augment_batch:
            x = augment_batch(x, key=key)  # the same variants for every network, as train draws them
        params, opt_state, batch_cost = jax.vmap(network_step, in_axes=(0, 0, 0, None, None))(
            params, opt_state, learning_rates, x, y
        )
        return (params, opt_state), batch_cost

    def epoch(state, images, labels, eval_sets):
        key, shuffle_key = jax.random.split(state.key)
        batches = epoch_batches(shuffle_key, images.shape[0], config.batch_size)  # the same order as train's
        if augment_batch:
            batches = (batches, augment.step_keys(shuffle_key, len(batches)))
        (params, opt_state), batch_costs = jax.lax.scan(
            lambda carry, xs: step(carry, xs, images, labels, state.learning_rates),
            (state.params, state.opt_state),
            batches,
        )
        metrics = evaluate_population(params, eval_sets, config)
        metrics["batch_cost"] = jnp.mean(batch_costs, axis=0)
        return state._replace(params=params, opt_state=opt_state, key=key, epoch=state.epoch + 1), metrics

    return jax.jit(epoch, donate_argnums=0)


def train_population(config, train_data, eval_sets=None, *, seeds=None, learning_rates=None):
    """Train K networks as ``config`` says, in one compiled program, with a shared batch order.

    Args:
      config: a ``TrainConfig``; everything but the seed and the learning rate is shared.
      train_data: ``(images, labels)`` — (N, pixels) float32 in [0, 1] and (N,) int labels.
      eval_sets: ``{"test": (images, labels), ...}`` evaluated for every network before
        training and after each epoch (default: the training data as ``"train"``).
      seeds: K integers, network k's initial parameters come from ``seeds[k]`` (default:
        ``config.seed`` for all).
      learning_rates: K values of η (default: ``config.learning_rate`` for all).

    Returns:
      A ``PopulationResult``; network k's history is ``histories[k]``, and
      ``judgements[k]`` says whether it learnt anything (a failed member does not stop the
      others).

    Examples:
      >>> result = train_population(config, data, {"test": test}, seeds=range(16))
      >>> [h[-1]["test_accuracy"] for h in result.histories]
    """
    seeds, learning_rates = population_members(config, seeds, learning_rates)
    images, labels = train_data
    eval_sets = dict(eval_sets) if eval_sets is not None else {"train": train_data}
    for split, (x, y) in {"train": train_data, **eval_sets}.items():
        check_data(x, y, config.sizes[0], config.sizes[-1], split)
    steps_per_epoch(len(labels), config.batch_size)

    sweep = any(lr != config.learning_rate for lr in learning_rates)
    optimizer = optimizer_for(dataclasses.replace(config, learning_rate=1.0) if sweep else config, len(labels))
    state = init_population(config, optimizer, seeds, learning_rates)
    data = jax.device_put((pixels.resident(images), jnp.asarray(labels, jnp.int32)))  # bytes when exact
    evals = jax.device_put({k: (jnp.asarray(x), jnp.asarray(y, jnp.int32)) for k, (x, y) in eval_sets.items()})

    start = time.perf_counter()
    epoch = make_population_epoch(config, optimizer, scale_updates=sweep).lower(state, *data, evals).compile()
    seconds_compile = time.perf_counter() - start

    initial = jax.jit(evaluate_population, static_argnums=2)(state.params, evals, config)
    histories = [[record] for record in _records(0, jax.device_get(initial), None, len(seeds))]
    seconds = []
    for _ in range(config.epochs):
        tick = time.perf_counter()
        state, metrics = epoch(state, *data, evals)
        metrics = jax.device_get(metrics)  # one transfer per epoch for all K networks
        seconds.append(time.perf_counter() - tick)
        for history, record in zip(histories, _records(int(state.epoch), metrics, seconds[-1], len(seeds))):
            history.append(record)
    split = "test" if "test" in eval_sets else next(iter(eval_sets))
    judgements = tuple(
        judge(
            history,
            eval_sets[split][1],
            learning_rate=lr,
            split=split,
            saturated=saturated_fraction(member(state.params, k), images, config.activation),
        )
        for k, (history, lr) in enumerate(zip(histories, learning_rates))
    )
    return PopulationResult(state.params, histories, seeds, learning_rates, seconds_compile, seconds, state, judgements)


def _records(epoch, metrics, seconds, k):
    records = []
    for i in range(k):
        record = {"epoch": epoch, **{name: float(np.asarray(v)[i]) for name, v in metrics.items()}}
        if seconds is not None:
            record["seconds"] = seconds
        records.append(record)
    return records

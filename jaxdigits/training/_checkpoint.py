"""Checkpoints: everything needed to continue a run exactly where it stopped.

A checkpoint holds the ``TrainState`` (parameters, optimiser state, the PRNG key that will
shuffle the next epoch, the epoch count), the history so far, and the config it belongs to.
It is one ``.npz`` file written atomically (``jaxdigits.io.atomic_path``): a run killed at any
moment leaves either the previous checkpoint or the new one, never a torn file. Because the
state includes the PRNG key and every epoch is the same compiled program, resuming gives
bit-for-bit the parameters an uninterrupted run would have (tested by killing a run).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import jax
import numpy as np

from jaxdigits import io
from jaxdigits.errors import CheckpointMismatch, DamagedFile, MissingFile

__all__ = ["START_OVER", "load_checkpoint", "read_checkpoint", "save_checkpoint"]


def _to_host(state):
    """State leaves as numpy arrays, the typed PRNG key as its raw uint32 data."""
    state = state._replace(key=jax.random.key_data(state.key))
    return [np.asarray(leaf) for leaf in jax.tree.leaves(state)]


def save_checkpoint(path: str, state: Any, history: list, config: Any) -> None:
    """Atomically write ``state``, ``history`` and ``config`` to ``path`` (``.npz``).

    ``state`` is a ``TrainState`` with its ``history`` (a list of records), or a
    ``PopulationState`` with its histories (one list per network).
    """
    leaves = _to_host(state)
    meta = json.dumps({"config": dataclasses.asdict(config), "history": history, "num_leaves": len(leaves)})
    with io.atomic_path(path) as tmp:
        np.savez(tmp, meta=np.array(meta), **{f"leaf{i:04d}": leaf for i, leaf in enumerate(leaves)})


START_OVER = "; delete it, or start the run again with overwrite"


def read_checkpoint(path: str, config: Any) -> tuple[dict, list]:
    """The raw arrays and the history of a checkpoint, after checking it is whole and ``config``'s.

    Needs no ``TrainState``: a resume calls it before loading any data, so that a damaged
    checkpoint or one of another configuration is reported at once.

    Returns:
      ``(leaves, history)``: the state's arrays in pytree-leaf order, and the epochs so far.

    Raises:
      MissingFile: there is no file at ``path``.
      DamagedFile: the file cannot be read as a checkpoint (the message names it and the way out).
      CheckpointMismatch: the checkpoint belongs to another configuration.
    """
    try:
        arrays = io.load_npz(path)
        meta = json.loads(str(arrays["meta"]))
        leaves = [arrays[f"leaf{i:04d}"] for i in range(meta["num_leaves"])]
        saved, history = meta["config"], meta["history"]
        members = history if history and all(isinstance(h, list) for h in history) else [history]
        if not (isinstance(saved, dict) and isinstance(history, list) and all(_records(h) for h in members)):
            raise TypeError("its records are not a config and a list of epochs")
    except FileNotFoundError:
        raise MissingFile(f"no checkpoint at {path!r}; nothing to resume") from None
    except Exception as e:  # noqa: BLE001 - whatever goes wrong while parsing the bytes, the file is damaged
        raise DamagedFile(
            f"{path}: not a readable jaxdigits checkpoint ({type(e).__name__}: {e}){START_OVER}"
        ) from None
    wanted = json.loads(json.dumps(dataclasses.asdict(config)))
    if saved != wanted:
        diff = {k: (saved.get(k), v) for k, v in wanted.items() if saved.get(k) != v}
        raise CheckpointMismatch(f"{path} belongs to another configuration: (checkpoint, requested) differ in {diff}")
    return leaves, history


def _records(history):
    return isinstance(history, list) and all(isinstance(h, dict) for h in history)


def load_checkpoint(path: str, like: Any, config: Any) -> tuple[Any, list]:
    """Read a checkpoint back into a state shaped like ``like`` (``TrainState`` or ``PopulationState``).

    Args:
      path: checkpoint file written by ``save_checkpoint``.
      like: a state of the same run (e.g. fresh from ``init_state`` or
        ``init_population``) — it supplies the pytree structure of the optimiser state.
      config: the run's ``TrainConfig``; a checkpoint of another config is refused.

    Returns:
      ``(state, history)``; for a population, ``history`` is the list of histories.
    """
    leaves, history = read_checkpoint(path, config)
    template = like._replace(key=jax.random.key_data(like.key))
    structure = jax.tree.structure(template)
    if structure.num_leaves != len(leaves):
        raise DamagedFile(f"{path}: {len(leaves)} arrays, but this run's state has {structure.num_leaves}{START_OVER}")
    for i, (a, b) in enumerate(zip(leaves, jax.tree.leaves(template))):
        if a.shape != b.shape or a.dtype != b.dtype:
            raise DamagedFile(
                f"{path}: array {i} is {a.dtype}{a.shape}, this run expects {b.dtype}{b.shape}{START_OVER}"
            )
    state = jax.tree.unflatten(structure, leaves)
    population = hasattr(like, "active")  # a frozen (diverged) network's history ends early
    members, active = (history, np.asarray(state.active)) if population else ([history], [True])
    last = int(state.epoch)
    consecutive = all([h.get("epoch") for h in m] == list(range(len(m))) for m in members)
    if (
        not consecutive
        or len(members) != len(active)
        or any(len(m) - 1 != last if on else len(m) - 1 > last for m, on in zip(members, active))
    ):
        raise DamagedFile(f"{path}: its history and its epoch count disagree{START_OVER}")
    state = state._replace(key=jax.random.wrap_key_data(state.key))
    return state, history

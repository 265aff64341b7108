"""Surfaces that survive interruption: every finished block of points kept in one self-describing HDF5 file.

``surface(..., file="surface.h5")`` cuts the grid into blocks of ``points_per_write`` points
(one compiled program, run once per block) and, after each block, writes its numbers to the
file. The file is replaced atomically (a copy is written, flushed and renamed over the old
one), so a job killed at any moment leaves either the previous file or the next, never a
half-written one; run again with the same arguments, it computes only the blocks not yet done
and returns the same numbers, bit for bit, as an uninterrupted run.

The file (HDF5, readable by ``h5py`` or any HDF5 tool, no jaxdigits needed):

- datasets ``alphas`` (A,), ``betas`` (B,), ``cost`` (A, B) (NaN where not yet computed, or
  where the cost was NaN or infinite), ``metrics/<name>`` (A, B), ``done`` (blocks,) 0 or 1
  per block of ``points_per_write`` points, in row-major order of the grid (α slowest);
- attributes ``format`` and ``version``, ``loss`` (a line naming it), ``metrics`` (their
  names), ``describe`` (JSON: how the directions were made, and whatever the caller added),
  ``environment`` (JSON: versions, devices, machine; ``jaxdigits.devices.environment()``),
  ``parameters`` (JSON: every leaf's path, shape and dtype), ``points_per_write``, and the
  ``job`` fingerprints: SHA-256 digests of the parameters, the directions and the data.

A file is resumed only by the job that made it: same grid, loss, metrics, block size and the
same parameters, directions and data (by digest). Anything else is refused with the reason.
With several processes (``jax.distributed``), each block is shared between them and process
0 writes the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Mapping, Sequence
from typing import Any

import jax
import numpy as np

from jaxdigits.devices import environment
from jaxdigits.errors import CheckpointMismatch, DamagedFile
from jaxdigits.io import atomic_path
from jaxdigits.landscape._contract import describe_loss, is_batch
from jaxdigits.typing import LossFn, Params

__all__ = ["FORMAT", "job_of", "open_surface_file", "start_surface_file", "write_block"]

FORMAT = "jaxdigits.landscape.surface"
VERSION = 1


def _digest(tree: Any) -> str:
    """SHA-256 of a pytree's structure, shapes, dtypes and bytes."""
    h = hashlib.sha256(str(jax.tree.structure(tree)).encode())
    for leaf in jax.tree.leaves(tree):
        leaf = np.asarray(leaf)
        h.update(f"{leaf.shape}{leaf.dtype}".encode())
        h.update(np.ascontiguousarray(leaf).tobytes())
    return h.hexdigest()


def job_of(
    loss: LossFn, params: Params, data: Any, directions: Sequence[Params], metrics: Mapping, block: int
) -> dict[str, str]:
    """What identifies a job: a resumed file must match every entry."""
    return {
        "loss": describe_loss(loss),
        "metrics": json.dumps(sorted(metrics)),
        "points_per_write": str(block),
        "parameters": _digest(params),
        "directions": _digest(list(directions)),
        "data": _digest(data) if is_batch(data) else "an iterable of batches (not digested)",
    }


def open_surface_file(path: str) -> dict:
    """Read a surface file: ``{"alphas", "betas", "cost", "metrics", "done", "attrs"}`` (NumPy, dicts).

    Raises ``DamagedFile`` for a file that is not a jaxdigits surface.
    """
    import h5py  # the file format's library, loaded only where files are read or written

    try:
        with h5py.File(path, "r") as f:
            if f.attrs.get("format") != FORMAT:
                raise DamagedFile(f"{path} is an HDF5 file but not a jaxdigits surface (no format={FORMAT!r})")
            return {
                "alphas": f["alphas"][...],
                "betas": f["betas"][...],
                "cost": f["cost"][...],
                "metrics": {k: f["metrics"][k][...] for k in f["metrics"]},
                "done": f["done"][...].astype(bool),
                "attrs": {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()},
            }
    except OSError as error:
        raise DamagedFile(f"{path} is not a readable HDF5 file: {error}") from None


def _refuse_other_job(path, saved, alphas, betas, job):
    for name, want, got in (("alphas", alphas, saved["alphas"]), ("betas", betas, saved["betas"])):
        if np.shape(want) != np.shape(got) or not np.array_equal(want, got):
            raise CheckpointMismatch(
                f"{path} belongs to another job: its {name} differ ({len(got)} values from {got[0]:g} to {got[-1]:g}, "
                f"asked for {len(want)} from {want[0]:g} to {want[-1]:g}); use another file, or delete this one"
            )
    for key, value in job.items():
        if saved["attrs"].get(f"job_{key}") != value:
            raise CheckpointMismatch(
                f"{path} belongs to another job: its {key} differ (file: {saved['attrs'].get(f'job_{key}')!r}, "
                f"now: {value!r}); use another file, or delete this one"
            )


def start_surface_file(
    path: str,
    alphas: np.ndarray,
    betas: np.ndarray,
    n_blocks: int,
    metrics: Sequence[str],
    dtype: Any,
    job: Mapping[str, str],
    params: Params,
    describe: Mapping[str, Any],
) -> dict:
    """The file's state (``cost``, ``metrics``, ``done``): read and checked if it exists, else created empty.

    Only process 0 creates the file; every process reads what it holds (see the module docstring).
    """
    if os.path.exists(path):
        saved = open_surface_file(path)
        _refuse_other_job(path, saved, alphas, betas, job)
        return saved
    if jax.process_index() == 0:
        _create(path, alphas, betas, n_blocks, metrics, dtype, job, params, describe)
    empty = np.full((len(alphas), len(betas)), np.nan, dtype)
    return {"cost": empty, "metrics": {k: empty.copy() for k in metrics}, "done": np.zeros(n_blocks, bool)}


def _create(path, alphas, betas, n_blocks, metrics, dtype, job, params, describe):
    import h5py

    leaves = [
        {"path": jax.tree_util.keystr(p), "shape": list(np.shape(x)), "dtype": str(np.asarray(x).dtype)}
        for p, x in jax.tree.leaves_with_path(params)
    ]
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        f.attrs.update(
            format=FORMAT,
            version=VERSION,
            loss=job["loss"],
            metrics=job["metrics"],
            describe=json.dumps(dict(describe), default=str),
            environment=json.dumps(environment(), default=str),
            parameters=json.dumps(leaves),
            points_per_write=int(job["points_per_write"]),
            **{f"job_{k}": v for k, v in job.items()},
        )
        f["alphas"], f["betas"] = alphas, betas
        f.create_dataset("cost", data=np.full((len(alphas), len(betas)), np.nan, dtype))
        group = f.create_group("metrics")
        for name in metrics:
            group.create_dataset(name, data=np.full((len(alphas), len(betas)), np.nan, dtype))
        f.create_dataset("done", data=np.zeros(n_blocks, np.uint8))


def write_block(path: str, block: int, rows: np.ndarray, values: Mapping[str, np.ndarray]) -> None:
    """Copy the file, write block ``block``'s values (flat indices ``rows``) and its done flag, rename."""
    import h5py

    with atomic_path(path) as tmp:
        shutil.copyfile(path, tmp)
        with h5py.File(tmp, "r+") as f:
            for name, v in values.items():
                target = f["cost"] if name == "cost" else f["metrics"][name]
                flat = target[...].reshape(-1)
                flat[rows] = v
                target[...] = flat.reshape(target.shape)
            f["done"][block] = 1

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
import math
import os
import shutil
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import jax
import numpy as np

from jaxdigits.devices import environment
from jaxdigits.errors import CheckpointMismatch, DamagedFile, InvalidArgument
from jaxdigits.io import atomic_path
from jaxdigits.landscape._contract import describe_loss, is_batch
from jaxdigits.landscape._grids import Grid, Landscape
from jaxdigits.typing import LossFn, Params

__all__ = ["FORMAT", "open_surface_file", "resumable_surface"]

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


def _job(loss, params, data, directions, metrics, block) -> dict[str, str]:
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


def _write_block(path, block, rows, values):
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


def resumable_surface(
    loss: LossFn,
    params: Params,
    data: Any,
    directions: Sequence[Params],
    alphas: np.ndarray,
    betas: np.ndarray,
    path: str,
    describe: Mapping[str, Any],
    *,
    points_per_write: int | None = None,
    **options,
) -> Landscape:
    """``surface`` with its finished blocks kept in ``path`` (see the module docstring); resumes from it."""
    n_points = len(alphas) * len(betas)
    block = math.ceil(n_points / 16) if points_per_write is None else points_per_write
    if isinstance(block, bool) or not isinstance(block, (int, np.integer)) or block < 1:
        raise InvalidArgument(f"points_per_write must be a positive integer, got {points_per_write!r}")
    n_blocks = math.ceil(n_points / block)
    if isinstance(data, Iterator) and n_blocks > 1:
        raise InvalidArgument(
            "a surface with a file passes over the data once per block: give a re-iterable "
            "(landscape.Batches(...)), not a one-shot iterator"
        )
    grid = Grid(loss, params, directions, data, **options)
    job = _job(loss, params, data, directions, grid.metrics, block)
    if os.path.exists(path):
        saved = open_surface_file(path)
        _refuse_other_job(path, saved, alphas, betas, job)
    else:
        if jax.process_index() == 0:
            _create(path, alphas, betas, n_blocks, grid.metrics, grid.dtype, job, params, describe)
        saved = {
            "cost": np.full((len(alphas), len(betas)), np.nan, grid.dtype),
            "metrics": {k: np.full((len(alphas), len(betas)), np.nan, grid.dtype) for k in grid.metrics},
            "done": np.zeros(n_blocks, bool),
        }
    coefficients = np.stack(np.meshgrid(alphas, betas, indexing="ij"), axis=-1).reshape(-1, 2)
    values = {
        "cost": saved["cost"].reshape(-1).copy(),
        **{k: v.reshape(-1).copy() for k, v in saved["metrics"].items()},
    }
    tick, seconds_compile = time.perf_counter(), grid.seconds_compile
    for b in np.flatnonzero(~saved["done"]):
        rows = np.arange(b * block, min((b + 1) * block, n_points))
        points = np.zeros((block, 2))  # every block the same shape: one compiled program
        points[: len(rows)] = coefficients[rows]
        got = grid.run(points)
        got = {k: np.asarray(v)[: len(rows)] for k, v in got.items()}
        for k, v in got.items():
            values[k][rows] = v
        if jax.process_index() == 0:
            _write_block(path, int(b), rows, got)
    seconds = time.perf_counter() - tick - (grid.seconds_compile - seconds_compile)
    shape = (len(alphas), len(betas))
    result = grid.landscape(coefficients, values, seconds)
    return result._replace(
        alphas=alphas,
        betas=betas,
        cost=result.cost.reshape(shape),
        metrics={k: v.reshape(shape) for k, v in result.metrics.items()},
    )

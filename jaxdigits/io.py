"""Writing results so that nothing half-written is ever left behind.

Every file is written to a temporary name in the same folder, flushed to disk, and then
renamed over the final name (``os.replace`` is atomic): a reader — or a crash — sees the
old file or the new one, never a torn one. Parameters are saved as ``.npz`` with one array
per leaf (``w0``, ``b0``, ``w1``, ...) and load back into the same pytree.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from typing import Any

import numpy as np

from jaxdigits import _checks, _phases
from jaxdigits.errors import DamagedFile, InvalidArgument, MissingFile, UserInputError
from jaxdigits.network import layer_sizes_of
from jaxdigits.typing import Network

__all__ = ["atomic_path", "load_npz", "load_params", "params_to_arrays", "save_params", "write_json"]


@contextlib.contextmanager
def atomic_path(path: str) -> Iterator[str]:
    """Yield a temporary path next to ``path``; on success rename it to ``path``."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    suffix = os.path.splitext(path)[1]  # keep the extension: savefig and np.savez read it
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=suffix, dir=folder)
    os.close(fd)
    try:
        yield tmp
        _phases.reached(f"write:{os.path.basename(path)}")
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_json(path: str, obj: Any) -> None:
    """Atomically write ``obj`` as indented JSON."""
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        json.dump(obj, f, indent=2, default=_jsonable)
        f.write("\n")


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def params_to_arrays(params: Network) -> dict[str, np.ndarray]:
    """``{"w0": …, "b0": …, ...}`` numpy arrays from a parameter list."""
    _checks.params_structure(params)
    arrays = {}
    for i, layer in enumerate(params):
        arrays[f"w{i}"] = np.asarray(layer["w"])
        arrays[f"b{i}"] = np.asarray(layer["b"])
    return arrays


def save_params(path: str, params: Network, **extra: np.ndarray) -> None:
    """Atomically save a parameter list (and any ``extra`` arrays) to an ``.npz`` file."""
    with atomic_path(path) as tmp:
        np.savez(tmp, **params_to_arrays(params), **extra)


def _declared_entries(path: str) -> int | None:
    """How many files the zip archive's end record says it holds (None: not stated there).

    The end record (signature ``PK\\x05\\x06``, within the last 64 KiB) states the count at
    bytes 10–11; zip64 archives with more than 65,534 files put 0xFFFF there instead.
    """
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        f.seek(max(0, f.tell() - (22 + 65535)))
        tail = f.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        return None
    count = int.from_bytes(tail[at + 10 : at + 12], "little")
    return None if count == 0xFFFF else count


def load_npz(path: str) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` file, read whole (no pickles).

    A damaged central directory can make a zip reader stop early and list fewer files than the
    archive holds, which would read as a smaller, valid-looking set of arrays; the count read is
    therefore checked against the count the archive's end record states.

    Raises:
      FileNotFoundError: no file at ``path``.
      ValueError: the archive lists fewer or more files than it states.
      Exception: whatever NumPy or ``zipfile`` raise on bytes that do not parse.
    """
    with np.load(path, allow_pickle=False) as f:
        arrays = {name: f[name] for name in f.files}
        listed = len(f.zip.infolist())
    declared = _declared_entries(path)
    if declared is not None and declared != listed:
        raise ValueError(f"the archive states {declared} files but {listed} could be listed")
    return arrays


def load_params(path: str, sizes: tuple[int, ...] | None = None) -> Network:
    """Load parameters saved by ``save_params`` (or in the same ``w0, b0, …`` layout).

    Args:
      path: ``.npz`` file.
      sizes: if given, the layer sizes the parameters must have, e.g. (784, 16, 16, 10).

    Returns:
      A list of ``{"w", "b"}`` dicts of numpy arrays.
    """
    try:
        arrays = load_npz(path)
    except FileNotFoundError:
        raise MissingFile(f"parameter file {path!r} not found") from None
    except Exception as e:  # noqa: BLE001 - whatever goes wrong while parsing the bytes, the file is damaged
        raise DamagedFile(f"{path}: not a readable .npz parameter file ({type(e).__name__}: {e})") from None
    params, i = [], 0
    while f"w{i}" in arrays and f"b{i}" in arrays:
        params.append({"w": arrays[f"w{i}"], "b": arrays[f"b{i}"]})
        i += 1
    if not params:
        raise DamagedFile(
            f"{path}: no layers found; expected arrays named w0, b0, w1, b1, ... (found {sorted(arrays)})"
        )
    stray = sorted(name for name in arrays if re.fullmatch(r"[wb]\d+", name) and int(name[1:]) >= i)
    if stray:  # e.g. b1 without w1: a layer's array is missing, so the layers found are not the network
        raise DamagedFile(f"{path}: layer arrays {stray} have no partner; expected w0, b0, w1, b1, ... in pairs")
    try:
        _checks.params_structure(params)
    except UserInputError as e:
        raise DamagedFile(f"{path}: {e}") from None
    if sizes is not None:
        found = layer_sizes_of(params)
        if found != tuple(sizes):
            raise InvalidArgument(
                f"{path}: parameters of a {'-'.join(map(str, found))} network, expected {'-'.join(map(str, sizes))}"
            )
    return params

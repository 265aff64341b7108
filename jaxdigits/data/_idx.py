"""Reading and checking the original MNIST files (the IDX format, gzipped).

An IDX file is a 4-byte magic number — two zero bytes, a type code (0x08 = unsigned
bytes) and the number of dimensions — then one big-endian uint32 per dimension, then the
values. MNIST's images are ``(count, 28, 28)`` (magic 0x00000803), its labels ``(count,)``
(magic 0x00000801).

TFDS reads these files itself when they serve as its ``manual_dir``; this module checks a
folder *before* handing it over, so a missing, truncated or corrupt file gets an error
that names the file and says what is wrong, instead of a checksum failure deep in TFDS.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib

import numpy as np

from jaxdigits.errors import DataFileError

__all__ = ["MNIST_FILES", "check_mnist_folder", "file_sha256", "parse_idx", "read_idx"]

MNIST_FILES = {
    # file name: (sha256 registered by TFDS for mnist, expected shape)
    "train-images-idx3-ubyte.gz": ("440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", (60000, 28, 28)),
    "train-labels-idx1-ubyte.gz": ("3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", (60000,)),
    "t10k-images-idx3-ubyte.gz": ("8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", (10000, 28, 28)),
    "t10k-labels-idx1-ubyte.gz": ("f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", (10000,)),
}


def file_sha256(path: str) -> str:
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def parse_idx(raw: bytes, where: str = "IDX data") -> np.ndarray:
    """Decode the bytes of an (uncompressed) IDX file into a numpy array.

    Raises:
      DataFileError: bad magic number, unsupported type, or a size that disagrees with the
        header (a truncated or padded file).
    """
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DataFileError(f"{where}: not an IDX file (the magic number must start with two zero bytes)")
    if raw[2] != 0x08:
        raise DataFileError(f"{where}: IDX type code 0x{raw[2]:02x} is not 0x08 (unsigned bytes) as MNIST uses")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise DataFileError(f"{where}: truncated IDX header ({len(raw)} bytes for {ndim} dimensions)")
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", ndim, 4))
    expected = header + int(np.prod(shape))
    if len(raw) != expected:
        raise DataFileError(
            f"{where}: header says shape {shape} ({expected} bytes) but the file holds {len(raw)} bytes; "
            "the file is truncated or corrupt — download it again"
        )
    return np.frombuffer(raw, np.uint8, offset=header).reshape(shape)


def read_idx(path: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Read a gzipped (``.gz``) or plain IDX file; optionally require a shape."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
        if str(path).endswith(".gz"):
            raw = gzip.decompress(raw)
    except FileNotFoundError:
        raise DataFileError(f"{path}: file not found") from None
    except (OSError, EOFError, zlib.error) as e:
        raise DataFileError(
            f"{path}: not a readable gzip file ({e}); the file is corrupt — download it again"
        ) from None
    array = parse_idx(raw, where=str(path))
    if shape is not None and array.shape != tuple(shape):
        raise DataFileError(f"{path}: expected shape {tuple(shape)}, found {array.shape}")
    return array


def check_mnist_folder(folder: str) -> dict[str, str]:
    """Check that ``folder`` holds the four original MNIST files, intact.

    Returns:
      ``{file name: sha256}`` for the four files.

    Raises:
      DataFileError: naming the folder or file and what to do.
    """
    if not os.path.isdir(folder):
        raise DataFileError(f"MNIST folder {folder!r} does not exist; it must hold {', '.join(MNIST_FILES)}")
    missing = [name for name in MNIST_FILES if not os.path.isfile(os.path.join(folder, name))]
    if missing:
        raise DataFileError(
            f"MNIST folder {folder!r} lacks {', '.join(missing)}; it must hold the four original files "
            f"{', '.join(MNIST_FILES)}"
        )
    checksums = {}
    for name, (want, shape) in MNIST_FILES.items():
        path = os.path.join(folder, name)
        checksums[name] = file_sha256(path)
        if checksums[name] != want:
            read_idx(path, shape)  # a specific error (truncated, bad magic, ...) if there is one
            raise DataFileError(
                f"{path}: sha256 {checksums[name]} differs from the official file's {want}; "
                "the file is not the original MNIST file — download it again"
            )
    return checksums

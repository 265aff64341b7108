"""Matrix products in true float32 on every device, unless the caller asks otherwise.

JAX leans towards speed: by default a float32 matrix product may round its inputs before
multiplying — to TensorFloat-32 (10 mantissa bits, about 3 decimal digits) on NVIDIA GPUs
since Ampere, to bfloat16 passes on TPUs — while a CPU computes it in float32. For this
library that default would be silently wrong: the same network would give another cost on
a GPU than on a CPU (measured on an H100: a cost surface differed by 1.4e-3 between two
chunkings of the same grid, i.e. by whether XLA happened to pick tensor cores), and
finite-difference checks, Hessian-vector products and landscape slices need the digits.

So every matrix product in jaxdigits goes through ``matmul``/``einsum``/``tensordot`` here,
which ask for ``jax.lax.Precision.HIGHEST`` (true float32) — unless the caller has set
``jax.default_matmul_precision``, which is then obeyed, for trading digits for speed on
purpose::

    with jax.default_matmul_precision("tensorfloat32"):   # at trace time
        result = jaxdigits.train(config, data)

On a CPU, HIGHEST is what it computes anyway: results and speed are the same either way.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxdigits.typing import Array, ArrayLike

__all__ = ["einsum", "matmul", "precision", "tensordot"]


def precision() -> jax.lax.Precision | None:
    """The precision for jaxdigits' products: None (JAX's) if the caller set one, else HIGHEST.

    Read when a function is traced, so a ``jax.default_matmul_precision`` context around the
    first call of a jitted function decides for that compiled program.
    """
    if jax.config.jax_default_matmul_precision is not None:
        return None  # the caller chose: let JAX apply it
    return jax.lax.Precision.HIGHEST


def matmul(a: ArrayLike, b: ArrayLike) -> Array:
    """``a @ b`` at ``precision()``."""
    return jnp.matmul(a, b, precision=precision())


def einsum(subscripts: str, *operands: ArrayLike) -> Array:
    """``jnp.einsum`` at ``precision()``."""
    return jnp.einsum(subscripts, *operands, precision=precision())


def tensordot(a: ArrayLike, b: ArrayLike, axes: int | tuple = 2) -> Array:
    """``jnp.tensordot`` at ``precision()``."""
    return jnp.tensordot(a, b, axes=axes, precision=precision())

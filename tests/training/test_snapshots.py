"""Snapshots inside a compiled scan: the blocked scan is the plain scan, with the parameters recorded."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdigits import training


def counting_steps(carry, rows):
    """A scan whose carry ``(params, count)`` adds each row's sum: records exactly which rows ran."""

    def one(c, row):
        params, count = c
        params = params + jnp.sum(row)
        return (params, count + 1), params

    return jax.lax.scan(one, carry, rows)


@pytest.mark.parametrize("n, every", [(12, 3), (13, 4), (5, 5), (7, 1)])
def test_scan_with_snapshots_is_the_plain_scan_cut_into_blocks(n, every):
    rows = jnp.arange(n * 2, dtype=jnp.float32).reshape(n, 2)
    start = (jnp.float32(0), jnp.int32(0))
    plain_carry, plain_out = counting_steps(start, rows)
    carry, out, snaps = training.scan_with_snapshots(counting_steps, start, rows, every)
    assert float(carry[0]) == float(plain_carry[0]) and int(carry[1]) == n
    np.testing.assert_array_equal(out, plain_out)
    # the parameters after steps k, 2k, ...: the running sums at those steps
    np.testing.assert_array_equal(snaps, plain_out[every - 1 : (n // every) * every : every])


def test_scan_with_snapshots_without_every_is_the_plain_scan():
    rows = jnp.arange(5.0).reshape(5, 1)
    start = (jnp.float32(0), jnp.int32(0))
    carry, out, snaps = training.scan_with_snapshots(counting_steps, start, rows, None)
    plain_carry, plain_out = counting_steps(start, rows)
    assert snaps is None
    np.testing.assert_array_equal(out, plain_out)
    np.testing.assert_array_equal(carry[0], plain_carry[0])


@pytest.mark.parametrize("every", [0, 6, 2.0, True])
def test_scan_with_snapshots_refuses_bad_block_sizes(every):
    with pytest.raises(ValueError, match="snapshot_every"):
        training.scan_with_snapshots(counting_steps, (jnp.float32(0), jnp.int32(0)), jnp.zeros((5, 2)), every)


def test_every_for_gives_at_least_the_snapshots_asked_for():
    for steps, wanted in ((6000, 25), (179, 20), (10, 20)):
        every = training.snapshot_every(steps, wanted)
        assert steps // every >= min(wanted, steps)

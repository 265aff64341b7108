"""How jaxdigits uses a CPU's cores: one thread per JAX device, and devices where work divides.

XLA's CPU client, left to itself, makes one device and gives it a pool of worker threads,
one per core, so that one program can spread its operations over the cores. For one
network's training that costs time: each operation of a step (at most 128 × 784 times
784 × 16) takes microseconds, and handing work to another thread costs about as much. The
work that does divide — the K networks of a population, the points of a cost surface —
divides best into whole programs, one per device, that share nothing while they run. XLA
sizes its thread pool to at least the number of devices, so a process chooses one of two
shapes (measured on this project's 2-core machine, ``benchmarks/NOTES.md``):

=========================  ==========  ===========  =====================  ===================
process                    epoch b 10  epoch b 128  population K=16, b 128  surface 101 × 101
=========================  ==========  ===========  =====================  ===================
pinned to one core          0.128 s     0.061 s      0.68 s                 3.1 s
JAX's defaults              0.157 s     0.074 s      0.54 s                 2.6 s
``1``: 1 device, 1 thread   0.132 s     0.064 s      0.75 s                 3.2 s
``cores``: 2 devices        0.154 s     0.094 s      0.38 s                 1.6 s
=========================  ==========  ===========  =====================  ===================

So ``import jaxdigits`` asks JAX, before its CPU backend starts, for one CPU device with one
worker thread (``jax_num_cpu_devices`` and ``PJRT_NPROC=1``, which XLA's CPU client reads
when it starts; the variable is removed again once the backend is up, so programs started
from this one do not inherit it): one network trains as fast as on a core of its own.
A program whose time goes into populations or surfaces asks for one device per core
instead, before anything touches a device::

    import jaxdigits
    jaxdigits.cores.configure("cores")   # or JAXDIGITS_CPU_DEVICES=cores in the environment

and ``train_population`` then spreads its networks over the devices, ``surface``/``line``
their points, ``train_data_parallel`` each mini-batch. The experiment scripts that train
populations or draw surfaces do this themselves. A GPU or TPU stays JAX's default device;
the CPU devices exist beside it, unused unless asked for.

What you set wins:

- ``JAXDIGITS_CPU_DEVICES``: ``1`` (the default), ``cores`` (one per usable core:
  ``os.sched_getaffinity``, so ``taskset`` and container CPU sets count), a number of
  devices, or ``off`` (jaxdigits changes nothing: JAX's defaults apply);
- a device count given to JAX before ``import jaxdigits`` (``jax.config.update(
  "jax_num_cpu_devices", n)``, the ``JAX_NUM_CPU_DEVICES`` variable, or
  ``--xla_force_host_platform_device_count`` in ``XLA_FLAGS``) is kept, and so is a thread
  count in ``PJRT_NPROC`` or ``NPROC``;
- ``configure(devices)`` called before anything touches a device sets a count explicitly.

Once JAX's backends have started (anything that touched a device), nothing can change;
``describe()`` says what applies.
"""

from __future__ import annotations

import os

import jax

from jaxdigits.errors import InvalidArgument

try:  # private: JAX has no public "has the backend started?", nor a public hook for that moment
    from jax._src import xla_bridge as _xla_bridge
except ImportError:  # then jax.config.update itself refuses a change that comes too late
    _xla_bridge = None

__all__ = ["ENV", "configure", "describe", "usable_cores"]

ENV = "JAXDIGITS_CPU_DEVICES"
_THREADS_ENV = "PJRT_NPROC"  # XLA's CPU client: worker threads (read once, when the client starts)
_XLA_THREADS = "XLA's default: one per core, shared by the devices"
_ours = {"devices": None, "threads": False}  # what jaxdigits itself set, so that a later call may change it
_outcome = {"configured_by": "jax defaults", "reason": "configure() has not run", "threads_per_device": _XLA_THREADS}


def usable_cores():
    """The cores this process may run on (its CPU affinity; ``os.cpu_count()`` where unknown)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _backends_started():
    check = getattr(_xla_bridge, "backends_are_initialized", None)
    return bool(check and check())


def _devices_given_to_jax():
    """Where a CPU device count was chosen for JAX by someone other than jaxdigits, or None."""
    if jax.config.jax_num_cpu_devices not in (-1, _ours["devices"]):
        return "jax_num_cpu_devices"
    if "--xla_force_host_platform_device_count" in os.environ.get("XLA_FLAGS", ""):
        return "XLA_FLAGS"
    return None


def _parse(devices):
    if isinstance(devices, str):
        text = devices.strip().lower()
        if text in ("cores", "off"):
            return text
        if text.isdigit() and int(text) >= 1:
            return int(text)
    elif isinstance(devices, int) and not isinstance(devices, bool) and devices >= 1:
        return devices
    raise InvalidArgument(
        f"CPU devices must be 'cores' (one per core), 'off' (JAX's defaults) or a whole number >= 1, got {devices!r}; "
        f"check {ENV} or the value passed to jaxdigits.cores.configure"
    )


def _unset_after_start():
    """Remove ``PJRT_NPROC`` again once a backend has started (and read it)."""

    def hook(_backend):
        if _ours["threads"] and os.environ.get(_THREADS_ENV) == "1":
            os.environ.pop(_THREADS_ENV, None)

    register = getattr(_xla_bridge, "register_backend_initialization_hook", None)
    if register is not None:  # without it the variable stays set: children start with one thread per device
        register(hook)


def _one_thread_per_device():
    """``PJRT_NPROC=1`` unless the user chose a thread count."""
    for variable in (_THREADS_ENV, "NPROC"):
        if variable in os.environ and not (_ours["threads"] and variable == _THREADS_ENV):
            _outcome["threads_per_device"] = f"{variable}={os.environ[variable]}"
            return
    if not _ours["threads"]:
        os.environ[_THREADS_ENV] = "1"
        _ours["threads"] = True
        _unset_after_start()
    _outcome["threads_per_device"] = 1


def configure(devices="cores", *, defer_to_user=False):
    """Ask JAX for ``devices`` CPU devices with one worker thread each, before JAX touches a device.

    Args:
      devices: ``"cores"`` (one per usable core), a count, or ``"off"`` (change nothing).
      defer_to_user: True for a default rather than a demand: ``JAXDIGITS_CPU_DEVICES``,
        when set, replaces ``devices``, a device count given to JAX is kept, and when JAX has
        already started nothing happens. ``import jaxdigits`` calls
        ``configure("1", defer_to_user=True)``; so do the experiment scripts, with "cores"
        where populations or surfaces take their time.

    Returns:
      ``describe()``'s dictionary.

    Raises:
      InvalidArgument: ``devices`` (or ``JAXDIGITS_CPU_DEVICES``) is none of the above, or
        (without ``defer_to_user``) JAX's backends have started, when it is too late.
    """
    if defer_to_user and ENV in os.environ:
        devices = os.environ[ENV]
    wanted = _parse(devices)
    if wanted == "off":
        _outcome.update(configured_by="jax defaults", reason=f"devices={devices!r}", threads_per_device=_XLA_THREADS)
        return describe()
    if _backends_started():
        if not defer_to_user:
            raise InvalidArgument(
                "JAX's backends have already started, so the number of CPU devices can no longer change; "
                "call jaxdigits.cores.configure before anything touches a device"
            )
        if _outcome["configured_by"] != "jaxdigits":
            _outcome.update(
                configured_by="jax defaults", reason="JAX's backends started before jaxdigits configured them"
            )
        return describe()
    given = _devices_given_to_jax() if defer_to_user else None
    if given:
        _outcome.update(configured_by="user", reason=f"device count set through {given}")
    else:
        count = usable_cores() if wanted == "cores" else wanted
        jax.config.update("jax_num_cpu_devices", count)
        _ours["devices"] = count if defer_to_user else None  # a demand stays, as a user's own setting
        _outcome.update(
            configured_by="jaxdigits", reason=f"{count} CPU device{'s' if count != 1 else ''} ({devices!r})"
        )
    _one_thread_per_device()
    return describe()


def describe():
    """What applies: who chose the CPU devices, why, and (once JAX has started) how many there are."""
    info = dict(_outcome)
    info["usable_cores"] = usable_cores()
    if _backends_started():
        info["cpu_devices"] = len(jax.devices("cpu"))
    return info

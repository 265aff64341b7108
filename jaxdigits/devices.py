"""Devices: how many CPU devices JAX makes and with how many threads, meshes, placement.

Nothing here runs on import. Importing jaxdigits leaves JAX's settings and the environment
as they were, unless you set ``JAXDIGITS_CPU_DEVICES`` yourself (below).

**The CPU's shape.** XLA's CPU client, left to itself, makes one device and gives it a pool
of worker threads, one per core, so that one program can spread its operations over the
cores. For one network's training that costs time: each operation of a step (at most 128 ×
784 times 784 × 16) takes microseconds, and handing work to another thread costs about as
much. The work that does divide — the K networks of a population, the points of a cost
surface — divides best into whole programs, one per device, that share nothing while they
run. XLA sizes its thread pool to at least the number of devices, so a process chooses one
of two shapes (measured on this project's 2-core machine, ``benchmarks/NOTES.md``):

=========================  ==========  ===========  =====================  ===================
process                    epoch b 10  epoch b 128  population K=16, b 128  surface 101 × 101
=========================  ==========  ===========  =====================  ===================
pinned to one core          0.128 s     0.061 s      0.68 s                 3.1 s
JAX's defaults              0.157 s     0.074 s      0.54 s                 2.6 s
``1``: 1 device, 1 thread   0.132 s     0.064 s      0.75 s                 3.2 s
``cores``: 2 devices        0.154 s     0.094 s      0.38 s                 1.6 s
=========================  ==========  ===========  =====================  ===================

A program chooses before anything touches a device::

    import jaxdigits
    jaxdigits.devices.configure("1")       # one network at a time: 1 device, 1 worker thread
    jaxdigits.devices.configure("cores")   # populations and surfaces: one device per core

or sets ``JAXDIGITS_CPU_DEVICES`` (``1``, ``cores``, a number of devices, or ``off``) in the
environment, which ``import jaxdigits`` then applies (a variable you set is a choice you
made). ``configure`` asks JAX for the devices (``jax_num_cpu_devices``) and sets
``PJRT_NPROC=1``, which XLA's CPU client reads when it starts, so that each device has
one worker thread; the variable is removed again once the backend is up, so programs
started from this one do not inherit it. ``train_population`` then spreads its networks
over the devices, ``surface``/``line`` their points, ``train_data_parallel`` each
mini-batch. The experiment scripts and benchmarks make this call themselves, each with the
shape it runs fastest in. A GPU or TPU stays JAX's default device; CPU devices exist beside
it, unused unless asked for.

What you set wins over ``configure(..., defer_to_user=True)`` (the scripts' call):
``JAXDIGITS_CPU_DEVICES``; a device count given to JAX before (``jax.config.update(
"jax_num_cpu_devices", n)``, ``JAX_NUM_CPU_DEVICES``, or
``--xla_force_host_platform_device_count`` in ``XLA_FLAGS``); a thread count in
``PJRT_NPROC`` or ``NPROC``. Once JAX's backends have started (anything that touched a
device), nothing can change; ``describe()`` says what applies.

**Meshes and placement.** ``mesh(axis)`` is a 1-D ``jax.sharding.Mesh`` over the devices
(every process's, after ``jax.distributed.initialize``); ``replicate`` puts a pytree whole
on each of its devices, ``place`` splits the leaves that a spec names along the axis, and
``to_host`` reads replicated results back. ``devices_sharing(k)`` is the most devices that
share k items (networks, grid chunks) evenly.
"""

from __future__ import annotations

import importlib.metadata as md
import os
import platform
from collections.abc import Sequence
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from jaxdigits.errors import InvalidArgument

try:  # private: JAX has no public "has the backend started?", nor a public hook for that moment
    from jax._src import xla_bridge as _xla_bridge
except ImportError:  # then jax.config.update itself refuses a change that comes too late
    _xla_bridge = None

__all__ = [
    "ENV",
    "configure",
    "configure_from_environment",
    "describe",
    "devices_sharing",
    "environment",
    "mesh",
    "place",
    "replicate",
    "to_host",
    "usable_cores",
]

ENV = "JAXDIGITS_CPU_DEVICES"
_THREADS_ENV = "PJRT_NPROC"  # XLA's CPU client: worker threads (read once, when the client starts)
_XLA_THREADS = "XLA's default: one per core, shared by the devices"
_ours = {"devices": None, "threads": False}  # what jaxdigits itself set, so that a later call may change it
_outcome = {"configured_by": "jax defaults", "reason": "configure() has not run", "threads_per_device": _XLA_THREADS}


def usable_cores() -> int:
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
        f"check {ENV} or the value passed to jaxdigits.devices.configure"
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


def configure(devices: str | int = "cores", *, defer_to_user: bool = False) -> dict:
    """Ask JAX for ``devices`` CPU devices with one worker thread each, before JAX touches a device.

    Args:
      devices: ``"cores"`` (one per usable core), a count, or ``"off"`` (change nothing).
      defer_to_user: True for a default rather than a demand: ``JAXDIGITS_CPU_DEVICES``,
        when set, replaces ``devices``, a device count given to JAX is kept, and when JAX has
        already started nothing happens. The experiment scripts call
        ``configure("1", defer_to_user=True)``, or "cores" where populations or surfaces
        take their time.

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
                "call jaxdigits.devices.configure before anything touches a device"
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


def configure_from_environment() -> dict | None:
    """Apply ``JAXDIGITS_CPU_DEVICES`` if the user set it (``import jaxdigits`` calls this).

    Returns ``describe()``'s dictionary, or None (and changes nothing) when it is not set.
    """
    if ENV not in os.environ:
        return None
    return configure(os.environ[ENV], defer_to_user=True)


def describe() -> dict:
    """What applies: who chose the CPU devices, why, and (once JAX has started) how many there are."""
    info = dict(_outcome)
    info["usable_cores"] = usable_cores()
    if _backends_started():
        info["cpu_devices"] = len(jax.devices("cpu"))
    return info


def mesh(axis: str, devices: Sequence[jax.Device] | None = None) -> Mesh:
    """A 1-D mesh with axis ``axis`` over ``devices`` (default: every device, all processes)."""
    devices = jax.devices() if devices is None else list(devices)
    if not devices:
        raise InvalidArgument("devices is empty: give at least one device")
    return Mesh(np.asarray(devices), (axis,))


def devices_sharing(count: int, devices: Sequence[jax.Device] | None = None) -> list:
    """The devices ``count`` items are spread over: the most of ``devices`` that share them evenly.

    ``devices`` defaults to ``jax.devices()`` (JAX's default platform). Every device gets
    count/d items; 16 networks on 2 devices use both, 3 networks on 2 devices use one.
    """
    devices = list(jax.devices() if devices is None else devices)
    if not devices:
        raise InvalidArgument("devices is empty: give at least one device")
    return devices[: max(d for d in range(1, len(devices) + 1) if count % d == 0)]


def replicate(tree: Any, mesh: Mesh) -> Any:
    """Place every array of ``tree`` whole on each device of ``mesh`` (works across processes)."""
    sharding = NamedSharding(mesh, P())

    def put(x):
        x = np.asarray(x) if not isinstance(x, jax.Array) else x
        if jax.process_count() == 1:
            return jax.device_put(x, sharding)
        host = np.asarray(x)  # every process holds the same values
        return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])

    return jax.tree.map(put, tree)


def place(tree: Any, mesh: Mesh | None, specs: Any) -> Any:
    """``tree`` on ``mesh``, each leaf laid out as the ``PartitionSpec`` that ``specs`` gives it.

    ``specs`` is a pytree prefix of ``tree`` (one spec may stand for a whole subtree), e.g.
    ``P("members")`` for leaves split along their first axis, ``P()`` for leaves whole on
    every device. Without a mesh, ``tree`` goes to the default device.
    """
    if mesh is None:
        return jax.device_put(tree)
    shardings = jax.tree.map(lambda spec: NamedSharding(mesh, spec), specs, is_leaf=lambda x: isinstance(x, P))
    return jax.device_put(tree, shardings)


def to_host(tree: Any) -> Any:
    """Replicated arrays to numpy (every process reads its own copy)."""
    return jax.tree.map(lambda x: np.asarray(x.addressable_data(0)) if isinstance(x, jax.Array) else x, tree)


def environment() -> dict:
    """Versions, devices and the CPU backend's shape: what a result was computed with."""

    def version(pkg):
        try:
            return md.version(pkg)
        except md.PackageNotFoundError:
            return None

    device = jax.devices()[0]
    return {
        "versions": {p: version(p) for p in ("jaxdigits", "jax", "jaxlib", "optax", "numpy", "tensorflow-datasets")},
        "device": {"platform": device.platform, "kind": device.device_kind, "count": jax.device_count()},
        "cpu_backend": describe(),  # how many CPU devices and threads, and who chose them
        "machine": {"processor": platform.machine(), "cpus": os.cpu_count(), "python": platform.python_version()},
    }

"""``jaxdigits.devices``: the CPU's shape only when asked for, meshes and placement.

The CPU backend is configured once per process, so every case of the shape runs in a fresh
interpreter; meshes and placement run here, on the suite's 4 simulated CPU devices.
"""

import json
import os
import subprocess
import sys

import pytest

REPORT = (
    "import os, jax, jaxdigits\n"
    "{before}"
    "devices = jax.devices('cpu')\n"
    "print(json.dumps({{'devices': len(devices), 'inherited': os.environ.get('PJRT_NPROC'), "
    "'describe': jaxdigits.devices.describe()}}))\n"
)


def _report(env=None, before=""):
    clean = {k: v for k, v in os.environ.items() if k not in ("JAXDIGITS_CPU_DEVICES", "PJRT_NPROC", "NPROC")}
    clean["XLA_FLAGS"] = ""
    code = "import json\n" + REPORT.format(before=before)
    done = subprocess.run(
        [sys.executable, "-c", code], env={**clean, **(env or {})}, capture_output=True, text=True, timeout=120
    )
    return done


def _cores():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


@pytest.mark.parametrize(
    "env, before, devices, by",
    [
        ({}, "", 1, "jax defaults"),  # importing changes nothing
        ({"JAXDIGITS_CPU_DEVICES": "1"}, "", 1, "jaxdigits"),  # one device, one thread, as asked
        ({"JAXDIGITS_CPU_DEVICES": "cores"}, "", "cores", "jaxdigits"),
        ({"JAXDIGITS_CPU_DEVICES": "3"}, "", 3, "jaxdigits"),
        ({}, "jaxdigits.devices.configure('1')\n", 1, "jaxdigits"),  # the performance page's one line
        ({}, "jaxdigits.devices.configure('cores', defer_to_user=True)\n", "cores", "jaxdigits"),  # what scripts do
        ({"JAXDIGITS_CPU_DEVICES": "1"}, "jaxdigits.devices.configure('cores', defer_to_user=True)\n", 1, "jaxdigits"),
        ({}, "jaxdigits.devices.configure(2)\n", 2, "jaxdigits"),
        ({"XLA_FLAGS": "--xla_force_host_platform_device_count=3"}, "", 3, "jax defaults"),
        (
            {"XLA_FLAGS": "--xla_force_host_platform_device_count=3"},
            "jaxdigits.devices.configure('1', defer_to_user=True)\n",
            3,
            "user",
        ),
        ({"JAXDIGITS_CPU_DEVICES": "off"}, "", 1, "jax defaults"),
    ],
)
def test_device_count_and_who_chose_it(env, before, devices, by):
    done = _report(env, before)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["devices"] == (_cores() if devices == "cores" else devices)
    assert report["describe"]["configured_by"] == by
    assert report["describe"]["cpu_devices"] == report["devices"]
    if by == "jaxdigits":
        assert report["describe"]["threads_per_device"] == 1
    assert report["inherited"] is None  # PJRT_NPROC is gone once the backend has read it


def test_a_thread_count_of_the_user_is_kept():
    done = _report({"PJRT_NPROC": "2"}, "jaxdigits.devices.configure('1', defer_to_user=True)\n")
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["describe"]["threads_per_device"] == "PJRT_NPROC=2" and report["inherited"] == "2"


def test_bad_setting_names_the_variable():
    done = _report({"JAXDIGITS_CPU_DEVICES": "many"})
    assert done.returncode != 0
    assert "JAXDIGITS_CPU_DEVICES" in done.stderr and "'cores'" in done.stderr


def test_too_late_to_change_is_an_error_not_a_silent_no_op():
    done = _report(before="jax.devices()\njaxdigits.devices.configure('cores')\n")
    assert done.returncode != 0 and "already started" in done.stderr
    done = _report(before="jax.devices()\njaxdigits.devices.configure('cores', defer_to_user=True)\n")
    assert done.returncode == 0, done.stderr  # a default gives way quietly; describe() says what applies


UNTOUCHED = (
    "import importlib, json, os, pkgutil, jax\n"
    "def settings():\n"
    "    return {'environ': dict(os.environ), 'jax_num_cpu_devices': jax.config.jax_num_cpu_devices,\n"
    "            'jax_default_matmul_precision': jax.config.jax_default_matmul_precision,\n"
    "            'jax_enable_x64': jax.config.jax_enable_x64}\n"
    "before = settings()\n"
    "import jaxdigits\n"
    "for module in pkgutil.walk_packages(jaxdigits.__path__, 'jaxdigits.'):\n"
    "    importlib.import_module(module.name)\n"
    "params = jaxdigits.init_params(jax.random.key(0))\n"
    "jaxdigits.predict(params, jax.numpy.zeros((2, 784))).block_until_ready()\n"
    "after = settings()\n"
    "changed = {k: (before['environ'].get(k), after['environ'].get(k))\n"
    "           for k in set(before['environ']) | set(after['environ'])\n"
    "           if before['environ'].get(k) != after['environ'].get(k)}\n"
    "config = {k: (before[k], after[k]) for k in before if k != 'environ' and before[k] != after[k]}\n"
    "print(json.dumps({'environ': changed, 'config': config, 'devices': len(jax.devices('cpu'))}))\n"
)


def test_importing_every_module_and_predicting_changes_nothing_global():
    """No JAX setting, no environment variable (PJRT_NPROC, XLA_FLAGS, …) moves: the CPU keeps JAX's shape."""
    clean = {k: v for k, v in os.environ.items() if k not in ("JAXDIGITS_CPU_DEVICES", "PJRT_NPROC", "NPROC")}
    clean.pop("XLA_FLAGS", None)
    done = subprocess.run([sys.executable, "-c", UNTOUCHED], env=clean, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.splitlines()[-1])
    assert report == {"environ": {}, "config": {}, "devices": 1}


def test_devices_sharing_takes_the_most_devices_that_divide_the_work():
    import jax

    from jaxdigits import devices

    four = jax.devices()
    assert len(four) == 4, "conftest simulates 4 CPU devices"
    assert len(devices.devices_sharing(16)) == 4 and len(devices.devices_sharing(10)) == 2
    assert devices.devices_sharing(5) == four[:1] and len(devices.devices_sharing(3)) == 3
    with pytest.raises(ValueError, match="devices is empty"):
        devices.devices_sharing(4, [])


def test_mesh_place_replicate_and_back_to_the_host():
    import jax
    import numpy as np
    from jax.sharding import PartitionSpec as P

    from jaxdigits import devices

    mesh = devices.mesh("members")
    assert mesh.axis_names == ("members",) and mesh.devices.size == 4
    tree = {"split": np.arange(8.0).reshape(4, 2), "whole": np.ones(3)}
    placed = devices.place(tree, mesh, {"split": P("members"), "whole": P()})
    assert len(placed["split"].addressable_shards) == 4 and placed["split"].addressable_shards[0].data.shape == (1, 2)
    assert placed["whole"].sharding.is_fully_replicated
    copies = devices.replicate(tree, mesh)
    assert all(leaf.sharding.is_fully_replicated for leaf in jax.tree.leaves(copies))
    back = devices.to_host(copies)
    assert isinstance(back["split"], np.ndarray) and np.array_equal(back["split"], tree["split"])
    assert devices.place(tree, None, P())["whole"].sharding.is_fully_replicated  # one device: all of it there


def test_environment_records_versions_devices_and_the_cpu_shape():
    from jaxdigits import devices

    info = devices.environment()
    assert info["versions"]["jax"] and info["device"]["count"] == 4
    assert {"configured_by", "usable_cores"} <= set(info["cpu_backend"])

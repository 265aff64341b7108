"""``jaxdigits.cores``: what ``import jaxdigits`` asks of JAX's CPU backend, and what the user's settings change.

The CPU backend is configured once per process, so every case runs in a fresh interpreter.
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
    "'describe': jaxdigits.cores.describe()}}))\n"
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
        ({}, "", 1, "jaxdigits"),  # the default: one device, one thread
        ({"JAXDIGITS_CPU_DEVICES": "cores"}, "", "cores", "jaxdigits"),
        ({"JAXDIGITS_CPU_DEVICES": "3"}, "", 3, "jaxdigits"),
        ({}, "jaxdigits.cores.configure('cores', defer_to_user=True)\n", "cores", "jaxdigits"),  # what scripts do
        ({"JAXDIGITS_CPU_DEVICES": "1"}, "jaxdigits.cores.configure('cores', defer_to_user=True)\n", 1, "jaxdigits"),
        ({}, "jaxdigits.cores.configure(2)\n", 2, "jaxdigits"),
        ({"XLA_FLAGS": "--xla_force_host_platform_device_count=3"}, "", 3, "user"),
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
    if by != "jax defaults":
        assert report["describe"]["threads_per_device"] == 1
    assert report["inherited"] is None  # PJRT_NPROC is gone once the backend has read it


def test_a_thread_count_of_the_user_is_kept():
    done = _report({"PJRT_NPROC": "2"})
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["describe"]["threads_per_device"] == "PJRT_NPROC=2" and report["inherited"] == "2"


def test_bad_setting_names_the_variable():
    done = _report({"JAXDIGITS_CPU_DEVICES": "many"})
    assert done.returncode != 0
    assert "JAXDIGITS_CPU_DEVICES" in done.stderr and "'cores'" in done.stderr


def test_too_late_to_change_is_an_error_not_a_silent_no_op():
    done = _report(before="jax.devices()\njaxdigits.cores.configure('cores')\n")
    assert done.returncode != 0 and "already started" in done.stderr
    done = _report(before="jax.devices()\njaxdigits.cores.configure('cores', defer_to_user=True)\n")
    assert done.returncode == 0, done.stderr  # a default gives way quietly; describe() says what applies

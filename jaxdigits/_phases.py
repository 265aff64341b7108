"""Named moments in the life of a run, where a test can stop it and kill it there.

``reached(name)`` does nothing unless the environment variable ``JAXDIGITS_STOP_AT`` names
this moment, as ``name`` or ``name#k`` (the k-th time the moment is reached, from 1): then
the process stops itself with SIGSTOP. A test waiting on it (``os.waitpid(pid, WUNTRACED)``)
then kills it with SIGKILL at exactly that moment, which a timer never hits reliably.
Moments: ``write:<file name>`` (a file's bytes are in its temporary file, not yet renamed
into place, see ``jaxdigits.io.atomic_path``), and those named in ``jaxdigits.runs``.
"""

from __future__ import annotations

import collections
import os
import signal

STOP_AT_ENV = "JAXDIGITS_STOP_AT"
_counts = collections.Counter()


def reached(name):
    """Mark the moment ``name``; stop the process if ``$JAXDIGITS_STOP_AT`` asks for it."""
    wanted = os.environ.get(STOP_AT_ENV)
    if not wanted:
        return
    _counts[name] += 1
    moment, _, count = wanted.partition("#")
    if moment == name and _counts[name] == int(count or 1):
        os.kill(os.getpid(), signal.SIGSTOP)

"""The named moments of a run: ``reached`` stops the process only at the moment the environment names."""

import collections
import os
import signal

import pytest

from jaxdigits import _phases


@pytest.fixture
def stops(monkeypatch):
    """The signals ``reached`` sends, recorded instead of sent; fresh counts for each test."""
    sent = []
    monkeypatch.setattr(_phases, "_counts", collections.Counter())
    monkeypatch.setattr(_phases.os, "kill", lambda pid, sig: sent.append((pid, sig)))
    return sent


def test_without_the_variable_nothing_happens_and_nothing_is_counted(monkeypatch, stops):
    monkeypatch.delenv(_phases.STOP_AT_ENV, raising=False)
    for _ in range(3):
        _phases.reached("write:params.npz")
    assert stops == [] and not _phases._counts


def test_a_named_moment_stops_the_process_the_first_time(monkeypatch, stops):
    monkeypatch.setenv(_phases.STOP_AT_ENV, "done")
    _phases.reached("write:metrics.json")
    assert stops == []
    _phases.reached("done")
    assert stops == [(os.getpid(), signal.SIGSTOP)]
    _phases.reached("done")
    assert len(stops) == 1


def test_name_hash_k_stops_the_kth_time_only(monkeypatch, stops):
    monkeypatch.setenv(_phases.STOP_AT_ENV, "write:checkpoint.npz#3")
    seen = []
    for _ in range(5):
        _phases.reached("write:checkpoint.npz")
        _phases.reached("write:history.json")  # other moments do not count towards it
        seen.append(len(stops))
    assert seen == [0, 0, 1, 1, 1] and stops == [(os.getpid(), signal.SIGSTOP)]

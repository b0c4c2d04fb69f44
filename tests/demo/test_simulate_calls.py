"""simulate_calls (make run's callers): a rate of 0 keeps the demo quiet instead of ending it."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


class _Stopped(Exception):
    """Stands for the process manager's SIGTERM."""


def test_a_rate_of_zero_waits_until_stopped_without_placing_calls(org, monkeypatch, settings):
    settings.TELEPHONY_MODE = "simulated"
    naps = []

    def nap(seconds):
        naps.append(seconds)
        if len(naps) == 2:
            raise _Stopped

    monkeypatch.setattr("demo.management.commands.simulate_calls.time.sleep", nap)
    placed = []
    monkeypatch.setattr(
        "telephony.simulator.Simulator.place_call", lambda *a, **kw: placed.append(kw)
    )
    with pytest.raises(_Stopped):
        call_command("simulate_calls", rate=0, minutes=0)  # make run: until stopped
    assert len(naps) == 2 and placed == []
    naps.clear()
    call_command("simulate_calls", rate=0, minutes=1)  # a time limit: nothing to wait for
    assert naps == [] and placed == []


def test_a_negative_rate_is_a_clear_error(org, settings):
    settings.TELEPHONY_MODE = "simulated"
    with pytest.raises(CommandError, match="--rate must be 0 or more"):
        call_command("simulate_calls", rate=-1)


def test_an_unknown_department_names_the_ones_there_are(org, settings):
    settings.TELEPHONY_MODE = "simulated"
    with pytest.raises(CommandError, match="no department named 없음; there are: 가입, 일반"):
        call_command("simulate_calls", department="없음", rate=1)

"""QA fixtures: the standard scorecard published, and handled, recorded calls."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from demo.seed.qa import build_scorecard
from qa.models import SamplingPolicy
from telephony.models import Call, CallPhase

_sids = itertools.count(1)


def make_call(org, agent, *, at: datetime | None = None, talk=120.0, acw=30.0, **extra) -> Call:
    at = at or timezone.now() - timedelta(hours=1)
    n = next(_sids)
    dept = agent.team.department
    return Call.objects.create(
        sid=f"CA{n:032d}",
        from_number="+821022223333",
        to_number=dept.phone_number,
        department=dept,
        queue=dept.queue,
        phase=CallPhase.COMPLETED,
        twilio_status="completed",
        agent=agent,
        team=agent.team,
        enqueued_at=at - timedelta(seconds=talk + 20),
        answered_at=at - timedelta(seconds=talk),
        ended_at=at,
        wrapup_ended_at=at + timedelta(seconds=acw),
        talk_seconds=talk,
        acw_seconds=acw,
        recording_sid=f"RE{n:032d}",
        recording_url=f"https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE{n}",
        recording_status="completed",
        recording_duration_seconds=int(talk),
        **extra,
    )


@pytest.fixture
def card(org):
    SamplingPolicy.objects.create(department=org.general, calls_per_agent=2)
    return build_scorecard()


@pytest.fixture
def this_month():
    return timezone.localdate().replace(day=1)


@pytest.fixture
def month_calls(org):
    """Six handled, recorded calls this month for agent1 and agent2, three for agent3."""
    start = timezone.localtime().replace(day=1, hour=10, minute=0, second=0, microsecond=0)
    calls = {}
    for name, count in (("agent1", 6), ("agent2", 6), ("agent3", 3)):
        agent = getattr(org, name)
        calls[name] = [
            make_call(org, agent, at=start + timedelta(minutes=10 * i)) for i in range(count)
        ]
    return calls

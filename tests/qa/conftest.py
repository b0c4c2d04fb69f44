"""QA fixtures: the standard scorecard published, and handled, recorded calls."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from demo.seed.qa import build_scorecard
from qa.models import SamplingPolicy
from tests.factories import CallFactory

# The caller of every month call (tests.qa.test_pii_guard looks for it, masked).
CALLER = "+821022223333"


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
            CallFactory(
                agent=agent,
                from_number=CALLER,
                ended=start + timedelta(minutes=10 * i),
                recorded=True,
            )
            for i in range(count)
        ]
    return calls

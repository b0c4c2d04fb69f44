"""The desktop polls its panel every second per agent: the poll and the page only read.
A person who never chose a state is shown Offline; their status row is written by the
first state they choose, not by looking at the desk."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agents.models import AgentState, AgentStateInterval, AgentStatus
from callcenter.session_guard import BACKGROUND_HEADER
from telephony.services.calls import call_hangup, offer_accept
from telephony.services.receiving import call_receive
from telephony.services.routing import acd_route
from telephony.simulator import new_call_sid
from tests.conftest import GENERAL_NUMBER, make_available

pytestmark = pytest.mark.django_db

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def _writes(ctx, *, but=()) -> list[str]:
    return [
        q["sql"]
        for q in ctx.captured_queries
        if q["sql"].lstrip().upper().startswith(WRITES) and not any(t in q["sql"] for t in but)
    ]


def _poll(client, version="stale"):
    return client.get(
        reverse("desk:desktop"),
        {"fragment": "panel", "v": version},
        HTTP_HX_REQUEST="true",
        **{BACKGROUND_HEADER: "1"},
    )


@pytest.fixture
def ringing(org):
    call_receive(sid=new_call_sid(), from_number="+821077778888", to_number=GENERAL_NUMBER)
    make_available(org.agent1)
    (offer,) = acd_route()
    return offer


def test_a_poll_writes_nothing_while_a_call_rings_or_is_wrapped_up(client, org, ringing):
    client.force_login(org.agent1)
    client.get(reverse("desk:desktop"))
    with CaptureQueriesContext(connection) as ctx:
        assert _poll(client).status_code == 200
    assert _writes(ctx) == []
    offer_accept(agent=org.agent1, offer_id=ringing.pk)
    call_hangup(agent=org.agent1, call_id=ringing.call_id)
    with CaptureQueriesContext(connection) as ctx:
        assert _poll(client).status_code == 200
    assert _writes(ctx) == []


def test_a_person_without_a_status_is_shown_offline_and_looking_writes_none(client, org):
    AgentStateInterval.objects.filter(person=org.agent1).delete()
    AgentStatus.objects.filter(person=org.agent1).delete()
    client.force_login(org.agent1)
    with CaptureQueriesContext(connection) as ctx:
        page = client.get(reverse("desk:desktop"))
        poll = _poll(client)
    assert page.status_code == 200 and poll.status_code == 200
    assert f'data-state="{AgentState.OFFLINE}"' in poll.content.decode()
    assert _writes(ctx, but=('"django_session"',)) == []
    assert not AgentStatus.objects.filter(person=org.agent1).exists()

    # Choosing a state is the action that writes the row (and its first interval).
    response = client.post(
        reverse("desk:state-set"), {"state": AgentState.AVAILABLE}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert AgentStatus.objects.get(person=org.agent1).state == AgentState.AVAILABLE
    assert AgentStateInterval.objects.filter(person=org.agent1, ended_at__isnull=True).count() == 1

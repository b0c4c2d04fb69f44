"""One service does the whole wrap-up (desk.services.wrapup_complete): the ticket, the
call's disposition and end of wrap-up, the agent's next state, the ticket's category,
priority and follow-up, all or nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from agents.models import AgentState, AgentStatus
from callcenter.pii import PiiBlocked
from desk.services import wrapup_complete
from telephony.models import CallEvent, CallPhase
from telephony.services.calls import call_hangup, offer_accept
from telephony.services.receiving import call_receive
from telephony.services.routing import acd_route
from telephony.simulator import new_call_sid
from tests.conftest import GENERAL_NUMBER, make_available
from tickets.models import (
    Customer,
    FollowUpTask,
    PiiDetection,
    Priority,
    Ticket,
    TicketCategory,
)

pytestmark = pytest.mark.django_db

CALLER = "+821077778888"


@pytest.fixture
def in_wrapup(org):
    call_receive(sid=new_call_sid(), from_number=CALLER, to_number=GENERAL_NUMBER)
    make_available(org.agent1)
    (offer,) = acd_route()
    offer_accept(agent=org.agent1, offer_id=offer.pk)
    return call_hangup(agent=org.agent1, call_id=offer.call_id)


def _state(person) -> str:
    return AgentStatus.objects.get(person=person).state


def test_the_wrapup_writes_the_ticket_ends_the_call_and_frees_the_agent(org, in_wrapup):
    resolved = org.general.dispositions.get(code="resolved")
    category = TicketCategory.objects.create(department=org.general, name="요금")
    due = timezone.now() + timedelta(hours=2)
    assert _state(org.agent1) == AgentState.WRAP_UP

    call = wrapup_complete(
        agent=org.agent1,
        call_id=in_wrapup.pk,
        disposition_id=resolved.pk,
        note="요금 안내",
        subject="요금 문의",
        category_id=category.pk,
        priority=Priority.HIGH,
        followup_at=due,
        followup_note="납부 확인",
    )

    call.refresh_from_db()
    assert call.phase == CallPhase.COMPLETED
    assert call.disposition == resolved and call.wrapup_submitted_at is not None
    ticket = call.ticket
    assert ticket.subject == "요금 문의" and ticket.customer.phone == CALLER
    assert ticket.category == category and ticket.priority == Priority.HIGH
    assert FollowUpTask.objects.get(ticket=ticket).note == "납부 확인"
    assert _state(org.agent1) == AgentState.AVAILABLE


def test_a_refusal_in_the_middle_leaves_nothing_half_done(org, in_wrapup):
    """The follow-up is refused after the ticket was written and the call ended: the
    ticket, the new customer, the call's end and the agent's move are all undone."""
    resolved = org.general.dispositions.get(code="resolved")
    tickets, customers = Ticket.objects.count(), Customer.objects.count()

    with pytest.raises(ValidationError):
        wrapup_complete(
            agent=org.agent1,
            call_id=in_wrapup.pk,
            disposition_id=resolved.pk,
            note="요금 안내",
            subject="요금 문의",
            priority=Priority.HIGH,
            followup_at=timezone.now() - timedelta(days=1),
        )

    in_wrapup.refresh_from_db()
    assert in_wrapup.phase == CallPhase.WRAP_UP
    assert in_wrapup.wrapup_submitted_at is None and in_wrapup.wrapup_ended_at is None
    assert in_wrapup.disposition_id is None and in_wrapup.ticket_id is None
    assert Ticket.objects.count() == tickets and Customer.objects.count() == customers
    assert not FollowUpTask.objects.exists()
    assert not CallEvent.objects.filter(call=in_wrapup, kind="wrapped_up").exists()
    assert _state(org.agent1) == AgentState.WRAP_UP
    # The agent corrects the form and submits again: it goes through once.
    wrapup_complete(
        agent=org.agent1,
        call_id=in_wrapup.pk,
        disposition_id=resolved.pk,
        note="요금 안내",
        subject="요금 문의",
    )
    assert Ticket.objects.count() == tickets + 1
    assert _state(org.agent1) == AgentState.AVAILABLE


def test_the_desk_shows_a_refused_wrapup_on_the_form_and_keeps_the_call(client, org, in_wrapup):
    client.force_login(org.agent1)
    resolved = org.general.dispositions.get(code="resolved")
    past = (timezone.localtime() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("desk:wrapup-submit", args=[in_wrapup.pk]),
        {
            "disposition": resolved.pk,
            "note": "요금 안내",
            "subject": "요금 문의",
            "followup_at": past,
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    assert 'id="wrapup-form"' in response.content.decode()
    in_wrapup.refresh_from_db()
    assert in_wrapup.ticket_id is None and in_wrapup.phase == CallPhase.WRAP_UP
    assert not Ticket.objects.exists()


def test_the_wrapup_service_guards_the_text_it_is_given(org, in_wrapup):
    """The service calls the PII guard itself: an identifier the agent has not confirmed
    stops the whole wrap-up; confirmed, every text is stored masked and each finding is
    logged for QA, without the identifier. The caller's own number is not a finding."""
    resolved = org.general.dispositions.get(code="resolved")
    texts = {
        "note": "본인 확인 900101-1234567, 회신 010-7777-8888",
        "subject": "카드 4111 1111 1111 1111",
        "followup_note": "메일 kim@example.com",
    }
    with pytest.raises(PiiBlocked) as blocked:
        wrapup_complete(agent=org.agent1, call_id=in_wrapup.pk, disposition_id=resolved.pk, **texts)
    assert {field for field, _finding in blocked.value.findings} == set(texts)
    assert not Ticket.objects.exists() and not PiiDetection.objects.exists()

    call = wrapup_complete(
        agent=org.agent1,
        call_id=in_wrapup.pk,
        disposition_id=resolved.pk,
        followup_at=timezone.now() + timedelta(hours=1),
        pii_confirmed=True,
        **texts,
    )
    ticket = call.ticket
    assert "1234567" not in ticket.notes.get().body and "010-7777-8888" in ticket.notes.get().body
    assert "1111 1111 1111" not in ticket.subject
    assert "kim@" not in FollowUpTask.objects.get(ticket=ticket).note
    found = sorted(PiiDetection.objects.values_list("field", "kind"))
    assert found == [("followup_note", "email"), ("note", "rrn"), ("subject", "card")]
    assert not any(
        "1234567" in masked for masked in PiiDetection.objects.values_list("masked", flat=True)
    )

"""실장 연결 that reaches the 실장 (issue 18, item 3): a lead Available for escalations only
is never offered queue calls, escalations ring them, the agent can talk to the lead first,
and the agent's call records where the caller went."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from agents.models import AgentState, AgentStatus, NotReadyReason
from agents.services.states import agent_set_state
from telephony.models import Call, CallPhase, Handover, Offer, OfferStatus, RoutingStrategy
from telephony.services.bridging import lead_escalations_only
from telephony.services.calls import offer_accept
from telephony.services.receiving import call_receive
from telephony.services.routing import acd_route
from telephony.services.transfers import call_escalate, transfer_cancel, transfer_complete
from telephony.simulator import new_call_sid
from tests.conftest import GENERAL_NUMBER, make_available
from tests.factories import QueueMembershipFactory
from tests.telephony.test_bridging import at, connect, state


def escalations_only(lead, *, t=0):
    lead_escalations_only(lead=lead, on=True, at=at(t))


def status(person):
    return AgentStatus.objects.get(person=person)


# --- Routing --------------------------------------------------------------------------------


@pytest.mark.parametrize("strategy", list(RoutingStrategy.values))
def test_the_acd_never_offers_a_queue_call_to_a_lead_taking_escalations_only(org, strategy):
    """lead2 is the one every strategy would pick first (idle longest, lowest id, no calls
    today, the highest skill); in 실장 연결만 mode they get none of the calls, the agents do."""
    org.q_general.strategy = strategy
    org.q_general.save()
    QueueMembershipFactory(person=org.lead2, queue=org.q_general, proficiency=10)
    escalations_only(org.lead2, t=-600)
    make_available(org.agent1, org.agent2, at=at(-300))
    for i in range(3):
        call_receive(
            sid=new_call_sid(), from_number=f"+82101111000{i}", to_number=GENERAL_NUMBER, at=at(i)
        )
    offers = acd_route(at=at(5))
    assert sorted(o.agent_id for o in offers) == sorted([org.agent1.pk, org.agent2.pk])
    assert state(org.lead2) == AgentState.AVAILABLE
    # Taking queue calls again: the third caller reaches the lead at once.
    lead_escalations_only(lead=org.lead2, on=False, at=at(6))
    (offer,) = acd_route(at=at(7))
    assert offer.agent_id == org.lead2.pk


def test_a_lead_taking_escalations_only_is_not_counted_as_serving_the_queue(org):
    from telephony.selectors import queue_expected_wait_seconds

    QueueMembershipFactory(person=org.lead2, queue=org.q_general)
    escalations_only(org.lead2)
    assert queue_expected_wait_seconds(org.q_general) is None  # nobody serves it


# --- The lead's mode ------------------------------------------------------------------------


def test_escalations_only_makes_the_lead_available_and_only_a_lead_may_use_it(org):
    agent_set_state(person=org.lead2, state=AgentState.NOT_READY, reason=NotReadyReason.MEETING)
    escalations_only(org.lead2)
    assert status(org.lead2).state == AgentState.AVAILABLE
    assert status(org.lead2).escalations_only
    with pytest.raises(PermissionDenied):
        lead_escalations_only(lead=org.agent1, on=True)
    assert not status(org.agent1).escalations_only


def test_the_lead_switches_the_mode_on_their_desk(client, org):
    client.force_login(org.lead2)
    page = client.get("/agents/desktop/").content.decode()
    assert 'id="btn-escalations-only"' in page and "실장 연결만 받기" in page
    response = client.post("/telephony/desk/escalations-only/", {"on": "1"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'id="escalations-only-on"' in response.content.decode()
    assert status(org.lead2).escalations_only and state(org.lead2) == AgentState.AVAILABLE
    bad = client.post("/telephony/desk/escalations-only/", {"on": "yes"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 400 and status(org.lead2).escalations_only
    client.force_login(org.agent1)
    refused = client.post("/telephony/desk/escalations-only/", {"on": "1"}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 403 and not status(org.agent1).escalations_only
    assert 'id="btn-escalations-only"' not in client.get("/agents/desktop/").content.decode()


# --- Escalations reach a 실장 ---------------------------------------------------------------


def test_an_escalation_rings_the_own_lead_in_escalations_only_mode(client, org):
    call = connect(org.agent3)  # team B: lead2
    escalations_only(org.lead2, t=1)
    segment = call_escalate(agent=org.agent3, call_id=call.pk, at=at(30))
    offer = Offer.objects.get(call=segment, status=OfferStatus.PENDING)
    assert offer.agent == org.lead2
    # The lead's desk says who hands the caller over, and why.
    client.force_login(org.lead2)
    ringing = client.get("/agents/desktop/").content.decode()
    assert 'id="handed-in" data-kind="escalation"' in ringing
    assert "실장 연결 · agent3" in ringing
    call.refresh_from_db()
    assert (call.handover, call.handover_to) == (Handover.ESCALATED, org.lead2)


def test_with_the_own_lead_away_an_escalation_reaches_another_lead_taking_escalations(org):
    call = connect(org.agent3)  # own lead2 is offline
    escalations_only(org.lead1, t=1)  # 일반 A's lead, same department
    escalations_only(org.lead3, t=0)  # 가입's lead: another department, never
    segment = call_escalate(agent=org.agent3, call_id=call.pk, at=at(30))
    assert Offer.objects.get(call=segment).agent == org.lead1
    call.refresh_from_db()
    assert (call.handover, call.handover_to) == (Handover.ESCALATED, org.lead1)


def test_with_no_lead_available_the_caller_goes_back_to_the_queue_and_the_call_says_why(org):
    call = connect(org.agent3)
    make_available(org.lead1, at=at(1))  # available for queue calls, not escalations only
    segment = call_escalate(agent=org.agent3, call_id=call.pk, at=at(30))
    assert segment.phase == CallPhase.QUEUED
    call.refresh_from_db()
    assert (call.handover, call.handover_to) == (Handover.ESCALATION_QUEUED, None)
    assert call.events.get(kind="transfer").data["reason"] == "lead_unavailable"


# --- Talking to the lead first (warm) ------------------------------------------------------


def test_the_agent_talks_to_the_lead_first_then_hands_the_caller_over(org):
    call = connect(org.agent3)
    escalations_only(org.lead2, t=1)
    segment = call_escalate(agent=org.agent3, call_id=call.pk, warm=True, at=at(30))
    call.refresh_from_db()
    assert call.phase == CallPhase.CONNECTED and call.hold_started_at == at(30)
    assert state(org.agent3) == AgentState.ON_CALL
    offer = Offer.objects.get(call=segment, status=OfferStatus.PENDING)
    offer_accept(agent=org.lead2, offer_id=offer.pk, at=at(33))
    assert call.handover == ""  # not handed over yet
    transfer_complete(agent=org.agent3, call_id=call.pk, at=at(60))
    call.refresh_from_db()
    segment.refresh_from_db()
    assert call.phase == CallPhase.WRAP_UP and state(org.agent3) == AgentState.WRAP_UP
    assert (call.handover, call.handover_to) == (Handover.ESCALATED, org.lead2)
    assert segment.phase == CallPhase.CONNECTED and segment.agent == org.lead2


def test_the_agent_talks_to_the_lead_first_then_goes_back_to_the_caller(org):
    call = connect(org.agent3)
    escalations_only(org.lead2, t=1)
    segment = call_escalate(agent=org.agent3, call_id=call.pk, warm=True, at=at(30))
    offer_accept(agent=org.lead2, offer_id=Offer.objects.get(call=segment).pk, at=at(33))
    transfer_cancel(agent=org.agent3, call_id=call.pk, at=at(50))
    call.refresh_from_db()
    assert call.phase == CallPhase.CONNECTED and call.hold_started_at is None
    assert call.handover == ""
    assert state(org.lead2) == AgentState.WRAP_UP  # they talked: their part is wrapped up


def test_talking_first_needs_a_lead_to_talk_to_and_changes_nothing_without_one(org):
    call = connect(org.agent3)
    with pytest.raises(ValidationError):
        call_escalate(agent=org.agent3, call_id=call.pk, warm=True, at=at(30))
    call.refresh_from_db()
    assert call.phase == CallPhase.CONNECTED and call.hold_started_at is None
    assert not Call.objects.filter(parent=call).exists()


# --- What the agent sees --------------------------------------------------------------------


def test_the_on_call_panel_offers_hand_over_and_talk_first(client, org):
    call = connect(org.agent3)
    client.force_login(org.agent3)
    body = client.get("/agents/desktop/").content.decode()
    assert 'id="btn-escalate"' in body and 'id="btn-escalate-consult"' not in body
    assert "실장 연결" in body and "에스컬레이션" not in body and "상위자" not in body
    escalations_only(org.lead2)
    body = client.get("/agents/desktop/").content.decode()
    assert 'id="btn-escalate-consult"' in body and "lead2" in body
    response = client.post(
        f"/telephony/calls/{call.pk}/escalate/", {"warm": "1"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert 'id="btn-transfer-complete"' in response.content.decode()
    bad = client.post(
        f"/telephony/calls/{call.pk}/escalate/", {"warm": "maybe"}, HTTP_HX_REQUEST="true"
    )
    assert bad.status_code == 400


def test_after_handing_over_the_wrap_up_says_where_the_caller_went(client, org):
    call = connect(org.agent3)
    escalations_only(org.lead2, t=1)
    segment = call_escalate(agent=org.agent3, call_id=call.pk, at=at(30))
    client.force_login(org.agent3)
    body = client.get("/agents/desktop/").content.decode()
    assert 'id="handover-notice"' in body and 'data-handover="escalated"' in body
    assert "lead2" in body
    offer_accept(agent=org.lead2, offer_id=Offer.objects.get(call=segment).pk, at=at(35))
    assert "lead2님과 통화 중" in client.get("/agents/desktop/").content.decode()


def test_after_going_back_to_the_queue_the_wrap_up_and_the_ticket_say_why(client, org):
    call = connect(org.agent3)
    call_escalate(agent=org.agent3, call_id=call.pk, at=at(30))
    client.force_login(org.agent3)
    body = client.get("/agents/desktop/").content.decode()
    assert 'data-handover="escalation_queued"' in body
    assert "실장이 없어" in body and org.q_general.name in body
    disposition = org.general.dispositions.first()
    response = client.post(
        f"/telephony/calls/{call.pk}/wrapup/",
        {"disposition": disposition.pk, "note": "실장 연결 요청", "subject": "요금 항의"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    call.refresh_from_db()
    assert call.ticket_id
    ticket = client.get(f"/tickets/{call.ticket_id}/").content.decode()
    assert 'data-handover="escalation_queued"' in ticket and "실장 연결" in ticket

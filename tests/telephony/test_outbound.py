"""Outbound calls: click-to-call follow-ups from a customer or ticket page, and the leg that
dials a booked callback. Twilio is mocked at its HTTP layer only; the simulator plays the
customer through Django's test client."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from django.utils import timezone
from twilio.http import HttpClient
from twilio.http.response import Response

from agents.models import AgentState, AgentStatus, NotReadyReason
from agents.services.states import agent_set_state
from kpi.models import IntervalStat, ScopeKind
from kpi.services.collect import interval_floor
from kpi.services.fill import kpi_fill_intervals
from telephony import gateway
from telephony.models import (
    Call,
    CallDirection,
    CallEvent,
    CallPhase,
    Offer,
    OfferStatus,
    SimulatorMessage,
)
from telephony.services.calls import call_hangup, call_status_update, offer_accept
from telephony.services.outbound import call_dial_out, call_dialled, dials_expire_stuck
from telephony.services.receiving import call_receive, call_request_callback
from telephony.services.routing import acd_route, agents_heal_stuck
from telephony.services.wrapup import wrapup_submit
from telephony.simulator import Simulator, new_call_sid
from tests.conftest import GENERAL_NUMBER, ClientTransport, make_available, post_signed
from tests.factories import CustomerFactory, TicketFactory
from tickets.models import Disposition, TicketStatus

CUSTOMER_PHONE = "+821012345678"
CALLER_ID = "+8215881234"
STATUS = "/telephony/voice/status/"
TWILIO_SID = "CA" + "0b" * 16


def state_of(person) -> str:
    return AgentStatus.objects.get(person=person).state


@pytest.fixture
def customer(org):
    """A customer of team A (일반): agent1, agent2 and lead1 see them; team B does not."""
    customer = CustomerFactory(name="김고객", phone=CUSTOMER_PHONE)
    customer.ticket = TicketFactory(customer=customer, team=org.team_a, status=TicketStatus.NEW)
    org.q_general.caller_id = CALLER_ID
    org.q_general.save()
    return customer


class TwilioHttp(HttpClient):
    """Twilio's HTTP layer: records requests, answers with a created call (or an error)."""

    def __init__(self, status=201, body=None):
        super().__init__(logging.getLogger(__name__), is_async=False)
        self.requests = []
        self.status = status
        self.body = body or json.dumps({"sid": TWILIO_SID, "status": "queued"})

    def request(self, method, url, params=None, data=None, headers=None, auth=None, **kwargs):
        self.requests.append((method, url, data))
        return Response(self.status, self.body)


@pytest.fixture
def twilio_http(monkeypatch, settings):
    settings.TELEPHONY_MODE = "twilio"
    http = TwilioHttp()
    monkeypatch.setattr(gateway, "get_gateway", lambda: gateway.TwilioGateway(http_client=http))
    return http


@pytest.fixture
def sim(client, monkeypatch):
    """The simulator answering Sangdam's REST requests at once (no worker, no delay)."""
    from telephony import tasks

    simulator = Simulator(ClientTransport(client), answer_delay=0, no_answer_rate=0)
    monkeypatch.setattr(
        tasks.simulator_rest, "delay", lambda **kwargs: simulator.handle_rest(**kwargs)
    )
    return simulator


def is_bridge(twiml: str, agent) -> bool:
    """The connect TwiML bridges the leg to the agent (directly or through the call's
    conference), rather than sending it back to the queue."""
    return "<Enqueue" not in twiml and (
        f"<Client>agent-{agent.pk}</Client>" in twiml or "<Conference" in twiml
    )


def status(client, sid, call_status, seq, **extra):
    params = {"CallSid": sid, "CallStatus": call_status, "SequenceNumber": str(seq), **extra}
    return post_signed(client, STATUS, params)


# --- Click-to-call -------------------------------------------------------------------------


def test_click_to_call_dials_the_customer_from_the_departments_caller_id(
    client, org, customer, twilio_http, settings, django_capture_on_commit_callbacks
):
    make_available(org.agent1)
    client.force_login(org.agent1)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/telephony/customers/{customer.pk}/dial/", {"ticket": customer.ticket.pk}
        )
    assert response.status_code == 302 and response["Location"] == "/agents/desktop/"
    call = Call.objects.get()
    offer = Offer.objects.get(call=call)
    ((method, url, data),) = twilio_http.requests
    assert method == "POST"
    assert url.endswith(f"/Accounts/{settings.TWILIO_ACCOUNT_SID}/Calls.json")
    assert data["To"] == CUSTOMER_PHONE
    assert data["From"] == CALLER_ID
    assert data["Url"] == f"https://sangdam.example.com/telephony/voice/connect/?offer={offer.pk}"
    assert data["StatusCallback"] == "https://sangdam.example.com/telephony/voice/status/"
    assert data["StatusCallbackEvent"] == ["ringing", "answered", "completed"]
    assert call.sid == TWILIO_SID  # stored by call_dialled once Twilio answered the request
    assert call.direction == CallDirection.OUTBOUND and call.phase == CallPhase.DIALING
    assert (call.agent, call.team, call.queue) == (org.agent1, org.team_a, org.q_general)
    assert (call.customer, call.ticket) == (customer, customer.ticket)
    assert offer.status == OfferStatus.ACCEPTED and offer.agent == org.agent1
    assert state_of(org.agent1) == AgentState.ON_CALL


def test_the_desktop_shows_the_dialling_call_with_a_hang_up_button(client, org, customer):
    make_available(org.agent1)
    call_dial_out(agent=org.agent1, customer_id=customer.pk)
    client.force_login(org.agent1)
    body = client.get("/agents/desktop/").content.decode()
    assert 'id="btn-hangup"' in body and "010-1234-5678" in body


def test_twilio_refusing_the_dial_fails_the_call_and_frees_the_agent(
    org, customer, twilio_http, django_capture_on_commit_callbacks
):
    twilio_http.status = 400
    twilio_http.body = json.dumps({"code": 21211, "message": "Invalid 'To' Phone Number"})
    make_available(org.agent1)
    with django_capture_on_commit_callbacks(execute=True):
        call = call_dial_out(agent=org.agent1, customer_id=customer.pk)
    call.refresh_from_db()
    assert call.phase == CallPhase.FAILED and call.queue_exit == "provider_error"
    assert state_of(org.agent1) == AgentState.AVAILABLE


def test_another_teams_agent_can_neither_see_nor_call_the_customer(client, org, customer):
    make_available(org.agent3)
    client.force_login(org.agent3)
    assert client.get(f"/tickets/customers/{customer.pk}/").status_code == 404
    assert client.post(f"/telephony/customers/{customer.pk}/dial/").status_code == 404
    assert not Call.objects.exists()
    assert state_of(org.agent3) == AgentState.AVAILABLE


def test_the_team_sees_the_customer_page_with_the_call_button(client, org, customer):
    for person in (org.agent2, org.lead1):
        client.force_login(person)
        body = client.get(f"/tickets/customers/{customer.pk}/").content.decode()
        assert 'id="btn-dial"' in body
    client.force_login(org.agent1)
    body = client.get(f"/tickets/{customer.ticket.pk}/").content.decode()
    assert 'id="btn-dial"' in body and f'name="ticket" value="{customer.ticket.pk}"' in body


def test_only_agents_and_team_leads_dial(client, org, customer):
    client.force_login(org.manager)  # sees the customer (their department) but takes no calls
    assert client.get(f"/tickets/customers/{customer.pk}/").status_code == 200
    assert 'id="btn-dial"' not in client.get(f"/tickets/customers/{customer.pk}/").content.decode()
    assert client.post(f"/telephony/customers/{customer.pk}/dial/").status_code == 403


def test_a_ticket_of_another_customer_is_refused(client, org, customer):
    other = CustomerFactory(name="다른")
    make_available(org.agent1)
    client.force_login(org.agent1)
    response = client.post(f"/telephony/customers/{other.pk}/dial/", {"ticket": customer.ticket.pk})
    assert response.status_code == 404  # the other customer is not visible to agent1 at all
    lead = org.lead1
    TicketFactory(customer=other, team=org.team_a, subject="x", status=TicketStatus.NEW)
    make_available(lead)
    client.force_login(lead)
    response = client.post(f"/telephony/customers/{other.pk}/dial/", {"ticket": customer.ticket.pk})
    assert response.status_code == 422
    assert not Call.objects.exists()


def test_a_busy_agent_gets_409_and_no_second_call(client, org, customer):
    make_available(org.agent1)
    client.force_login(org.agent1)
    assert client.post(f"/telephony/customers/{customer.pk}/dial/").status_code == 302
    response = client.post(f"/telephony/customers/{customer.pk}/dial/", HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    assert 'role="alert"' in response.content.decode()
    assert Call.objects.count() == 1


def test_an_offline_agent_cannot_dial(org, customer):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        call_dial_out(agent=org.agent1, customer_id=customer.pk)


# --- The follow-up call's status callbacks ---------------------------------------------------


def test_answered_follow_up_is_bridged_to_the_agent_and_ends_in_wrap_up(client, org, customer):
    make_available(org.agent1)
    call = call_dial_out(agent=org.agent1, customer_id=customer.pk)
    call_dialled(call_id=call.pk, sid=TWILIO_SID)
    offer = Offer.objects.get(call=call)
    assert status(client, TWILIO_SID, "ringing", 0).status_code == 204
    connect = post_signed(
        client,
        f"/telephony/voice/connect/?offer={offer.pk}",
        {"CallSid": TWILIO_SID, "CallStatus": "in-progress"},
    )
    assert is_bridge(connect.content.decode(), org.agent1)
    status(client, TWILIO_SID, "in-progress", 1)
    call.refresh_from_db()
    assert call.phase == CallPhase.CONNECTED and call.answered_at is not None
    status(client, TWILIO_SID, "completed", 2, CallDuration="42")
    status(client, TWILIO_SID, "in-progress", 1)  # a late replay changes nothing
    call.refresh_from_db()
    assert call.phase == CallPhase.WRAP_UP and call.twilio_status == "completed"
    assert state_of(org.agent1) == AgentState.WRAP_UP


def test_no_answer_is_not_reached_and_the_agent_notes_it_in_wrap_up(client, org, customer):
    agent_set_state(person=org.agent1, state=AgentState.NOT_READY, reason=NotReadyReason.TRAINING)
    call = call_dial_out(agent=org.agent1, customer_id=customer.pk)
    call_dialled(call_id=call.pk, sid=TWILIO_SID)
    status(client, TWILIO_SID, "ringing", 0)
    status(client, TWILIO_SID, "no-answer", 1)
    call.refresh_from_db()
    assert call.phase == CallPhase.WRAP_UP and call.queue_exit == "no-answer"
    assert call.answered_at is None and call.talk_seconds == 0
    assert state_of(org.agent1) == AgentState.WRAP_UP
    disposition = Disposition.objects.get(department=org.general, code="callback")
    wrapup_submit(
        agent=org.agent1,
        call_id=call.pk,
        disposition_id=disposition.pk,
        note="부재중",
        ticket_id=customer.ticket.pk,
    )
    call.refresh_from_db()
    assert call.phase == CallPhase.COMPLETED
    # They were Not ready (training) when they dialled: back to exactly that.
    status_row = AgentStatus.objects.get(person=org.agent1)
    assert (status_row.state, status_row.reason) == (AgentState.NOT_READY, NotReadyReason.TRAINING)


def test_hanging_up_while_it_rings_cancels_the_attempt(org, customer, sim):
    make_available(org.agent1)
    call = call_dial_out(agent=org.agent1, customer_id=customer.pk)
    call_dialled(call_id=call.pk, sid=TWILIO_SID)
    call_hangup(agent=org.agent1, call_id=call.pk)
    call.refresh_from_db()
    assert call.phase == CallPhase.WRAP_UP and call.queue_exit == "canceled"
    assert state_of(org.agent1) == AgentState.WRAP_UP


def test_a_dial_that_never_got_a_sid_is_failed_by_the_sweep_not_healed_early(org, customer):
    make_available(org.agent1)
    call = call_dial_out(agent=org.agent1, customer_id=customer.pk)
    assert call.sid.startswith("pending")
    assert agents_heal_stuck() == 0  # dialling is not a stuck ON_CALL
    assert state_of(org.agent1) == AgentState.ON_CALL
    assert dials_expire_stuck(at=timezone.now() + timedelta(seconds=30)) == 0
    assert dials_expire_stuck(at=timezone.now() + timedelta(minutes=5)) == 1
    call.refresh_from_db()
    assert call.phase == CallPhase.FAILED and call.queue_exit == "lost"
    assert state_of(org.agent1) == AgentState.AVAILABLE


def test_outbound_calls_are_not_counted_as_inbound_contacts_in_rollups(client, org, customer):
    make_available(org.agent1, org.agent2)
    # One follow-up call, talked and wrapped up ...
    call = call_dial_out(agent=org.agent1, customer_id=customer.pk)
    call_dialled(call_id=call.pk, sid=TWILIO_SID)
    status(client, TWILIO_SID, "in-progress", 0)
    status(client, TWILIO_SID, "completed", 1, CallDuration="30")
    disposition = Disposition.objects.get(department=org.general, code="resolved")
    wrapup_submit(
        agent=org.agent1,
        call_id=call.pk,
        disposition_id=disposition.pk,
        note="통화 완료",
        subject="문의",
    )
    # ... and one unanswered follow-up.
    make_available(org.agent1)
    missed = call_dial_out(agent=org.agent1, customer_id=customer.pk)
    call_dialled(call_id=missed.pk, sid=new_call_sid())
    call_status_update(sid=Call.objects.get(pk=missed.pk).sid, status="busy", sequence_number=0)
    # One inbound call, answered by agent2.
    inbound = call_receive(
        sid=new_call_sid(), from_number="+821055556666", to_number=GENERAL_NUMBER
    )
    (offer,) = acd_route()
    assert offer.call == inbound and offer.agent == org.agent2
    kpi_fill_intervals(starts=[interval_floor(timezone.now())])
    row = IntervalStat.objects.get(scope_kind=ScopeKind.QUEUE, scope_id=org.q_general.pk)
    assert (row.offered, row.abandoned, row.handled) == (1, 0, 0)
    # agent1's row holds only their logged-in time: no contact offered, answered or handled.
    assert not IntervalStat.objects.filter(
        scope_kind=ScopeKind.AGENT, scope_id=org.agent1.pk
    ).exclude(offered=0, answered=0, handled=0)


# --- Callback dial-out (the simulator plays Twilio and the caller) ---------------------------


def _book_callback(sim, org):
    sid = sim.place_call(from_number="010-3333-4444", to_number=GENERAL_NUMBER)
    call_request_callback(sid=sid)
    sim.caller_hangs_up(call_sid=sid)  # they hang up to wait for the callback
    return Call.objects.get(sid=sid)


def test_callback_end_to_end_keeps_its_place_dials_bridges_talks_and_wraps_up(
    client, org, sim, django_capture_on_commit_callbacks
):
    call = _book_callback(sim, org)
    assert call.phase == CallPhase.QUEUED and call.twilio_status == "completed"
    assert not CallEvent.objects.filter(kind="abandoned").exists()
    make_available(org.agent1)
    (offer,) = acd_route()
    assert offer.call == call
    with django_capture_on_commit_callbacks(execute=True):
        offer_accept(agent=org.agent1, offer_id=offer.pk)
    call.refresh_from_db()
    assert call.callback_sid and call.callback_sid != call.sid
    connect = [r for r in sim.transport.responses if r[0] == "/telephony/voice/connect/"]
    ((_, code, twiml),) = connect
    assert code == 200 and is_bridge(twiml, org.agent1)  # the caller's leg is bridged
    assert call.phase == CallPhase.CONNECTED
    assert CallEvent.objects.filter(call=call, kind="callback_answered").exists()
    # They talk; the caller hangs up.
    sim.caller_hangs_up(call_sid=call.callback_sid)
    call.refresh_from_db()
    assert call.phase == CallPhase.WRAP_UP and call.queue_exit != "callback_unreached"
    assert call.twilio_status == "completed"  # the inbound leg's status, untouched
    assert state_of(org.agent1) == AgentState.WRAP_UP
    disposition = Disposition.objects.get(department=org.general, code="resolved")
    wrapup_submit(
        agent=org.agent1,
        call_id=call.pk,
        disposition_id=disposition.pk,
        note="통화 완료",
        subject="문의",
    )
    assert state_of(org.agent1) == AgentState.AVAILABLE
    kpi_fill_intervals(starts=[interval_floor(call.enqueued_at)])
    row = IntervalStat.objects.get(scope_kind=ScopeKind.QUEUE, scope_id=org.q_general.pk)
    assert (row.offered, row.answered, row.abandoned) == (1, 1, 0)


def test_agent_hanging_up_a_callback_ends_the_callers_leg(
    client, org, sim, django_capture_on_commit_callbacks
):
    call = _book_callback(sim, org)
    make_available(org.agent1)
    (offer,) = acd_route()
    with django_capture_on_commit_callbacks(execute=True):
        offer_accept(agent=org.agent1, offer_id=offer.pk)
    call.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        call_hangup(agent=org.agent1, call_id=call.pk)
    # The hang-up went to the callback's leg (the inbound leg ended long ago).
    hung_up = SimulatorMessage.objects.filter(direction="rest", action="hangup")
    assert list(hung_up.values_list("call_sid", flat=True)) == [call.callback_sid]
    call.refresh_from_db()
    assert call.phase == CallPhase.WRAP_UP


def test_a_callback_nobody_answers_is_marked_not_reached_and_the_agent_wraps_up(
    org, sim, django_capture_on_commit_callbacks
):
    call = _book_callback(sim, org)
    sim.no_answer_rate = 1.0
    make_available(org.agent1)
    (offer,) = acd_route()
    with django_capture_on_commit_callbacks(execute=True):
        offer_accept(agent=org.agent1, offer_id=offer.pk)
    call.refresh_from_db()
    assert call.phase == CallPhase.WRAP_UP and call.queue_exit == "callback_unreached"
    assert call.talk_seconds == 0 and call.twilio_status == "completed"
    assert state_of(org.agent1) == AgentState.WRAP_UP
    assert not CallEvent.objects.filter(kind="abandoned").exists()


def test_the_simulator_dials_a_follow_up_once_even_if_the_request_is_retried(
    org, customer, sim, django_capture_on_commit_callbacks
):
    make_available(org.agent1)
    with django_capture_on_commit_callbacks(execute=True):
        call = call_dial_out(agent=org.agent1, customer_id=customer.pk)
    placeholder = call.sid
    call.refresh_from_db()
    assert call.sid.startswith("CA") and call.phase == CallPhase.CONNECTED
    assert sim.dial(call_sid=placeholder, action="dial_out", url="") is None  # the retry
    assert Call.objects.count() == 1

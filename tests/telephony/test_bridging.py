"""Bridging through a conference: hold, transfers, escalation to the agent's own 실장,
listening, and the conference / Dial-action callbacks."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from agents.models import AgentState, AgentStatus, NotReadyReason
from agents.services.states import agent_set_state
from telephony.gateway import TwilioGateway
from telephony.models import Call, CallEvent, CallPhase, Offer, OfferStatus
from telephony.services.bridging import call_hold, call_resume
from telephony.services.calls import call_hangup, offer_accept
from telephony.services.common import call_for_sid
from telephony.services.monitoring import call_monitor
from telephony.services.receiving import call_receive
from telephony.services.routing import acd_route
from telephony.services.transfers import (
    call_escalate,
    call_transfer,
    transfer_cancel,
    transfer_complete,
)
from telephony.simulator import Simulator, new_call_sid
from tests.conftest import GENERAL_NUMBER, make_available, post_signed
from tests.telephony.test_gateway import RecordingHttpClient

CONFERENCE = "/telephony/voice/conference/"
T0 = timezone.now() - timedelta(hours=1)


def at(seconds: float):
    return T0 + timedelta(seconds=seconds)


def state(person):
    return AgentStatus.objects.get(person=person).state


def connect(agent, *, t=0, frm="+821011112222") -> Call:
    """A call answered by `agent` (the only available agent of its queue) at T0 + t + 5s."""
    make_available(agent, at=at(t - 60))
    call_receive(sid=new_call_sid(), from_number=frm, to_number=GENERAL_NUMBER, at=at(t))
    (offer,) = acd_route(at=at(t))
    assert offer.agent_id == agent.pk
    return offer_accept(agent=agent, offer_id=offer.pk, at=at(t + 5))


def kinds(call):
    return list(call.events.values_list("kind", flat=True))


# --- Hold -----------------------------------------------------------------------------------


def test_hold_time_is_counted_apart_from_talk_time_even_when_the_call_ends_on_hold(org):
    call = connect(org.agent1)  # answered at 5
    call_hold(agent=org.agent1, call_id=call.pk, at=at(65))
    call_resume(agent=org.agent1, call_id=call.pk, at=at(95))
    call_hold(agent=org.agent1, call_id=call.pk, at=at(125))
    call_hangup(agent=org.agent1, call_id=call.pk, at=at(155))  # still on hold
    call.refresh_from_db()
    assert call.hold_seconds == 60
    assert call.talk_seconds == 150 - 60
    assert call.hold_started_at is None
    assert kinds(call).count("hold") == 2 and "resume" in kinds(call)


def test_only_the_calls_agent_can_hold_it(org):
    call = connect(org.agent1)
    with pytest.raises(PermissionDenied):
        call_hold(agent=org.agent2, call_id=call.pk)


# --- Transfers ------------------------------------------------------------------------------


def test_a_cold_transfer_to_a_queue_starts_a_segment_routed_to_another_agent(org):
    call = connect(org.agent1)
    make_available(org.agent3, at=at(10))
    segment = call_transfer(
        agent=org.agent1, call_id=call.pk, to_queue_id=org.q_general.pk, at=at(65)
    )
    call.refresh_from_db()
    assert call.phase == CallPhase.WRAP_UP and call.talk_seconds == 60
    assert state(org.agent1) == AgentState.WRAP_UP
    assert (segment.sid, segment.segment, segment.parent_id) == (call.sid, 1, call.pk)
    assert segment.phase == CallPhase.QUEUED
    assert segment.priority == org.q_general.transfer_priority
    assert segment.enqueued_at == at(65)
    (offer,) = acd_route(at=at(66))
    assert (offer.call_id, offer.agent_id) == (segment.pk, org.agent3.pk)
    offer_accept(agent=org.agent3, offer_id=offer.pk, at=at(70))
    segment.refresh_from_db()
    assert segment.phase == CallPhase.CONNECTED and segment.agent == org.agent3
    assert "transfer" in kinds(call) and "transferred_in" in kinds(segment)
    assert call_for_sid(call.sid) == segment


def test_escalation_rings_the_callers_agents_own_team_lead(org):
    call = connect(org.agent3)  # team B: lead2
    make_available(org.lead1, org.lead2, at=at(1))
    segment = call_escalate(agent=org.agent3, call_id=call.pk, at=at(30))
    offer = Offer.objects.get(call=segment, status=OfferStatus.PENDING)
    assert offer.agent == org.lead2
    assert segment.phase == CallPhase.OFFERED
    assert state(org.lead2) == AgentState.RESERVED
    assert state(org.lead1) == AgentState.AVAILABLE
    assert state(org.agent3) == AgentState.WRAP_UP
    event = segment.events.get(kind="transferred_in")
    assert event.data["transfer_kind"] == "escalation"
    offer_accept(agent=org.lead2, offer_id=offer.pk, at=at(35))
    segment.refresh_from_db()
    assert segment.agent == org.lead2 and segment.phase == CallPhase.CONNECTED


def test_escalation_waits_first_in_the_department_queue_when_the_lead_is_away(org):
    call = connect(org.agent3)
    make_available(org.lead2, at=at(1))
    agent_set_state(person=org.lead2, state=AgentState.NOT_READY, reason=NotReadyReason.MEETING)
    segment = call_escalate(agent=org.agent3, call_id=call.pk, at=at(30))
    assert segment.phase == CallPhase.QUEUED
    assert segment.queue == org.q_general
    assert segment.priority == org.q_general.transfer_priority
    assert not Offer.objects.filter(call=segment).exists()


def test_a_warm_transfer_completes_after_the_agents_talk(org):
    call = connect(org.agent1)
    make_available(org.agent2, at=at(1))
    segment = call_transfer(
        agent=org.agent1, call_id=call.pk, to_agent_id=org.agent2.pk, warm=True, at=at(65)
    )
    assert state(org.agent1) == AgentState.ON_CALL  # still with the customer (on hold)
    offer = Offer.objects.get(call=segment, status=OfferStatus.PENDING)
    offer_accept(agent=org.agent2, offer_id=offer.pk, at=at(70))
    transfer_complete(agent=org.agent1, call_id=call.pk, at=at(95))
    call.refresh_from_db()
    segment.refresh_from_db()
    assert call.phase == CallPhase.WRAP_UP and segment.phase == CallPhase.CONNECTED
    assert call.hold_seconds == 30  # the customer held while the agents talked
    assert call.talk_seconds == 90 - 30
    assert state(org.agent1) == AgentState.WRAP_UP
    assert state(org.agent2) == AgentState.ON_CALL


def test_a_cancelled_warm_transfer_gives_the_customer_back_to_the_agent(org):
    call = connect(org.agent1)
    make_available(org.agent2, at=at(1))
    segment = call_transfer(
        agent=org.agent1, call_id=call.pk, to_agent_id=org.agent2.pk, warm=True, at=at(65)
    )
    transfer_cancel(agent=org.agent1, call_id=call.pk, at=at(75))
    call.refresh_from_db()
    segment.refresh_from_db()
    assert call.phase == CallPhase.CONNECTED and call.hold_started_at is None
    assert call.hold_seconds == 10
    assert segment.phase == CallPhase.FAILED
    assert state(org.agent2) == AgentState.AVAILABLE
    assert call_for_sid(call.sid) == call  # status callbacks reach the live one


def test_a_transfer_needs_an_available_target_and_is_one_at_a_time(org):
    call = connect(org.agent1)
    with pytest.raises(ValidationError):
        call_transfer(agent=org.agent1, call_id=call.pk, to_agent_id=org.agent2.pk)
    make_available(org.agent2)
    call_transfer(agent=org.agent1, call_id=call.pk, to_agent_id=org.agent2.pk, warm=True)
    with pytest.raises(ValidationError):
        call_transfer(agent=org.agent1, call_id=call.pk, to_queue_id=org.q_signup.pk)


def test_another_agent_cannot_transfer_my_call(client, org):
    call = connect(org.agent1)
    with pytest.raises(PermissionDenied):
        call_transfer(agent=org.agent2, call_id=call.pk, to_queue_id=org.q_general.pk)
    client.force_login(org.agent2)
    response = client.post(f"/telephony/calls/{call.pk}/escalate/", HTTP_HX_REQUEST="true")
    assert response.status_code == 403
    assert Call.objects.filter(sid=call.sid).count() == 1


# --- Listening ------------------------------------------------------------------------------


def test_only_the_agents_own_lead_may_listen(client, org):
    call = connect(org.agent1)  # team A
    with pytest.raises(PermissionDenied):
        call_monitor(lead=org.agent2, call_id=call.pk, mode="listen")
    with pytest.raises(PermissionDenied):
        call_monitor(lead=org.lead2, call_id=call.pk, mode="listen")
    call_monitor(lead=org.lead1, call_id=call.pk, mode="listen")
    assert call.events.get(kind="monitor").actor == org.lead1
    client.force_login(org.agent2)
    assert client.post(f"/telephony/calls/{call.pk}/monitor/").status_code == 403


# --- Callbacks ------------------------------------------------------------------------------


def conference_params(call, event, **extra):
    params = {
        "ConferenceSid": "CF" + "c0" * 16,
        "FriendlyName": f"call-{call.pk}",
        "StatusCallbackEvent": event,
        "SequenceNumber": "3",
        "AccountSid": "AC" + "0" * 32,
    }
    params.update(extra)
    return params


def test_the_conference_webhook_stores_the_legs_once(client, org):
    call = connect(org.agent1)
    agent_leg = new_call_sid()
    params = conference_params(
        call, "participant-join", CallSid=agent_leg, ParticipantLabel=f"agent-{org.agent1.pk}"
    )
    assert post_signed(client, CONFERENCE, params).status_code == 204
    assert post_signed(client, CONFERENCE, params).status_code == 204  # Twilio's retry
    call.refresh_from_db()
    assert call.conference_sid == "CF" + "c0" * 16
    assert call.agent_call_sid == agent_leg
    assert CallEvent.objects.filter(call=call, kind="conference:participant-join").count() == 1


def test_the_conference_webhook_rejects_unsigned_and_garbage(client, org):
    call = connect(org.agent1)
    assert client.post(CONFERENCE, conference_params(call, "conference-start")).status_code == 403
    bad = conference_params(call, "exploded")
    assert post_signed(client, CONFERENCE, bad).status_code == 400
    assert post_signed(client, CONFERENCE, {"FriendlyName": "x"}).status_code == 400


def test_an_agent_who_leaves_the_conference_ends_the_talk(client, org):
    call = connect(org.agent1)
    params = conference_params(
        call, "participant-leave", CallSid=new_call_sid(), ParticipantLabel=f"agent-{org.agent1.pk}"
    )
    post_signed(client, CONFERENCE, params)
    call.refresh_from_db()
    assert call.phase == CallPhase.WRAP_UP
    assert state(org.agent1) == AgentState.WRAP_UP


def test_the_dial_action_hangs_up_unless_a_transfer_waits(client, org):
    call = connect(org.agent1)
    path = f"/telephony/voice/dial/result/?call={call.pk}"
    params = {"CallSid": call.sid, "DialCallStatus": "completed"}
    assert "<Hangup" in post_signed(client, path, params).content.decode()
    call_transfer(agent=org.agent1, call_id=call.pk, to_queue_id=org.q_general.pk)
    body = post_signed(client, path, params).content.decode()
    assert f">call-{call.pk}</Conference>" in body and 'startConferenceOnEnter="false"' in body
    assert post_signed(client, "/telephony/voice/dial/result/?call=x", params).status_code == 400


def test_the_connect_twiml_puts_the_caller_in_a_recorded_conference(client, org):
    make_available(org.agent1)
    call = call_receive(sid=new_call_sid(), from_number="+821012345678", to_number=GENERAL_NUMBER)
    (offer,) = acd_route()
    offer_accept(agent=org.agent1, offer_id=offer.pk)
    path = f"/telephony/voice/connect/?offer={offer.pk}"
    body = post_signed(client, path, {"CallSid": call.sid}).content.decode()
    assert (
        f'action="https://sangdam.example.com/telephony/voice/dial/result/?call={call.pk}"' in body
    )
    assert f">call-{call.pk}</Conference>" in body
    assert 'record="record-from-start"' in body
    assert f"/telephony/voice/recording/?call={call.pk}" in body
    assert 'statusCallbackEvent="start end join leave hold"' in body
    post_signed(client, path, {"CallSid": call.sid})  # Twilio's retry rings nobody twice
    assert call.events.filter(kind="bridging").count() == 1


def test_a_conference_recording_attaches_by_the_call_in_its_url(client, org):
    call = connect(org.agent1)
    rec = "RE" + "ab" * 16
    params = {
        "ConferenceSid": "CF" + "c0" * 16,
        "RecordingSid": rec,
        "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/{rec}",
        "RecordingStatus": "completed",
        "RecordingDuration": "42",
    }
    response = post_signed(client, f"/telephony/voice/recording/?call={call.pk}", params)
    assert response.status_code == 204
    call.refresh_from_db()
    assert call.recording_sid == rec
    assert post_signed(client, "/telephony/voice/recording/", params).status_code == 400


# --- The provider side ----------------------------------------------------------------------


def test_twilio_gateway_participant_requests_carry_the_right_parameters(settings):
    http = RecordingHttpClient()
    gateway = TwilioGateway(http_client=http)
    gateway.participant_add(
        conference="call-7",
        call_sid="CA" + "1" * 32,
        identity="agent-3",
        from_number="+8225550103",
        label="monitor-3",
        coach_call_sid="CA" + "2" * 32,
    )
    gateway.participant_hold(conference="CF" + "c0" * 16, call_sid="CA" + "1" * 32, hold=True)
    gateway.participant_remove(conference="CF" + "c0" * 16, call_sid="", label="agent-4")
    (add, hold, remove) = http.requests
    account = f"/Accounts/{settings.TWILIO_ACCOUNT_SID}/Conferences"
    assert add[0] == "POST" and add[1].endswith(f"{account}/call-7/Participants.json")
    assert add[2]["From"] == "+8225550103" and add[2]["To"] == "client:agent-3"
    assert add[2]["Label"] == "monitor-3" and add[2]["Coaching"] == "true"
    assert add[2]["CallSidToCoach"] == "CA" + "2" * 32
    assert add[2]["EndConferenceOnExit"] == "false"
    assert add[2]["ConferenceStatusCallback"].endswith("/telephony/voice/conference/")
    assert hold[1].endswith(f"{account}/CF{'c0' * 16}/Participants/customer.json")
    assert hold[2]["Hold"] == "true" and hold[2]["HoldUrl"].endswith("/telephony/voice/hold/")
    assert remove[0] == "DELETE" and remove[1].endswith("/Participants/agent-4.json")


def test_an_accepted_transfer_adds_the_agent_to_the_conference_instead_of_redirecting(org):
    call = connect(org.agent1)
    Call.objects.filter(pk=call.pk).update(conference_sid="CF" + "c0" * 16)
    call.refresh_from_db()
    make_available(org.agent2)
    segment = call_transfer(agent=org.agent1, call_id=call.pk, to_agent_id=org.agent2.pk)
    offer = Offer.objects.get(call=segment)
    offer_accept(agent=org.agent2, offer_id=offer.pk)
    http = RecordingHttpClient()
    TwilioGateway(http_client=http).connect_to_agent(call_sid=call.sid, offer_id=offer.pk)
    (add, unhold) = http.requests
    assert add[1].endswith(f"/Conferences/CF{'c0' * 16}/Participants.json")
    assert add[2]["To"] == f"client:agent-{org.agent2.pk}"
    assert unhold[2]["Hold"] == "false"


class ClientTransport:
    """The simulator's webhooks go to Django's test client."""

    def __init__(self, client):
        self.client = client

    def post(self, url, data, signature):
        path = url.removeprefix("https://sangdam.example.com")
        response = self.client.post(path, data, HTTP_X_TWILIO_SIGNATURE=signature)
        return response.status_code, response.content.decode()


def test_the_simulator_plays_the_conference_as_twilio_would(client, org):
    call = connect(org.agent1)
    offer = Offer.objects.get(call=call)
    sim = Simulator(transport=ClientTransport(client))
    sim.handle_rest(
        call_sid=call.sid,
        action="redirect",
        url=f"https://sangdam.example.com/telephony/voice/connect/?offer={offer.pk}",
    )
    call.refresh_from_db()
    assert call.conference_sid.startswith("CF")
    sim.handle_rest(
        call_sid=call.sid,
        action="participant_add",
        data={"conference": call.conference_sid, "label": f"agent-{org.agent1.pk}"},
    )
    call.refresh_from_db()
    assert call.agent_call_sid.startswith("CA")
    sim.handle_rest(call_sid=call.sid, action="hangup")
    call.refresh_from_db()
    assert call.phase == CallPhase.WRAP_UP
    assert call.recording_status == "completed"  # the conference recording, by ?call=
    assert "conference:conference-end" in kinds(call)


# --- Pages ----------------------------------------------------------------------------------


def test_the_on_call_panel_offers_hold_transfer_and_escalation(client, org):
    call = connect(org.agent1)
    client.force_login(org.agent1)
    body = client.get("/agents/desktop/").content.decode()
    for marker in ('id="btn-hold"', 'id="btn-escalate"', 'id="transfer-agent"', "<kbd>E</kbd>"):
        assert marker in body
    response = client.post(f"/telephony/calls/{call.pk}/hold/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert f"/telephony/calls/{call.pk}/resume/" in response.content.decode()
    make_available(org.agent2)
    response = client.post(
        f"/telephony/calls/{call.pk}/transfer/",
        {"to_agent": org.agent2.pk, "warm": "1"},
        HTTP_HX_REQUEST="true",
    )
    assert 'id="btn-transfer-complete"' in response.content.decode()
    bad = client.post(f"/telephony/calls/{call.pk}/transfer/", {}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 400


def test_the_team_board_offers_listening_on_live_calls(client, org):
    call = connect(org.agent1)
    client.force_login(org.lead1)
    body = client.get("/agents/team/").content.decode()
    assert f'data-listen="{call.pk}"' in body
    response = client.post(
        f"/telephony/calls/{call.pk}/monitor/", {"mode": "listen"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    # The board's 2-second refresh keeps saying so.
    assert "듣는 중" in client.get("/agents/team/").content.decode()


def test_hanging_up_during_a_warm_consult_leaves_the_consult_not_the_customer(
    org, monkeypatch, django_capture_on_commit_callbacks
):
    requests = []

    class Recorder:
        def __getattr__(self, name):
            return lambda **kw: requests.append((name, kw))

    call = connect(org.agent1)
    make_available(org.agent2, at=at(1))
    segment = call_transfer(
        agent=org.agent1, call_id=call.pk, to_agent_id=org.agent2.pk, warm=True, at=at(65)
    )
    offer = Offer.objects.get(call=segment, status=OfferStatus.PENDING)
    offer_accept(agent=org.agent2, offer_id=offer.pk, at=at(70))
    monkeypatch.setattr("telephony.gateway.get_gateway", lambda: Recorder())
    with django_capture_on_commit_callbacks(execute=True):
        call_hangup(agent=org.agent2, call_id=segment.pk, at=at(80))
    call.refresh_from_db()
    segment.refresh_from_db()
    assert segment.phase == CallPhase.WRAP_UP and state(org.agent2) == AgentState.WRAP_UP
    assert call.phase == CallPhase.CONNECTED and state(org.agent1) == AgentState.ON_CALL
    assert "transfer_cancelled" in kinds(call)
    # Only the consulted agent leaves the conference: the customer's leg is not hung up.
    assert [name for name, _ in requests] == ["participant_remove"]
    call_resume(agent=org.agent1, call_id=call.pk, at=at(85))
    call.refresh_from_db()
    assert call.hold_started_at is None

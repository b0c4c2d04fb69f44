"""Listening (issue 18, item 8): beside listen and whisper, barge-in (the lead joins the
conversation) and stop. Checked with the simulator and at Twilio's HTTP layer."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from telephony.gateway import SimulatedGateway, TwilioGateway
from telephony.models import Call, Offer
from telephony.services.monitoring import call_monitor, call_monitor_stop, monitor_mode_of
from telephony.simulator import Simulator, SimulatorMessage
from tests.telephony.test_bridging import ClientTransport, at, connect
from tests.telephony.test_gateway import RecordingHttpClient

AGENT_LEG = "CA" + "a9" * 16


def live_call(org) -> Call:
    call = connect(org.agent1)
    Call.objects.filter(pk=call.pk).update(
        conference_sid="CF" + "c0" * 16, agent_call_sid=AGENT_LEG
    )
    call.refresh_from_db()
    return call


@pytest.fixture
def twilio(settings, monkeypatch):
    """twilio mode with Twilio's HTTP layer recorded (nothing else is replaced)."""
    settings.TELEPHONY_MODE = "twilio"
    http = RecordingHttpClient()
    monkeypatch.setattr("telephony.gateway.get_gateway", lambda: TwilioGateway(http_client=http))
    return http


def test_listen_whisper_barge_and_stop_at_twilios_rest_api(
    org, twilio, django_capture_on_commit_callbacks
):
    call = live_call(org)
    base = f"/Conferences/CF{'c0' * 16}/Participants"
    label = f"monitor-{org.lead1.pk}"
    with django_capture_on_commit_callbacks(execute=True):
        call_monitor(lead=org.lead1, call_id=call.pk, mode="listen", at=at(10))
    ((method, url, data),) = twilio.requests
    assert (method, url.endswith(f"{base}.json")) == ("POST", True)
    assert data["Label"] == label and data["Muted"] == "true" and "Coaching" not in data

    with django_capture_on_commit_callbacks(execute=True):
        call_monitor(lead=org.lead1, call_id=call.pk, mode="whisper", at=at(20))
    method, url, data = twilio.requests[-1]
    # The same participant changes mode: no second leg rings the lead.
    assert (method, url.endswith(f"{base}/{label}.json")) == ("POST", True)
    assert data["Muted"] == "false" and data["Coaching"] == "true"
    assert data["CallSidToCoach"] == AGENT_LEG

    with django_capture_on_commit_callbacks(execute=True):
        call_monitor(lead=org.lead1, call_id=call.pk, mode="barge", at=at(30))
    method, url, data = twilio.requests[-1]
    assert url.endswith(f"{base}/{label}.json")
    # Barge: an ordinary participant, heard by the customer and the agent.
    assert data["Muted"] == "false" and data["Coaching"] == "false"
    assert "CallSidToCoach" not in data
    assert monitor_mode_of(call, org.lead1) == "barge"

    with django_capture_on_commit_callbacks(execute=True):
        call_monitor_stop(lead=org.lead1, call_id=call.pk, at=at(40))
    method, url, _ = twilio.requests[-1]
    assert (method, url.endswith(f"{base}/{label}.json")) == ("DELETE", True)
    assert monitor_mode_of(call, org.lead1) == ""
    assert len(twilio.requests) == 4
    modes = [e.data["mode"] for e in call.events.filter(kind__startswith="monitor").order_by("id")]
    assert modes == ["listen", "whisper", "barge", "barge"]


def test_the_same_mode_twice_and_stop_without_listening(org, twilio):
    call = live_call(org)
    with pytest.raises(ValidationError):
        call_monitor_stop(lead=org.lead1, call_id=call.pk)  # not listening
    call_monitor(lead=org.lead1, call_id=call.pk, mode="barge")
    call_monitor(lead=org.lead1, call_id=call.pk, mode="barge")
    assert call.events.filter(kind="monitor").count() == 1
    with pytest.raises(PermissionDenied):
        call_monitor_stop(lead=org.lead2, call_id=call.pk)  # not their team's call
    with pytest.raises(ValidationError):
        call_monitor(lead=org.lead1, call_id=call.pk, mode="shout")
    assert monitor_mode_of(call, org.lead1) == "barge"


def test_the_simulator_plays_barge_in_and_stop_as_twilio_would(
    client, org, monkeypatch, django_capture_on_commit_callbacks
):
    """Simulated mode end to end: the lead's leg joins muted, is modified to an ordinary
    participant (Twilio's participant-modify callback), then leaves; the callbacks Sangdam
    receives are signed and accepted."""
    call = connect(org.agent1)
    offer = Offer.objects.get(call=call)
    sim = Simulator(transport=ClientTransport(client))
    sim.handle_rest(
        call_sid=call.sid,
        action="redirect",
        url=f"https://sangdam.example.com/telephony/voice/connect/?offer={offer.pk}",
    )
    call.refresh_from_db()
    sim.handle_rest(
        call_sid=call.sid,
        action="participant_add",
        data={"conference": call.conference_sid, "label": f"agent-{org.agent1.pk}"},
    )
    # The gateway's REST requests go straight to this simulator.
    monkeypatch.setattr(
        "telephony.tasks.simulator_rest.delay",
        lambda **kw: sim.handle_rest(**kw),
    )
    monkeypatch.setattr("telephony.gateway.get_gateway", lambda: SimulatedGateway())
    label = f"monitor-{org.lead1.pk}"
    client.force_login(org.lead1)

    def board_post(mode):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                f"/telephony/calls/{call.pk}/monitor/", {"mode": mode}, HTTP_HX_REQUEST="true"
            )

    def callbacks(event):
        return SimulatorMessage.objects.filter(
            direction="webhook",
            action="conference",
            data__StatusCallbackEvent=event,
            data__ParticipantLabel=label,
        )

    assert board_post("listen").status_code == 200
    (join,) = callbacks("participant-join")
    assert join.data["Muted"] == "true" and join.data["Coaching"] == "false"
    response = board_post("barge")
    assert response.status_code == 200 and 'data-monitor="barge"' in response.content.decode()
    (modify,) = callbacks("participant-modify")
    assert modify.data["Muted"] == "false" and modify.data["Coaching"] == "false"
    response = board_post("stop")
    assert response.status_code == 200 and 'data-monitor=""' in response.content.decode()
    assert callbacks("participant-leave").count() == 1
    assert "conference:participant-modify" in call.events.values_list("kind", flat=True)
    call.refresh_from_db()
    assert call.phase == "connected"  # the customer and the agent carry on


def test_a_lead_who_hangs_up_their_softphone_stops_listening(client, org):
    from tests.conftest import post_signed

    call = live_call(org)
    call_monitor(lead=org.lead1, call_id=call.pk, mode="listen")
    params = {
        "ConferenceSid": call.conference_sid,
        "FriendlyName": f"call-{call.pk}",
        "StatusCallbackEvent": "participant-leave",
        "CallSid": "CA" + "b1" * 16,
        "ParticipantLabel": f"monitor-{org.lead1.pk}",
        "SequenceNumber": "7",
    }
    assert post_signed(client, "/telephony/voice/conference/", params).status_code in {200, 204}
    assert monitor_mode_of(call, org.lead1) == ""
    call.refresh_from_db()
    assert call.phase == "connected"


def test_the_team_board_offers_barge_and_stop(client, org, twilio):
    call = live_call(org)
    client.force_login(org.lead1)
    body = client.get("/agents/team/").content.decode()
    assert f'data-barge="{call.pk}"' in body and f'data-stop="{call.pk}"' not in body
    response = client.post(
        f"/telephony/calls/{call.pk}/monitor/", {"mode": "barge"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    body = client.get("/agents/team/").content.decode()
    assert f'data-stop="{call.pk}"' in body and "대화 참여 중" in body
    stop = client.post(
        f"/telephony/calls/{call.pk}/monitor/", {"mode": "stop"}, HTTP_HX_REQUEST="true"
    )
    assert stop.status_code == 200
    assert f'data-stop="{call.pk}"' not in client.get("/agents/team/").content.decode()
    again = client.post(
        f"/telephony/calls/{call.pk}/monitor/", {"mode": "stop"}, HTTP_HX_REQUEST="true"
    )
    assert again.status_code == 400 and "듣고 있지 않습니다" in again.content.decode()
    bad = client.post(
        f"/telephony/calls/{call.pk}/monitor/", {"mode": "shout"}, HTTP_HX_REQUEST="true"
    )
    assert bad.status_code == 400
    client.force_login(org.lead2)
    assert (
        client.post(
            f"/telephony/calls/{call.pk}/monitor/", {"mode": "barge"}, HTTP_HX_REQUEST="true"
        ).status_code
        == 403
    )


def test_a_bad_mode_on_someone_elses_call_is_refused_like_any_other(client, org):
    """Who may listen is checked before the mode: an unknown mode on a call outside the
    person's reach is a 403 with nothing of the call, not a 400 with its controls."""
    call = live_call(org)
    for person in (org.agent2, org.lead2):
        client.force_login(person)
        response = client.post(
            f"/telephony/calls/{call.pk}/monitor/", {"mode": "shout"}, HTTP_HX_REQUEST="true"
        )
        assert response.status_code == 403
        assert f'data-barge="{call.pk}"' not in response.content.decode()

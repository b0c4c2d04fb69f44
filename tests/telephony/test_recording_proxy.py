"""Recording and voicemail playback go through Sangdam, with the org chart's access rules;
Twilio is mocked only at the HTTP transport (requests' adapter)."""

from __future__ import annotations

import io
import wave
from datetime import timedelta

import pytest
import requests
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from requests.structures import CaseInsensitiveDict

from telephony.models import Call, Voicemail
from tests.factories import CallFactory

TWILIO_URL = (
    "https://api.twilio.com/2010-04-01/Accounts/AC" + "0" * 32 + "/Recordings/RE" + "a" * 32
)
TWILIO_MODE = {"TELEPHONY_MODE": "twilio", "TWILIO_AUTH_TOKEN": "test-auth-token"}


def recorded_call(org, agent, *, status="completed", duration=3, sid_suffix="1", **extra) -> Call:
    return CallFactory(
        agent=agent,
        sid="CA" + sid_suffix * 32,
        ended=timezone.now() - timedelta(minutes=1),
        wait=60,
        talk=180,
        recording_sid="RE" + "a" * 32,
        recording_url=TWILIO_URL if status == "completed" else "",
        recording_status=status,
        recording_duration_seconds=duration if status == "completed" else None,
        **extra,
    )


def play(client, person, call):
    client.force_login(person)
    return client.get(reverse("telephony:call-recording", args=[call.pk]))


def body(response) -> bytes:
    return b"".join(response.streaming_content)


# --- Simulated mode: the simulator's WAV ---------------------------------------------------


def test_agent_plays_their_own_call_as_a_wav_of_its_length(client, org):
    call = recorded_call(org, org.agent1, duration=3)

    response = play(client, org.agent1, call)

    assert response.status_code == 200
    assert response["Content-Type"] == "audio/wav"
    assert response["Accept-Ranges"] == "bytes"
    audio = body(response)
    assert int(response["Content-Length"]) == len(audio)
    with wave.open(io.BytesIO(audio)) as wav:
        assert (wav.getnchannels(), wav.getframerate()) == (1, 8000)
        assert wav.getnframes() == 3 * 8000


def test_team_lead_plays_their_teams_call(client, org):
    response = play(client, org.lead1, recorded_call(org, org.agent1))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("audio/")


@pytest.mark.parametrize("who", ["agent2", "agent3", "lead2", "agent4", "lead3"])
def test_people_outside_the_call_get_404(client, org, who):
    response = play(client, getattr(org, who), recorded_call(org, org.agent1))

    assert response.status_code == 404


def test_absent_recording_has_nothing_to_play(client, org):
    call = recorded_call(org, org.agent1, status="absent", recording_error_code="16101")

    assert play(client, org.agent1, call).status_code == 404


def test_seeking_asks_for_a_byte_range(client, org):
    call = recorded_call(org, org.agent1, duration=2)
    client.force_login(org.agent1)
    url = reverse("telephony:call-recording", args=[call.pk])
    size = len(body(client.get(url)))

    part = client.get(url, HTTP_RANGE="bytes=100-199")
    beyond = client.get(url, HTTP_RANGE=f"bytes={size}-")

    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 100-199/{size}"
    assert len(body(part)) == 100
    assert beyond.status_code == 416


def test_simulated_recording_is_capped_at_ten_minutes(client, org):
    call = recorded_call(org, org.agent1, duration=3 * 3600)

    response = play(client, org.agent1, call)

    with wave.open(io.BytesIO(body(response))) as wav:
        assert wav.getnframes() == 600 * 8000


# --- Twilio mode: fetched from Twilio with basic auth, relayed ---------------------------


@pytest.fixture
def twilio_http(monkeypatch):
    """Replaces requests' transport: records what was sent, answers with `reply`."""
    state = {"sent": [], "reply": (200, b"ID3fake-mp3", {"Content-Type": "audio/mpeg"})}

    def send(adapter, request, **kwargs):
        state["sent"].append((request, kwargs))
        reply = state["reply"]
        if isinstance(reply, Exception):
            raise reply
        status, content, headers = reply
        response = requests.Response()
        response.status_code = status
        response.headers = CaseInsensitiveDict({"Content-Length": str(len(content)), **headers})
        response.raw = io.BytesIO(content)
        response.url = request.url
        response.request = request
        return response

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", send)
    return state


@override_settings(**TWILIO_MODE)
def test_twilio_mode_relays_the_mp3_with_the_accounts_credentials(client, org, twilio_http):
    response = play(client, org.agent1, recorded_call(org, org.agent1))

    assert response.status_code == 200
    assert response["Content-Type"] == "audio/mpeg"
    assert body(response) == b"ID3fake-mp3"
    request, options = twilio_http["sent"][0]
    assert request.url == TWILIO_URL + ".mp3"
    assert request.headers["Authorization"].startswith("Basic ")
    assert options["timeout"]
    assert TWILIO_URL not in response.headers.values()


@override_settings(**TWILIO_MODE)
def test_twilio_mode_passes_a_range_through(client, org, twilio_http):
    twilio_http["reply"] = (
        206,
        b"ID3",
        {"Content-Type": "audio/mpeg", "Content-Range": "bytes 0-2/11"},
    )
    client.force_login(org.agent1)

    response = client.get(
        reverse("telephony:call-recording", args=[recorded_call(org, org.agent1).pk]),
        HTTP_RANGE="bytes=0-2",
    )

    assert response.status_code == 206
    assert response["Content-Range"] == "bytes 0-2/11"
    assert twilio_http["sent"][0][0].headers["Range"] == "bytes=0-2"


@override_settings(**TWILIO_MODE)
@pytest.mark.parametrize(
    "reply", [requests.ConnectionError("down"), requests.Timeout("slow"), (404, b"", {})]
)
def test_twilio_failure_is_a_clear_502(client, org, twilio_http, reply):
    twilio_http["reply"] = reply

    response = play(client, org.agent1, recorded_call(org, org.agent1))

    assert response.status_code == 502
    assert "Twilio" in response.content.decode()
    assert TWILIO_URL not in response.content.decode()


@override_settings(**TWILIO_MODE)
def test_credentials_never_leave_for_a_non_twilio_url(client, org, twilio_http):
    call = recorded_call(org, org.agent1)
    Call.objects.filter(pk=call.pk).update(recording_url="https://evil.example.com/rec")

    response = play(client, org.agent1, call)

    assert response.status_code == 502
    assert twilio_http["sent"] == []


# --- Voicemails -----------------------------------------------------------------------------


def voicemail(department, **extra) -> Voicemail:
    return Voicemail.objects.create(
        call_sid="CA" + "9" * 32,
        department=department,
        from_number="+821099998888",
        reason="closed",
        recording_sid="RE" + "9" * 32,
        recording_url=TWILIO_URL,
        recording_status="completed",
        duration_seconds=4,
        received_at=timezone.now(),
        **extra,
    )


def test_manager_of_the_department_plays_its_voicemail(client, org):
    client.force_login(org.manager)

    response = client.get(reverse("telephony:voicemail-audio", args=[voicemail(org.general).pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "audio/wav"
    with wave.open(io.BytesIO(body(response))) as wav:
        assert wav.getnframes() == 4 * 8000


@pytest.mark.parametrize("who", ["agent1", "lead1"])
def test_the_departments_agents_and_team_leads_play_its_voicemail(client, org, who):
    client.force_login(getattr(org, who))

    response = client.get(reverse("telephony:voicemail-audio", args=[voicemail(org.general).pk]))

    assert response.status_code == 200


@pytest.mark.parametrize("who", ["manager", "agent1"])
def test_voicemail_of_another_department_is_404(client, org, who):
    client.force_login(getattr(org, who))

    response = client.get(reverse("telephony:voicemail-audio", args=[voicemail(org.signup).pk]))

    assert response.status_code == 404


# --- The recordings page ---------------------------------------------------------------------


def test_recordings_page_plays_through_sangdam_and_flags_absent_recordings(client, org):
    played = recorded_call(org, org.agent1, sid_suffix="1")
    absent = recorded_call(
        org, org.agent2, status="absent", sid_suffix="2", recording_error_code="16102"
    )
    client.force_login(org.lead1)

    html = client.get(reverse("qa:recordings")).content.decode()

    proxy = reverse("telephony:call-recording", args=[played.pk])
    assert f'<audio class="recording" controls preload="none" src="{proxy}"' in html
    assert reverse("telephony:call-recording", args=[absent.pk]) not in html
    assert "recording-absent" in html
    assert "16102" in html
    assert TWILIO_URL not in html

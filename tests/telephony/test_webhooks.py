"""Twilio webhooks: signed with the SDK, bad signature → 403, garbage → 400, idempotent."""

import pytest
from django.test import override_settings

from telephony.models import Call, CallEvent, CallPhase
from tests.conftest import GENERAL_NUMBER, post_signed, signature

INCOMING = "/telephony/voice/incoming/"
STATUS = "/telephony/voice/status/"
RECORDING = "/telephony/voice/recording/"
SID = "CA" + "a1" * 16


def incoming_params(sid=SID, to=GENERAL_NUMBER, frm="010-2345-6789"):
    return {
        "CallSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": frm,
        "To": to,
        "CallStatus": "ringing",
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
    }


def test_it_enqueues_a_signed_incoming_call(client, org):
    response = post_signed(client, INCOMING, incoming_params())
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    body = response.content.decode()
    assert "<Enqueue" in body and "/telephony/voice/queue/wait/" in body
    call = Call.objects.get(sid=SID)
    assert call.phase == CallPhase.QUEUED
    assert call.queue == org.q_general
    assert call.from_number == "+821023456789"  # E.164 via phonenumbers


def test_it_rejects_bad_signature(client, org):
    params = incoming_params()
    response = client.post(
        INCOMING, params, HTTP_X_TWILIO_SIGNATURE=signature(INCOMING, params, token="wrong")
    )
    assert response.status_code == 403
    assert not Call.objects.exists()


def test_it_rejects_missing_signature(client, org):
    assert client.post(INCOMING, incoming_params()).status_code == 403
    assert not Call.objects.exists()


def test_it_rejects_a_signature_for_other_params(client, org):
    params = incoming_params()
    sig = signature(INCOMING, params)
    params["From"] = "+821099999999"
    assert client.post(INCOMING, params, HTTP_X_TWILIO_SIGNATURE=sig).status_code == 403


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"CallSid": "not-a-sid", "From": "x", "To": "y"},
        {"CallSid": SID},
        {"garbage": "\x00\xff" * 10},
    ],
)
def test_it_answers_400_to_garbage_with_a_valid_signature(client, org, params):
    response = post_signed(client, INCOMING, params)
    assert response.status_code == 400
    assert not Call.objects.exists()


def test_status_garbage_is_400(client, org):
    assert (
        post_signed(client, STATUS, {"CallSid": SID, "CallStatus": "exploded"}).status_code == 400
    )
    assert (
        post_signed(
            client, STATUS, {"CallSid": SID, "CallStatus": "completed", "SequenceNumber": "-4"}
        ).status_code
        == 400
    )


def test_it_rejects_get(client, org):
    assert client.get(INCOMING).status_code == 403


def test_a_replayed_incoming_webhook_changes_nothing(client, org):
    for _ in range(3):
        assert post_signed(client, INCOMING, incoming_params()).status_code == 200
    assert Call.objects.count() == 1
    assert CallEvent.objects.filter(kind="enqueued").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_replayed_incoming_webhook_outside_a_test_transaction_changes_nothing(client, org):
    """As in production, no transaction is open around the webhook: a replay's refused
    INSERT must come back as Django's IntegrityError and leave no row."""
    for _ in range(3):
        assert post_signed(client, INCOMING, incoming_params()).status_code == 200
    assert Call.objects.count() == 1
    assert CallEvent.objects.filter(kind="enqueued").count() == 1


def test_signature_with_the_port_in_the_url_is_accepted(client, org):
    params = incoming_params()
    with override_settings(PUBLIC_BASE_URL="https://sangdam.example.com"):
        sig = signature("https://sangdam.example.com:443" + INCOMING, params)
        assert client.post(INCOMING, params, HTTP_X_TWILIO_SIGNATURE=sig).status_code == 200


def test_behind_a_tls_proxy_the_public_url_is_what_counts(client, org):
    """Django sees http://internal:8000; Twilio signed https://public-host/…"""
    params = incoming_params()
    sig = signature(INCOMING, params)  # signed for PUBLIC_BASE_URL
    response = client.post(INCOMING, params, HTTP_X_TWILIO_SIGNATURE=sig, HTTP_HOST="internal:8000")
    assert response.status_code == 200


def test_an_unknown_called_number_is_told_not_in_service(client, org):
    response = post_signed(client, INCOMING, incoming_params(to="+8229999999"))
    assert response.status_code == 200
    assert "<Hangup" in response.content.decode()
    assert not Call.objects.exists()


def test_a_terminal_status_never_regresses(client, org):
    post_signed(client, INCOMING, incoming_params())
    post_signed(
        client,
        STATUS,
        {"CallSid": SID, "CallStatus": "completed", "SequenceNumber": "3", "CallDuration": "40"},
    )
    post_signed(
        client, STATUS, {"CallSid": SID, "CallStatus": "in-progress", "SequenceNumber": "1"}
    )
    call = Call.objects.get(sid=SID)
    assert call.twilio_status == "completed"
    assert call.phase == CallPhase.ABANDONED
    assert call.twilio_duration_seconds == 40


def test_out_of_order_non_terminal_callbacks_keep_the_newest(client, org):
    post_signed(client, INCOMING, incoming_params())
    post_signed(
        client, STATUS, {"CallSid": SID, "CallStatus": "in-progress", "SequenceNumber": "2"}
    )
    post_signed(client, STATUS, {"CallSid": SID, "CallStatus": "ringing", "SequenceNumber": "1"})
    assert Call.objects.get(sid=SID).twilio_status == "in-progress"


def test_a_replayed_status_callback_is_counted_once(client, org):
    post_signed(client, INCOMING, incoming_params())
    params = {"CallSid": SID, "CallStatus": "completed", "SequenceNumber": "0"}
    for _ in range(3):
        assert post_signed(client, STATUS, params).status_code == 204
    assert CallEvent.objects.filter(kind="abandoned").count() == 1
    assert CallEvent.objects.filter(kind="status").count() == 1


def test_recording_callback_attaches_the_recording(client, org):
    post_signed(client, INCOMING, incoming_params())
    params = {
        "CallSid": SID,
        "RecordingSid": "RE" + "b2" * 16,
        "RecordingStatus": "completed",
        "RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/AC/Recordings/RE1",
        "RecordingDuration": "61",
    }
    for _ in range(2):
        assert post_signed(client, RECORDING, params).status_code == 204
    call = Call.objects.get(sid=SID)
    assert call.recording_status == "completed"
    assert call.recording_duration_seconds == 61
    assert CallEvent.objects.filter(kind="recording").count() == 1


def test_absent_recording_is_flagged_but_never_replaces_a_completed_one(client, org):
    post_signed(client, INCOMING, incoming_params())
    base = {"CallSid": SID, "RecordingSid": "RE" + "b2" * 16}
    post_signed(
        client, RECORDING, {**base, "RecordingStatus": "completed", "RecordingDuration": "10"}
    )
    post_signed(client, RECORDING, {**base, "RecordingStatus": "absent"})
    assert Call.objects.get(sid=SID).recording_status == "completed"


def test_a_hangup_in_the_queue_is_an_abandon_and_redirected_is_not(client, org):
    result = "/telephony/voice/queue/result/"
    post_signed(client, INCOMING, incoming_params())
    assert (
        post_signed(
            client, result, {"CallSid": SID, "QueueResult": "redirected", "QueueTime": "4"}
        ).status_code
        == 200
    )
    assert Call.objects.get(sid=SID).phase == CallPhase.QUEUED
    for _ in range(2):
        post_signed(client, result, {"CallSid": SID, "QueueResult": "hangup", "QueueTime": "9"})
    assert Call.objects.get(sid=SID).phase == CallPhase.ABANDONED
    assert CallEvent.objects.filter(kind="abandoned").count() == 1
    # Twilio's own status callback afterwards still records the call's end, once.
    post_signed(client, STATUS, {"CallSid": SID, "CallStatus": "completed", "SequenceNumber": "1"})
    call = Call.objects.get(sid=SID)
    assert (
        call.twilio_status == "completed"
        and CallEvent.objects.filter(kind="abandoned").count() == 1
    )

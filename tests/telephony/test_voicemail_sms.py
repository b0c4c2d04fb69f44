"""Voicemails and incoming SMS: idempotent per the provider's sid in any order, matched to
the customer by phone, 400 on garbage, and a voicemail list scoped by the org chart."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from telephony.models import IvrMenu, SmsMessage, Voicemail
from telephony.services.messages import voicemail_record
from telephony.services.receiving import call_receive
from tests.conftest import post_signed
from tickets.services.customers import customer_create

VOICEMAIL = "/telephony/voice/voicemail/"
SMS = "/telephony/sms/incoming/"
LIST = "/telephony/voicemails/"
CALL_SID = "CA" + "e5" * 16
REC_SID = "RE" + "f6" * 16
MSG_SID = "SM" + "a7" * 16
CALLER = "+821055556666"
REC_URL = f"https://api.twilio.com/2010-04-01/Accounts/AC{'0' * 32}/Recordings/{REC_SID}"


def record_action(**extra):
    return {
        "CallSid": CALL_SID,
        "From": "010-5555-6666",
        "To": "+8215880000",
        "RecordingSid": REC_SID,
        "RecordingUrl": REC_URL,
        "RecordingDuration": "14",
        "Digits": "#",
        **extra,
    }


def status_callback(status="completed", **extra):
    return {
        "CallSid": CALL_SID,
        "RecordingSid": REC_SID,
        "RecordingUrl": REC_URL,
        "RecordingStatus": status,
        "RecordingDuration": "14",
        **extra,
    }


def vm_path(org, reason="closed", **extra):
    query = f"?reason={reason}&lang=ko&department={org.general.pk}"
    for key, value in extra.items():
        query += f"&{key}={value}"
    return VOICEMAIL + query


# --- Voicemail webhook -----------------------------------------------------------------


def test_the_record_action_files_a_voicemail_and_says_goodbye(client, org):
    customer = customer_create(phone=CALLER, name="김고객")
    response = post_signed(client, vm_path(org), record_action())
    assert response.status_code == 200
    body = response.content.decode()
    assert "<Hangup" in body
    voicemail = Voicemail.objects.get()
    assert voicemail.from_number == CALLER  # normalised to E.164
    assert voicemail.customer == customer
    assert voicemail.department == org.general
    assert voicemail.reason == "closed"
    assert voicemail.duration_seconds == 14
    assert voicemail.recording_url == REC_URL


@pytest.mark.parametrize("order", ["action-first", "callback-first"])
def test_action_and_status_callback_in_any_order_and_replayed_give_one_voicemail(
    client, org, order
):
    customer_create(phone=CALLER)
    posts = [(vm_path(org), record_action()), (vm_path(org), status_callback())]
    if order == "callback-first":
        posts.reverse()
    for path, params in posts + posts:  # Twilio retries each once
        assert post_signed(client, path, params).status_code == 200
    voicemail = Voicemail.objects.get()
    assert voicemail.recording_status == "completed"
    assert voicemail.from_number == CALLER and voicemail.customer is not None


def test_a_completed_recording_never_goes_back(client, org):
    post_signed(client, vm_path(org), status_callback("completed"))
    post_signed(client, vm_path(org), status_callback("in-progress"))
    assert Voicemail.objects.get().recording_status == "completed"


def test_an_unknown_caller_leaves_a_voicemail_without_a_customer(client, org):
    post_signed(client, vm_path(org), record_action(From="+821099990000"))
    voicemail = Voicemail.objects.get()
    assert voicemail.customer is None and voicemail.from_number == "+821099990000"


def test_a_voicemail_from_the_queue_is_linked_to_its_call(client, org):
    call = call_receive(sid=CALL_SID, from_number=CALLER, to_number=org.general.phone_number)
    path = f"{VOICEMAIL}?reason=max_wait&lang=ko&call={call.pk}"
    assert post_signed(client, path, status_callback()).status_code == 200
    voicemail = Voicemail.objects.get()
    assert voicemail.call == call
    assert voicemail.department == org.general  # from the call
    assert voicemail.from_number == CALLER  # the status callback has no From; the call does


@pytest.mark.parametrize(
    ("query", "params"),
    [
        ("?reason=closed", {}),
        ("?reason=closed", {"CallSid": CALL_SID, "RecordingSid": "RE-nope"}),
        ("?reason=closed", {**status_callback(), "RecordingStatus": "exploded"}),
        ("?reason=closed", {**status_callback(), "RecordingUrl": "not a url"}),
        ("?reason=bored", None),
        ("", None),
        ("?reason=closed&department=999999", None),
        ("?reason=closed&department=abc", None),
        ("?reason=closed&call=999999", None),
    ],
)
def test_voicemail_garbage_is_400_and_changes_nothing(client, org, query, params):
    response = post_signed(
        client, VOICEMAIL + query, status_callback() if params is None else params
    )
    assert response.status_code == 400
    assert not Voicemail.objects.exists()


def test_a_voicemail_url_of_another_call_is_400(client, org):
    call = call_receive(
        sid="CA" + "11" * 16, from_number=CALLER, to_number=org.general.phone_number
    )
    path = f"{VOICEMAIL}?reason=max_wait&call={call.pk}"
    assert post_signed(client, path, status_callback()).status_code == 400


def test_an_unsigned_voicemail_is_403(client, org):
    assert client.post(vm_path(org), record_action()).status_code == 403
    assert not Voicemail.objects.exists()


# --- SMS -------------------------------------------------------------------------------


def sms(**extra):
    return {
        "MessageSid": MSG_SID,
        "AccountSid": "AC" + "0" * 32,
        "From": "010-5555-6666",
        "To": "+8225550103",
        "Body": "안녕하세요, 요금 문의드립니다.",
        "NumMedia": "0",
        **extra,
    }


def test_an_incoming_sms_is_stored_once_and_answered_with_an_empty_response(client, org):
    customer = customer_create(phone=CALLER)
    for _ in range(2):
        response = post_signed(client, SMS, sms())
        assert response.status_code == 200
        assert response.content.decode().endswith("<Response />")
    message = SmsMessage.objects.get()
    assert message.from_number == CALLER and message.customer == customer
    assert message.department == org.general
    assert message.body == "안녕하세요, 요금 문의드립니다."


def test_an_sms_to_the_ivr_number_goes_to_its_default_department(client, org):
    IvrMenu.objects.create(
        name="대표",
        center=org.center,
        phone_number="+8215880000",
        prompt_ko="…",
        prompt_en="…",
        default_queue=org.q_signup,
    )
    post_signed(client, SMS, sms(To="+8215880000", MessageSid="MM" + "b8" * 16))
    assert SmsMessage.objects.get().department == org.signup


@pytest.mark.parametrize(
    "params",
    [{}, {"MessageSid": "SMnope", "From": "x", "To": "y"}, {**sms(), "Body": "x" * 2000}],
)
def test_sms_garbage_is_400(client, org, params):
    assert post_signed(client, SMS, params).status_code == 400
    assert not SmsMessage.objects.exists()


def test_an_unsigned_sms_is_403(client, org):
    assert client.post(SMS, sms()).status_code == 403


# --- The voicemail list --------------------------------------------------------------------


def voicemail(department, n: int, **extra) -> Voicemail:
    return voicemail_record(
        call_sid="CA" + f"{n:02d}" * 16,
        recording_sid="RE" + f"{n:02d}" * 16,
        reason="closed",
        from_number=f"+8210555500{n:02d}",
        department_id=department.pk if department else None,
        url=REC_URL,
        status="completed",
        duration=10,
        **extra,
    )


@pytest.fixture
def voicemails(org):
    return {
        "general": voicemail(org.general, 1),
        "signup": voicemail(org.signup, 2),
        "nowhere": voicemail(None, 3),
    }


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("agent1", {"general"}),
        ("lead2", {"general"}),
        ("lead3", {"signup"}),
        ("agent4", {"signup"}),
        ("manager", {"general"}),
        ("director", {"general", "signup", "nowhere"}),
    ],
)
def test_the_voicemail_list_follows_the_org_chart(client, org, voicemails, who, sees):
    client.force_login(getattr(org, who))
    response = client.get(LIST)
    assert response.status_code == 200
    shown = {key for key, v in voicemails.items() if f'id="voicemail-{v.pk}"' in response.text}
    assert shown == sees


def test_the_voicemail_list_links_audio_through_sangdam_in_constant_queries(client, org):
    client.force_login(org.director)
    for n in range(3):
        voicemail(org.general, n)
    with CaptureQueriesContext(connection) as few:
        client.get(LIST)
    for n in range(3, 15):
        voicemail(org.general, n)
    with CaptureQueriesContext(connection) as many:
        response = client.get(LIST)
    assert len(many) == len(few)
    assert "/telephony/voicemails/" in response.text and "/audio/" in response.text
    assert "api.twilio.com" not in response.text  # never the provider's URL


def test_marking_handled_swaps_the_row_and_hides_it_from_the_open_list(client, org, voicemails):
    client.force_login(org.agent1)
    v = voicemails["general"]
    response = client.post(f"/telephony/voicemails/{v.pk}/handled/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert f'id="voicemail-{v.pk}"' in response.text and "<html" not in response.text
    v.refresh_from_db()
    assert v.handled_by == org.agent1 and v.handled_at is not None
    assert f'id="voicemail-{v.pk}"' not in client.get(LIST).text
    assert f'id="voicemail-{v.pk}"' in client.get(LIST + "?show=all").text
    # Marking again keeps the first handler.
    client.force_login(org.lead1)
    client.post(f"/telephony/voicemails/{v.pk}/handled/")
    v.refresh_from_db()
    assert v.handled_by == org.agent1


def test_nobody_marks_another_departments_voicemail(client, org, voicemails):
    client.force_login(org.agent4)
    v = voicemails["general"]
    assert client.post(f"/telephony/voicemails/{v.pk}/handled/").status_code == 403
    v.refresh_from_db()
    assert v.handled_at is None


def test_the_ivr_tree_is_for_managers_and_up(client, org):
    IvrMenu.objects.create(
        name="대표번호",
        center=org.center,
        phone_number="+8215880000",
        prompt_ko="안내",
        prompt_en="Menu",
    )
    client.force_login(org.manager)
    response = client.get("/telephony/ivr/")
    assert response.status_code == 200 and "1588-0000" in response.text
    client.force_login(org.agent1)
    assert client.get("/telephony/ivr/").status_code == 403

"""The PII guard in wrap-up: the agent sees what was found; saving again stores it masked
and logs the detection for QA, without the identifier."""

from django.urls import reverse

from telephony.services.calls import call_hangup, offer_accept
from telephony.services.receiving import call_receive
from telephony.services.routing import acd_route
from telephony.simulator import new_call_sid
from tests.conftest import GENERAL_NUMBER, make_available
from tickets.models import PiiDetection, TicketNote


def call_in_wrapup(org):
    make_available(org.agent1)
    call = call_receive(sid=new_call_sid(), from_number="+821012345678", to_number=GENERAL_NUMBER)
    (offer,) = acd_route()
    offer_accept(agent=org.agent1, offer_id=offer.pk)
    call_hangup(agent=org.agent1, call_id=call.pk)
    return call


def post_wrapup(client, org, call, note, **extra):
    disposition = org.general.dispositions.get(code="resolved")
    return client.post(
        reverse("desk:wrapup-submit", args=[call.pk]),
        {"disposition": disposition.pk, "note": note, "subject": "문의", **extra},
        HTTP_HX_REQUEST="true",
    )


def test_a_resident_registration_number_is_shown_then_saved_masked(client, org):
    call = call_in_wrapup(org)
    client.force_login(org.agent1)
    note = "본인 확인 900101-1234567 완료"
    first = post_wrapup(client, org, call, note)
    body = first.content.decode()
    assert first.status_code == 422
    assert 'id="pii-findings"' in body and "900101-1******" in body
    assert 'name="pii_action" value="mask"' in body
    assert not TicketNote.objects.exists()  # nothing stored yet

    second = post_wrapup(client, org, call, note, pii_action="mask")
    assert second.status_code == 200
    saved = TicketNote.objects.get()
    assert "900101-1******" in saved.body and "1234567" not in saved.body
    detection = PiiDetection.objects.get()
    assert (detection.agent, detection.kind, detection.field) == (org.agent1, "rrn", "note")
    assert "1234567" not in detection.masked


def test_the_customers_own_number_and_ordinary_notes_pass_straight_through(client, org):
    call = call_in_wrapup(org)
    client.force_login(org.agent1)
    response = post_wrapup(client, org, call, "010-1234-5678 로 회신 요청, 요금 45,000원")
    assert response.status_code == 200
    assert not PiiDetection.objects.exists()


def test_editing_the_identifier_out_saves_without_a_detection(client, org):
    call = call_in_wrapup(org)
    client.force_login(org.agent1)
    post_wrapup(client, org, call, "카드 4111 1111 1111 1111 확인")
    response = post_wrapup(client, org, call, "카드 확인 완료", pii_action="mask")
    assert response.status_code == 200
    assert not PiiDetection.objects.exists()

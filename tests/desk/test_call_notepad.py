"""상담 메모: what the agent writes during the call is saved as they type (masked before it is
stored), refused for a call that is not theirs or already wrapped up, and starts the wrap-up."""

from __future__ import annotations

import pytest
from django.urls import reverse

from desk.forms import WrapupForm
from telephony.models import Call
from telephony.services.calls import call_hangup, offer_accept
from telephony.services.receiving import call_receive
from telephony.services.routing import acd_route
from telephony.services.wrapup import call_notepad_save, wrapup_submit
from telephony.simulator import new_call_sid
from tests.conftest import GENERAL_NUMBER, make_available

pytestmark = pytest.mark.django_db
RRN = "900101-1234567"


@pytest.fixture
def on_call(org) -> Call:
    call_receive(sid=new_call_sid(), from_number="+821077778888", to_number=GENERAL_NUMBER)
    make_available(org.agent1)
    (offer,) = acd_route()
    return offer_accept(agent=org.agent1, offer_id=offer.pk)


def _save(client, call, **data):
    return client.post(reverse("desk:call-notepad", args=[call.pk]), data, HTTP_HX_REQUEST="true")


def test_the_notes_are_stored_masked_and_the_agent_sees_what_was_found(client, org, on_call):
    client.force_login(org.agent1)
    resolved = org.general.dispositions.get(code="resolved")
    response = _save(client, on_call, note=f"주민번호 {RRN} 확인", disposition=resolved.pk)
    assert response.status_code == 200
    body = response.content.decode()
    assert RRN in body and "900101-1******" in body  # shown to the agent, on this screen only
    on_call.refresh_from_db()
    assert on_call.notepad == "주민번호 900101-1****** 확인"
    assert on_call.notepad_disposition == resolved


def test_the_service_masks_whatever_it_is_given(org, on_call):
    call_notepad_save(agent=org.agent1, call_id=on_call.pk, note=f"카드 {RRN}")
    assert RRN not in Call.objects.get(pk=on_call.pk).notepad


def test_the_callers_own_number_is_not_masked(client, org, on_call):
    client.force_login(org.agent1)
    _save(client, on_call, note="회신 번호 010-7777-8888")
    on_call.refresh_from_db()
    assert on_call.notepad == "회신 번호 010-7777-8888"


@pytest.mark.parametrize(
    "data",
    [{"note": "x" * 4001}, {"note": "메모", "disposition": "abc"}],
    ids=["too-long", "not-an-id"],
)
def test_bad_input_is_a_form_error_and_changes_nothing(client, org, on_call, data):
    client.force_login(org.agent1)
    response = _save(client, on_call, **data)
    assert response.status_code == 422
    assert Call.objects.get(pk=on_call.pk).notepad == ""


def test_another_departments_disposition_is_refused(client, org, on_call):
    client.force_login(org.agent1)
    other = org.signup.dispositions.first()
    response = _save(client, on_call, note="메모", disposition=other.pk)
    assert response.status_code == 422
    assert Call.objects.get(pk=on_call.pk).notepad == ""


def test_someone_elses_call_is_not_found(client, org, on_call):
    client.force_login(org.agent2)
    assert _save(client, on_call, note="메모").status_code == 404
    assert Call.objects.get(pk=on_call.pk).notepad == ""


def test_a_wrapped_up_call_takes_no_more_notes(client, org, on_call):
    call_hangup(agent=org.agent1, call_id=on_call.pk)
    resolved = org.general.dispositions.get(code="resolved")
    wrapup_submit(
        agent=org.agent1, call_id=on_call.pk, disposition_id=resolved.pk, note="끝", subject="문의"
    )
    client.force_login(org.agent1)
    assert _save(client, on_call, note="늦은 메모").status_code == 409
    assert Call.objects.get(pk=on_call.pk).notepad == ""


def test_the_notes_start_the_wrapup(org, on_call):
    resolved = org.general.dispositions.get(code="resolved")
    call_notepad_save(
        agent=org.agent1, call_id=on_call.pk, note="요금 문의", disposition_id=resolved.pk
    )
    call_hangup(agent=org.agent1, call_id=on_call.pk)
    call = Call.objects.get(pk=on_call.pk)
    form = WrapupForm(call=call, person=org.agent1)
    assert form["note"].value() == "요금 문의"
    assert form["disposition"].value() == resolved.pk
    assert form["resolve"].value() is True

"""The desktop's poll sends only the regions whose content changed: a new follow-up or a
decided request re-renders the side cards, never the call region with the agent's open
wrap-up form. After a wrap-up the call region names the ticket until dismissed or the next
call is offered."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from telephony.services.calls import call_hangup, offer_accept
from telephony.services.receiving import call_receive
from telephony.services.routing import acd_route
from telephony.simulator import new_call_sid
from tests.conftest import GENERAL_NUMBER, make_available
from tickets.models import Customer
from tickets.services.followups import followup_create

pytestmark = pytest.mark.django_db


def _ring(org, number="+821077778888"):
    call_receive(sid=new_call_sid(), from_number=number, to_number=GENERAL_NUMBER)
    make_available(org.agent1)
    (offer,) = acd_route()
    return offer


@pytest.fixture
def in_wrapup(org):
    offer = _ring(org)
    offer_accept(agent=org.agent1, offer_id=offer.pk)
    return call_hangup(agent=org.agent1, call_id=offer.call_id)


def _version(content: str) -> str:
    return re.search(r"fragment=panel&v=([^\"]+)\"", html.unescape(content)).group(1)


def _poll(client, version: str):
    return client.get(
        reverse("desk:desktop"), {"fragment": "panel", "v": version}, HTTP_HX_REQUEST="true"
    )


def test_a_new_followup_refreshes_the_side_cards_not_the_wrapup_form(client, org, in_wrapup):
    client.force_login(org.agent1)
    page = client.get(reverse("desk:desktop")).content.decode()
    assert 'id="wrapup-form"' in page
    version = _version(page)
    assert _poll(client, version).status_code == 204

    customer = Customer.objects.create(phone="+821055550000", name="홍길동")
    followup_create(actor=org.agent1, customer=customer, due_at=timezone.now() + timedelta(hours=1))
    answer = _poll(client, version)
    assert answer.status_code == 200
    content = answer.content.decode()
    assert 'id="desk-side" hx-swap-oob="true"' in content
    assert "홍길동" in content
    assert 'id="wrapup-form"' not in content and 'id="desk-call"' not in content
    assert _poll(client, _version(content)).status_code == 204


def test_after_wrapup_the_ticket_number_stays_until_dismissed(client, org, in_wrapup):
    client.force_login(org.agent1)
    resolved = org.general.dispositions.get(code="resolved")
    response = client.post(
        reverse("desk:wrapup-submit", args=[in_wrapup.pk]),
        {"disposition": resolved.pk, "note": "안내 완료", "subject": "요금 문의"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    in_wrapup.refresh_from_db()
    number = in_wrapup.ticket.number
    assert number in response.content.decode()
    # Every later poll and page load still shows it.
    assert number in _poll(client, "stale").content.decode()
    assert number in client.get(reverse("desk:desktop")).content.decode()
    client.post(reverse("desk:desk-notice-dismiss"), HTTP_HX_REQUEST="true")
    assert 'id="wrapup-notice"' not in client.get(reverse("desk:desktop")).content.decode()


def test_the_next_offer_replaces_the_notice(client, org, in_wrapup):
    client.force_login(org.agent1)
    resolved = org.general.dispositions.get(code="resolved")
    client.post(
        reverse("desk:wrapup-submit", args=[in_wrapup.pk]),
        {"disposition": resolved.pk, "note": "안내 완료", "subject": "요금 문의"},
        HTTP_HX_REQUEST="true",
    )
    assert 'id="wrapup-notice"' in client.get(reverse("desk:desktop")).content.decode()
    _ring(org, "+821033334444")
    page = client.get(reverse("desk:desktop")).content.decode()
    assert 'id="offer"' in page and 'id="wrapup-notice"' not in page

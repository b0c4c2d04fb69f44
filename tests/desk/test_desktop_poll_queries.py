"""Every agent's desktop polls its panel every second (desk.views.desktop): a poll whose
version is stale reads the desktop state once, to compare versions and to render it."""

from __future__ import annotations

import html
import re
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from desk import selectors
from telephony.services.receiving import call_receive
from telephony.services.routing import acd_route
from telephony.simulator import new_call_sid
from tests.conftest import GENERAL_NUMBER, make_available
from tickets.models import Customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def ringing(org):
    """A known caller ringing for agent1 (so the poll also reads the caller's history)."""
    customer = Customer.objects.create(name="홍길동", phone="+821055550000")
    call_receive(sid=new_call_sid(), from_number=customer.phone, to_number=GENERAL_NUMBER)
    make_available(org.agent1)
    (offer,) = acd_route()
    assert offer.agent == org.agent1 and offer.call.customer == customer
    return offer


def _poll(client, version: str):
    return client.get(
        reverse("desk:desktop"), {"fragment": "panel", "v": version}, HTTP_HX_REQUEST="true"
    )


def test_a_stale_poll_reads_the_desktop_state_once_and_renders_it(client, org, ringing):
    client.force_login(org.agent1)
    with (
        mock.patch.object(
            selectors, "desktop_state_for", wraps=selectors.desktop_state_for
        ) as reads,
        CaptureQueriesContext(connection) as ctx,
    ):
        response = _poll(client, "stale")
    assert response.status_code == 200
    assert reads.call_count == 1
    pending_offer_reads = [
        q["sql"]
        for q in ctx.captured_queries
        if 'FROM "telephony_offer"' in q["sql"] and "pending" in q["sql"]
    ]
    assert len(pending_offer_reads) == 1, pending_offer_reads
    # What was rendered is that state: polling with the panel's version changes nothing.
    content = html.unescape(response.content.decode())
    assert "홍길동" in content
    version = re.search(r"fragment=panel&v=([^\"]+)\"", content).group(1)
    assert _poll(client, version).status_code == 204


def test_the_full_page_and_a_fresh_poll_show_the_same_panel(client, org, ringing):
    client.force_login(org.agent1)
    page = html.unescape(client.get(reverse("desk:desktop")).content.decode())
    panel = html.unescape(_poll(client, "stale").content.decode())
    version = re.search(r"fragment=panel&v=([^\"]+)\"", panel).group(1)
    assert f'fragment=panel&v={version}"' in page

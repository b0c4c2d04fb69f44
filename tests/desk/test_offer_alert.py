"""A call ringing for an agent shows on every page, not only on the desktop."""

from django.urls import reverse

from telephony.services.receiving import call_receive
from telephony.services.routing import acd_route
from telephony.simulator import new_call_sid
from tests.conftest import GENERAL_NUMBER, make_available


def test_an_agent_on_another_page_sees_the_call_ringing_for_them(client, org):
    make_available(org.agent1)
    call_receive(sid=new_call_sid(), from_number="+821012345678", to_number=GENERAL_NUMBER)
    acd_route()
    client.force_login(org.agent1)
    alert = client.get(reverse("desk:offer-alert"))
    assert reverse("desk:desktop") in alert.content.decode()
    page = client.get(reverse("tickets:list"))
    assert reverse("desk:offer-alert") in page.content.decode()


def test_nothing_rings_for_an_agent_without_an_offer(client, org):
    client.force_login(org.agent2)
    assert reverse("desk:desktop") not in client.get(reverse("desk:offer-alert")).content.decode()


def test_a_forbidden_page_says_so_inside_the_layout(client, org):
    client.force_login(org.lead1)
    response = client.get(reverse("telephony:ivr-tree"))
    assert response.status_code == 403
    assert "topbar" in response.content.decode()


def test_the_login_page_does_not_poll_for_calls(client, db):
    assert reverse("desk:offer-alert") not in client.get(reverse("login")).content.decode()

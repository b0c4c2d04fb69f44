"""Forms that go back to `next` follow it only on this site (no open redirect)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.models import ApprovalRequest
from tests.tickets.helpers import make_ticket
from tickets import services


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("https://evil.example/", "/agents/team/"),
        ("//evil.example/x", "/agents/team/"),
        ("/agents/requests/", "/agents/requests/"),
    ],
)
def test_deciding_a_request_goes_back_only_within_the_site(client, org, target, expected):
    ticket = make_ticket(org, assignee=org.agent1)
    client.force_login(org.agent1)
    client.post(f"/tickets/{ticket.pk}/escalate/", {"reason": "권한 밖"})
    req = ApprovalRequest.objects.get(ticket=ticket)
    client.force_login(org.lead1)
    r = client.post(f"/agents/requests/{req.pk}/decide/", {"decision": "approve", "next": target})
    assert (r.status_code, r.url) == (302, expected)


@pytest.mark.parametrize(
    ("target", "expected"),
    [("https://evil.example/", "/agents/desktop/"), ("/tickets/", "/tickets/")],
)
def test_ticking_off_a_follow_up_goes_back_only_within_the_site(client, org, target, expected):
    ticket = make_ticket(org, assignee=org.agent1)
    task = services.followup_create(
        actor=org.agent1,
        customer=ticket.customer,
        ticket=ticket,
        due_at=timezone.now() + timedelta(hours=1),
    )
    client.force_login(org.agent1)
    r = client.post(f"/tickets/followups/{task.pk}/done/", {"next": target})
    assert (r.status_code, r.url) == (302, expected)

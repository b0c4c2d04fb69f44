"""Forms that go back to `next` follow it only on this site (no open redirect); bad
requests are answered in the user's language."""

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.models import ApprovalRequest
from tests.factories import TicketFactory
from tickets.services.followups import followup_create


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("https://evil.example/", "/agents/team/"),
        ("//evil.example/x", "/agents/team/"),
        ("/agents/requests/", "/agents/requests/"),
    ],
)
def test_deciding_a_request_goes_back_only_within_the_site(client, org, target, expected):
    ticket = TicketFactory(team=org.team_a, assignee=org.agent1)
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
    ticket = TicketFactory(team=org.team_a, assignee=org.agent1)
    task = followup_create(
        actor=org.agent1,
        customer=ticket.customer,
        ticket=ticket,
        due_at=timezone.now() + timedelta(hours=1),
    )
    client.force_login(org.agent1)
    r = client.post(f"/tickets/followups/{task.pk}/done/", {"next": target})
    assert (r.status_code, r.url) == (302, expected)


def test_bad_request_answers_are_in_the_users_language(client, org):
    client.force_login(org.lead1)
    r = client.post("/agents/team/schedule/", {"remove-break": "x"})
    assert r.status_code == 400 and r.content.decode() == "삭제할 휴식을 선택하세요."
    r = client.post("/agents/requests/1/decide/", {"decision": "maybe"})
    assert r.status_code == 400 and r.content.decode() == "승인 또는 반려를 선택하세요."
    client.force_login(org.agent1)
    r = client.post("/tickets/calls/1/customer/", {"customer": "x"})
    assert r.status_code == 400 and r.content.decode() == "목록에서 고객을 선택하세요."

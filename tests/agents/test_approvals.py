"""The 실장's inbox: escalations and approval requests of their team, approve or deny;
an approved escalation hands the ticket to the lead, an approved break is scheduled.
Nobody decides a request outside their scope or their own."""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from agents.models import ApprovalRequest, BreakSlot, WorkingHours
from tests.factories import TicketFactory
from tickets.approvals import approval_request_create
from tickets.models import TicketEvent


def escalate(client, org, ticket):
    client.force_login(org.agent1)
    response = client.post(f"/tickets/{ticket.pk}/escalate/", {"reason": "요금 감면 요구, 권한 밖"})
    assert response.status_code == 302
    return ApprovalRequest.objects.get(ticket=ticket)


def test_the_lead_sees_the_escalation_and_approving_takes_the_ticket(client, org):
    ticket = TicketFactory(team=org.team_a, assignee=org.agent1)
    request = escalate(client, org, ticket)
    client.force_login(org.lead1)
    board = client.get("/agents/team/").content.decode()
    assert f'data-request="{request.pk}"' in board and ticket.number in board
    response = client.post(
        f"/agents/requests/{request.pk}/decide/", {"decision": "approve", "note": "제가 통화합니다"}
    )
    assert response.status_code == 302
    request.refresh_from_db()
    ticket.refresh_from_db()
    assert (request.status, request.decided_by) == ("approved", org.lead1)
    assert ticket.assignee == org.lead1
    kinds = list(TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert "escalated" in kinds and "escalation_approved" in kinds
    assert f'data-request="{request.pk}"' not in client.get("/agents/team/").content.decode()


def test_deny_keeps_the_assignee_and_a_decided_request_cannot_be_decided_again(client, org):
    ticket = TicketFactory(team=org.team_a, assignee=org.agent1)
    request = escalate(client, org, ticket)
    client.force_login(org.lead1)
    client.post(f"/agents/requests/{request.pk}/decide/", {"decision": "deny"})
    ticket.refresh_from_db()
    assert ticket.assignee == org.agent1
    again = client.post(f"/agents/requests/{request.pk}/decide/", {"decision": "approve"})
    assert again.status_code == 400
    assert ApprovalRequest.objects.get().status == "denied"


def test_another_teams_lead_and_the_agent_cannot_decide(client, org):
    request = escalate(client, org, TicketFactory(team=org.team_a, assignee=org.agent1))
    client.force_login(org.lead2)
    assert (
        client.post(f"/agents/requests/{request.pk}/decide/", {"decision": "approve"}).status_code
        == 404
    )
    client.force_login(org.agent1)
    assert (
        client.post(f"/agents/requests/{request.pk}/decide/", {"decision": "approve"}).status_code
        == 400
    )
    client.force_login(org.lead1)
    assert (
        client.post(f"/agents/requests/{request.pk}/decide/", {"decision": "maybe"}).status_code
        == 400
    )
    assert ApprovalRequest.objects.get().status == "pending"


def test_an_approved_break_request_is_scheduled(client, org):
    start = (timezone.localtime() + timedelta(hours=1)).replace(second=0, microsecond=0)
    client.force_login(org.agent1)
    response = client.post(
        "/agents/requests/",
        {
            "kind": "break",
            "reason": "병원 예약",
            "break_start": start.strftime("%Y-%m-%dT%H:%M"),
            "break_minutes": "30",
        },
    )
    assert response.status_code == 302
    request = ApprovalRequest.objects.get()
    client.force_login(org.lead1)
    client.post(f"/agents/requests/{request.pk}/decide/", {"decision": "approve"})
    slot = BreakSlot.objects.get()
    assert (slot.person, slot.minutes, slot.starts_at, slot.set_by) == (
        org.agent1,
        30,
        start,
        org.lead1,
    )
    assert org.agent1.display_name in client.get("/agents/team/schedule/").content.decode()


def test_a_refund_needs_an_amount(client, org):
    client.force_login(org.agent1)
    response = client.post("/agents/requests/", {"kind": "refund", "reason": "환불"})
    assert response.status_code == 422
    assert not ApprovalRequest.objects.exists()


def test_the_lead_sets_working_hours_and_breaks_for_their_team_only(client, org):
    client.force_login(org.lead1)
    response = client.post(
        "/agents/team/schedule/",
        {
            "hours-person": org.agent1.pk,
            "hours-weekdays": ["0", "1"],
            "hours-starts": "09:00",
            "hours-ends": "18:00",
        },
    )
    assert response.status_code == 302
    assert set(WorkingHours.objects.values_list("weekday", flat=True)) == {0, 1}
    response = client.post(
        "/agents/team/schedule/",
        {
            "hours-person": org.agent3.pk,
            "hours-weekdays": ["0"],
            "hours-starts": "09:00",
            "hours-ends": "18:00",
        },
    )
    assert response.status_code == 422  # agent3 is not on lead1's team: not a choice
    response = client.post(
        "/agents/team/schedule/",
        {
            "break-person": org.agent2.pk,
            "break-starts_at": "2030-01-07T12:00",
            "break-minutes": "60",
            "break-reason": "lunch",
        },
    )
    assert response.status_code == 302
    assert BreakSlot.objects.get().reason == "lunch"
    client.force_login(org.agent1)
    assert client.get("/agents/team/schedule/").status_code == 403


def test_the_decision_reaches_the_agents_desktop(client, org):
    request = escalate(client, org, TicketFactory(team=org.team_a, assignee=org.agent1))
    client.force_login(org.agent1)
    page = client.get("/agents/desktop/").content.decode()
    assert f'data-request="{request.pk}"' in page and "req-pending" in page
    client.force_login(org.lead1)
    client.post(
        f"/agents/requests/{request.pk}/decide/", {"decision": "deny", "note": "규정대로 안내"}
    )
    client.force_login(org.agent1)
    page = client.get("/agents/desktop/").content.decode()
    assert "req-denied" in page and "규정대로 안내" in page


def test_a_too_large_amount_is_a_form_error_not_a_500(client, org):
    from agents.models import ApprovalRequest

    client.force_login(org.agent1)
    data = {"kind": "refund", "reason": "환불 요청", "amount": str(10**20)}
    response = client.post("/agents/requests/", data)
    assert response.status_code == 422
    assert not ApprovalRequest.objects.exists()


def test_a_team_lead_is_not_offered_a_request_to_themselves(client, org):
    client.force_login(org.lead1)
    page = client.get("/agents/requests/")
    assert page.status_code == 200
    assert 'id="request-form"' not in page.content.decode()
    response = client.post("/agents/requests/", {"kind": "exception", "reason": "테스트"})
    assert response.status_code == 403
    assert not ApprovalRequest.objects.exists()
    client.force_login(org.agent1)
    assert 'id="request-form"' in client.get("/agents/requests/").content.decode()


def test_only_agents_send_requests(org):
    with translation.override("en"), pytest.raises(ValidationError, match="Only agents"):
        approval_request_create(requester=org.lead1, kind="exception", reason="테스트")


def test_the_team_board_counts_sla_alerts_shows_the_most_urgent_and_links_the_rest(client, org):
    from tickets.models import Ticket

    now = timezone.now()
    for i in range(8):
        TicketFactory(
            team=org.team_a,
            assignee=org.agent1,
            customer__phone=f"+82101234{i:04d}",
            subject=f"지연 {i}",
        )
    Ticket.objects.update(sla_state="breached", sla_due_at=now - timedelta(hours=1))
    urgent = Ticket.objects.order_by("pk").last()
    Ticket.objects.filter(pk=urgent.pk).update(sla_due_at=now - timedelta(hours=5))
    soon = TicketFactory(team=org.team_a, assignee=org.agent2, customer__phone="+821099990000")
    Ticket.objects.filter(pk=soon.pk).update(sla_state="warning", sla_due_at=now)
    client.force_login(org.lead1)
    body = client.get("/agents/team/").content.decode()
    section = body.split('id="team-sla"')[1].split("</div>")[0]
    assert '<span class="pill small bad" id="team-sla-total">9</span>' in section
    link = r'href="/tickets/\?team=on&amp;sla={0}&amp;status=active" id="team-sla-{0}">[^<]*(?<!\d){1}(?!\d)'
    assert re.search(link.format("breached", 8), section)
    assert re.search(link.format("warning", 1), section)
    rows = section.split('id="team-sla-alerts"')[1]
    assert rows.count("<li>") == 5
    assert rows.index(urgent.number) < rows.index("</li>")  # the most overdue first
    # The link leads to the full list of the team's breaches.
    listing = client.get("/tickets/?team=on&sla=breached&status=active").content.decode()
    assert all(t.number in listing for t in Ticket.objects.filter(sla_state="breached"))

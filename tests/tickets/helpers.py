"""Small builders for ticket tests."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from tickets.models import Customer, Ticket, TicketStatus


def make_ticket(org, *, team=None, phone="+821055556666", at: datetime | None = None, **extra):
    at = at or timezone.now()
    customer = extra.pop("customer", None) or Customer.objects.create(phone=phone, name="홍길동")
    team = team or org.team_a
    return Ticket.objects.create(
        customer=customer,
        department=team.department,
        team=team,
        assignee=extra.pop("assignee", None),
        subject=extra.pop("subject", "요금 문의"),
        status=extra.pop("status", TicketStatus.OPEN),
        created_at=at,
        updated_at=at,
        **extra,
    )

"""The SLA clock of each ticket, kept current (tickets.sla computes it)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from tickets.models import (
    SlaPolicy,
    SlaState,
    Ticket,
    TicketStatus,
)
from tickets.services.history import _ticket_event
from tickets.sla import DONE_STATUSES, calendar_for_center, sla_clock


def sla_refresh(*, ticket: Ticket, now: datetime | None = None, calendar=None) -> Ticket:
    """Recompute the ticket's SLA clock and record a warning or a breach the first time it
    happens for a target (events on the ticket; the desktop and board read them)."""
    now = now or timezone.now()
    center_id = ticket.department.center_id
    policy = SlaPolicy.objects.filter(center_id=center_id, priority=ticket.priority).first()
    if ticket.status == TicketStatus.MERGED:
        policy = None
    calendar = calendar or calendar_for_center(center_id)
    clock = sla_clock(ticket, policy=policy, calendar=calendar, now=now)
    fields = {"sla_state": clock.state, "sla_due_at": clock.due_at, "sla_target": clock.target}
    if clock.state == SlaState.WARNING and ticket.sla_warned_for != clock.target:
        fields["sla_warned_for"] = clock.target
        _ticket_event(
            ticket, None, "sla_warning", now, field=clock.target, new_value=str(clock.due_at)
        )
    if clock.state == SlaState.BREACHED and ticket.sla_breached_for != clock.target:
        fields["sla_breached_for"] = clock.target
        _ticket_event(
            ticket, None, "sla_breach", now, field=clock.target, new_value=str(clock.due_at)
        )
    Ticket.objects.filter(pk=ticket.pk).update(**fields)
    for key, value in fields.items():
        setattr(ticket, key, value)
    return ticket


def sla_sweep(*, now: datetime | None = None) -> int:
    """Periodic (Celery beat): refresh every running clock; returns how many were looked at."""
    now = now or timezone.now()
    calendars: dict[int, object] = {}
    count = 0
    # Only running clocks move with time: a paused clock changes with the status, a
    # breached one stays breached until then, a met one is done.
    # (The statuses still open, named: ticket_status_sla is then read from each, where
    # "not done" would read every ticket.)
    running = [status for status in TicketStatus.values if status not in DONE_STATUSES]
    tickets = Ticket.objects.filter(
        status__in=running, sla_state__in=[SlaState.OK, SlaState.WARNING]
    ).select_related("department")
    for ticket in tickets.iterator():
        center_id = ticket.department.center_id
        if center_id not in calendars:
            calendars[center_id] = calendar_for_center(center_id)
        with transaction.atomic():
            sla_refresh(ticket=ticket, now=now, calendar=calendars[center_id])
        count += 1
    return count

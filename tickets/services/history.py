"""What a customer's and a ticket's history keep: one event row per change (who, when,
old → new), written by the services of both."""

from __future__ import annotations

from datetime import datetime

from agents.models import Person
from tickets.models import (
    Customer,
    CustomerEvent,
    Ticket,
    TicketEvent,
    TicketStatus,
)
from tickets.templatetags.phone import email_masked, phone_masked


def _customer_event(
    customer: Customer, actor: Person | None, kind: str, at: datetime, **change
) -> None:
    for key in ("old_value", "new_value"):
        if key in change:
            change[key] = str(change[key] or "")[:200]
    CustomerEvent.objects.create(customer=customer, actor=actor, kind=kind, at=at, **change)


def _customer_shown(field: str, value) -> str:
    """A value as the customer's history keeps it: identifiers masked, as the page shows them."""
    if field == "email":
        return email_masked(value)
    if field == "phone":
        return phone_masked(value)
    if field == "is_vip":
        return "VIP" if value else ""
    return value or ""


def _ticket_event(ticket: Ticket, actor: Person | None, kind: str, at: datetime, **change) -> None:
    for key in ("old_value", "new_value"):
        if key in change:
            change[key] = str(change[key] or "")[:200]
    TicketEvent.objects.create(ticket=ticket, actor=actor, kind=kind, at=at, **change)


def _set_status(ticket: Ticket, actor: Person | None, status: str, at: datetime) -> None:
    if ticket.status == status:
        return
    _ticket_event(
        ticket, actor, "changed", at, field="status", old_value=ticket.status, new_value=status
    )
    ticket.status = status
    if status in {TicketStatus.RESOLVED, TicketStatus.CLOSED}:
        ticket.resolved_at = ticket.resolved_at or at
    elif status != TicketStatus.MERGED:
        ticket.resolved_at = None


def _lock_pair(model, first_id: int, second_id: int):
    """Both rows, locked (SELECT … FOR UPDATE) in primary-key order, as they are now."""
    rows = {
        row.pk: row
        for row in model.objects.select_for_update()
        .filter(pk__in=[first_id, second_id])
        .order_by("pk")
    }
    return rows[first_id], rows[second_id]

"""What a call's wrap-up puts on its ticket: the note (a new ticket for the caller,
or the one chosen), and the category, priority and follow-up the form adds."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import Person
from tickets.models import (
    Customer,
    Ticket,
    TicketCategory,
    TicketNote,
    TicketStatus,
)
from tickets.selectors import ticket_get_for
from tickets.services.followups import followup_create
from tickets.services.history import _ticket_event
from tickets.services.sla import sla_refresh
from tickets.services.tickets import ticket_update


@transaction.atomic
def wrapup_ticket_details(
    *,
    agent: Person,
    ticket_id: int,
    category_id: int | None,
    priority: str,
    followup_at: datetime | None,
    followup_note: str = "",
    pii_confirmed: bool = False,
    at: datetime | None = None,
) -> Ticket:
    """What the wrap-up form adds to the call's ticket: its category and priority (as
    events) and, if asked, a follow-up call at a time (its note as written: the PII guard
    of followup_create reads it)."""
    at = at or timezone.now()
    ticket = ticket_get_for(agent, ticket_id)
    changes: dict = {}
    if priority and priority != ticket.priority:
        changes["priority"] = priority
    if category_id and category_id != ticket.category_id:
        changes["category"] = TicketCategory.objects.filter(pk=category_id).first()
    if changes:
        ticket = ticket_update(actor=agent, ticket_id=ticket.pk, changes=changes, at=at)
    if followup_at is not None:
        followup_create(
            actor=agent,
            customer=ticket.customer,
            ticket=ticket,
            due_at=followup_at,
            note=followup_note,
            pii_confirmed=pii_confirmed,
            at=at,
        )
    return ticket


@transaction.atomic
def ticket_record_call(
    *,
    call,
    agent: Person,
    note: str,
    ticket_id: int | None,
    subject: str,
    resolve: bool,
    at: datetime | None = None,
) -> Ticket:
    """The wrap-up note lands on a ticket: the chosen existing one (which the agent must be
    allowed to see), or a new one for the caller. Every change is an event."""
    at = at or timezone.now()
    note = note.strip()
    if not note:
        raise ValidationError(_("Write a note for the history."))
    customer = call.customer
    if customer is None:
        customer = Customer.objects.create(phone=call.from_number)
        call.customer = customer
    if ticket_id:
        ticket = ticket_get_for(agent, ticket_id)
        if ticket.customer_id != customer.pk:
            raise ValidationError(_("That ticket belongs to another customer."))
        if ticket.status == TicketStatus.MERGED:
            raise ValidationError(
                _("A merged ticket cannot be changed; work on the ticket it was merged into.")
            )
    else:
        subject = subject.strip()
        if not subject:
            raise ValidationError(_("Give the new ticket a subject."))
        ticket = Ticket.objects.create(
            customer=customer,
            department_id=call.department_id,
            team_id=agent.team_id,
            assignee=agent,
            subject=subject[:200],
            status=TicketStatus.OPEN,
            created_at=at,
            updated_at=at,
            # The call itself answered the customer.
            first_response_at=at,
        )
        _ticket_event(ticket, agent, "created", at, new_value=ticket.subject)
    TicketNote.objects.create(ticket=ticket, author=agent, call=call, body=note, created_at=at)
    _ticket_event(ticket, agent, "note_added", at)
    new_status = TicketStatus.RESOLVED if resolve else TicketStatus.OPEN
    if ticket.status != new_status:
        _ticket_event(
            ticket,
            agent,
            "changed",
            at,
            field="status",
            old_value=ticket.status,
            new_value=new_status,
        )
        ticket.status = new_status
        ticket.resolved_at = at if resolve else None
    if ticket.first_response_at is None:
        ticket.first_response_at = at
    ticket.updated_at = at
    ticket.save()
    sla_refresh(ticket=ticket, now=at)
    return ticket

"""Every write to customers and tickets goes through here."""

from __future__ import annotations

import functools
from datetime import datetime

import phonenumbers
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import Person
from agents.scoping import ticket_get_for
from tickets.models import Customer, Ticket, TicketEvent, TicketNote, TicketStatus


@functools.lru_cache(maxsize=4096)
def phone_normalize(raw: str, *, region: str = "KR") -> str | None:
    """E.164 for a phone number written any common way, or None if it is not one. Kept per
    process for the numbers seen last: every incoming call asks for its dialled number."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def customer_create(*, phone: str, name: str = "", email: str = "") -> Customer:
    normalised = phone_normalize(phone)
    if normalised is None:
        raise ValidationError(_("That is not a phone number."))
    return Customer.objects.create(phone=normalised, name=name.strip(), email=email.strip())


def _ticket_event(ticket: Ticket, actor: Person | None, kind: str, at: datetime, **change) -> None:
    TicketEvent.objects.create(ticket=ticket, actor=actor, kind=kind, at=at, **change)


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
    ticket.updated_at = at
    ticket.save()
    return ticket


def pii_detections_record(
    *, agent, call, ticket, found: list[tuple[str, str, str]], at: datetime
) -> None:
    """Log what the PII guard masked (field, kind, masked form): the QA team counts these
    per agent. The identifier itself is never stored."""
    from tickets.models import PiiDetection

    PiiDetection.objects.bulk_create(
        [
            PiiDetection(
                agent=agent, call=call, ticket=ticket, field=field, kind=kind, masked=masked, at=at
            )
            for field, kind, masked in found
        ]
    )

"""Tickets: opening, changing, notes and replies, escalation, and what a call's wrap-up
puts on its ticket."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import Person
from agents.reach import people_visible_to, teams_visible_to
from agents.services.approvals import approval_request_record
from callcenter.pii import pii_guard
from tickets.models import (
    Customer,
    Priority,
    Ticket,
    TicketCategory,
    TicketNote,
    TicketStatus,
)
from tickets.selectors import own_numbers, ticket_get_for
from tickets.services.history import _set_status, _ticket_event
from tickets.services.pii_detections import pii_detections_record
from tickets.services.sla import sla_refresh


def _check_category(category_id: int | None, department_id: int) -> TicketCategory | None:
    if not category_id:
        return None
    category = TicketCategory.objects.filter(pk=category_id, department_id=department_id).first()
    if category is None:
        raise ValidationError(_("Choose a category of the ticket's department."))
    return category


@transaction.atomic
def ticket_create(
    *,
    actor: Person,
    customer: Customer,
    subject: str,
    department_id: int,
    category_id: int | None = None,
    priority: str = Priority.NORMAL,
    severity: str = "minor",
    note: str = "",
    pii_confirmed: bool = False,
    at: datetime | None = None,
) -> Ticket:
    """A new ticket for the customer, with a first note if one is written. The subject and
    note are free text as written: the PII guard reads them (`pii_confirmed`: the writer
    saved again, so they are stored masked)."""
    at = at or timezone.now()
    guarded = pii_guard(
        {"subject": subject, "note": note},
        confirmed=pii_confirmed,
        own_phone=own_numbers(customer),
    )
    subject, note = guarded.texts["subject"].strip(), guarded.texts["note"]
    if not subject:
        raise ValidationError(_("Give the new ticket a subject."))
    category = _check_category(category_id, department_id)
    ticket = Ticket.objects.create(
        customer=customer,
        department_id=department_id,
        team_id=actor.team_id,
        assignee=actor if actor.team_id else None,
        subject=subject[:200],
        category=category,
        priority=priority,
        severity=severity,
        status=TicketStatus.NEW,
        created_at=at,
        updated_at=at,
    )
    _ticket_event(ticket, actor, "created", at, new_value=ticket.subject)
    if note.strip():
        _ticket_note_store(actor=actor, ticket=ticket, body=note, at=at)
    pii_detections_record(agent=actor, call=None, ticket=ticket, found=guarded.found(), at=at)
    sla_refresh(ticket=ticket, now=at)
    return ticket


TRACKED_FIELDS = ("subject", "category", "priority", "severity", "assignee", "team")


@transaction.atomic
def ticket_update(
    *,
    actor: Person,
    ticket_id: int,
    changes: dict,
    pii_confirmed: bool = False,
    at: datetime | None = None,
) -> Ticket:
    """Change a ticket's fields; every change is an event (who, when, old → new). The
    assignee and team must be visible to the actor. A new subject is free text as written:
    the PII guard reads it (`pii_confirmed`: store it masked)."""
    at = at or timezone.now()
    ticket = ticket_get_for(actor, ticket_id)
    guarded = pii_guard(
        {"subject": changes["subject"] or ""} if "subject" in changes else {},
        confirmed=pii_confirmed,
        own_phone=own_numbers(ticket.customer),
    )
    changes = {**changes, **guarded.texts}
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket.status == TicketStatus.MERGED:
        raise ValidationError(
            _("A merged ticket cannot be changed; work on the ticket it was merged into.")
        )
    if "category" in changes:
        cat = changes["category"]
        changes["category"] = _check_category(cat.pk if cat else None, ticket.department_id)
    if changes.get("assignee") is not None and changes["assignee"].pk != actor.pk:
        if not people_visible_to(actor).filter(pk=changes["assignee"].pk).exists():
            raise ValidationError(_("You cannot assign the ticket to that person."))
    if changes.get("team") is not None and changes["team"].pk != actor.team_id:
        if not teams_visible_to(actor).filter(pk=changes["team"].pk).exists():
            raise ValidationError(_("You cannot move the ticket to that team."))
    for name in TRACKED_FIELDS:
        if name not in changes:
            continue
        old, new = getattr(ticket, name), changes[name]
        if name in {"subject"}:
            new = (new or "").strip()[:200]
            if not new:
                raise ValidationError(_("Give the ticket a subject."))
        if old == new:
            continue
        _ticket_event(
            ticket,
            actor,
            "changed",
            at,
            field=name,
            old_value=_display(ticket, name, old),
            new_value=_display(ticket, name, new),
        )
        setattr(ticket, name, new)
    if "status" in changes and changes["status"]:
        if changes["status"] == TicketStatus.MERGED:
            raise ValidationError(_("Merge tickets with the merge action."))
        _set_status(ticket, actor, changes["status"], at)
    ticket.updated_at = at
    ticket.save()
    pii_detections_record(agent=actor, call=None, ticket=ticket, found=guarded.found(), at=at)
    sla_refresh(ticket=ticket, now=at)
    return ticket


def _display(ticket: Ticket, name: str, value) -> str:
    if value is None:
        return ""
    if name in {"priority", "severity"}:
        return str(value)
    return str(value)


@transaction.atomic
def ticket_note_add(
    *,
    actor: Person,
    ticket: Ticket,
    body: str,
    parent_id: int | None = None,
    is_public: bool = False,
    call=None,
    status: str = "",
    pii_confirmed: bool = False,
    at: datetime | None = None,
) -> TicketNote:
    """A note or reply on the ticket. The body is free text as written: the PII guard
    reads it (`pii_confirmed`: store it masked)."""
    at = at or timezone.now()
    guarded = pii_guard(
        {"body": body}, confirmed=pii_confirmed, own_phone=own_numbers(ticket.customer)
    )
    note = _ticket_note_store(
        actor=actor,
        ticket=ticket,
        body=guarded.texts["body"],
        parent_id=parent_id,
        is_public=is_public,
        call=call,
        status=status,
        at=at,
    )
    pii_detections_record(agent=actor, call=call, ticket=ticket, found=guarded.found(), at=at)
    return note


def _ticket_note_store(
    *,
    actor: Person,
    ticket: Ticket,
    body: str,
    at: datetime,
    parent_id: int | None = None,
    is_public: bool = False,
    call=None,
    status: str = "",
) -> TicketNote:
    """Trusted core of ticket_note_add: `body` has been through the PII guard. The first
    note by a person is the ticket's first response for the SLA."""
    body = body.strip()
    if not body:
        raise ValidationError(_("Write a note for the history."))
    if ticket.status == TicketStatus.MERGED:
        raise ValidationError(
            _("A merged ticket cannot be changed; work on the ticket it was merged into.")
        )
    parent = None
    if parent_id:
        parent = ticket.notes.filter(pk=parent_id).first()
        if parent is None:
            raise ValidationError(_("That note is not on this ticket."))
    note = TicketNote.objects.create(
        ticket=ticket,
        author=actor,
        call=call,
        body=body,
        parent=parent,
        is_public=is_public,
        created_at=at,
    )
    _ticket_event(ticket, actor, "public_update" if is_public else "note_added", at)
    if ticket.first_response_at is None:
        ticket.first_response_at = at
    if ticket.status == TicketStatus.NEW:
        _set_status(ticket, actor, TicketStatus.OPEN, at)
    if status and status != TicketStatus.MERGED:
        _set_status(ticket, actor, status, at)
    ticket.updated_at = at
    ticket.save()
    sla_refresh(ticket=ticket, now=at)
    return note


@transaction.atomic
def ticket_escalate(
    *,
    actor: Person,
    ticket_id: int,
    reason: str,
    pii_confirmed: bool = False,
    at: datetime | None = None,
):
    """Ask the 실장 of the ticket's team to take it over; lands in their escalations inbox.
    The reason is free text as written: the PII guard reads it."""
    at = at or timezone.now()
    ticket = ticket_get_for(actor, ticket_id)
    guarded = pii_guard(
        {"reason": reason}, confirmed=pii_confirmed, own_phone=own_numbers(ticket.customer)
    )
    reason = guarded.texts["reason"]
    # Locked, so two escalations of one ticket at once cannot both pass the check; the
    # partial unique constraint on pending escalations backs it up.
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket.status in {TicketStatus.MERGED, TicketStatus.CLOSED}:
        raise ValidationError(_("This ticket is closed."))
    already = _("This ticket is already waiting for the team lead.")
    if ticket.approval_requests.filter(kind="escalation", status="pending").exists():
        raise ValidationError(already)
    try:
        with transaction.atomic():
            request = approval_request_record(
                requester=actor, kind="escalation", reason=reason, ticket=ticket, at=at
            )
    except IntegrityError as exc:
        raise ValidationError(already) from exc
    pii_detections_record(agent=actor, call=None, ticket=ticket, found=guarded.found(), at=at)
    _ticket_event(ticket, actor, "escalated", at, new_value=request.reason[:200])
    ticket.escalated_at = at
    ticket.updated_at = at
    ticket.save(update_fields=["escalated_at", "updated_at"])
    return request


def ticket_escalation_decided(*, request, lead: Person, approved: bool, at: datetime) -> None:
    """Trusted core, called when the 실장 decides an escalation: approving takes the ticket
    over (assigned to the lead); denying returns it to the agent with the lead's note."""
    ticket = Ticket.objects.select_for_update().get(pk=request.ticket_id)
    if approved and ticket.status in {TicketStatus.MERGED, TicketStatus.CLOSED}:
        if ticket.status == TicketStatus.MERGED:
            raise ValidationError(
                _(
                    "Ticket %(number)s was merged into %(target)s after the request: deny "
                    "it, and take over %(target)s if it still needs you."
                )
                % {"number": ticket.number, "target": ticket.merged_into.number}
            )
        raise ValidationError(
            _("Ticket %(number)s was closed after the request: deny it, or reopen the ticket.")
            % {"number": ticket.number}
        )
    kind = "escalation_approved" if approved else "escalation_denied"
    _ticket_event(ticket, lead, kind, at, new_value=request.decision_note)
    if approved and ticket.assignee_id != lead.pk:
        _ticket_event(
            ticket,
            lead,
            "changed",
            at,
            field="assignee",
            old_value=str(ticket.assignee or ""),
            new_value=str(lead),
        )
        ticket.assignee = lead
    ticket.updated_at = at
    ticket.save()

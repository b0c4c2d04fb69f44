"""Every write to customers and tickets goes through here."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import QueryDict
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from agents.models import Person
from agents.services.approvals import approval_request_record
from callcenter.dispatch import dispatch_allowed
from callcenter.events import CustomerMerged, StatusCodeRequested, TicketMerged, emit
from callcenter.phones import phone_normalize
from callcenter.pii import pii_scan
from tickets.models import (
    Customer,
    CustomerEvent,
    CustomerNote,
    CustomerPhone,
    FollowUpTask,
    IdentifierView,
    Priority,
    SavedView,
    SlaPolicy,
    SlaState,
    StatusCheck,
    Ticket,
    TicketCategory,
    TicketEvent,
    TicketNote,
    TicketStatus,
)
from tickets.selectors import customer_get_for, ticket_get_for


def customer_create(*, phone: str, name: str = "", email: str = "") -> Customer:
    normalised = phone_normalize(phone)
    if normalised is None:
        raise ValidationError(_("That is not a phone number."))
    return Customer.objects.create(phone=normalised, name=name.strip(), email=email.strip())


CUSTOMER_FIELDS = ("name", "email", "is_vip")


def _customer_event(
    customer: Customer, actor: Person | None, kind: str, at: datetime, **change
) -> None:
    for key in ("old_value", "new_value"):
        if key in change:
            change[key] = str(change[key] or "")[:200]
    CustomerEvent.objects.create(customer=customer, actor=actor, kind=kind, at=at, **change)


def _customer_shown(field: str, value) -> str:
    """A value as the customer's history keeps it: identifiers masked, as the page shows them."""
    from tickets.templatetags.phone import email_masked, phone_masked

    if field == "email":
        return email_masked(value)
    if field == "phone":
        return phone_masked(value)
    if field == "is_vip":
        return "VIP" if value else ""
    return value or ""


@transaction.atomic
def customer_update(
    *,
    actor: Person,
    customer: Customer,
    changes: dict,
    at: datetime | None = None,
    pii_found=(),
) -> Customer:
    """Change only the fields in `changes` (name, email, is_vip); a field left out stays as
    it is, `email: ""` removes the address. Every change is in the customer's history (who,
    when, old → new). Nothing to change is an error, never a silent save. `pii_found` is
    what the PII guard masked in the name."""
    unknown = set(changes) - set(CUSTOMER_FIELDS)
    if unknown:
        raise ValidationError(
            _("Unknown customer field: %(f)s") % {"f": ", ".join(sorted(unknown))}
        )
    if not changes:
        raise ValidationError(_("Nothing to change."))
    at = at or timezone.now()
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.merged_into_id:
        raise ValidationError(
            _("A merged customer cannot be changed; work on the customer it was merged into.")
        )
    changed = []
    for field in CUSTOMER_FIELDS:
        if field not in changes:
            continue
        new = changes[field]
        if field == "is_vip":
            new = bool(new)
        else:
            new = (new or "").strip()[: 100 if field == "name" else 254]
        old = getattr(customer, field)
        if old == new:
            continue
        _customer_event(
            customer,
            actor,
            "changed",
            at,
            field=field,
            old_value=_customer_shown(field, old),
            new_value=_customer_shown(field, new),
        )
        setattr(customer, field, new)
        changed.append(field)
    if changed:
        customer.save(update_fields=changed)
    pii_detections_record(agent=actor, call=None, ticket=None, found=list(pii_found), at=at)
    return customer


def customer_phone_add(
    *, actor: Person, customer: Customer, phone: str, label: str = "", pii_found=()
) -> None:
    """Another number for the customer; `label` has been through the PII guard."""
    normalised = phone_normalize(phone)
    if normalised is None:
        raise ValidationError(_("That is not a phone number."))
    if normalised == customer.phone or customer.phones.filter(number=normalised).exists():
        raise ValidationError(_("The customer already has this number."))
    at = timezone.now()
    CustomerPhone.objects.create(customer=customer, number=normalised, label=label.strip()[:40])
    _customer_event(
        customer,
        actor,
        "phone_added",
        at,
        field="phone",
        new_value=_customer_shown("phone", normalised),
    )
    pii_detections_record(agent=actor, call=None, ticket=None, found=list(pii_found), at=at)


def customer_note_add(
    *, author: Person, customer: Customer, body: str, pii_found=(), at: datetime | None = None
) -> CustomerNote:
    """A note about the customer; `body` has been through the PII guard (see forms)."""
    at = at or timezone.now()
    body = body.strip()
    if not body:
        raise ValidationError(_("Write a note."))
    note = CustomerNote.objects.create(customer=customer, author=author, body=body, created_at=at)
    _customer_event(customer, author, "note_added", at)
    pii_detections_record(agent=author, call=None, ticket=None, found=list(pii_found), at=at)
    return note


def customer_identifier_reveal(*, viewer: Person, customer: Customer, field: str) -> str:
    """The unmasked identifier, and an audit row saying who looked at it and when."""
    if field not in {"phone", "email"}:
        raise ValidationError(_("Unknown identifier."))
    IdentifierView.objects.create(viewer=viewer, customer=customer, field=field, at=timezone.now())
    return getattr(customer, field)


def _lock_pair(model, first_id: int, second_id: int):
    """Both rows, locked (SELECT … FOR UPDATE) in primary-key order, as they are now."""
    rows = {
        row.pk: row
        for row in model.objects.select_for_update()
        .filter(pk__in=[first_id, second_id])
        .order_by("pk")
    }
    return rows[first_id], rows[second_id]


@transaction.atomic
def customer_merge(
    *, actor: Person, source_id: int, target_id: int, at: datetime | None = None
) -> Customer:
    """Fold a duplicate customer into another: their tickets, calls, notes, follow-ups,
    messages and phone numbers move to the target; the duplicate stays as a pointer
    (`merged_into`) and both histories say what happened. The calls, texts and voicemails
    (telephony) follow after commit (callcenter.events.CustomerMerged)."""
    at = at or timezone.now()
    if source_id == target_id:
        raise ValidationError(_("Choose two different customers."))
    customer_get_for(actor, source_id)
    customer_get_for(actor, target_id)
    source, target = _lock_pair(Customer, source_id, target_id)
    if source.merged_into_id or target.merged_into_id:
        raise ValidationError(_("A merged customer cannot be merged again."))
    for ticket in Ticket.objects.filter(customer=source):
        _ticket_event(
            ticket,
            actor,
            "customer_merged",
            at,
            field="customer",
            old_value=source.number,
            new_value=target.number,
        )
    Ticket.objects.filter(customer=source).update(customer=target)
    CustomerNote.objects.filter(customer=source).update(customer=target)
    FollowUpTask.objects.filter(customer=source).update(customer=target)
    numbers = {source.phone, *source.phones.values_list("number", flat=True)}
    numbers -= {target.phone, *target.phones.values_list("number", flat=True)}
    CustomerPhone.objects.bulk_create(
        [CustomerPhone(customer=target, number=n, label=source.number) for n in sorted(numbers)]
    )
    source.phones.all().delete()
    before = {field: getattr(target, field) for field in ("email", "name", "is_vip")}
    if not target.email and source.email:
        target.email = source.email
    target.name = target.name or source.name
    target.is_vip = target.is_vip or source.is_vip
    target.save(update_fields=["email", "name", "is_vip"])
    for field in ("email", "name", "is_vip"):
        if getattr(target, field) != before[field]:
            _customer_event(
                target,
                actor,
                "changed",
                at,
                field=field,
                old_value=_customer_shown(field, before[field]),
                new_value=_customer_shown(field, getattr(target, field)),
            )
    source.merged_into = target
    source.save(update_fields=["merged_into"])
    _customer_event(source, actor, "merged_into", at, new_value=target.number)
    _customer_event(target, actor, "merged_from", at, old_value=source.number)
    CustomerNote.objects.create(
        customer=target,
        author=actor,
        is_system=True,
        body=_("Merged customer %(source)s into this record.") % {"source": source.number},
        created_at=at,
    )
    emit(CustomerMerged(source_id=source.pk, target_id=target.pk))
    return target


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
    pii_found=(),
    at: datetime | None = None,
) -> Ticket:
    at = at or timezone.now()
    subject = subject.strip()
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
        ticket_note_add(actor=actor, ticket=ticket, body=note, at=at)
    pii_detections_record(agent=actor, call=None, ticket=ticket, found=list(pii_found), at=at)
    sla_refresh(ticket=ticket, now=at)
    return ticket


TRACKED_FIELDS = ("subject", "category", "priority", "severity", "assignee", "team")


@transaction.atomic
def ticket_update(
    *, actor: Person, ticket_id: int, changes: dict, pii_found=(), at: datetime | None = None
) -> Ticket:
    """Change a ticket's fields; every change is an event (who, when, old → new). The
    assignee and team must be visible to the actor."""
    from agents.reach import people_visible_to, teams_visible_to

    at = at or timezone.now()
    ticket = ticket_get_for(actor, ticket_id)
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
    pii_detections_record(agent=actor, call=None, ticket=ticket, found=list(pii_found), at=at)
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
    pii_found=(),
    at: datetime | None = None,
) -> TicketNote:
    """A note or reply on the ticket (the body has been through the PII guard). The first
    note by a person is the ticket's first response for the SLA."""
    at = at or timezone.now()
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
    pii_detections_record(agent=actor, call=call, ticket=ticket, found=list(pii_found), at=at)
    sla_refresh(ticket=ticket, now=at)
    return note


@transaction.atomic
def ticket_escalate(
    *, actor: Person, ticket_id: int, reason: str, pii_found=(), at: datetime | None = None
):
    """Ask the 실장 of the ticket's team to take it over; lands in their escalations inbox."""
    at = at or timezone.now()
    ticket = ticket_get_for(actor, ticket_id)
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
    pii_detections_record(agent=actor, call=None, ticket=ticket, found=list(pii_found), at=at)
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


@transaction.atomic
def ticket_merge(
    *, actor: Person, source_id: int, target_id: int, at: datetime | None = None
) -> Ticket:
    """Merge a duplicate ticket into another of the same customer: its notes and calls move
    over (history kept, marked with where they came from), the duplicate becomes MERGED and
    points at the target. Its calls (telephony) follow after commit
    (callcenter.events.TicketMerged)."""
    at = at or timezone.now()
    if source_id == target_id:
        raise ValidationError(_("Choose two different tickets."))
    ticket_get_for(actor, source_id)
    ticket_get_for(actor, target_id)
    # Both rows locked in pk order (two merges of the same pair, either way round, wait
    # for each other instead of deadlocking), then checked again as they are now.
    source, target = _lock_pair(Ticket, source_id, target_id)
    if source.customer_id != target.customer_id:
        raise ValidationError(_("Only tickets of the same customer can be merged."))
    if TicketStatus.MERGED in {source.status, target.status}:
        raise ValidationError(_("A merged ticket cannot be merged again."))
    moved = TicketNote.objects.filter(ticket=source).update(ticket=target)
    FollowUpTask.objects.filter(ticket=source).update(ticket=target)
    _ticket_event(
        target,
        actor,
        "merged_from",
        at,
        old_value=source.number,
        new_value=str(moved),
    )
    _ticket_event(source, actor, "merged_into", at, new_value=target.number)
    _set_status(source, actor, TicketStatus.MERGED, at)
    source.merged_into = target
    source.sla_state, source.sla_due_at = SlaState.NONE, None
    source.updated_at = at
    source.save()
    target.updated_at = at
    if target.first_response_at is None and source.first_response_at:
        target.first_response_at = source.first_response_at
    target.save()
    sla_refresh(ticket=target, now=at)
    emit(TicketMerged(source_id=source.pk, target_id=target.pk))
    return target


# --- SLA ---------------------------------------------------------------------------------


def sla_refresh(*, ticket: Ticket, now: datetime | None = None, calendar=None) -> Ticket:
    """Recompute the ticket's SLA clock and record a warning or a breach the first time it
    happens for a target (events on the ticket; the desktop and board read them)."""
    from tickets.sla import calendar_for_center, sla_clock

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
    from tickets.sla import DONE_STATUSES, calendar_for_center

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


# --- follow-ups, saved views -------------------------------------------------------------


def followup_create(
    *,
    actor: Person,
    customer: Customer,
    due_at: datetime,
    note: str = "",
    ticket: Ticket | None = None,
    pii_found=(),
    at: datetime | None = None,
) -> FollowUpTask:
    """A call-back for `actor`; `note` has been through the PII guard (see forms)."""
    at = at or timezone.now()
    if due_at <= at - timedelta(minutes=1):
        raise ValidationError(_("A follow-up must be due in the future."))
    task = FollowUpTask.objects.create(
        customer=customer,
        ticket=ticket,
        assignee=actor,
        due_at=due_at,
        note=note.strip()[:300],
        created_by=actor,
        created_at=at,
    )
    if ticket is not None:
        _ticket_event(ticket, actor, "followup_scheduled", at, new_value=due_at.isoformat())
    pii_detections_record(agent=actor, call=None, ticket=ticket, found=list(pii_found), at=at)
    return task


def followup_done(*, actor: Person, task_id: int, at: datetime | None = None) -> FollowUpTask:
    task = FollowUpTask.objects.filter(pk=task_id, assignee=actor, done_at__isnull=True).first()
    if task is None:
        raise ValidationError(_("No such open follow-up of yours."))
    task.done_at = at or timezone.now()
    task.save(update_fields=["done_at"])
    return task


def followups_remind(*, now: datetime | None = None, lead_minutes: int = 10) -> int:
    """Mark follow-ups coming due (within `lead_minutes`) as reminded: the assignee's desktop
    shows them highlighted from then on. Periodic, idempotent."""
    now = now or timezone.now()
    return FollowUpTask.objects.filter(
        done_at__isnull=True,
        reminded_at__isnull=True,
        due_at__lte=now + timedelta(minutes=lead_minutes),
    ).update(reminded_at=now)


def _query_values(query: str) -> list[str]:
    return [v for _key, values in QueryDict(query[:500]).lists() for v in values]


def saved_view_save(*, owner: Person, name: str, query: str, pii_found=()) -> SavedView:
    """`pii_found` is what the PII guard masked in the name."""
    name = name.strip()[:60]
    if not name:
        raise ValidationError(_("Name the view."))
    # The query is kept to be run again, so it cannot be stored masked: a search for
    # someone's phone, card or registration number is not kept at all.
    found = [f for value in _query_values(query) for f in pii_scan(value)]
    if found:
        raise ValidationError(
            _(
                "This search holds personal data (%(found)s) and cannot be saved. Search by "
                "the customer or case number (C-000123, T-000123) instead."
            )
            % {"found": ", ".join(f.masked for f in found)}
        )
    view, _created = SavedView.objects.update_or_create(
        owner=owner, name=name, defaults={"query": query[:500]}
    )
    pii_detections_record(
        agent=owner, call=None, ticket=None, found=list(pii_found), at=timezone.now()
    )
    return view


def customer_for_call(
    *, agent: Person, from_number: str, customer_id: int | None, name: str = ""
) -> Customer:
    """Screen pop for an unknown caller (telephony.services.customers.call_customer_link):
    the customer found by search (which the agent may see), with the caller's number added,
    or a new customer for the caller's number."""
    if customer_id:
        customer = customer_get_for(agent, customer_id)
        number = phone_normalize(from_number)
        if (
            number
            and number != customer.phone
            and not customer.phones.filter(number=number).exists()
        ):
            CustomerPhone.objects.create(customer=customer, number=number, label="")
            _customer_event(
                customer,
                agent,
                "phone_added",
                timezone.now(),
                field="phone",
                new_value=_customer_shown("phone", number),
            )
        return customer
    number = phone_normalize(from_number) or from_number
    customer = Customer.objects.create(phone=number, name=name.strip()[:100])
    _customer_event(customer, agent, "created", timezone.now(), new_value=customer.name)
    return customer


# --- the public case-status page ---------------------------------------------------------

STATUS_CODE_TTL = timedelta(minutes=10)
STATUS_CODE_ATTEMPTS = 5
STATUS_CHECKS_PER_IP_HOUR = 10
STATUS_CHECKS_PER_TICKET_HOUR = 3


class RateLimited(ValidationError):
    pass


def _code_hash(check_id: int, code: str) -> str:
    from django.conf import settings

    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{check_id}:{code}".encode(), hashlib.sha256).hexdigest()


# Full-width forms (a Korean IME types ２７１ and Ｔ－) → ASCII; dashes of any kind → "-".
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63"), "-")


def _ticket_key(number: str) -> str:
    """The case number in one canonical form, the key of the per-case limit: T-000271,
    t-271, 271, 0000000271, ２７１ and Ｔ－０００２７１ are all "271". Only ASCII (or
    full-width) digits make a case number: anything else (², ①, Arabic-Indic or other
    digits, letters) keeps a key of its own and matches no case (_ticket_for_number)."""
    number = "".join(number.translate(_FULL_WIDTH).translate(_DASHES).split()).upper()
    number = number.removeprefix("T").removeprefix("-")
    if number.isascii() and number.isdigit():
        return number.lstrip("0") or "0"
    return number[:16]


def _ticket_for_number(number: str) -> Ticket | None:
    key = _ticket_key(number)
    # str.isdigit() alone is true for "²" and "①", which int() refuses.
    if not (key.isascii() and key.isdigit()) or len(key) > 18:
        return None
    return Ticket.objects.select_related("customer", "department").filter(pk=int(key)).first()


def _serialize_on(*keys: str) -> None:
    """Make the count-then-insert of a rate limit safe against concurrent requests: on
    PostgreSQL a transaction-scoped advisory lock per key (taken in one order, so two
    requests never deadlock); SQLite already runs one writer at a time."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for key in sorted(set(keys)):
            digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest, "big", signed=True)]
            )


def status_check_start(
    *, ticket_number: str, phone: str, client_ip: str | None, at: datetime | None = None
) -> StatusCheck:
    """A customer asks to see their case. A check is created whether or not the case number
    and the phone on file match, the limits (per address, per case number) count it either
    way, and the same work is done: the page answers exactly the same and reveals nothing.
    After commit the StatusCodeRequested event has telephony text the one-time code from a
    worker, only on a match: no provider call inside the request."""
    at = at or timezone.now()
    hour_ago = at - timedelta(hours=1)
    key = _ticket_key(ticket_number)
    with transaction.atomic():
        _serialize_on(f"status-ip:{client_ip or ''}", f"status-case:{key}")
        if client_ip and (
            StatusCheck.objects.filter(client_ip=client_ip, created_at__gte=hour_ago).count()
            >= STATUS_CHECKS_PER_IP_HOUR
        ):
            raise RateLimited(_("Too many attempts. Try again in an hour."))
        if (
            StatusCheck.objects.filter(ticket_key=key, created_at__gte=hour_ago).count()
            >= STATUS_CHECKS_PER_TICKET_HOUR
        ):
            raise RateLimited(_("Too many attempts. Try again in an hour."))
        ticket = _ticket_for_number(ticket_number)
        normalised = phone_normalize(phone) or ""
        # One query on every path (the customer's other numbers), matched or not.
        on_file = CustomerPhone.objects.filter(
            customer_id=ticket.customer_id if ticket else None, number=normalised
        ).exists()
        matches = (
            ticket is not None
            and normalised != ""
            and ticket.status != TicketStatus.MERGED
            and (normalised == ticket.customer.phone or on_file)
        )
        check = StatusCheck.objects.create(
            ticket=ticket if matches else None,
            ticket_key=key,
            phone=normalised if matches else "",
            code_hash="",
            client_ip=client_ip,
            created_at=at,
            expires_at=at + STATUS_CODE_TTL,
        )
        if dispatch_allowed():
            emit(StatusCodeRequested(check_id=check.pk, language=translation.get_language()))
    return check


def status_check_code_issue(
    *, check_id: int, at: datetime | None = None
) -> tuple[StatusCheck, str] | None:
    """Make a fresh one-time code for the check (committed before it is returned). Returns
    the check and the code when the check matched a case, so the code is to be texted to
    its phone (telephony.sms.status_check_code_send); None otherwise, with nothing to send."""
    at = at or timezone.now()
    code = f"{secrets.randbelow(10**6):06d}"
    with transaction.atomic():
        check = (
            StatusCheck.objects.select_for_update(of=("self",))
            .select_related("ticket__customer", "ticket__department")
            .filter(pk=check_id)
            .first()
        )
        if check is None or check.verified_at is not None or check.expires_at <= at:
            return None
        check.code_hash = _code_hash(check.pk, code)
        check.save(update_fields=["code_hash"])
    if check.ticket is None or not check.phone:
        return None
    return check, code


def status_check_verify(*, check_id: int, code: str, at: datetime | None = None) -> Ticket:
    """The ticket, if `code` is the one sent for this check; a clear error otherwise. A
    wrong code uses up one of the check's tries (committed before the error is raised)."""
    at = at or timezone.now()
    with transaction.atomic():
        check = StatusCheck.objects.select_for_update().filter(pk=check_id).first()
        if check is None or check.expires_at <= at or check.verified_at is not None:
            error = _("This code has expired. Start again.")
        elif check.attempts >= STATUS_CODE_ATTEMPTS:
            error = _("Too many wrong codes. Start again.")
        else:
            check.attempts += 1
            code = code.strip()
            ok = (
                check.ticket_id is not None
                and code.isdigit()
                and hmac.compare_digest(check.code_hash, _code_hash(check.pk, code))
            )
            error = "" if ok else _("That code is not right.")
            if ok:
                check.verified_at = at
            check.save(update_fields=["attempts", "verified_at"])
    if error:
        raise ValidationError(error)
    return check.ticket


@transaction.atomic
def wrapup_ticket_details(
    *,
    agent: Person,
    ticket_id: int,
    category_id: int | None,
    priority: str,
    followup_at: datetime | None,
    followup_note: str = "",
    at: datetime | None = None,
) -> Ticket:
    """What the wrap-up form adds to the call's ticket: its category and priority (as
    events) and, if asked, a follow-up call at a time."""
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


def pii_detections_record(
    *, agent, call, ticket, found: list[tuple[str, str, str]], at: datetime
) -> None:
    """Log what the PII guard masked (field, kind, masked form): the QA team counts these
    per agent. The identifier itself is never stored."""
    from tickets.models import PiiDetection

    if not found:
        return
    PiiDetection.objects.bulk_create(
        [
            PiiDetection(
                agent=agent, call=call, ticket=ticket, field=field, kind=kind, masked=masked, at=at
            )
            for field, kind, masked in found
        ]
    )

"""Merging duplicates: a customer into another, a ticket into another."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import Person
from callcenter.events import CustomerMerged, TicketMerged, emit
from tickets.models import (
    Customer,
    CustomerNote,
    CustomerPhone,
    FollowUpTask,
    SlaState,
    Ticket,
    TicketNote,
    TicketStatus,
)
from tickets.selectors import customer_get_for, ticket_get_for
from tickets.services.history import (
    _customer_event,
    _customer_shown,
    _lock_pair,
    _set_status,
    _ticket_event,
)
from tickets.services.sla import sla_refresh


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

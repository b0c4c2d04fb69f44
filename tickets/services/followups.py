"""Follow-ups: call-backs an agent schedules for a customer."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import Person
from callcenter.pii import pii_guard
from tickets.models import (
    Customer,
    FollowUpTask,
    Ticket,
)
from tickets.selectors import own_numbers
from tickets.services.history import _ticket_event
from tickets.services.pii_detections import pii_detections_record


def followup_create(
    *,
    actor: Person,
    customer: Customer,
    due_at: datetime,
    note: str = "",
    ticket: Ticket | None = None,
    pii_confirmed: bool = False,
    at: datetime | None = None,
) -> FollowUpTask:
    """A call-back for `actor`; the PII guard reads `note` as written (`pii_confirmed`:
    store it masked)."""
    at = at or timezone.now()
    guarded = pii_guard({"note": note}, confirmed=pii_confirmed, own_phone=own_numbers(customer))
    note = guarded.texts["note"]
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
    pii_detections_record(agent=actor, call=None, ticket=ticket, found=guarded.found(), at=at)
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

"""Closing a month of performance sheets, and reopening it (issue 18, item 11).

Closing computes the sheets one last time and freezes them. A month that has not ended
closes only when the request confirms the days that are left (the number it was shown), so
a click on the 7th cannot freeze a month by accident. The director reopens a closed month
with a reason; the next close recomputes it. Every close and reopen is an event row (who,
when, why), shown on the evaluation page as a timeline.
"""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from agents.models import Person
from agents.roles import can
from callcenter.clock import month_start, next_month_start
from callcenter.pii import pii_redact
from kpi.models import PerformanceMonth, PerformanceMonthAction, PerformanceMonthEvent
from kpi.performance import performance_sheets_compute

REASON_MAX = 500


def may_close(person: Person) -> bool:
    return can(person, "close_months")


def days_left(month: date, today: date) -> int:
    """The month's days from `today` to its end, today included; 0 once it has ended."""
    return max(0, (next_month_start(month) - today).days)


def early_close_message(month: date, left: int) -> str:
    return ngettext(
        "%(month)s has not ended: %(n)d day is left, today included. Confirm to close it early.",
        "%(month)s has not ended: %(n)d days are left, today included. Confirm to close it early.",
        left,
    ) % {"month": f"{month:%Y-%m}", "n": left}


@transaction.atomic
def performance_month_close(
    *,
    person: Person,
    month: date,
    confirm_days_left: int | None = None,
    at: datetime | None = None,
) -> PerformanceMonth:
    """The director (or an admin) closes the month: computed one last time, then frozen.
    Before the month's end `confirm_days_left` must equal the days left (ValidationError
    with code "early" otherwise; nothing changes)."""
    if not may_close(person):
        raise PermissionDenied
    at = at or timezone.now()
    first = month_start(month)
    today = timezone.localdate(at)
    if first > today:
        raise ValidationError(
            _("%(month)s has not started; it cannot be closed.") % {"month": f"{first:%Y-%m}"},
            code="future",
        )
    left = days_left(first, today)
    if left and confirm_days_left != left:
        raise ValidationError(early_close_message(first, left), code="early")
    record = performance_sheets_compute(month=first, at=at)  # a closed month: ValidationError
    record.closed_at = at
    record.closed_by = person
    record.save(update_fields=["closed_at", "closed_by"])
    PerformanceMonthEvent.objects.create(
        month=record,
        action=PerformanceMonthAction.CLOSED,
        person=person,
        at=at,
        days_left=left or None,
    )
    return record


@transaction.atomic
def performance_month_reopen(
    *, person: Person, month: date, reason: str, at: datetime | None = None
) -> PerformanceMonth:
    """The director (or an admin) reopens a closed month with a reason (stored with any
    customer identifier masked). The sheets can be recomputed and commented again."""
    if not may_close(person):
        raise PermissionDenied
    reason = pii_redact((reason or "").strip())
    if not reason:
        raise ValidationError(_("Give the reason for reopening the month."), code="reason")
    if len(reason) > REASON_MAX:
        raise ValidationError(
            _("The reason is too long (at most %(n)d characters).") % {"n": REASON_MAX},
            code="reason",
        )
    record = PerformanceMonth.objects.select_for_update().filter(month=month_start(month)).first()
    if record is None or not record.is_closed:
        raise ValidationError(_("This month is not closed."), code="open")
    at = at or timezone.now()
    record.closed_at = None
    record.closed_by = None
    record.save(update_fields=["closed_at", "closed_by"])
    PerformanceMonthEvent.objects.create(
        month=record, action=PerformanceMonthAction.REOPENED, person=person, at=at, reason=reason
    )
    return record


def month_events(record: PerformanceMonth | None) -> list[PerformanceMonthEvent]:
    """The month's closes and reopens, newest first."""
    if record is None:
        return []
    return list(record.events.select_related("person"))

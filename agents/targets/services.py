"""Setting a target: from a month on, on a unit the person may set targets for."""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import TARGET_UNITS, Person, Target, TargetMetric, TargetUnit
from agents.targets.selectors import target_unit_get_for
from callcenter.clock import month_start


def target_set(
    *,
    actor: Person,
    unit_key: str,
    metric: str,
    value: float | None,
    effective_from: date,
    at: datetime | None = None,
) -> Target:
    """The unit's target for `metric` from `effective_from`'s month until a later row; the
    months before keep theirs. Setting the same month again replaces that month's value
    (who and when are the last setter's). `value` None: from that month the unit has no
    target of its own and inherits its department's or the center's. 403 for a role that sets no targets, 404 for a
    unit outside the person's reach; ValidationError for a value or month out of range."""
    unit = target_unit_get_for(actor, unit_key)
    at = at or timezone.now()
    if metric not in TargetMetric.values:
        raise ValidationError(_("Unknown metric."))
    if effective_from != month_start(effective_from):
        raise ValidationError(_("A target starts on the first day of a month."))
    if effective_from < month_start(timezone.localdate(at)):
        raise ValidationError(_("A past month keeps the target it had."))
    rate = TARGET_UNITS[metric] == TargetUnit.RATE
    if value is not None and (value <= 0 or (rate and value > 1)):
        raise ValidationError(_("The target is out of range."))
    target, _created = Target.objects.update_or_create(
        **{f"{unit.kind}_id": unit.id},
        metric=metric,
        effective_from=effective_from,
        defaults={"value": value, "set_by": actor, "set_at": at},
    )
    return target

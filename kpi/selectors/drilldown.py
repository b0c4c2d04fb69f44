"""The drill-down: the calls and surveys behind one unit's figure, read through the
person's scoping with the rollups' counting rules."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.utils import timezone

from agents.models import Person
from kpi.scopes import KpiScope
from kpi.services.collect import fcr_window
from telephony.models import CallDirection, CallPhase, Survey
from telephony.selectors import calls_visible_to
from tickets.models import PiiDetection


def surveys_for_agent(agent: Person, *, start: datetime, end: datetime, limit: int = 20):
    """The agent's answered surveys (comments first shown on their dashboard)."""
    return (
        Survey.objects.filter(
            agent=agent, answered_at__gte=start, answered_at__lt=end, score__isnull=False
        )
        .select_related("call")
        .order_by("-answered_at")[:limit]
    )


def calls_behind(person: Person, scope: KpiScope, metric: str, *, start: datetime, end: datetime):
    """The calls behind one figure of one unit: the drill-down. Reads calls (not rollups)
    through the person's scoping, with the same counting rules as the rollups."""
    qs = calls_visible_to(person).filter(direction=CallDirection.INBOUND)
    qs = qs.filter(
        **{
            "agent": {"agent_id": scope.id},
            "team": {"team_id": scope.id},
            "department": {"department_id": scope.id},
            "queue": {"queue_id": scope.id},
            "center": {"department__center_id": scope.id},
        }[scope.kind]
    )
    offered = qs.filter(enqueued_at__gte=start, enqueued_at__lt=end, segment=0).exclude(
        phase=CallPhase.FAILED
    )
    handled = qs.filter(
        phase=CallPhase.COMPLETED, wrapup_ended_at__gte=start, wrapup_ended_at__lt=end
    )
    if metric == "offered":
        qs = offered
    elif metric == "answered":
        qs = offered.filter(answered_at__isnull=False).exclude(queue_exit="callback_unreached")
    elif metric == "abandoned":
        qs = offered.filter(phase=CallPhase.ABANDONED, answered_at__isnull=True)
    elif metric == "handled":
        qs = handled
    elif metric in {"transferred", "escalated"}:
        events = {"events__kind": "transfer"}
        qs = (
            handled.filter(**events, events__data__transfer_kind="escalation")
            if metric == "escalated"
            else handled.filter(**events).exclude(events__data__transfer_kind="escalation")
        )
    elif metric == "main_task":
        codes = [c for cs in settings.KPI_MAIN_TASK_DISPOSITIONS.values() for c in cs]
        qs = handled.filter(disposition__code__in=codes)
    elif metric == "fcr":
        qs = handled.filter(customer__isnull=False, enqueued_at__lt=timezone.now() - fcr_window())
    elif metric == "csat":
        qs = qs.filter(
            surveys__answered_at__gte=start,
            surveys__answered_at__lt=end,
            surveys__score__isnull=False,
        )
    elif metric == "pii":
        qs = qs.filter(
            pk__in=PiiDetection.objects.filter(at__gte=start, at__lt=end).values("call_id")
        )
    else:
        raise ValueError(metric)
    return (
        qs.select_related("agent", "queue", "disposition", "customer")
        .distinct()
        .order_by("-enqueued_at")
    )

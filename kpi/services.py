"""Filling the interval rollups. Re-running any fill changes nothing (each interval is
recomputed whole from the calls and replaced)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from kpi.formulas import contact_outcome
from kpi.models import FillState, IntervalStat, ScopeKind
from telephony.models import Call, CallDirection, CallPhase

INTERVAL = timedelta(minutes=15)
# Transactions may commit with an updated_at a little older than the newest one seen;
# re-reading this much behind the watermark costs little because fills are idempotent.
WATERMARK_OVERLAP = timedelta(minutes=5)


def interval_floor(at: datetime) -> datetime:
    at = at.astimezone(timezone.get_current_timezone())
    return at.replace(minute=at.minute - at.minute % 15, second=0, microsecond=0)


def _compute_interval(start: datetime) -> list[IntervalStat]:
    end = start + INTERVAL
    rows: dict[tuple[str, int], IntervalStat] = {}

    def row(kind: str, scope_id: int) -> IntervalStat:
        key = (kind, scope_id)
        if key not in rows:
            rows[key] = IntervalStat(interval_start=start, scope_kind=kind, scope_id=scope_id)
        return rows[key]

    short = settings.SHORT_ABANDON_SECONDS
    # Inbound only: follow-up calls an agent places are not offered, answered or abandoned
    # contacts, and AHT is over handled inbound calls (DOMAIN.md).
    offered = (
        Call.objects.filter(
            direction=CallDirection.INBOUND, enqueued_at__gte=start, enqueued_at__lt=end
        )
        .select_related("department", "queue")
        .exclude(phase=CallPhase.FAILED)
    )
    for call in offered:
        outcome = contact_outcome(
            direction=call.direction,
            segment=call.segment,
            phase=call.phase,
            answered=call.answered_at is not None,
            queue_exit=call.queue_exit,
            wait=call.queue_wait_seconds or 0,
            service_level_seconds=call.queue.service_level_seconds,
            short_abandon_seconds=short,
        )
        if not outcome.offered:
            continue
        scopes = [
            (ScopeKind.CENTER, call.department.center_id),
            (ScopeKind.DEPARTMENT, call.department_id),
            (ScopeKind.QUEUE, call.queue_id),
        ]
        if outcome.answered and call.agent_id:
            scopes += [(ScopeKind.AGENT, call.agent_id)]
            if call.team_id:
                scopes += [(ScopeKind.TEAM, call.team_id)]
        for kind, scope_id in scopes:
            r = row(kind, scope_id)
            r.offered += 1
            if outcome.answered:
                r.answered += 1
                r.queue_wait_answered_seconds += call.queue_wait_seconds or 0
                r.answered_within_sl += int(outcome.answered_within)
            elif outcome.abandoned:
                r.abandoned += 1
                r.short_abandoned += int(outcome.short_abandoned)
    handled = Call.objects.filter(
        direction=CallDirection.INBOUND,
        phase=CallPhase.COMPLETED,
        wrapup_ended_at__gte=start,
        wrapup_ended_at__lt=end,
    ).select_related("department")
    for call in handled:
        scopes = [
            (ScopeKind.CENTER, call.department.center_id),
            (ScopeKind.DEPARTMENT, call.department_id),
            (ScopeKind.QUEUE, call.queue_id),
            (ScopeKind.AGENT, call.agent_id),
        ]
        if call.team_id:
            scopes.append((ScopeKind.TEAM, call.team_id))
        for kind, scope_id in scopes:
            r = row(kind, scope_id)
            r.handled += 1
            r.talk_seconds += call.talk_seconds or 0
            r.hold_seconds += call.hold_seconds or 0
            r.acw_seconds += call.acw_seconds or 0
    return list(rows.values())


def kpi_fill_intervals(*, starts: Iterable[datetime]) -> int:
    """Recompute and replace the rollup rows of these intervals. Returns rows written."""
    written = 0
    for start in sorted(set(starts)):
        rows = _compute_interval(start)
        with transaction.atomic():
            IntervalStat.objects.filter(interval_start=start).delete()
            IntervalStat.objects.bulk_create(rows)
        written += len(rows)
    return written


def kpi_fill_incremental(*, now: datetime | None = None) -> int:
    """Refill the intervals touched by calls changed since the last run."""
    now = now or timezone.now()
    state, _ = FillState.objects.get_or_create(name="calls")
    changed = Call.objects.all()
    if state.watermark:
        changed = changed.filter(updated_at__gte=state.watermark - WATERMARK_OVERLAP)
    newest = changed.aggregate(m=Max("updated_at"))["m"]
    starts: set[datetime] = set()
    for enqueued_at, wrapup_ended_at in changed.values_list(
        "enqueued_at", "wrapup_ended_at"
    ).iterator():
        starts.add(interval_floor(enqueued_at))
        if wrapup_ended_at:
            starts.add(interval_floor(wrapup_ended_at))
    written = kpi_fill_intervals(starts=starts)
    state.watermark = max(filter(None, [state.watermark, newest]), default=None)
    state.last_run_at = now
    state.save()
    return written


def kpi_backfill(*, start: datetime, end: datetime, progress=None) -> int:
    """Rebuild every interval in [start, end). progress(done, total) is called per interval."""
    first = interval_floor(start)
    starts = []
    cursor = first
    while cursor < end:
        starts.append(cursor)
        cursor += INTERVAL
    written = 0
    for done, interval_start in enumerate(starts, 1):
        written += kpi_fill_intervals(starts=[interval_start])
        if progress:
            progress(done, len(starts))
    return written

"""The periodic fill: which intervals changed since each source's watermark, filling them,
and moving the watermarks on."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db.models import Max, Q
from django.utils import timezone

from agents.models import AgentState, AgentStateInterval
from kpi.models import FillState
from kpi.qa_scores import qa_changed_since
from kpi.services.collect import INTERVAL, WATERMARK_OVERLAP, fcr_window, interval_floor
from kpi.services.fill import _fill_lock, kpi_fill_intervals
from telephony.models import Call, CallDirection, CallPhase, Survey
from tickets.models import PiiDetection


def _buckets(lo: datetime, hi: datetime) -> Iterable[datetime]:
    bucket = interval_floor(lo)
    while bucket <= hi:
        yield bucket
        bucket += INTERVAL


def _touched_intervals(now: datetime) -> tuple[set[datetime], dict[str, datetime | None]]:
    """Intervals whose sources changed since each source's watermark, and the new marks."""
    states = {s.name: s for s in FillState.objects.filter(name__in=SOURCES)}

    def since(name: str) -> datetime | None:
        state = states.get(name)
        return state.watermark - WATERMARK_OVERLAP if state and state.watermark else None

    starts: set[datetime] = set()
    marks: dict[str, datetime | None] = {}

    # Calls, by updated_at: their offer and wrap-up intervals, and the intervals of the
    # same customer's earlier contacts whose FCR a new contact may have changed.
    changed = Call.objects.order_by()  # (by date, SQLite walked every call's date first)
    if since("calls"):
        changed = changed.filter(updated_at__gte=since("calls"))
    marks["calls"] = changed.aggregate(m=Max("updated_at"))["m"]
    repeaters: set[int] = set()
    first_enqueued = None
    for enq, ended, customer in changed.values_list(
        "enqueued_at", "wrapup_ended_at", "customer_id"
    ).iterator():
        starts.add(interval_floor(enq))
        if ended:
            starts.add(interval_floor(ended))
            if customer:
                repeaters.add(customer)
                first_enqueued = min(filter(None, [first_enqueued, enq]))
    if repeaters:
        earlier = Call.objects.filter(
            customer_id__in=repeaters,
            direction=CallDirection.INBOUND,
            phase=CallPhase.COMPLETED,
            enqueued_at__gte=first_enqueued - fcr_window(),
        ).values_list("wrapup_ended_at", flat=True)
        starts.update(interval_floor(e) for e in earlier if e)

    # FCR windows that closed since the last run: those contacts become eligible.
    window = fcr_window()
    closed_from = since("fcr_windows") or now - timedelta(minutes=15)
    closing = Call.objects.filter(
        direction=CallDirection.INBOUND,
        phase=CallPhase.COMPLETED,
        customer__isnull=False,
        enqueued_at__gte=closed_from - window,
        enqueued_at__lt=now - window,
    ).values_list("wrapup_ended_at", flat=True)
    starts.update(interval_floor(e) for e in closing if e)
    marks["fcr_windows"] = now

    surveys = Survey.objects.filter(answered_at__isnull=False)
    if since("surveys"):
        surveys = surveys.filter(updated_at__gte=since("surveys"))
    marks["surveys"] = surveys.aggregate(m=Max("updated_at"))["m"]
    starts.update(interval_floor(a) for a in surveys.values_list("answered_at", flat=True))

    # Agent states: every interval an open or recently ended state touched since the mark.
    state_from = since("states")
    intervals = AgentStateInterval.objects.exclude(state=AgentState.OFFLINE)
    if state_from:
        intervals = intervals.filter(Q(ended_at__isnull=True) | Q(ended_at__gte=state_from))
    for began, ended in intervals.values_list("started_at", "ended_at").iterator():
        lo = max(began, state_from) if state_from else began
        starts.update(_buckets(lo, min(ended or now, now)))
    marks["states"] = now

    pii = PiiDetection.objects.all()
    if since("pii"):
        pii = pii.filter(at__gte=since("pii"))
    marks["pii"] = pii.aggregate(m=Max("at"))["m"]
    starts.update(interval_floor(a) for a in pii.values_list("at", flat=True))

    starts.update(interval_floor(a) for a in qa_changed_since(since("qa")))
    marks["qa"] = now
    return starts, marks


SOURCES = ["calls", "fcr_windows", "surveys", "states", "pii", "qa"]


def kpi_fill_incremental(*, now: datetime | None = None) -> int:
    """Refill the intervals touched by anything that changed since the last run. One run
    at a time: while another runs, this one returns 0 at once (that run, or the next,
    covers what changed). Two at once would compute the same intervals twice, and the one
    that computed first could write last, over the newer rows."""
    with _fill_lock() as acquired:
        if not acquired:
            return 0
        now = now or timezone.now()
        starts, marks = _touched_intervals(now)
        written = kpi_fill_intervals(starts=starts, now=now)
        _advance_watermarks(marks, now)
        return written


def _advance_watermarks(marks: dict[str, datetime | None], now: datetime) -> None:
    for name, mark in marks.items():
        state, _ = FillState.objects.get_or_create(name=name)
        state.watermark = max(filter(None, [state.watermark, mark]), default=None)
        state.last_run_at = now
        state.save()


def kpi_mark_filled(*, now: datetime) -> None:
    """Everything before `now` is in the rollups (a backfill over all the data there is,
    as the demo's): the incremental fill starts from there instead of from the beginning."""
    _advance_watermarks({name: now for name in SOURCES}, now)

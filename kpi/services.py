"""Filling the interval and daily rollups. Re-running any fill changes nothing: each interval
is recomputed whole from its sources and replaced, and each day is re-summed from its
intervals.

One function, `_compute_range`, turns the raw rows of [start, end) into rollup rows; the
periodic fill calls it per touched interval and the backfill per day. Every source row is
bucketed by its own timestamp, so a day computed at once equals its 96 intervals computed
one by one (tests pin backfill == live fill).
"""

from __future__ import annotations

import fcntl
import os
from collections import defaultdict
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import (
    DateTimeField,
    Exists,
    ExpressionWrapper,
    Max,
    OuterRef,
    Q,
    Sum,
    Value,
)
from django.utils import timezone

from agents.models import AgentState, AgentStateInterval, Department, Person
from callcenter.clock import day_bounds, interval_start
from kpi.formulas import contact_outcome, is_satisfied
from kpi.models import STAT_FIELDS, DailyStat, FillState, IntervalStat, ScopeKind
from kpi.qa_scores import qa_changed_since, qa_scores_between
from telephony.models import Call, CallDirection, CallEvent, CallPhase, Queue, Survey

INTERVAL = timedelta(minutes=15)
# Transactions may commit with an updated_at a little older than the newest one seen;
# re-reading this much behind the watermark costs little because fills are idempotent.
WATERMARK_OVERLAP = timedelta(minutes=5)
HANDLING_STATES = {AgentState.ON_CALL, AgentState.WRAP_UP}
# Ringing (reserved) is idle time the agent is ready for contacts, as available is.
IDLE_STATES = {AgentState.AVAILABLE, AgentState.RESERVED}

Key = tuple[datetime, str, int]


def interval_floor(at: datetime) -> datetime:
    """The start of the rollup interval (INTERVAL long) that `at` falls in."""
    return interval_start(at, minutes=INTERVAL // timedelta(minutes=1))


def fcr_window() -> timedelta:
    return timedelta(days=settings.KPI_FCR_WINDOW_DAYS)


class _Org:
    """The chart, read once per fill: department → center, queue → threshold, person →
    (team, department, center) for sources that carry only the person."""

    def __init__(self) -> None:
        self.center_of_department = dict(Department.objects.values_list("id", "center_id"))
        self.kind_of_department = dict(Department.objects.values_list("id", "kind"))
        self.sl_seconds = dict(Queue.objects.values_list("id", "service_level_seconds"))
        self.person = {
            pid: (team_id, dept_id, center_id)
            for pid, team_id, dept_id, center_id in Person.objects.values_list(
                "id", "team_id", "team__department_id", "center_id"
            )
        }

    def person_scopes(self, person_id: int) -> list[tuple[str, int]]:
        team_id, dept_id, center_id = self.person.get(person_id, (None, None, None))
        scopes = [(ScopeKind.AGENT, person_id)]
        if team_id:
            scopes.append((ScopeKind.TEAM, team_id))
        if dept_id:
            scopes.append((ScopeKind.DEPARTMENT, dept_id))
            center_id = self.center_of_department.get(dept_id, center_id)
        if center_id:
            scopes.append((ScopeKind.CENTER, center_id))
        return scopes


def _handled_calls(start: datetime, end: datetime):
    """Handled inbound calls whose wrap-up ended in [start, end), with what the rollups
    need: transfer/escalation flags and whether a repeat contact followed within the FCR
    window (same customer, same department: the department is the contact's category)."""
    later = ExpressionWrapper(
        OuterRef("enqueued_at") + Value(fcr_window()), output_field=DateTimeField()
    )
    repeat = (
        Call.objects.filter(
            customer_id=OuterRef("customer_id"),
            department_id=OuterRef("department_id"),
            direction=CallDirection.INBOUND,
            phase=CallPhase.COMPLETED,
            enqueued_at__gt=OuterRef("enqueued_at"),
            enqueued_at__lte=later,
        )
        .exclude(sid=OuterRef("sid"))
        .values("pk")
    )
    transfers = CallEvent.objects.filter(call_id=OuterRef("pk"), kind="transfer")
    return (
        Call.objects.filter(
            direction=CallDirection.INBOUND,
            phase=CallPhase.COMPLETED,
            wrapup_ended_at__gte=start,
            wrapup_ended_at__lt=end,
        )
        .annotate(
            transferred=Exists(transfers.exclude(data__transfer_kind="escalation")),
            escalated=Exists(transfers.filter(data__transfer_kind="escalation")),
            repeated=Exists(repeat),
        )
        .order_by()
        .values_list(
            "wrapup_ended_at",
            "department_id",
            "queue_id",
            "agent_id",
            "team_id",
            "talk_seconds",
            "hold_seconds",
            "acw_seconds",
            "disposition__code",
            "customer_id",
            "enqueued_at",
            "transferred",
            "escalated",
            "repeated",
        )
    )


def _compute_range(start: datetime, end: datetime, *, now: datetime, org: _Org) -> dict:
    """Rollup counters of every interval in [start, end) (both on interval boundaries)."""
    rows: dict[Key, dict[str, float]] = defaultdict(lambda: dict.fromkeys(STAT_FIELDS, 0))

    def add(bucket: datetime, scopes, **values) -> None:
        for kind, scope_id in scopes:
            row = rows[(bucket, kind, scope_id)]
            for name, value in values.items():
                row[name] += value

    def call_scopes(dept_id, queue_id, agent_id, team_id, *, with_agent: bool = True):
        scopes = [
            (ScopeKind.CENTER, org.center_of_department[dept_id]),
            (ScopeKind.DEPARTMENT, dept_id),
            (ScopeKind.QUEUE, queue_id),
        ]
        if with_agent and agent_id:
            scopes.append((ScopeKind.AGENT, agent_id))
            if team_id:
                scopes.append((ScopeKind.TEAM, team_id))
        return scopes

    short = settings.SHORT_ABANDON_SECONDS
    # Offered contacts: inbound only (follow-up calls an agent places are not offered).
    offered = (
        Call.objects.filter(
            direction=CallDirection.INBOUND, enqueued_at__gte=start, enqueued_at__lt=end
        )
        .exclude(phase=CallPhase.FAILED)
        .order_by()
        .values_list(
            "enqueued_at",
            "segment",
            "phase",
            "answered_at",
            "queue_exit",
            "queue_wait_seconds",
            "department_id",
            "queue_id",
            "agent_id",
            "team_id",
        )
    )
    for enq, segment, phase, answered_at, exit_, wait, dept, queue, agent, team in offered:
        outcome = contact_outcome(
            direction=CallDirection.INBOUND,
            segment=segment,
            phase=phase,
            answered=answered_at is not None,
            queue_exit=exit_,
            wait=wait or 0,
            service_level_seconds=org.sl_seconds[queue],
            short_abandon_seconds=short,
        )
        if not outcome.offered:
            continue
        scopes = call_scopes(dept, queue, agent, team, with_agent=outcome.answered)
        if outcome.answered:
            add(
                interval_floor(enq),
                scopes,
                offered=1,
                answered=1,
                queue_wait_answered_seconds=wait or 0,
                answered_within_sl=int(outcome.answered_within),
            )
        else:
            add(
                interval_floor(enq),
                scopes,
                offered=1,
                abandoned=int(outcome.abandoned),
                short_abandoned=int(outcome.short_abandoned),
                abandoned_within_sl=int(outcome.abandoned_within),
            )

    main_task = settings.KPI_MAIN_TASK_DISPOSITIONS
    window = fcr_window()
    for (
        ended,
        dept,
        queue,
        agent,
        team,
        talk,
        hold,
        acw,
        code,
        customer,
        enq,
        transferred,
        escalated,
        repeated,
    ) in _handled_calls(start, end):
        # FCR counts contacts whose window has closed; a caller we cannot identify is left
        # out (no repeat could ever be seen).
        eligible = customer is not None and enq + window < now
        add(
            interval_floor(ended),
            call_scopes(dept, queue, agent, team),
            handled=1,
            talk_seconds=talk or 0,
            hold_seconds=hold or 0,
            acw_seconds=acw or 0,
            transferred=int(transferred),
            escalated=int(escalated),
            main_task_successes=int(code in main_task.get(org.kind_of_department[dept], ())),
            fcr_eligible=int(eligible),
            fcr_resolved=int(eligible and not repeated),
        )

    surveys = (
        Survey.objects.filter(
            answered_at__gte=start, answered_at__lt=end, score__isnull=False, call__isnull=False
        )
        .order_by()
        .values_list(
            "answered_at",
            "call__department_id",
            "call__queue_id",
            "call__agent_id",
            "call__team_id",
            "score",
            "resolved",
        )
    )
    for answered_at, dept, queue, agent, team, score, resolved in surveys:
        add(
            interval_floor(answered_at),
            call_scopes(dept, queue, agent, team),
            csat_responses=1,
            csat_satisfied=int(is_satisfied(score)),
            csat_score_sum=score,
            survey_resolved_answers=int(resolved is not None),
            survey_resolved_yes=int(resolved is True),
        )

    # Agent-state time, split at interval boundaries; an open interval counts up to now.
    states = (
        AgentStateInterval.objects.filter(started_at__lt=min(end, now))
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=start))
        .exclude(state=AgentState.OFFLINE)
        .order_by()
        .values_list("person_id", "state", "started_at", "ended_at")
    )
    for person_id, state, began, ended in states:
        lo = max(began, start)
        hi = min(ended or now, end, now)
        scopes = org.person_scopes(person_id)
        bucket = interval_floor(lo)
        while bucket < hi:
            seconds = (min(hi, bucket + INTERVAL) - max(lo, bucket)).total_seconds()
            if seconds > 0:
                values = {"logged_in_seconds": seconds}
                if state in HANDLING_STATES:
                    values["handling_state_seconds"] = seconds
                elif state in IDLE_STATES:
                    values["available_seconds"] = seconds
                add(bucket, scopes, **values)
            bucket += INTERVAL

    from tickets.models import PiiDetection

    for agent_id, at in (
        PiiDetection.objects.filter(at__gte=start, at__lt=end)
        .order_by()
        .values_list("agent_id", "at")
    ):
        add(interval_floor(at), org.person_scopes(agent_id), pii_detections=1)

    # Scored QA evaluations only: one with all items N/A has no score and is left out.
    for agent_id, at, score in qa_scores_between(start, end):
        add(interval_floor(at), org.person_scopes(agent_id), qa_evaluations=1, qa_score_sum=score)
    return rows


def _day_of(moment: datetime) -> date:
    return timezone.localtime(moment).date()


def _write_range(start: datetime, end: datetime, rows: dict) -> int:
    IntervalStat.objects.filter(interval_start__gte=start, interval_start__lt=end).delete()
    if connection.vendor == "postgresql":
        # A year's backfill writes millions of rows: one multi-row INSERT per page instead
        # of model instances (same columns, same values).
        from psycopg2.extras import execute_values

        columns = ["interval_start", "scope_kind", "scope_id", *STAT_FIELDS]
        values = [
            (bucket, kind, scope_id, *(counters[f] for f in STAT_FIELDS))
            for (bucket, kind, scope_id), counters in rows.items()
        ]
        with connection.cursor() as cur:
            execute_values(
                cur.cursor if hasattr(cur, "cursor") else cur,
                f"INSERT INTO {IntervalStat._meta.db_table} ({', '.join(columns)}) VALUES %s",  # noqa: S608 - model field names only
                values,
                page_size=5000,
            )
        return len(values)
    objs = [
        IntervalStat(interval_start=bucket, scope_kind=kind, scope_id=scope_id, **values)
        for (bucket, kind, scope_id), values in rows.items()
    ]
    IntervalStat.objects.bulk_create(objs, batch_size=2000)
    return len(objs)


def _refresh_days(days: Iterable[date]) -> None:
    """Re-sum each day's DailyStat rows from its 15-minute rows (and count the agents who
    handled a call that day per unit)."""
    for day in sorted(set(days)):
        start, end = day_bounds(day)
        sums = (
            IntervalStat.objects.filter(interval_start__gte=start, interval_start__lt=end)
            .values("scope_kind", "scope_id")
            .annotate(**{f"s_{f}": Sum(f) for f in STAT_FIELDS})
        )
        handling: dict[tuple[str, int], set[int]] = defaultdict(set)
        agents = (
            Call.objects.filter(
                direction=CallDirection.INBOUND,
                phase=CallPhase.COMPLETED,
                wrapup_ended_at__gte=start,
                wrapup_ended_at__lt=end,
                agent_id__isnull=False,
            )
            .values_list(
                "agent_id", "team_id", "department_id", "queue_id", "department__center_id"
            )
            .distinct()
        )
        for agent, team, dept, queue, center in agents:
            for key in [
                (ScopeKind.AGENT, agent),
                (ScopeKind.TEAM, team),
                (ScopeKind.DEPARTMENT, dept),
                (ScopeKind.QUEUE, queue),
                (ScopeKind.CENTER, center),
            ]:
                if key[1] is not None:
                    handling[key].add(agent)
        objs = [
            DailyStat(
                day=day,
                scope_kind=s["scope_kind"],
                scope_id=s["scope_id"],
                agents_handling=len(handling.get((s["scope_kind"], s["scope_id"]), ())),
                **{f: s[f"s_{f}"] or 0 for f in STAT_FIELDS},
            )
            for s in sums
        ]
        DailyStat.objects.filter(day=day).delete()
        DailyStat.objects.bulk_create(objs, batch_size=2000)


def kpi_fill_intervals(*, starts: Iterable[datetime], now: datetime | None = None) -> int:
    """Recompute and replace the rollup rows of these intervals (and their days).
    Returns rollup rows written."""
    now = now or timezone.now()
    org = _Org()
    written = 0
    # Computed before the transaction, which then only writes: on SQLite a transaction
    # holds the one write lock, and the ACD's sweep and every webhook wait for it (a fill
    # of a thousand intervals computes for half a minute). Anything that changes meanwhile
    # is newer than this run's watermarks, so the next run computes its intervals again.
    computed = [
        (start, _compute_range(start, start + INTERVAL, now=now, org=org))
        for start in sorted(set(starts))
    ]
    with transaction.atomic():
        for start, rows in computed:
            written += _write_range(start, start + INTERVAL, rows)
        _refresh_days({_day_of(start) for start, _rows in computed})
    return written


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

    from tickets.models import PiiDetection

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


# An arbitrary constant: PostgreSQL's advisory lock key for the incremental fill.
_FILL_LOCK_KEY = 0x5A6E_4B50


@contextmanager
def _fill_lock():
    """Whether this process may run the fill now (another holds the lock: False). On
    PostgreSQL an advisory lock, on SQLite a file lock beside the database; either is let
    go if the process dies."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [_FILL_LOCK_KEY])
            acquired = cursor.fetchone()[0]
        try:
            yield acquired
        finally:
            if acquired:
                try:
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT pg_advisory_unlock(%s)", [_FILL_LOCK_KEY])
                except DatabaseError:  # (a failed outer transaction): the session's end
                    connection.close()  # lets its locks go
        return
    if connection.vendor != "sqlite" or connection.is_in_memory_db():
        yield True  # (an in-memory database has one connection: nobody to run beside)
        return
    path = f"{connection.settings_dict['NAME']}-kpifill"
    fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # (lets the lock go)


def kpi_backfill(
    *,
    start: datetime,
    end: datetime,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Rebuild every interval in [start, end), a day at a time (one transaction per day).
    progress(done, total) is called per day."""
    now = now or timezone.now()
    org = _Org()
    first = _day_of(start)
    last = _day_of(end - timedelta(microseconds=1))
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    written = 0
    lo_bound = interval_floor(start)
    # The interval holding `end` is rebuilt whole: rollup rows are never partial.
    hi_bound = interval_floor(end - timedelta(microseconds=1)) + INTERVAL
    for done, day in enumerate(days, 1):
        day_start, day_end = day_bounds(day)
        lo, hi = max(day_start, lo_bound), min(day_end, hi_bound)
        rows = _compute_range(lo, hi, now=now, org=org)  # outside the write transaction
        with transaction.atomic():
            # Only whole intervals inside [lo, hi) are replaced.
            written += _write_range(lo, hi, rows)
            _refresh_days([day])
        if progress:
            progress(done, len(days))
    FillState.objects.update_or_create(name="backfill", defaults={"last_run_at": timezone.now()})
    return written

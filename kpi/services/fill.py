"""Filling the interval and daily rollups. Re-running any fill changes nothing: each interval
is recomputed whole from its sources (kpi.services.collect) and replaced, and each day is
re-summed from its intervals. One fill at a time (`_fill_lock`); the backfill fills days."""

from __future__ import annotations

import fcntl
import os
from collections import defaultdict
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from datetime import date, datetime, timedelta

from django.db import DatabaseError, connection, transaction
from django.db.models import Sum
from django.utils import timezone

from callcenter.clock import day_bounds
from kpi.models import STAT_FIELDS, DailyStat, FillState, IntervalStat, ScopeKind
from kpi.services.collect import INTERVAL, _compute_range, _Org, interval_floor
from telephony.models import Call, CallDirection, CallPhase


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

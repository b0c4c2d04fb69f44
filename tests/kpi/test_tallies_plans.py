"""The live tallies and the KPI fill read by index, however much history is on file.

A wallboard polls twice a second and every poll reads the database's change mark (the
newest event and state interval); a count reads today's calls and the waiting line; the
KPI fill reads the agent states still open or ended since its watermark. With months of
calls and state changes on file, a statement that reads the whole table costs a tenth of
a second on each of those paths (SQLite as a fresh install runs it, without ANALYZE, and
PostgreSQL after ANALYZE). These tests read the plans of the statements the functions
really run; the answers are checked too."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agents.models import AgentState, AgentStateInterval, AgentStatus, Person, Role
from callcenter.clock import day_bounds
from kpi import tallies
from kpi.models import FillState
from kpi.services.collect import interval_floor
from kpi.services.fill import kpi_fill_intervals
from kpi.services.watermarks import SOURCES, _touched_intervals
from kpi.tallies import TallyScope
from telephony.models import Call, CallEvent, CallPhase
from tests.plans import analyze, explain

pytestmark = pytest.mark.django_db

AGENTS = 40
# PostgreSQL plans the KPI fill's server-side cursor (`.iterator()`) for its first rows:
# with fewer intervals a Seq Scan looks cheaper to start than the two index ranges.
INTERVALS = 6000
CALLS = 2000
TODAY = 20
EVENTS = 3000
BIG_TABLES = ("telephony_call", "telephony_callevent", "agents_agentstateinterval")


def _plans(captured, table: str) -> list[str]:
    statements = [q["sql"] for q in captured.captured_queries]
    plans = [explain(sql) for sql in statements if f'"{table}"' in sql]
    assert plans, statements
    return plans


def _reads_whole(plan: str, table: str) -> bool:
    """A sequential read of the table: SQLite's SCAN (of the table or of a covering index
    of it), PostgreSQL's Seq Scan."""
    if connection.vendor == "sqlite":
        return any(line.strip().startswith(f"SCAN {table}") for line in plan.splitlines())
    return f"Seq Scan on {table} " in f"{plan} ".replace("\n", " \n")


@pytest.fixture
def history(org):
    """Three months of calls, events and agent states (a few thousand rows)."""
    now = timezone.now()
    people = Person.objects.bulk_create(
        Person(
            username=f"bulk{i}",
            display_name=f"bulk{i}",
            role=Role.AGENT,
            center=org.center,
            team=org.team_a,
        )
        for i in range(AGENTS)
    )
    AgentStatus.objects.bulk_create(
        AgentStatus(person=p, state=AgentState.OFFLINE, since=now) for p in people
    )
    step = timedelta(days=90) / INTERVALS
    AgentStateInterval.objects.bulk_create(
        AgentStateInterval(
            person=people[i % AGENTS],
            state=AgentState.AVAILABLE if i % 3 else AgentState.OFFLINE,
            started_at=now - timedelta(days=90) + i * step,
            ended_at=now - timedelta(days=90) + (i + 1) * step,
        )
        for i in range(INTERVALS)
    )
    # the last TODAY of them today, the others before
    start, _end = day_bounds()
    moments = [start - timedelta(days=90) + i * timedelta(days=90) / CALLS for i in range(CALLS)]
    moments[-TODAY:] = [start + i * (now - start) / TODAY for i in range(TODAY)]
    calls = Call.objects.bulk_create(
        Call(
            sid=f"CA{i:032d}",
            from_number="+821011112222",
            to_number="+8225550103",
            department=org.general,
            queue=org.q_general,
            phase=CallPhase.COMPLETED,
            enqueued_at=at,
            answered_at=at,
        )
        for i, at in enumerate(moments)
    )
    CallEvent.objects.bulk_create(
        CallEvent(call=calls[i % CALLS], kind="status", at=now) for i in range(EVENTS)
    )
    analyze(*BIG_TABLES, "agents_agentstatus", "agents_person", "telephony_queue")
    return people


def test_a_wallboard_poll_reads_the_change_mark_by_index(history):
    newest_event = CallEvent.objects.order_by("-id").values_list("id", flat=True)[0]
    newest_interval = AgentStateInterval.objects.order_by("-id").values_list("id", flat=True)[0]
    with CaptureQueriesContext(connection) as captured:
        mark = tallies.tallies_version()
    assert mark == f"{newest_event}.{newest_interval}"
    for table in ("telephony_callevent", "agents_agentstateinterval"):
        for plan in _plans(captured, table):
            assert not _reads_whole(plan, table), plan
            assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan


def test_the_count_reads_today_and_the_waiting_line_by_index(history, org):
    now = timezone.now()
    waiting = [
        # a callback booked days ago keeps its place in the line
        Call(phase=CallPhase.QUEUED, enqueued_at=now - timedelta(days=3), queue=org.q_general),
        Call(phase=CallPhase.OFFERED, enqueued_at=now - timedelta(days=1), queue=org.q_signup),
        Call(phase=CallPhase.QUEUED, enqueued_at=now, queue=org.q_signup),
    ]
    for i, call in enumerate(waiting):
        call.sid, call.from_number, call.to_number = f"CW{i:032d}", "+821033334444", "+8225550101"
        call.department = call.queue.department
        if i == 0:
            call.callback_requested_at = now - timedelta(days=3)
    Call.objects.bulk_create(waiting)
    analyze(*BIG_TABLES)
    scopes = [TallyScope("center", org.center.pk)]
    with CaptureQueriesContext(connection) as captured:
        (center,) = tallies._count(scopes)
    assert (center.offered, center.waiting, center.callbacks) == (TODAY + 1, 2, 1)
    assert center.oldest_enqueued_at == waiting[1].enqueued_at
    for plan in _plans(captured, "telephony_call"):
        assert not _reads_whole(plan, "telephony_call"), plan


def test_the_kpi_fill_finds_open_and_recently_ended_states_by_index(history):
    now = timezone.now()
    FillState.objects.bulk_create(
        FillState(name=name, watermark=now - timedelta(minutes=1)) for name in SOURCES
    )
    recent = AgentStateInterval.objects.create(
        person=history[0],
        state=AgentState.AVAILABLE,
        started_at=now - timedelta(hours=1),
        ended_at=now - timedelta(minutes=2),
    )
    with CaptureQueriesContext(connection) as captured:
        starts, _marks = _touched_intervals(now)
    assert interval_floor(recent.ended_at) in starts
    plans = _plans(captured, "agents_agentstateinterval")
    with CaptureQueriesContext(connection) as captured:
        kpi_fill_intervals(starts=[interval_floor(now)], now=now)
    plans += _plans(captured, "agents_agentstateinterval")
    for plan in plans:
        assert not _reads_whole(plan, "agents_agentstateinterval"), plan

"""Route decisions/s and p50/p99 per decision with 2,000 available agents and 500 queued
calls, through the real router (`acd_route`'s batches of `acd_offer_batch`) on the
configured database.

Baseline, same run, same connection: the cheapest committed write the ORM can do, one
`CallEvent` row inserted in its own transaction. A routing decision can never cost less
than that (it must commit an offer), so the ratio reads "a decision costs 1/ratio minimal
commits" and stays meaningful across machines and databases (SQLite WAL vs PostgreSQL).

Each round offers all 500 calls the way acd_route does (batches of ROUTE_BATCH pairs, one
transaction each; a decision's latency is its batch's wall time); between rounds the offers are expired, the offered calls
ended and the agents made available again outside the clock, so every round sees 2,000
available agents and a full queue of 500. A profiling pass counts the queries of one
decision and which statements take the time.
"""

from __future__ import annotations

import os
import re
import statistics
import time
import uuid
from collections import defaultdict
from datetime import timedelta

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench._org import bench_department

AGENTS = 2000
CALLS = 500
ROUNDS = int(os.environ.get("BENCH_ROUTING_ROUNDS", "10"))
ROUND_BUDGET_S = 25.0  # no new round after this, so a loaded machine still ends in time
RATE_TARGET = 2000.0
P99_TARGET_MS = 10.0


def _setup():
    from agents.models import (
        AgentState,
        AgentStateInterval,
        AgentStatus,
        Person,
        QueueMembership,
        Team,
    )

    department, queue = bench_department(name="bench-routing", phone_number="+8225559105")
    now = timezone.now()
    teams = Team.objects.bulk_create(
        Team(department=department, name=f"bench team {t}") for t in range(AGENTS // 100)
    )
    if teams[0].pk is None:
        teams = list(Team.objects.filter(department=department).order_by("pk"))
    people = Person.objects.bulk_create(
        Person(
            username=f"bench-agent-{i}",
            password="!",  # unusable: nobody logs in as a bench agent
            display_name=f"bench agent {i}",
            role="agent",
            center=department.center,
            team=teams[i % len(teams)],
        )
        for i in range(AGENTS)
    )
    if people[0].pk is None:  # backends without RETURNING ids
        people = list(Person.objects.filter(username__startswith="bench-agent-").order_by("pk"))
    since = now - timedelta(hours=1)
    AgentStatus.objects.bulk_create(
        AgentStatus(
            person=p,
            state=AgentState.AVAILABLE,
            since=since,
            available_since=since + timedelta(milliseconds=i),
        )
        for i, p in enumerate(people)
    )
    AgentStateInterval.objects.bulk_create(
        AgentStateInterval(person=p, state=AgentState.AVAILABLE, started_at=since) for p in people
    )
    QueueMembership.objects.bulk_create(
        QueueMembership(person=p, queue=queue, proficiency=1 + i % 10) for i, p in enumerate(people)
    )
    return department, queue, [p.pk for p in people]


def _enqueue(department, queue, n: int, *, analyze: bool = False) -> None:
    from telephony.models import Call, CallPhase

    now = timezone.now()
    Call.objects.bulk_create(
        Call(
            sid=f"CA{uuid.uuid4().hex}",
            from_number=f"+8210{60000000 + i:08d}",
            to_number=department.phone_number,
            department=department,
            queue=queue,
            phase=CallPhase.QUEUED,
            twilio_status="in-progress",
            # A realistic mix: most first-time callers, some with open tickets, a few VIPs.
            priority=20 if i % 10 == 0 else (10 if i % 5 == 0 else 0),
            enqueued_at=now - timedelta(seconds=n - i),
        )
        for i in range(n)
    )
    if analyze:
        _analyze()


def _analyze() -> None:
    """Bulk-created rows leave PostgreSQL's planner statistics empty (it then plans for a
    handful of agents and joins 2,000 × 2,000); a live database has them from autovacuum.

    Once, with a round's rows in place (before the warm-up round), not before every round:
    an ANALYZE discards the cached plans of the statements on its tables, so the next batch
    plans every statement again (a round's first batch took 7.5 ms on average against 4.9
    for the others, and the ten first batches alone set the p99). Autovacuum looks at a
    table at most once a minute, in which a router makes hundreds of batches; the cost of
    the batch after an ANALYZE is measured apart (`after_analyze` in run())."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def _reset(queue, person_ids: list[int]) -> None:
    """Outside the clock: expire the round's offers, end its calls, free its agents."""
    from agents.models import AgentState, AgentStatus
    from telephony.models import Call, CallPhase, Offer, OfferStatus

    now = timezone.now()
    with transaction.atomic():
        Offer.objects.filter(call__queue=queue, status=OfferStatus.PENDING).update(
            status=OfferStatus.EXPIRED, decided_at=now
        )
        Call.objects.filter(queue=queue).exclude(phase=CallPhase.QUEUED).update(
            phase=CallPhase.ABANDONED, ended_at=now
        )
        AgentStatus.objects.filter(person_id__in=person_ids).exclude(
            state=AgentState.AVAILABLE
        ).update(state=AgentState.AVAILABLE, since=now, available_since=now)


def _decide(queue_id: int, n: int) -> tuple[list[float], list[float], int, float]:
    """Route the queue as the worker does (acd_route: batches of ROUTE_BATCH pairs, one
    transaction each). Every decision in a batch is committed when the batch commits, so
    each counts the batch's whole wall time as its latency (no amortising)."""
    from telephony.models import Queue
    from telephony.services.routing import ROUTE_BATCH, acd_offer_batch

    queue = Queue.objects.prefetch_related("tiers").get(pk=queue_id)
    latencies: list[float] = []
    batches: list[float] = []
    offered = 0
    cpu0 = time.process_time()
    while offered < n:
        t0 = time.perf_counter()
        offers = acd_offer_batch(queue=queue, limit=ROUTE_BATCH)
        took = time.perf_counter() - t0
        if not offers:
            break
        batches.append(took)
        latencies += [took] * len(offers)
        offered += len(offers)
    return latencies, batches, offered, time.process_time() - cpu0


def _decide_single(queue_id: int, n: int) -> list[float]:
    """The event path: one decision per transaction (acd_offer_next)."""
    from telephony.services.routing import acd_offer_next

    latencies = []
    for _ in range(n):
        t0 = time.perf_counter()
        acd_offer_next(queue_id=queue_id)
        latencies.append(time.perf_counter() - t0)
    return latencies


def _baseline(call_id: int, n: int) -> list[float]:
    from telephony.models import CallEvent

    latencies = []
    for _ in range(n):
        t0 = time.perf_counter()
        with transaction.atomic():
            CallEvent.objects.create(call_id=call_id, kind="bench", at=timezone.now())
        latencies.append(time.perf_counter() - t0)
    return latencies


def _batch_size() -> int:
    from telephony.services.routing import ROUTE_BATCH

    return ROUTE_BATCH


def _pct(latencies: list[float], p: float) -> float:
    data = sorted(latencies)
    return data[min(len(data) - 1, max(0, round(p / 100 * len(data)) - 1))] * 1000


_LITERALS = re.compile(r"('[^']*'|\b\d+(\.\d+)?\b|%s)")


def _profile(queue_id: int, n: int = 50) -> tuple[float, float, list[str]]:
    """Queries per decision, share of the decision's time spent in SQL, heaviest statements."""
    from telephony.services.routing import acd_offer_next

    by_shape: dict[str, list[float]] = defaultdict(list)
    total = 0
    t0 = time.perf_counter()
    with CaptureQueriesContext(connection) as ctx:
        for _ in range(n):
            acd_offer_next(queue_id=queue_id)
    wall = time.perf_counter() - t0
    for q in ctx.captured_queries:
        shape = _LITERALS.sub("?", q["sql"])
        by_shape[shape].append(float(q["time"]))
        total += 1
    sql_s = sum(sum(v) for v in by_shape.values())
    top = sorted(by_shape.items(), key=lambda kv: -sum(kv[1]))[:4]
    lines = [
        f"{sum(t) / n * 1000:.2f} ms/decision ×{len(t) / n:g}: {shape[:110]}…" for shape, t in top
    ]
    return total / n, sql_s / wall if wall else 0.0, lines


def run() -> dict:
    from telephony.models import Call

    t0 = time.perf_counter()
    department, queue, person_ids = _setup()
    setup_s = time.perf_counter() - t0
    latencies: list[float] = []
    base: list[float] = []
    offered = 0
    batches: list[float] = []
    cpu_s = 0.0
    # A warm-up round, not counted: a process's first routing fills Django's caches, which a
    # long-running worker did long before the calls it routes now.
    _reset(queue, person_ids)
    _enqueue(department, queue, CALLS, analyze=True)
    _decide(queue.pk, CALLS)
    rounds_started = time.perf_counter()
    for _ in range(ROUNDS):
        if latencies and time.perf_counter() - rounds_started > ROUND_BUDGET_S:
            break
        _reset(queue, person_ids)
        _enqueue(department, queue, CALLS)
        lat, batch_times, ok, cpu = _decide(queue.pk, CALLS)
        latencies += lat
        batches += batch_times
        offered += ok
        cpu_s += cpu
        # The baseline right after each round, so both see the same machine load.
        anchor = Call.objects.filter(queue=queue).values_list("pk", flat=True).first()
        base += _baseline(anchor, CALLS)
    # A round right after an ANALYZE, as after autovacuum's (not in the figures above).
    _reset(queue, person_ids)
    _enqueue(department, queue, CALLS, analyze=True)
    _lat, after_analyze, *_ = _decide(queue.pk, CALLS)
    # Profiling pass on a fresh round (its decisions are not in the figures above).
    _reset(queue, person_ids)
    _enqueue(department, queue, CALLS)
    queries, sql_share, heavy = _profile(queue.pk)
    # The single-decision event path, for comparison (not the target's figure).
    _reset(queue, person_ids)
    _enqueue(department, queue, CALLS)
    single = _decide_single(queue.pk, 200)

    decisions_per_s = len(latencies) / sum(batches)
    writes_per_s = len(base) / sum(base)
    p50, p99 = _pct(latencies, 50), _pct(latencies, 99)
    notes = [
        f"{AGENTS:,} available agents in one queue, {CALLS} queued calls, "
        f"{len(latencies) // CALLS} rounds = "
        f"{len(latencies):,} decisions ({offered:,} offers made; every decision should offer); "
        f"bulk setup {setup_s:.1f} s",
        f"baseline: one CallEvent insert per transaction, {len(base):,} commits, p50 "
        f"{_pct(base, 50):.2f} ms, p99 {_pct(base, 99):.2f} ms",
        f"profile of 50 single decisions (event path): {queries:.1f} queries per decision, {sql_share:.0%} of the "
        "decision's wall time inside the database driver (the rest is Python: ORM, services)",
        *(f"heaviest: {line}" for line in heavy),
        f"batches: {len(batches)} of up to {_batch_size()} pairs, mean "
        f"{statistics.fmean(batches) * 1000:.2f} ms, p95 {_pct(batches, 95):.1f} ms, max "
        f"{max(batches) * 1000:.1f} ms, {sum(b > P99_TARGET_MS / 1000 for b in batches)} over "
        f"{P99_TARGET_MS:.0f} ms; a decision's latency is its whole batch's commit time "
        "(after a warm-up round, not counted)",
        f"right after an ANALYZE (its statements planned again; autovacuum's come at most "
        f"once a minute), not counted: first batch {after_analyze[0] * 1000:.1f} ms, that "
        f"round's batches {statistics.fmean(after_analyze) * 1000:.2f} ms on average"
        if after_analyze
        else "right after an ANALYZE: nothing routed",
        f"single-decision event path (acd_offer_next, one transaction each): "
        f"{len(single) / sum(single):,.0f}/s, p50 {_pct(single, 50):.2f} ms, "
        f"p99 {_pct(single, 99):.2f} ms",
    ]
    return {
        "metrics": [
            {
                "metric": "route decisions (acd_route batches, 2,000 agents, 500 calls)",
                "measured": decisions_per_s,
                "unit": "/s",
                "baseline": writes_per_s,
                "baseline_unit": "commits/s",
                "ratio": decisions_per_s / writes_per_s,
                "target": f"≥ {RATE_TARGET:,.0f}/s",
                "passed": decisions_per_s >= RATE_TARGET and offered == len(latencies),
            },
            {
                "metric": "route decision p50",
                "measured": p50,
                "unit": "ms",
                "baseline": _pct(base, 50),
                "ratio": p50 / _pct(base, 50),
                "target": "-",
                "passed": None,
            },
            {
                "metric": "route decision p99",
                "measured": p99,
                "unit": "ms",
                "baseline": _pct(base, 99),
                "ratio": p99 / _pct(base, 99),
                "target": f"< {P99_TARGET_MS:.0f} ms",
                "passed": p99 < P99_TARGET_MS,
            },
            {
                "metric": "CPU time per route decision (this process)",
                "measured": cpu_s / len(latencies) * 1000,
                "unit": "ms",
                "target": "-",
                "passed": None,
            },
            {
                "metric": "queries per route decision",
                "measured": queries,
                "unit": "",
                "target": "-",
                "passed": None,
            },
        ],
        "notes": notes,
    }

"""KPI at scale: a year of calls for 1,000 agents generated in SQL, then

- full backfill of the rollups (kpi_backfill over the whole year),
- incremental rollup per 15-minute interval (one interval's new calls, then the periodic fill),
- dashboard p95 per role against a minimal Django view measured in the same run.

Scale: BENCH_KPI_CALLS (default 10,000,000), BENCH_KPI_AGENTS (1,000), BENCH_KPI_DAYS (365);
e.g. `make bench BENCH_ARGS=kpi BENCH_KPI_CALLS=200000` for a quick run. Needs PostgreSQL
(generate_series): BENCH_DATABASE_URL=postgres://…/wt6bench.
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import datetime, timedelta

CALLS = int(os.environ.get("BENCH_KPI_CALLS", "10000000"))
AGENTS = int(os.environ.get("BENCH_KPI_AGENTS", "1000"))
DAYS = int(os.environ.get("BENCH_KPI_DAYS", "365"))
TEAM_SIZE = 10
DEPARTMENTS = 4
CUSTOMERS = max(1000, CALLS // 40)
REQUESTS = int(os.environ.get("BENCH_KPI_REQUESTS", "40"))
INTERVALS = int(os.environ.get("BENCH_KPI_INTERVALS", "8"))


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _org():
    from django.contrib.auth.hashers import make_password

    from agents.models import Center, Department, DepartmentKind, Person, Role, Team
    from telephony.models import Queue

    center = Center.objects.create(name="bench kpi center")
    kinds = [
        DepartmentKind.SIGNUP,
        DepartmentKind.CANCELLATION,
        DepartmentKind.GENERAL,
        DepartmentKind.GENERAL,
    ]
    departments = [
        Department.objects.create(
            center=center, name=f"kpi dept {i}", kind=kinds[i], phone_number=f"+8229990{i:04d}"
        )
        for i in range(DEPARTMENTS)
    ]
    queues = [Queue.objects.create(department=d, name=f"{d.name} queue") for d in departments]
    n_teams = max(1, AGENTS // TEAM_SIZE)
    teams = Team.objects.bulk_create(
        [
            Team(department=departments[t % DEPARTMENTS], name=f"kpi team {t}")
            for t in range(n_teams)
        ]
    )
    password = make_password("bench")
    people = [
        Person(
            username=f"kpi-agent-{i}",
            display_name=f"agent {i}",
            role=Role.AGENT,
            center=center,
            team=teams[i // TEAM_SIZE % n_teams],
            password=password,
        )
        for i in range(AGENTS)
    ]
    people += [
        Person(
            username=f"kpi-lead-{t}",
            display_name=f"lead {t}",
            role=Role.TEAM_LEAD,
            center=center,
            team=teams[t],
            password=password,
        )
        for t in range(n_teams)
    ]
    Person.objects.bulk_create(people, batch_size=2000)
    manager = Person.objects.create(
        username="kpi-manager",
        display_name="manager",
        role=Role.MANAGER,
        center=center,
        password=password,
    )
    manager.managed_departments.add(departments[0], departments[1])
    director = Person.objects.create(
        username="kpi-director",
        display_name="director",
        role=Role.DIRECTOR,
        center=center,
        password=password,
    )
    agents = list(
        Person.objects.filter(username__startswith="kpi-agent-")
        .order_by("id")
        .values_list("id", "team_id", "team__department_id")
    )
    queue_of = {q.department_id: q.pk for q in queues}
    return center, agents, queue_of, manager, director


def _generate(agents, queue_of, start: datetime) -> dict:
    """Customers, calls, agent-state intervals and surveys, each one INSERT … SELECT over
    generate_series (no ORM loop)."""
    from django.db import connection

    timings = {}
    with connection.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE bench_agent (idx int primary key, agent_id bigint, "
            "team_id bigint, department_id bigint, queue_id bigint)"
        )
        cur.executemany(
            "INSERT INTO bench_agent VALUES (%s, %s, %s, %s, %s)",
            [(i, a, t, d, queue_of[d]) for i, (a, t, d) in enumerate(agents)],
        )
        t0 = time.perf_counter()
        cur.execute(
            "INSERT INTO tickets_customer (name, phone, email, is_vip, created_at) "
            "SELECT '', '+8210' || lpad(g::text, 8, '0'), '', false, %s "
            "FROM generate_series(1, %s) g",
            [start, CUSTOMERS],
        )
        cur.execute("SELECT min(id) FROM tickets_customer")
        first_customer = cur.fetchone()[0]
        timings["customers_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        # Each call: a day of the year, an arrival between 09:00 and 18:00 (center time),
        # an agent (round robin over the 1,000), 6 % abandoned, the rest handled.
        cur.execute(
            """
            INSERT INTO telephony_call (
                sid, segment, direction, language, from_number, to_number, department_id,
                queue_id, customer_id, phase, twilio_status, last_sequence_number, priority,
                agent_id, team_id, enqueued_at, answered_at, ended_at, wrapup_ended_at,
                queue_wait_seconds, talk_seconds, hold_seconds, acw_seconds,
                recording_sid, recording_url, recording_status, recording_error_code,
                callback_number, callback_sid, queue_exit, conference_sid, agent_call_sid,
                notepad, handover, updated_at)
            SELECT 'CA' || lpad(to_hex(g), 32, '0'), 0, 'inbound', 'ko',
                '+8210' || lpad((c.cust - %(fc)s + 1)::text, 8, '0'), '+8229990000',
                a.department_id, a.queue_id, c.cust,
                CASE WHEN c.ab THEN 'abandoned' ELSE 'completed' END, 'completed', 3, 0,
                CASE WHEN c.ab THEN NULL ELSE a.agent_id END,
                CASE WHEN c.ab THEN NULL ELSE a.team_id END,
                c.enq,
                CASE WHEN c.ab THEN NULL ELSE c.enq + c.wait * interval '1 second' END,
                c.enq + (c.wait + c.talk + c.hold) * interval '1 second',
                CASE WHEN c.ab THEN NULL
                     ELSE c.enq + (c.wait + c.talk + c.hold + c.acw) * interval '1 second' END,
                c.wait, CASE WHEN c.ab THEN NULL ELSE c.talk END, c.hold,
                CASE WHEN c.ab THEN NULL ELSE c.acw END,
                '', '', '', '', '', '', '', '', '', '', '',
                c.enq + (c.wait + c.talk + c.hold + c.acw) * interval '1 second'
            FROM generate_series(1, %(n)s) g
            CROSS JOIN LATERAL (
                SELECT %(start)s::timestamptz + ((g %% %(days)s) * interval '1 day')
                         + interval '9 hours' + random() * interval '9 hours' AS enq,
                       random() < 0.06 AS ab,
                       (random() * random() * 60)::float AS wait,
                       (60 + random() * 420)::float AS talk,
                       CASE WHEN random() < 0.2 THEN random() * 60 ELSE 0 END::float AS hold,
                       (10 + random() * 110)::float AS acw,
                       %(fc)s + (random() * (%(nc)s - 1))::bigint AS cust
            ) c
            JOIN bench_agent a ON a.idx = g %% %(agents)s
            """,
            {
                "fc": first_customer,
                "n": CALLS,
                "start": start,
                "days": DAYS,
                "agents": len(agents),
                "nc": CUSTOMERS,
            },
        )
        timings["calls_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        # Each agent-day: available 09–12, lunch 12–13, on calls 13–16, wrap-up 16–16:30,
        # available 16:30–18.
        cur.execute(
            """
            INSERT INTO agents_agentstateinterval (person_id, state, reason, started_at, ended_at)
            SELECT a.agent_id, s.state, s.reason,
                   %(start)s::timestamptz + d * interval '1 day' + s.lo * interval '1 minute',
                   %(start)s::timestamptz + d * interval '1 day' + s.hi * interval '1 minute'
            FROM bench_agent a
            CROSS JOIN generate_series(0, %(days)s - 1) d
            CROSS JOIN (VALUES ('available', '', 540, 720), ('not_ready', 'lunch', 720, 780),
                               ('on_call', '', 780, 960), ('wrap_up', '', 960, 990),
                               ('available', '', 990, 1080)) s(state, reason, lo, hi)
            """,
            {"start": start, "days": DAYS},
        )
        timings["states_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        # One handled call in 20 answered an SMS survey an hour after wrap-up.
        cur.execute(
            """
            INSERT INTO kpi_survey (channel, call_sid, call_id, agent_id, customer_id, phone,
                sent_at, message_sid, score, answered_at, reply_text, reply_message_sid,
                clarified_message_sid, updated_at)
            SELECT 'sms', sid, id, agent_id, customer_id, from_number, wrapup_ended_at, '',
                   1 + floor(random() * 5)::int, wrapup_ended_at + interval '1 hour', '', '', '',
                   wrapup_ended_at + interval '1 hour'
            FROM telephony_call WHERE phase = 'completed' AND id %% 20 = 0
            """,
            [],
        )
        timings["surveys_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        cur.execute("ANALYZE")
        timings["analyze_s"] = time.perf_counter() - t0
    return timings


def _incremental(agents, queue_of, now: datetime) -> list[float]:
    """One interval's worth of new calls lands (their updated_at inside the interval, as
    live writes would be), then the periodic fill runs: its time."""
    from django.db import connection

    from kpi.models import FillState
    from kpi.services.watermarks import kpi_fill_incremental

    per_interval = max(1, CALLS // (DAYS * 36))  # 36 quarter-hours from 09:00 to 18:00
    for name in ["calls", "surveys", "states", "pii", "fcr_windows", "qa"]:
        FillState.objects.update_or_create(name=name, defaults={"watermark": now})
    times = []
    with connection.cursor() as cur:
        for i in range(INTERVALS):
            moment = now + timedelta(minutes=15 * i)
            cur.execute(
                """
                INSERT INTO telephony_call (
                    sid, segment, direction, language, from_number, to_number, department_id,
                    queue_id, phase, twilio_status, last_sequence_number, priority, agent_id,
                    team_id, enqueued_at, answered_at, ended_at, wrapup_ended_at,
                    queue_wait_seconds, talk_seconds, hold_seconds, acw_seconds, recording_sid,
                    recording_url, recording_status, recording_error_code, callback_number,
                    callback_sid, queue_exit, conference_sid, agent_call_sid, notepad, handover,
                    updated_at)
                SELECT 'CA' || md5(%(at)s::text || '-' || g::text), 0, 'inbound', 'ko',
                    '+821099990000', '+8229990000', a.department_id, a.queue_id, 'completed',
                    'completed', 3, 0, a.agent_id, a.team_id,
                    %(at)s::timestamptz - interval '10 minutes', %(at)s::timestamptz - interval '9 minutes',
                    %(at)s::timestamptz - interval '4 minutes', %(at)s::timestamptz - interval '2 minutes',
                    12, 300, 0, 120, '', '', '', '', '', '', '', '', '', '', '',
                    %(at)s::timestamptz - interval '1 minute'
                FROM generate_series(1, %(n)s) g JOIN bench_agent a ON a.idx = g %% %(agents)s
                """,
                {"i": i, "at": moment, "n": per_interval, "agents": len(agents)},
            )
            t0 = time.perf_counter()
            written = kpi_fill_incremental(now=moment)
            times.append(time.perf_counter() - t0)
            assert written > 0, "the new interval's calls were not picked up"
    return times


def _dashboards(manager, director, agents, center) -> dict:
    from django.test import Client

    from agents.models import Person

    agent = Person.objects.get(pk=agents[len(agents) // 2][0])
    lead = Person.objects.filter(role="team_lead", team_id=agent.team_id).first()
    today = datetime.now().date()  # noqa: DTZ005 - a date for the query string only
    month_ago = today - timedelta(days=30)
    year_ago = today - timedelta(days=DAYS - 1)
    cases = {
        "agent": (agent, "/kpi/"),
        "team lead": (lead, "/kpi/"),
        "manager (30 days)": (manager, f"/kpi/?start={month_ago}&end={today}"),
        "director (whole year)": (director, f"/kpi/?start={year_ago}&end={today}"),
    }
    out = {}

    def measure(client, path):
        client.get(path)  # warm
        samples = []
        for _ in range(REQUESTS):
            t0 = time.perf_counter()
            response = client.get(path)
            samples.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, (path, response.status_code)
        return samples

    baseline_client = Client(SERVER_NAME="127.0.0.1")
    baseline_client.force_login(director)
    baseline = _p(measure(baseline_client, "/bench/ping/"), 0.95)
    for role, (person, path) in cases.items():
        client = Client(SERVER_NAME="127.0.0.1")
        client.force_login(person)
        samples = measure(client, path)
        p95 = _p(samples, 0.95)
        out[role] = {
            "measured": round(p95, 1),
            "unit": "ms p95",
            "baseline": round(baseline, 2),
            "baseline_unit": "ms p95 (minimal view)",
            "ratio": round(p95 / baseline, 1),
            "target": "< 300 ms",
            "passed": p95 < 300,
            "median_ms": statistics.median(samples),
        }
    return out


def run() -> dict:
    from django.db import connection
    from django.utils import timezone

    from kpi.models import IntervalStat
    from kpi.services.fill import kpi_backfill

    if connection.vendor != "postgresql":
        return {
            "metrics": [{"metric": "skipped", "passed": None}],
            "notes": ["the KPI bench needs PostgreSQL: BENCH_DATABASE_URL=postgres://…/…bench"],
        }
    tz = timezone.get_current_timezone()
    today = timezone.localdate()
    start = datetime.combine(today - timedelta(days=DAYS), datetime.min.time()).replace(tzinfo=tz)
    end = datetime.combine(today, datetime.min.time()).replace(tzinfo=tz)
    center, agents, queue_of, manager, director = _org()
    t0 = time.perf_counter()
    gen = _generate(agents, queue_of, start)
    generate_s = time.perf_counter() - t0
    days_done = [0]

    def progress(done, total):
        days_done[0] = done
        if done % 30 == 0 or done == total:
            print(f"bench: kpi backfill {done}/{total} days", flush=True)

    t0 = time.perf_counter()
    rows = kpi_backfill(start=start, end=end, now=timezone.now(), progress=progress)
    backfill_s = time.perf_counter() - t0
    with connection.cursor() as cur:
        cur.execute("ANALYZE kpi_intervalstat; ANALYZE kpi_dailystat")
    now = datetime.combine(today, datetime.min.time()).replace(tzinfo=tz) + timedelta(hours=10)
    incremental = _incremental(agents, queue_of, now)
    dashboards = _dashboards(manager, director, agents, center)
    metrics = [
        {
            "metric": f"generate {CALLS:,} calls, {len(agents):,} agents, {DAYS} days (SQL)",
            "measured": round(generate_s, 1),
            "unit": "s",
        },
        {
            "metric": "full backfill (15-min + daily rollups)",
            "measured": round(backfill_s, 1),
            "unit": "s",
            "target": "-",
        },
        {
            "metric": "full backfill per day of calls",
            "measured": round(backfill_s / DAYS, 3),
            "unit": "s",
        },
        {
            "metric": f"incremental fill per 15-min interval (p50 of {len(incremental)})",
            "measured": round(statistics.median(incremental), 3),
            "unit": "s",
        },
        {
            "metric": "incremental fill per 15-min interval (max)",
            "measured": round(max(incremental), 3),
            "unit": "s",
            "target": "< 15-min interval",
            "passed": max(incremental) < 900,
        },
    ]
    for role, row in dashboards.items():
        metrics.append(
            {
                "metric": f"dashboard p95: {role}",
                **{k: v for k, v in row.items() if k != "median_ms"},
            }
        )
    notes = [
        f"rollup rows written by the backfill: {rows:,} ({IntervalStat.objects.count():,} "
        "15-minute rows kept)",
        "generation: " + ", ".join(f"{k} {v:.1f}" for k, v in gen.items()),
        "dashboard medians (ms): "
        + ", ".join(f"{role} {row['median_ms']:.1f}" for role, row in dashboards.items()),
    ]
    return {"metrics": metrics, "notes": notes}

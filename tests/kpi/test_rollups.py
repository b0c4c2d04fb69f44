"""KPI formulas on a hand-computed fixture, rollup idempotency, backfill = live fill."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from kpi import formulas
from kpi.models import STAT_FIELDS, DailyStat, IntervalStat
from kpi.selectors.rows import kpi_rows_for
from kpi.services.collect import interval_floor
from kpi.services.fill import kpi_backfill
from kpi.services.watermarks import kpi_fill_incremental
from telephony.services.calls import call_hangup, call_status_update, offer_accept
from telephony.services.receiving import call_receive
from telephony.services.routing import acd_route
from telephony.services.wrapup import wrapup_submit
from telephony.simulator import new_call_sid
from tests.conftest import GENERAL_NUMBER, make_available


def test_formulas_follow_domain_md():
    assert formulas.aht(talk=300, hold=60, acw=90, handled=3) == 150
    assert formulas.aht(talk=0, hold=0, acw=0, handled=0) is None  # nothing handled → no value
    assert formulas.asa(wait_answered=30, answered=2) == 15
    assert formulas.asa(wait_answered=0, answered=0) is None
    assert formulas.abandon_rate(abandoned=3, short_abandoned=1, offered=11) == pytest.approx(0.2)
    assert formulas.service_level(
        answered_within=8, answered=10, abandoned=3, short_abandoned=1
    ) == pytest.approx(8 / 12)


def handle(org, agent, *, arrive, wait, talk, acw):
    call = call_receive(
        sid=new_call_sid(), from_number="+821012340000", to_number=GENERAL_NUMBER, at=arrive
    )
    offers = acd_route(at=arrive)
    offer = next(o for o in offers if o.call_id == call.pk)
    answered = arrive + timedelta(seconds=wait)
    offer_accept(agent=agent, offer_id=offer.pk, at=answered)
    ended = answered + timedelta(seconds=talk)
    call_hangup(agent=agent, call_id=call.pk, at=ended)
    wrapup_submit(
        agent=agent,
        call_id=call.pk,
        disposition_id=org.general.dispositions.first().pk,
        note="n",
        subject="s",
        at=ended + timedelta(seconds=acw),
    )
    return call


@pytest.fixture
def day(org):
    """Today 10:00–10:30 local: agent1 handles two calls, agent3 one, one caller abandons."""
    tz = timezone.get_current_timezone()
    base = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0)
    if base > timezone.now():
        base -= timedelta(days=1)
    base = base.astimezone(tz)
    make_available(org.agent1, at=base - timedelta(minutes=1))
    make_available(org.agent3, at=base)
    # Each call goes to the longest-idle agent; the order below makes that the named one.
    handle(org, org.agent1, arrive=base + timedelta(minutes=1), wait=10, talk=200, acw=50)  # 250 s
    handle(org, org.agent3, arrive=base + timedelta(minutes=2), wait=5, talk=400, acw=100)  # 500 s
    handle(org, org.agent1, arrive=base + timedelta(minutes=7), wait=15, talk=100, acw=20)  # 120 s
    lost = call_receive(
        sid=new_call_sid(),
        from_number="+821099990000",
        to_number=GENERAL_NUMBER,
        at=base + timedelta(minutes=3),
    )
    call_status_update(
        sid=lost.sid, status="completed", sequence_number=0, at=base + timedelta(minutes=4)
    )
    return base


def rows_by_key(person, base):
    start = base.replace(hour=0, minute=0)
    return {
        (r.scope.kind, r.scope.id): r
        for r in kpi_rows_for(person, start=start, end=start + timedelta(days=1))
    }


def test_aht_and_asa_per_agent_team_department_center(org, day):
    kpi_fill_incremental()
    rows = rows_by_key(org.director, day)
    a1 = rows[("agent", org.agent1.pk)]
    assert (a1.handled, a1.aht, a1.asa) == (2, 185, 12.5)
    a3 = rows[("agent", org.agent3.pk)]
    assert (a3.handled, a3.aht, a3.asa) == (1, 500, 5)
    center = rows[("center", org.center.pk)]
    assert center.handled == 3 and center.aht == 290 and center.asa == 10
    assert (center.offered, center.answered, center.abandoned) == (4, 3, 1)
    assert rows[("team", org.team_a.pk)].aht == 185
    assert rows[("department", org.general.pk)].handled == 3
    assert rows[("agent", org.agent2.pk)].aht is None  # nothing handled: no value, not 0


def test_a_team_lead_sees_their_team_only_on_the_kpi_page(client, org, day):
    kpi_fill_incremental()
    client.force_login(org.lead1)
    body = client.get("/kpi/").content.decode()
    assert "agent1" in body and "agent3" not in body


def test_filling_twice_changes_nothing(org, day):
    kpi_fill_incremental()
    first = sorted(
        IntervalStat.objects.values_list(
            "scope_kind", "scope_id", "interval_start", "handled", "talk_seconds"
        )
    )
    kpi_fill_incremental()
    kpi_fill_incremental()
    assert (
        sorted(
            IntervalStat.objects.values_list(
                "scope_kind", "scope_id", "interval_start", "handled", "talk_seconds"
            )
        )
        == first
    )


def _rounded(rows):
    """Seconds are float sums: a daily row adds its intervals in whatever order they come, so
    the last bits may differ (11846.475699 vs 11846.475698999999); microseconds decide."""
    return sorted(tuple(round(v, 6) if isinstance(v, float) else v for v in row) for row in rows)


def all_rollups():
    interval = _rounded(
        IntervalStat.objects.values_list("scope_kind", "scope_id", "interval_start", *STAT_FIELDS)
    )
    daily = _rounded(
        DailyStat.objects.values_list(
            "scope_kind", "scope_id", "day", "agents_handling", *STAT_FIELDS
        )
    )
    return interval, daily


def test_backfill_equals_live_fill(org, day):
    now = timezone.now()
    kpi_fill_incremental(now=now)
    live = all_rollups()
    assert live[0] and live[1]
    IntervalStat.objects.all().delete()
    DailyStat.objects.all().delete()
    kpi_backfill(start=day.replace(hour=0, minute=0), end=now, now=now)
    assert all_rollups() == live


def test_intervals_are_quarter_hours_in_center_time():
    tz = timezone.get_current_timezone()
    assert interval_floor(datetime(2026, 11, 22, 10, 29, 59, tzinfo=tz)) == datetime(
        2026, 11, 22, 10, 15, tzinfo=tz
    )
    assert interval_floor(datetime(2026, 11, 22, 10, 30, tzinfo=tz)) == datetime(
        2026, 11, 22, 10, 30, tzinfo=tz
    )


def test_kpi_page_query_count_does_not_grow_with_people(
    client, org, day, django_assert_max_num_queries
):
    kpi_fill_incremental()
    client.force_login(org.director)
    with django_assert_max_num_queries(16):
        assert client.get("/kpi/").status_code == 200


def test_the_backfill_command_shows_progress_and_rejects_bad_dates(org, day):
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command("kpi_backfill", days=2, stdout=out)
    assert "2/3 days" in out.getvalue() or "3/3 days" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("kpi_backfill", start="2026-13-01", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("kpi_backfill", start="2026-03-05", end="2026-03-01", stdout=StringIO())


def test_the_fill_computes_outside_the_write_transaction(org, day, monkeypatch):
    """On SQLite a transaction holds the one write lock: the ACD's sweep and the webhooks
    must not wait while the fill computes."""
    from django.db import connection

    from kpi.services import fill

    compute = fill._compute_range
    depth = len(connection.atomic_blocks)  # (the test's own transaction)
    depths = []

    def watched(*args, **kwargs):
        depths.append(len(connection.atomic_blocks))
        return compute(*args, **kwargs)

    monkeypatch.setattr(fill, "_compute_range", watched)
    assert kpi_fill_incremental() > 0
    kpi_backfill(start=day.replace(hour=0, minute=0), end=timezone.now())
    assert depths and set(depths) == {depth}


@pytest.mark.django_db(transaction=True)
def test_one_fill_at_a_time(org, day):
    """While another process fills, a second fill returns at once and writes nothing."""
    from kpi.services.fill import _fill_lock

    with _fill_lock() as held:
        assert held
        before = IntervalStat.objects.count()
        assert _fill_elsewhere() == 0
        assert IntervalStat.objects.count() == before
    assert kpi_fill_incremental() > 0  # the lock is free again


def _fill_elsewhere() -> int:
    """kpi_fill_incremental on another database connection, as another process would."""
    import threading

    from django.db import connections

    result = []

    def run():
        try:
            result.append(kpi_fill_incremental())
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(60)
    return result[0]


def test_after_a_full_backfill_the_fill_starts_from_its_mark(org, day):
    from kpi.services.collect import WATERMARK_OVERLAP
    from kpi.services.watermarks import _touched_intervals, kpi_mark_filled

    now = timezone.now()
    assert _touched_intervals(now)[0]  # never filled: every call's intervals
    kpi_backfill(start=day.replace(hour=0, minute=0), end=now, now=now)
    # (As if the backfill had ended a little later: the fill reads back the last minutes
    # before its mark again, and this test's calls were written just now.)
    kpi_mark_filled(now=now + WATERMARK_OVERLAP + timedelta(seconds=1))
    later = now + WATERMARK_OVERLAP + timedelta(minutes=1)
    # Only the agents' open states still touch the current intervals; the day's calls do not.
    assert all(start >= interval_floor(now) for start in _touched_intervals(later)[0])

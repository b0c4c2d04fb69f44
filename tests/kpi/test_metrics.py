"""Every KPI of DOMAIN.md against hand-computed fixtures, computed the way dashboards get
them: raw rows → rollups (kpi.services.fill) → sums → formulas (kpi.selectors.rows.KpiRow)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from agents.models import AgentState, AgentStateInterval
from kpi import formulas
from kpi.models import DailyStat, IntervalStat
from kpi.scopes import KpiScope
from kpi.selectors.rows import KpiRow, rows_for_scopes
from kpi.services.fill import kpi_backfill
from telephony.models import Call, CallDirection, CallEvent, CallPhase
from tests.factories import CallFactory, CustomerFactory, SurveyFactory
from tests.kpi.test_qa_scores import qa_evaluation
from tests.qa.conftest import card  # noqa: F401
from tickets.models import Disposition, PiiDetection


def at(hour, minute=0, second=0, day=0):
    tz = timezone.get_current_timezone()
    return datetime(2026, 3, 2, hour, minute, second, tzinfo=tz) + timedelta(days=day)


def rollup(org, scope, *, start, end, now=None):
    kpi_backfill(start=start, end=end, now=now or at(23, day=30))
    return rows_for_scopes([scope], start=start, end=end)[0]


def queue_scope(org):
    return KpiScope("queue", org.q_general.pk, "q")


@pytest.fixture
def sl_day(org):
    """One data set for every service-level variant (queue threshold T = 20 s, short
    abandons < 5 s), all offered 10:00–10:15:
    answered: waits 5, 10, 20 (≤T, the edge), 21, 40  → 5 answered, 3 within T
    abandoned: waits 2 (short), 15 (≤T), 30, 50        → 4 abandoned, 1 short, 2 within T
    """
    for i, wait in enumerate([5, 10, 20, 21, 40]):
        CallFactory(enqueued_at=at(10, i), wait=wait, agent=org.agent1, talk=60, acw=30)
    for i, wait in enumerate([2, 15, 30, 50]):
        CallFactory(abandoned=True, enqueued_at=at(10, 5 + i), wait=wait, department=org.general)
    # Not contacts: a failed call, an outbound follow-up, a transfer's second segment.
    CallFactory(phase=CallPhase.FAILED, enqueued_at=at(10, 10), wait=1, department=org.general)
    out = CallFactory(enqueued_at=at(10, 11), wait=0, agent=org.agent1, talk=0, acw=0)
    Call.objects.filter(pk=out.pk).update(direction=CallDirection.OUTBOUND)
    CallFactory(
        enqueued_at=at(10, 12),
        wait=3,
        agent=org.agent2,
        talk=0,
        acw=0,
        sid="CAsecondsegment",
        segment=1,
    )
    # A booked callback that never reached the caller is not answered nor abandoned.
    CallFactory(
        queued=True, enqueued_at=at(10, 13), wait=8, department=org.general, queue_exit="callback"
    )


def test_service_level_variants_on_one_data_set(org, sl_day):
    row = rollup(org, queue_scope(org), start=at(10), end=at(11))
    assert (row.offered, row.answered, row.answered_within_sl) == (10, 5, 3)
    assert (row.abandoned, row.short_abandoned, row.abandoned_within_sl) == (4, 1, 2)
    assert row.service_level_by("default") == pytest.approx(3 / (5 + 4 - 1))
    assert row.service_level_by("answered") == pytest.approx(3 / 5)
    assert row.service_level_by("answered_and_abandoned_within") == pytest.approx((3 + 2) / 9)
    assert row.service_level_by("all_abandons") == pytest.approx(3 / 9)
    assert row.service_level_by("abandoned_after_t") == pytest.approx(3 / (5 + 2))


def test_the_icmi_variant_counts_short_abandons_as_met(org, sl_day):
    # (answered≤T + short abandons) / (answered + abandoned) = (3 + 1) / (5 + 4).
    row = rollup(org, queue_scope(org), start=at(10), end=at(11))
    assert row.service_level_by("short_abandons_met") == pytest.approx(4 / 9)
    assert "short_abandons_met" in formulas.SERVICE_LEVEL_VARIANTS


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        # 100 offered: 90 answered (80 within T), 10 abandoned (4 short): (80 + 4) / 100.
        ({"answered_within": 80, "answered": 90, "abandoned": 10, "short_abandoned": 4}, 0.84),
        # Every abandon short: all met that were not answered late.
        ({"answered_within": 6, "answered": 8, "abandoned": 2, "short_abandoned": 2}, 0.8),
        # Only short abandons, nobody answered: met, 100 %.
        ({"answered_within": 0, "answered": 0, "abandoned": 3, "short_abandoned": 3}, 1.0),
        ({"answered_within": 0, "answered": 0, "abandoned": 0, "short_abandoned": 0}, None),
    ],
)
def test_icmi_service_level_formula(counts, expected):
    value = formulas.service_level_variant("short_abandons_met", abandoned_within=0, **counts)
    assert value == (None if expected is None else pytest.approx(expected))


def test_answer_rate_is_answered_over_offered(org, sl_day):
    # 응대율: 5 answered of 10 offered (short abandons and the booked callback stay offered).
    row = rollup(org, queue_scope(org), start=at(10), end=at(11))
    assert row.answer_rate == pytest.approx(5 / 10)
    assert KpiRow(KpiScope("queue", 1, "x")).answer_rate is None


def test_the_service_level_variant_is_a_setting(org, sl_day, settings):
    row = rollup(org, queue_scope(org), start=at(10), end=at(11))
    assert row.service_level == pytest.approx(3 / 8)
    settings.KPI_SERVICE_LEVEL_VARIANT = "answered"
    assert row.service_level == pytest.approx(3 / 5)


def test_abandon_rate_leaves_short_abandons_out_and_keeps_the_raw_count(org, sl_day):
    row = rollup(org, queue_scope(org), start=at(10), end=at(11))
    # (4 − 1) / (10 − 1); the callback contact stays offered, neither answered nor abandoned.
    assert row.abandon_rate == pytest.approx(3 / 9)
    assert row.abandoned == 4


def test_asa_and_aht_split(org, sl_day):
    row = rollup(org, queue_scope(org), start=at(10), end=at(11))
    assert row.asa == pytest.approx((5 + 10 + 20 + 21 + 40) / 5)
    # AHT is over handled inbound calls: the five answered ones plus the transfer segment
    # (talk 60 + hold 0 + wrap-up 30 each; the segment has talk 0, wrap-up 0).
    assert row.handled == 6
    assert row.aht == pytest.approx(5 * 90 / 6)
    assert (row.talk_mean, row.hold_mean, row.acw_mean) == (50, 0, 25)


def test_nothing_measured_gives_no_value_not_zero(org):
    row = KpiRow(KpiScope("agent", 1, "x"))
    for metric in [
        "aht",
        "asa",
        "service_level",
        "abandon_rate",
        "fcr",
        "csat",
        "occupancy",
        "utilisation",
        "calls_per_hour",
        "transfer_rate",
        "qa_average",
    ]:
        assert getattr(row, metric) is None, metric


def test_csat_counts_fours_and_fives(org):
    scores = [5, 4, 3, 1, 5]
    for i, score in enumerate(scores):
        call = CallFactory(enqueued_at=at(9, i), wait=1, agent=org.agent1, talk=10, acw=0)
        SurveyFactory(call=call, score=score, resolved=i % 2 == 0, answered_at=at(11, i))
    agent = KpiScope("agent", org.agent1.pk, "a")
    row = rollup(org, agent, start=at(9), end=at(12))
    assert row.csat == pytest.approx(3 / 5)
    assert row.csat_mean == pytest.approx(18 / 5)
    assert row.survey_fcr == pytest.approx(3 / 5)  # "resolved: yes" 3 of 5, reported apart
    # Surveys count in the interval they were answered in.
    assert not IntervalStat.objects.filter(
        interval_start=at(9), scope_kind="agent", csat_responses__gt=0
    ).exists()
    assert formulas.csat(satisfied=0, responses=0) is None


def test_occupancy_and_utilisation_from_state_intervals(org):
    """10:00–10:10 available, 10:10–10:20 on call, 10:20–10:25 wrap-up, 10:25–10:30 break:
    handling 900 s, idle 600 s, logged in 1,800 s."""
    for state, lo, hi in [
        (AgentState.AVAILABLE, at(10, 0), at(10, 10)),
        (AgentState.ON_CALL, at(10, 10), at(10, 20)),
        (AgentState.WRAP_UP, at(10, 20), at(10, 25)),
        (AgentState.NOT_READY, at(10, 25), at(10, 30)),
        (AgentState.OFFLINE, at(10, 30), at(11, 0)),
    ]:
        AgentStateInterval.objects.create(
            person=org.agent1, state=state, started_at=lo, ended_at=hi
        )
    agent = KpiScope("agent", org.agent1.pk, "a")
    row = rollup(org, agent, start=at(10), end=at(11))
    assert row.occupancy == pytest.approx(900 / 1500)
    assert row.utilisation == pytest.approx(900 / 1800)
    # Split at the 10:15 boundary: the first interval has 600 idle + 300 on call.
    first = IntervalStat.objects.get(
        interval_start=at(10), scope_kind="agent", scope_id=org.agent1.pk
    )
    assert (first.available_seconds, first.handling_state_seconds) == (600, 300)
    team = rows_for_scopes([KpiScope("team", org.team_a.pk, "t")], start=at(10), end=at(11))[0]
    assert team.logged_in_seconds == 1800


def test_calls_per_agent_per_day_and_per_hour(org):
    for i in range(6):
        CallFactory(enqueued_at=at(10, i), wait=1, agent=org.agent1, talk=30, acw=0)
    for i in range(2):
        CallFactory(enqueued_at=at(10, 10 + i), wait=1, agent=org.agent2, talk=30, acw=0)
    AgentStateInterval.objects.create(
        person=org.agent1, state=AgentState.AVAILABLE, started_at=at(9), ended_at=at(11)
    )
    day_start, day_end = at(0), at(0, day=1)
    kpi_backfill(start=day_start, end=day_end, now=at(0, day=20))
    team, agent1 = rows_for_scopes(
        [KpiScope("team", org.team_a.pk, "t"), KpiScope("agent", org.agent1.pk, "a")],
        start=day_start,
        end=day_end,
    )
    assert team.agents_handling == 2 and team.calls_per_agent_day == 4
    assert agent1.calls_per_hour == pytest.approx(3.0)  # 6 calls in 2 logged-in hours
    assert DailyStat.objects.get(scope_kind="agent", scope_id=org.agent1.pk).handled == 6


def test_transfer_and_escalation_rates(org):
    calls = [
        CallFactory(enqueued_at=at(10, i), wait=1, agent=org.agent1, talk=30, acw=0)
        for i in range(4)
    ]
    CallEvent.objects.create(
        call=calls[0], kind="transfer", at=at(10, 5), data={"transfer_kind": "agent"}
    )
    CallEvent.objects.create(
        call=calls[1], kind="transfer", at=at(10, 5), data={"transfer_kind": "escalation"}
    )
    row = rollup(org, KpiScope("agent", org.agent1.pk, "a"), start=at(10), end=at(11))
    assert (row.transfer_rate, row.escalation_rate) == (0.25, 0.25)


def test_main_task_is_the_department_kinds_success_disposition(org):
    signed = Disposition.objects.create(department=org.signup, code="signed_up", label="가입")
    info = Disposition.objects.create(department=org.signup, code="info_only", label="안내")
    for i, d in enumerate([signed, signed, info]):
        CallFactory(
            enqueued_at=at(10, i),
            wait=1,
            agent=org.agent4,
            talk=30,
            acw=0,
            department=org.signup,
            disposition=d,
        )
    row = rollup(org, KpiScope("department", org.signup.pk, "d"), start=at(10), end=at(11))
    assert row.main_task_rate == pytest.approx(2 / 3)


def test_pii_detections_count_per_agent_and_team(org):
    for i in range(3):
        PiiDetection.objects.create(
            agent=org.agent1, field="note", kind="rrn", masked="x", at=at(10, i)
        )
    row = rollup(org, KpiScope("team", org.team_a.pk, "t"), start=at(10), end=at(11))
    assert row.pii_detections == 3


def test_qa_average_comes_from_scored_qa_evaluations(org, card):  # noqa: F811
    for minute, score in ((1, 80.0), (2, 90.0), (3, None)):  # all items N/A: left out, never 0
        call = CallFactory(enqueued_at=at(10, minute), wait=1, agent=org.agent1, talk=30)
        qa_evaluation(org, card, call, score=score)
    row = rollup(org, KpiScope("agent", org.agent1.pk, "a"), start=at(10), end=at(11))
    assert (row.qa_evaluations, row.qa_average) == (2, 85)


def test_without_qa_scores_there_is_no_qa_average(org):
    row = rollup(org, KpiScope("agent", org.agent1.pk, "a"), start=at(10), end=at(11))
    assert row.qa_average is None


# --- FCR: the 7-day repeat-contact rule, and its edges ------------------------------------


def fcr_row(org, *, now):
    return rollup(
        org, KpiScope("department", org.general.pk, "d"), start=at(0), end=at(0, day=1), now=now
    )


def test_a_repeat_exactly_seven_days_later_is_a_repeat(org):
    customer = CustomerFactory()
    CallFactory(enqueued_at=at(10), wait=1, agent=org.agent1, talk=30, acw=0, customer=customer)
    CallFactory(
        enqueued_at=at(10, day=7), wait=1, agent=org.agent1, talk=30, acw=0, customer=customer
    )
    row = fcr_row(org, now=at(12, day=8))
    assert (row.fcr_eligible, row.fcr_resolved) == (1, 0)


def test_a_contact_one_second_after_the_window_is_not_a_repeat(org):
    customer = CustomerFactory()
    CallFactory(enqueued_at=at(10), wait=1, agent=org.agent1, talk=30, acw=0, customer=customer)
    CallFactory(
        enqueued_at=at(10, 0, 1, day=7), wait=1, agent=org.agent1, talk=30, acw=0, customer=customer
    )
    row = fcr_row(org, now=at(12, day=8))
    assert (row.fcr_eligible, row.fcr_resolved, row.fcr) == (1, 1, 1.0)


def test_fcr_waits_until_the_window_has_closed(org):
    customer = CustomerFactory()
    CallFactory(enqueued_at=at(10), wait=1, agent=org.agent1, talk=30, acw=0, customer=customer)
    assert fcr_row(org, now=at(10, day=7)).fcr_eligible == 0  # window still open (edge)
    assert fcr_row(org, now=at(10, 0, 1, day=7)).fcr_eligible == 1


def test_fcr_repeats_are_same_customer_same_department_and_handled(org):
    customer = CustomerFactory()
    other = CustomerFactory()
    CallFactory(
        enqueued_at=at(10),
        wait=1,
        agent=org.agent1,
        talk=30,
        acw=0,
        customer=customer,
        sid="CAfirst",
    )
    # Not repeats: another department, another customer, an abandoned call, the same
    # call's transfer segment.
    CallFactory(
        enqueued_at=at(11),
        wait=1,
        agent=org.agent4,
        talk=30,
        acw=0,
        customer=customer,
        department=org.signup,
    )
    CallFactory(enqueued_at=at(12), wait=1, agent=org.agent1, talk=30, acw=0, customer=other)
    CallFactory(
        abandoned=True, enqueued_at=at(13), wait=30, customer=customer, department=org.general
    )
    CallFactory(
        enqueued_at=at(10, 5),
        wait=1,
        agent=org.agent2,
        talk=30,
        acw=0,
        customer=customer,
        sid="CAfirst",
        segment=1,
    )
    row = fcr_row(org, now=at(12, day=9))
    # Handled in 일반 that day: the first call, its transfer segment and `other`'s call:
    # none is followed by a handled contact of the same customer in 일반.
    assert (row.fcr_eligible, row.fcr_resolved) == (3, 3)


def test_unknown_callers_are_left_out_of_fcr(org):
    CallFactory(enqueued_at=at(10), wait=1, agent=org.agent1, talk=30, acw=0, customer=None)
    assert fcr_row(org, now=at(12, day=9)).fcr_eligible == 0


def test_the_live_fill_revisits_a_contact_when_its_repeat_arrives(org):
    from kpi.services.watermarks import kpi_fill_incremental

    customer = CustomerFactory()
    CallFactory(enqueued_at=at(10), wait=1, agent=org.agent1, talk=30, acw=0, customer=customer)
    kpi_fill_incremental(now=at(12, day=9))
    scope = KpiScope("department", org.general.pk, "d")
    first = rows_for_scopes([scope], start=at(0), end=at(0, day=1))[0]
    assert (first.fcr_eligible, first.fcr_resolved) == (1, 1)
    CallFactory(
        enqueued_at=at(9, day=3), wait=1, agent=org.agent1, talk=30, acw=0, customer=customer
    )
    kpi_fill_incremental(now=at(12, day=9))
    after = rows_for_scopes([scope], start=at(0), end=at(0, day=1))[0]
    assert (after.fcr_eligible, after.fcr_resolved) == (1, 0)


def test_an_unknown_service_level_variant_stops_start_up(settings):
    from django.core.checks import run_checks

    settings.KPI_SERVICE_LEVEL_VARIANT = "short_abandons_met"
    assert not [e for e in run_checks() if e.id == "kpi.E001"]
    settings.KPI_SERVICE_LEVEL_VARIANT = "icmi-typo"
    assert [e.id for e in run_checks() if e.id == "kpi.E001"] == ["kpi.E001"]

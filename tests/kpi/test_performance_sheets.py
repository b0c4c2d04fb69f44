"""Monthly evaluation: normalisation, weights, bands, ranking, the 실장's comment, frozen
months, and who sees which sheet."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from agents.models import Target
from callcenter.pii import PiiBlocked
from kpi import closing, performance, scoring
from kpi.models import (
    IncentiveBand,
    PerformanceSheet,
    PerformanceWeight,
    TargetMetric,
)
from kpi.services.fill import kpi_backfill
from tests.factories import CallFactory, SurveyFactory
from tickets.models import PiiDetection

MONTH = date(2026, 3, 1)


def test_normalise_against_target_with_a_cap():
    assert scoring.normalise(0.8, 0.8) == 100
    assert scoring.normalise(0.4, 0.8) == 50
    assert scoring.normalise(2.0, 0.8) == pytest.approx(120)  # capped at 120
    assert scoring.normalise(300, 240, lower_is_better=True) == pytest.approx(80)
    assert scoring.normalise(None, 0.8) is None
    assert scoring.normalise(0.8, None) is None


def test_overall_is_weighted_over_scored_components_only():
    components = [
        {"weight": 35, "normalised": 110},
        {"weight": 30, "normalised": 80},
        {"weight": 20, "normalised": 100},
        {"weight": 15, "normalised": None},  # no QA this month: left out, never 0
    ]
    assert scoring.overall(components) == pytest.approx((35 * 110 + 30 * 80 + 20 * 100) / 85)
    assert scoring.overall([{"weight": 10, "normalised": None}]) is None


def test_bands_default_and_configured(db):
    table = scoring.bands()
    assert scoring.band_for(105, table) == "A"
    assert scoring.band_for(110, table) == "S"  # the minimum is included
    assert scoring.band_for(79.9, table) == "D"
    assert scoring.band_for(None, table) == ""
    IncentiveBand.objects.create(name="Gold", min_score=95)
    IncentiveBand.objects.create(name="Silver", min_score=85)
    table = scoring.bands()
    assert scoring.band_for(96, table) == "Gold"
    assert scoring.band_for(90, table) == "Silver"
    assert scoring.band_for(50, table) == ""


def test_ranking_shares_ties_and_skips_unscored():
    assert scoring.rank({1: 90.0, 2: 90.0, 3: 80.0, 4: None}) == {1: 1, 2: 1, 3: 3, 4: None}


def at(day, hour=10, minute=0):
    return datetime(2026, 3, day, hour, minute, tzinfo=timezone.get_current_timezone())


@pytest.fixture
def month(org, settings):
    """March 2026 in 일반 (main task = FCR): agent1 40 calls over 2 days, agent2 20 over 2
    days, agent3 (team B) 30 over 1 day. Team targets: 20 calls per day, CSAT 80 %.
    One day with a handled call is enough to be ranked here (test_month_close.py tests the
    minimum)."""
    settings.KPI_EVALUATION_MIN_DAYS = 1
    settings.KPI_EVALUATION_MIN_SHARE = 0
    for day, n, agent in [
        (2, 20, "agent1"),
        (3, 20, "agent1"),
        (2, 10, "agent2"),
        (3, 10, "agent2"),
        (4, 30, "agent3"),
    ]:
        for i in range(n):
            CallFactory(
                enqueued_at=at(day, 9, i),
                wait=2,
                agent=getattr(org, agent),
                talk=60,
                acw=0,
                department=org.general,
            )
    # agent1: 4 survey answers, 3 of them 4–5 (CSAT 75 %).
    calls = list(org.agent1.handled_calls.all()[:4])
    for call, score in zip(calls, [5, 4, 4, 2], strict=True):
        SurveyFactory(call=call, score=score, answered_at=at(5))
    for metric, value in [(TargetMetric.CALLS_PER_DAY, 20), (TargetMetric.CSAT, 0.8)]:
        Target.objects.create(
            department=org.general,
            metric=metric,
            value=value,
            effective_from=MONTH,
            set_at=timezone.now(),
        )
    kpi_backfill(start=at(1, 0), end=at(31, 23), now=at(31, 23))
    return MONTH


def sheet(org, who):
    return PerformanceSheet.objects.get(agent=getattr(org, who), month__month=MONTH)


def test_the_month_is_scored_ranked_and_banded(org, month):
    performance.performance_sheets_compute(month=month)
    a1, a2, a3 = sheet(org, "agent1"), sheet(org, "agent2"), sheet(org, "agent3")
    calls = {c["key"]: c for c in a1.components}
    assert calls["calls"]["actual"] == 20 and calls["calls"]["normalised"] == 100
    assert calls["csat"]["actual"] == 0.75 and calls["csat"]["normalised"] == pytest.approx(93.75)
    assert calls["main_task"]["normalised"] is None  # no FCR target: left out
    assert calls["calls"]["how_params"]["n"] == 40
    # agent1: (30 × 100 + 20 × 93.75) / 50; agent2: 10 calls/day = 50, no CSAT: 50.
    assert a1.score == pytest.approx((30 * 100 + 20 * 93.75) / 50)
    assert a2.score == pytest.approx(50)
    assert a3.score == pytest.approx(120)  # 30 per day against 20: capped
    assert (a1.rank_in_team, a2.rank_in_team, a3.rank_in_team) == (1, 2, 1)
    assert (a3.rank_in_department, a1.rank_in_department, a2.rank_in_department) == (1, 2, 3)
    assert (a1.band, a2.band, a3.band) == ("B", "D", "S")


def test_department_weights_override_the_default(org, month):
    PerformanceWeight.objects.create(department=org.general, component="calls", weight=1)
    PerformanceWeight.objects.create(department=org.general, component="csat", weight=3)
    performance.performance_sheets_compute(month=month)
    assert sheet(org, "agent1").score == pytest.approx((1 * 100 + 3 * 93.75) / 4)


def test_recomputing_keeps_the_leads_comment(org, month):
    performance.performance_sheets_compute(month=month)
    performance.performance_sheet_comment(
        person=org.lead1, sheet_id=sheet(org, "agent1").pk, text="잘했어요"
    )
    performance.performance_sheets_compute(month=month)
    assert sheet(org, "agent1").lead_comment == "잘했어요"
    assert PerformanceSheet.objects.filter(month__month=MONTH).count() == 4


def test_only_the_agents_own_lead_comments(org, month):
    performance.performance_sheets_compute(month=month)
    pk = sheet(org, "agent1").pk
    with pytest.raises(Http404):
        performance.performance_sheet_comment(person=org.lead2, sheet_id=pk, text="x")
    with pytest.raises(PermissionDenied):
        performance.performance_sheet_comment(person=org.agent1, sheet_id=pk, text="x")
    with pytest.raises(PermissionDenied):
        performance.performance_sheet_comment(person=org.manager, sheet_id=pk, text="x")


def test_a_closed_month_is_frozen(org, month):
    performance.performance_sheets_compute(month=month)
    with pytest.raises(PermissionDenied):
        closing.performance_month_close(person=org.manager, month=month)
    closing.performance_month_close(person=org.director, month=month)
    before = sheet(org, "agent1").score
    CallFactory(enqueued_at=at(20), wait=1, agent=org.agent1, talk=10, acw=0)
    kpi_backfill(start=at(20, 0), end=at(21, 0), now=at(31, 23))
    with pytest.raises(ValidationError):
        performance.performance_sheets_compute(month=month)
    with pytest.raises(ValidationError):
        performance.performance_sheet_comment(
            person=org.lead1, sheet_id=sheet(org, "agent1").pk, text="late"
        )
    assert sheet(org, "agent1").score == before


def test_pages_show_each_role_its_own_sheets(client, org, month):
    performance.performance_sheets_compute(month=month)
    client.force_login(org.agent1)
    response = client.get("/kpi/evaluations/?month=2026-03")
    assert response.status_code == 302 and response.url.endswith(f"/{sheet(org, 'agent1').pk}/")
    body = client.get(response.url).content.decode()
    assert "How it was computed" in body or "계산" in body
    assert client.get(f"/kpi/evaluations/{sheet(org, 'agent2').pk}/").status_code == 404
    client.force_login(org.lead1)
    body = client.get("/kpi/evaluations/?month=2026-03").content.decode()
    assert "agent1" in body and "agent3" not in body
    assert client.get(f"/kpi/evaluations/{sheet(org, 'agent3').pk}/").status_code == 404
    response = client.post(f"/kpi/evaluations/{sheet(org, 'agent1').pk}/", {"comment": "좋아요"})
    assert response.status_code == 302 and sheet(org, "agent1").lead_comment == "좋아요"
    assert client.get("/kpi/evaluations/?month=2026-13").status_code == 400


def test_a_comment_with_a_phone_number_is_stored_masked_only_once_confirmed(client, org, month):
    """The PII guard is the service's: a first save shows the finding and stores nothing;
    saving again stores the comment masked and logs the detection against the lead."""
    performance.performance_sheets_compute(month=month)
    pk = sheet(org, "agent1").pk
    text = "고객 010-2345-6789 건 응대 좋음"
    with pytest.raises(PiiBlocked):
        performance.performance_sheet_comment(person=org.lead1, sheet_id=pk, text=text)
    client.force_login(org.lead1)
    response = client.post(f"/kpi/evaluations/{pk}/", {"comment": text})
    assert response.status_code == 422 and sheet(org, "agent1").lead_comment == ""
    assert "010-2345-6789" in response.content.decode()
    response = client.post(f"/kpi/evaluations/{pk}/", {"comment": text, "pii_action": "mask"})
    assert response.status_code == 302
    stored = sheet(org, "agent1").lead_comment
    assert "010-2345-6789" not in stored and "6789" in stored
    assert PiiDetection.objects.filter(agent=org.lead1, field="comment").count() == 1


def test_only_managers_and_up_compute_and_only_the_director_closes(client, org, month):
    client.force_login(org.lead1)
    assert client.post("/kpi/evaluations/compute/", {"month": "2026-03"}).status_code == 403
    client.force_login(org.manager)
    assert client.post("/kpi/evaluations/compute/", {"month": "2026-03"}).status_code == 302
    assert client.post("/kpi/evaluations/close/", {"month": "2026-03"}).status_code == 403
    client.force_login(org.director)
    assert client.post("/kpi/evaluations/close/", {"month": "2026-03"}).status_code == 302
    assert client.post("/kpi/evaluations/compute/", {"month": "2026-03"}).status_code == 409
    assert (
        timedelta(0) <= timezone.now() - sheet(org, "agent1").month.closed_at < timedelta(minutes=1)
    )

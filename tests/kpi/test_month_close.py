"""Closing a month (issue 18, item 11): an early close needs the days left confirmed, the
director reopens with a reason (an audited event row), months outside 2000–2100 are a 400,
and an agent with too little of the month worked is listed but not ranked or banded."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from agents.models import Target, TargetMetric
from callcenter.inputs import BUSINESS_YEARS, parse_month
from kpi import closing, performance, scoring
from kpi.models import PerformanceMonth, PerformanceMonthEvent, PerformanceSheet
from kpi.services.fill import kpi_backfill
from tests.factories import CallFactory

DECEMBER = date(2026, 12, 1)
MARCH = date(2026, 3, 1)


def seoul(y, m, d, h=10):
    return datetime(y, m, d, h, tzinfo=timezone.get_current_timezone())


@pytest.fixture
def march(org):
    """March 2026 in 일반: agent1 20 calls a day on 3 days, agent2 10 a day on 3 days,
    agent3 35 calls on a single day (the "two good days" agent). Target: 20 calls a day."""
    for day, n, agent in [
        *[(d, 20, "agent1") for d in (2, 3, 4)],
        *[(d, 10, "agent2") for d in (2, 3, 4)],
        (5, 35, "agent3"),
    ]:
        for i in range(n):
            CallFactory(
                enqueued_at=seoul(2026, 3, day, 9).replace(minute=i),
                wait=2,
                agent=getattr(org, agent),
                talk=60,
                acw=0,
                department=org.general,
            )
    Target.objects.create(
        department=org.general,
        metric=TargetMetric.CALLS_PER_DAY,
        value=20,
        effective_from=MARCH,
        set_at=timezone.now(),
    )
    kpi_backfill(start=seoul(2026, 3, 1, 0), end=seoul(2026, 3, 31, 23), now=seoul(2026, 3, 31, 23))
    return MARCH


def sheet(org, who, month=MARCH):
    return PerformanceSheet.objects.get(agent=getattr(org, who), month__month=month)


# --- Minimum exposure ----------------------------------------------------------------------


def test_an_agent_with_one_strong_day_is_listed_but_not_ranked_or_banded(org, march):
    # 일반 handled calls on 4 days; half of them (the default share) is 2 days.
    performance.performance_sheets_compute(month=march)
    a1, a2, a3 = (sheet(org, w) for w in ("agent1", "agent2", "agent3"))
    assert a3.score == pytest.approx(120)  # 35 a day against 20: capped, still shown
    assert (a3.ranked, a3.rank_in_department, a3.rank_in_team, a3.band) == (False, None, None, "")
    assert (a3.worked_days, a3.required_days, a3.handled) == (1, 2, 35)
    assert (a1.ranked, a1.rank_in_department, a1.band) == (True, 1, "A")
    assert (a2.rank_in_department, a2.worked_days) == (2, 3)


def test_the_required_days_follow_the_department_and_the_settings(settings):
    assert [scoring.required_days(d) for d in (0, 1, 4, 5, 22)] == [1, 1, 2, 3, 11]
    settings.KPI_EVALUATION_MIN_DAYS = 10
    assert [scoring.required_days(d) for d in (5, 22)] == [10, 11]


def test_the_minimum_of_handled_calls_is_a_setting_too(org, march, settings):
    settings.KPI_EVALUATION_MIN_SHARE = 0
    settings.KPI_EVALUATION_MIN_HANDLED = 31
    performance.performance_sheets_compute(month=march)
    assert sheet(org, "agent2").ranked is False  # 30 calls
    assert sheet(org, "agent3").rank_in_department == 1  # 35 calls on one day


def test_the_list_and_the_sheet_say_not_ranked(client, org, march):
    performance.performance_sheets_compute(month=march)
    client.force_login(org.director)
    body = client.get("/kpi/evaluations/?month=2026-03", HTTP_ACCEPT_LANGUAGE="en").content
    row = body.decode().split("agent3</a>")[1].split("</tr>")[0]
    assert "Not ranked" in row and ">S<" not in row
    page = client.get(f"/kpi/evaluations/{sheet(org, 'agent3').pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Not ranked" in page.content.decode() and "1 of the 2 days" in page.content.decode()


# --- Early close ---------------------------------------------------------------------------


def test_closing_a_month_that_has_not_ended_needs_the_days_left_confirmed(org):
    at = seoul(2026, 12, 7)  # the director's click on the 7th: 25 days left, today included
    with pytest.raises(ValidationError) as error:
        closing.performance_month_close(person=org.director, month=DECEMBER, at=at)
    assert error.value.code == "early" and "25" in error.value.messages[0]
    with pytest.raises(ValidationError):  # a stale or guessed number is not a confirmation
        closing.performance_month_close(
            person=org.director, month=DECEMBER, confirm_days_left=24, at=at
        )
    assert not PerformanceMonth.objects.filter(month=DECEMBER, closed_at__isnull=False).exists()
    assert not PerformanceMonthEvent.objects.exists()
    record = closing.performance_month_close(
        person=org.director, month=DECEMBER, confirm_days_left=25, at=at
    )
    assert record.is_closed
    event = PerformanceMonthEvent.objects.get()
    assert (event.action, event.person, event.days_left) == ("closed", org.director, 25)


def test_an_ended_month_closes_without_a_confirmation_and_a_future_one_never(org):
    record = closing.performance_month_close(
        person=org.director, month=DECEMBER, at=seoul(2027, 1, 2)
    )
    assert record.is_closed and PerformanceMonthEvent.objects.get().days_left is None
    with pytest.raises(ValidationError):
        closing.performance_month_close(
            person=org.director, month=date(2027, 2, 1), confirm_days_left=28, at=seoul(2027, 1, 2)
        )


def test_the_close_button_asks_for_the_days_left_and_closes_only_when_confirmed(client, org):
    today = timezone.localdate()
    month = today.replace(day=1)
    left = closing.days_left(month, today)
    client.force_login(org.director)
    response = client.post("/kpi/evaluations/close/", {"month": f"{month:%Y-%m}"})
    assert response.status_code == 400
    body = response.content.decode()
    assert f'name="confirm_days_left" value="{left}"' in body
    assert str(left) in body.split('role="alert"')[1].split("</div>")[0]
    assert not PerformanceMonth.objects.filter(closed_at__isnull=False).exists()
    response = client.post(
        "/kpi/evaluations/close/", {"month": f"{month:%Y-%m}", "confirm_days_left": str(left)}
    )
    assert response.status_code == 302
    assert PerformanceMonth.objects.get(month=month).is_closed


# --- Reopen --------------------------------------------------------------------------------


def test_the_director_reopens_with_a_reason_and_the_next_close_recomputes(org, march, settings):
    settings.KPI_EVALUATION_MIN_DAYS = 1
    closing.performance_month_close(person=org.director, month=march, at=seoul(2026, 4, 7))
    before = sheet(org, "agent2").score
    CallFactory(enqueued_at=seoul(2026, 3, 20, 9), wait=1, agent=org.agent2, talk=30, acw=0)
    kpi_backfill(start=seoul(2026, 3, 20, 0), end=seoul(2026, 3, 21, 0), now=seoul(2026, 4, 8))
    with pytest.raises(PermissionDenied):
        closing.performance_month_reopen(person=org.manager, month=march, reason="x")
    with pytest.raises(ValidationError):
        closing.performance_month_reopen(person=org.director, month=march, reason="  ")
    assert PerformanceMonth.objects.get(month=march).is_closed
    closing.performance_month_reopen(
        person=org.director,
        month=march,
        reason="agent2 3월 20일 콜 누락, 고객 010-2345-6789 건",
        at=seoul(2026, 4, 8),
    )
    assert not PerformanceMonth.objects.get(month=march).is_closed
    closing.performance_month_close(person=org.director, month=march, at=seoul(2026, 4, 9))
    assert sheet(org, "agent2").score != before and sheet(org, "agent2").handled == 31
    events = list(PerformanceMonthEvent.objects.order_by("at"))
    assert [e.action for e in events] == ["closed", "reopened", "closed"]
    assert "010-2345-6789" not in events[1].reason and "6789" in events[1].reason
    with pytest.raises(ValidationError):  # nothing to reopen in an open month
        closing.performance_month_reopen(person=org.director, month=date(2026, 5, 1), reason="x")


def test_the_reopen_form_and_the_timeline_on_the_page(client, org, march):
    closing.performance_month_close(person=org.director, month=march)
    client.force_login(org.director)
    page = client.get("/kpi/evaluations/?month=2026-03").content.decode()
    assert 'action="/kpi/evaluations/reopen/"' in page
    response = client.post("/kpi/evaluations/reopen/", {"month": "2026-03", "reason": ""})
    assert response.status_code == 400 and PerformanceMonth.objects.get(month=march).is_closed
    response = client.post(
        "/kpi/evaluations/reopen/", {"month": "2026-03", "reason": "콜 누락 재집계"}
    )
    assert response.status_code == 302
    page = client.get("/kpi/evaluations/?month=2026-03").content.decode()
    timeline = page.split('class="timeline"')[1]
    assert "콜 누락 재집계" in timeline and org.director.display_name in timeline
    client.force_login(org.manager)
    assert (
        client.post("/kpi/evaluations/reopen/", {"month": "2026-03", "reason": "x"}).status_code
        == 403
    )
    assert (
        'action="/kpi/evaluations/reopen/"'
        not in client.get("/kpi/evaluations/?month=2026-03").content.decode()
    )


# --- Months outside 2000–2100 --------------------------------------------------------------


@pytest.mark.parametrize("raw", ["1900-01", "1999-12", "2101-01", "9998-12"])
def test_a_month_outside_2000_to_2100_is_a_400_and_changes_nothing(client, org, raw):
    client.force_login(org.director)
    for url in ("close", "compute", "reopen"):
        response = client.post(
            f"/kpi/evaluations/{url}/", {"month": raw, "confirm_days_left": "1", "reason": "x"}
        )
        assert response.status_code == 400, url
    assert client.get(f"/kpi/evaluations/?month={raw}").status_code == 400
    assert not PerformanceMonth.objects.exists()


def test_parse_month_takes_the_years_a_write_allows():
    assert parse_month("1900-01") == date(1900, 1, 1)  # reads keep their range
    assert parse_month("1900-01", years=BUSINESS_YEARS) is None
    assert parse_month("2000-01", years=BUSINESS_YEARS) == date(2000, 1, 1)
    assert parse_month("2100-12", years=BUSINESS_YEARS) == date(2100, 12, 1)
    assert parse_month("2101-01", years=BUSINESS_YEARS) is None

"""One daily target (issue 18, item 7) and the targets page (item 10).

The resolver: a team's own target over its department's over the center's, the row in
effect in the month asked about. Every page shows the resolved value: the desktop, the KPI
page, the org chart and the person page show agent1 the same number. The page: the director
sets the center's and departments' targets, a manager only their departments', in the units
people say, from a month on with history; bad input is a form error that changes nothing."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.utils import timezone

from agents.models import Target, TargetMetric
from agents.targets.selectors import daily_call_target_for, targets_resolved
from callcenter.clock import month_start as this_month
from callcenter.clock import next_month_start as next_month

URL = "/agents/targets/"


def put(metric, value, month, **unit):
    return Target.objects.create(
        metric=metric, value=value, effective_from=month, set_at=timezone.now(), **unit
    )


def as_user(client, person):
    client.force_login(person)
    return client


def set_target(client, unit, metric, value, month=None):
    return client.post(
        URL,
        {"unit": unit, "metric": metric, "value": value, "month": f"{month or this_month():%Y-%m}"},
    )


# --- the resolver -----------------------------------------------------------------------


def test_team_over_department_over_center_in_the_month_asked(org):
    m1 = date(2026, 3, 1)
    m2, m3 = next_month(m1), next_month(next_month(m1))
    put(TargetMetric.CALLS_PER_DAY, 40, date(2000, 1, 1), center=org.center)
    put(TargetMetric.CALLS_PER_DAY, 10, m2, department=org.general)
    put(TargetMetric.CALLS_PER_DAY, 15, m3, team=org.team_a)
    assert daily_call_target_for(org.agent1, on=m1) == 40  # only the center's yet
    assert daily_call_target_for(org.agent1, on=date(2026, 4, 30)) == 10  # department's
    assert daily_call_target_for(org.agent1, on=m3) == 15  # the team's own
    assert daily_call_target_for(org.agent3, on=m3) == 10  # team B has none: department's
    assert daily_call_target_for(org.agent4, on=m3) == 40  # 가입: the center's
    resolved = targets_resolved(
        [("center", org.center.pk), ("department", org.general.pk), ("team", org.team_a.pk)],
        on=m3,
    )
    assert resolved[("center", org.center.pk)] == {"calls_per_day": 40}
    assert resolved[("department", org.general.pk)] == {"calls_per_day": 10}
    assert resolved[("team", org.team_a.pk)] == {"calls_per_day": 15}


def test_a_new_value_from_a_month_keeps_the_earlier_months(org):
    m = this_month()
    put(TargetMetric.SERVICE_LEVEL, 0.8, date(2000, 1, 1), department=org.general)
    put(TargetMetric.SERVICE_LEVEL, 0.9, next_month(m), department=org.general)
    key = ("department", org.general.pk)
    assert targets_resolved([key], on=m)[key]["service_level"] == 0.8
    assert targets_resolved([key], on=next_month(m))[key]["service_level"] == 0.9


# --- item 7: the same number on every page ----------------------------------------------


def _desktop_target(html):
    return re.findall(r'<progress max="(\d+)"[^>]*class="target-bar"', html)


def _kpi_targets(html):
    return re.findall(r'<small class="muted">/ (\d+) ', html)


def test_agent1_sees_one_daily_target_on_every_page(client, org):
    # The director sets it once, for 일반, on the targets page; a team B override shows
    # that agent1 (team A) gets the department's, not a neighbour's.
    as_user(client, org.director)
    assert (
        set_target(client, f"department:{org.general.pk}", "calls_per_day", "12").status_code == 302
    )
    assert set_target(client, f"team:{org.team_b.pk}", "calls_per_day", "30").status_code == 302
    as_user(client, org.agent1)
    desktop = client.get("/agents/desktop/").content.decode()
    kpi = client.get("/kpi/").content.decode()
    person = client.get(f"/agents/people/{org.agent1.pk}/").content.decode()
    assert _desktop_target(desktop) == ["12"]
    assert _kpi_targets(kpi) and set(_kpi_targets(kpi)) == {"12"}
    assert re.findall(r'data-daily-target="(\d+)"', person) == ["12"]
    # An agent's org chart shows no teams; agent1's 실장 sees team A on it.
    as_user(client, org.lead1)
    org_chart = client.get("/agents/org/").content.decode()
    assert re.findall(r'data-daily-target="(\d+)"', org_chart) == ["12"]
    # The director's org chart: team A 12 (department's), team B 30 (its own), C none.
    as_user(client, org.director)
    chart = client.get("/agents/org/").content.decode()
    assert re.findall(r'data-daily-target="(\d+)"', chart) == ["12", "30"]


# --- item 10: the targets page ----------------------------------------------------------


def test_the_director_sets_center_and_department_targets_in_the_units_people_say(client, org):
    as_user(client, org.director)
    page = client.get(URL).content.decode()
    assert f'data-unit="center:{org.center.pk}"' in page
    assert f'data-unit="department:{org.signup.pk}"' in page
    assert set_target(client, f"center:{org.center.pk}", "service_level", "85 %").status_code == 302
    assert set_target(client, f"center:{org.center.pk}", "aht", "5:30").status_code == 302
    assert set_target(client, f"department:{org.signup.pk}", "qa", "90").status_code == 302
    stored = dict(Target.objects.values_list("metric", "value"))
    assert stored == {"service_level": 0.85, "aht": 330.0, "qa": 0.9}
    page = client.get(URL).content.decode()
    row = page.split(f'data-unit="department:{org.signup.pk}"')[1].split("</tr>")[0]
    assert "85 %" in row and "5:30" in row and "<b>90 %</b>" in row  # own in bold
    assert "director" in page.split("targets-history")[1]  # who set it


def test_a_manager_sets_only_their_departments(client, org):
    as_user(client, org.manager)
    page = client.get(URL).content.decode()
    assert f'data-unit="department:{org.general.pk}"' in page
    assert f'data-unit="department:{org.signup.pk}"' not in page
    assert f'data-unit="center:{org.center.pk}"' not in page
    assert set_target(client, f"department:{org.general.pk}", "fcr", "75").status_code == 302
    for unit in (f"department:{org.signup.pk}", f"team:{org.team_c.pk}", f"center:{org.center.pk}"):
        assert set_target(client, unit, "fcr", "75").status_code == 404
    assert Target.objects.count() == 1


@pytest.mark.parametrize("who", ["agent1", "lead1", "trainer"])
def test_agents_leads_and_trainers_cannot_open_the_page(client, org, who):
    as_user(client, getattr(org, who))
    assert client.get(URL).status_code == 403
    assert set_target(client, f"department:{org.general.pk}", "fcr", "75").status_code == 403
    assert not Target.objects.exists()


@pytest.mark.parametrize(
    ("metric", "value", "month"),
    [
        ("service_level", "150", None),
        ("service_level", "0.8.5", None),
        ("aht", "5:75", None),
        ("aht", "two minutes", None),
        ("calls_per_day", "12.5", None),
        ("calls_per_day", "-3", None),
        ("calls_per_day", "12", "1900-01"),
        ("calls_per_day", "12", "2026-13"),
        ("nonsense", "12", None),
    ],
)
def test_bad_input_is_a_form_error_and_changes_nothing(client, org, metric, value, month):
    as_user(client, org.director)
    response = client.post(
        URL,
        {
            "unit": f"department:{org.general.pk}",
            "metric": metric,
            "value": value,
            "month": month or f"{this_month():%Y-%m}",
        },
    )
    assert response.status_code == 422
    assert 'class="error"' in response.content.decode()
    assert not Target.objects.exists()


def test_a_past_month_keeps_its_target(client, org):
    as_user(client, org.director)
    last = (this_month() - timezone.timedelta(days=1)).replace(day=1)
    response = set_target(client, f"department:{org.general.pk}", "fcr", "75", month=last)
    assert response.status_code == 422 and not Target.objects.exists()


def test_history_shows_each_value_from_its_month(client, org):
    as_user(client, org.director)
    unit = f"department:{org.general.pk}"
    set_target(client, unit, "calls_per_day", "10")
    set_target(client, unit, "calls_per_day", "14", month=next_month(this_month()))
    assert daily_call_target_for(org.agent1) == 10
    assert daily_call_target_for(org.agent1, on=next_month(this_month())) == 14
    page = client.get(URL).content.decode()
    history = page.split("targets-history")[1]
    assert f"{next_month(this_month()):%Y-%m}" in history and f"{this_month():%Y-%m}" in history
    later = client.get(URL, {"month": f"{next_month(this_month()):%Y-%m}"}).content.decode()
    row = later.split(f'data-unit="department:{org.general.pk}"')[1].split("</tr>")[0]
    assert "<b>14</b>" in row
    assert client.get(URL, {"month": "1900-01"}).status_code == 400


def test_a_team_can_go_back_to_its_departments_target_from_a_month(client, org):
    as_user(client, org.manager)
    set_target(client, f"department:{org.general.pk}", "calls_per_day", "10")
    set_target(client, f"team:{org.team_a.pk}", "calls_per_day", "20")
    later = next_month(this_month())
    response = client.post(
        URL,
        {
            "unit": f"team:{org.team_a.pk}",
            "metric": "calls_per_day",
            "value": "",
            "inherit": "on",
            "month": f"{later:%Y-%m}",
        },
    )
    assert response.status_code == 302
    assert daily_call_target_for(org.agent1) == 20  # this month keeps the team's own
    assert daily_call_target_for(org.agent1, on=later) == 10  # then the department's
    # A blank value without choosing to inherit is a form error.
    blank = set_target(client, f"team:{org.team_a.pk}", "calls_per_day", "", month=later)
    assert blank.status_code == 422 and Target.objects.count() == 3

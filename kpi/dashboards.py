"""What each role's KPI dashboard shows, assembled from rollups only (kpi.selectors.rows).

agent: my day and month against targets, trend, my survey comments, my QA ·
team lead (실장): the team today by 15 minutes, each agent's figures, who is below target ·
manager: departments and queues, intraday and over the range, SL against target, volume by
hour and weekday · director / training lead / admin (센터장): center trend, targets per
department, top and bottom teams.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import Person
from agents.reach import reach_of
from callcenter.clock import day_bounds, month_start
from kpi.forms import KpiFilters
from kpi.models import TargetMetric
from kpi.selectors.drilldown import surveys_for_agent
from kpi.selectors.rows import (
    KpiRow,
    kpi_rows_for,
    kpi_scope_get_for,
    kpi_series,
    rows_for_scopes,
    targets_for,
    volume_pattern,
)


def dashboard_kind(person: Person) -> str:
    r = reach_of(person)
    if r.is_center_wide:
        return "center"
    if r.managed_by:
        return "manager"
    return "team" if r.team_id else "agent"


def _pct(value):
    return None if value is None else round(value * 100, 1)


def _num(value, digits=1):
    return None if value is None else round(value, digits)


def _bucket_label(bucket) -> str:
    return bucket.strftime("%H:%M") if hasattr(bucket, "hour") else bucket.strftime("%m-%d")


def _series_chart(chart_id, title, series, datasets_spec, *, kind="line"):
    """A Chart.js spec from kpi_series output of one unit: datasets_spec is a list of
    (label, function row → number, axis)."""
    labels = [_bucket_label(b) for b, _row in series]
    return {
        "id": chart_id,
        "title": title,
        "type": kind,
        "labels": labels,
        "datasets": [
            {"label": label, "data": [fn(row) for _b, row in series], "yAxisID": axis}
            for label, fn, axis in datasets_spec
        ],
    }


def _trend(scope, f: KpiFilters, title: str, chart_id: str = "trend", targets=None):
    """`targets`: the unit's resolved targets when the caller has its row (no query)."""
    grain = "interval" if f.days == 1 else "day"
    series = kpi_series([scope], start=f.start, end=f.end, grain=grain)[(scope.kind, scope.id)]
    if grain == "interval":  # an intraday chart shows the working day, not the night
        series = [(b, r) for b, r in series if 7 <= b.hour < 22]
    spec = [(_("Handled"), lambda r: r.handled, "y")]
    if scope.kind in {"queue", "department", "center"}:
        # The unit's resolved target (a queue has its department's), else the setting.
        if targets is None:
            targets = targets_for([scope]).get((scope.kind, scope.id), {})
        target = targets.get(TargetMetric.SERVICE_LEVEL, settings.SERVICE_LEVEL_TARGET)
        spec.insert(0, (_("Offered"), lambda r: r.offered, "y"))
        spec.append((_("Service level %"), lambda r: _pct(r.service_level), "y1"))
        spec.append((_("Service level target %"), lambda r: _pct(target), "y1"))
    else:
        spec.append((_("AHT (s)"), lambda r: _num(r.aht, 0), "y1"))
    return _series_chart(chart_id, title, series, spec)


def _volume_chart(scope, f: KpiFilters):
    # At least four weeks of history, so each weekday has several days behind it.
    start = min(f.start, f.end - timedelta(days=28))
    pattern = volume_pattern(scope, start=start, end=f.end)
    weekdays = [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")]
    return [
        {
            "id": "by-hour",
            "title": _("Offered per day by hour: %(unit)s") % {"unit": scope.label},
            "type": "bar",
            "labels": [f"{h:02d}" for h, _v in pattern["hours"]],
            "datasets": [
                {
                    "label": _("Offered"),
                    "data": [_num(v) for _h, v in pattern["hours"]],
                    "yAxisID": "y",
                }
            ],
        },
        {
            "id": "by-weekday",
            "title": _("Offered per day by weekday: %(unit)s") % {"unit": scope.label},
            "type": "bar",
            "labels": weekdays,
            "datasets": [
                {
                    "label": _("Offered"),
                    "data": [_num(v) for _d, v in pattern["weekdays"]],
                    "yAxisID": "y",
                }
            ],
        },
    ]


def agent_dashboard(person: Person, f: KpiFilters) -> dict:
    today = timezone.localdate()
    try:
        scope = kpi_scope_get_for(person, "agent", person.pk)
    except Http404:  # a person without a team has no KPI of their own
        return {"rows": [], "charts": [], "cards": []}
    day = KpiFilters(first_day=today, last_day=today)
    month = KpiFilters(first_day=month_start(today), last_day=today)
    targets = targets_for([scope])
    (range_row,) = rows_for_scopes([scope], start=f.start, end=f.end, targets=targets)
    (day_row,) = rows_for_scopes([scope], start=day.start, end=day.end, targets=targets)
    (month_row,) = rows_for_scopes([scope], start=month.start, end=month.end, targets=targets)
    return {
        "rows": [range_row],
        "cards": [
            {"title": _("Today"), "row": day_row, "filters": day},
            {"title": _("This month"), "row": month_row, "filters": month},
        ],
        "charts": [_trend(scope, f, _("My trend"))],
        "surveys": list(
            surveys_for_agent(person, start=month.start - timedelta(days=60), end=day.end)
        ),
    }


def team_dashboard(person: Person, f: KpiFilters) -> dict:
    rows = kpi_rows_for(person, start=f.start, end=f.end, kinds={"team", "agent"})
    team_rows = [r for r in rows if r.scope.kind == "team"]
    charts = []
    if team_rows:
        today = timezone.localdate()
        intraday = KpiFilters(first_day=today, last_day=today)
        charts.append(
            _trend(team_rows[0].scope, intraday, _("My team today, by 15 minutes"), "intraday")
        )
    below = [r for r in rows if r.scope.kind == "agent" and r.below_target]
    return {"rows": rows, "charts": charts, "below": below}


def manager_dashboard(person: Person, f: KpiFilters) -> dict:
    rows = kpi_rows_for(
        person,
        start=f.start,
        end=f.end,
        kinds={"department", "queue", "team"},
        department_id=f.department_id,
        team_id=f.team_id,
        queue_id=f.queue_id,
    )
    focus_row = next((r for r in rows if r.scope.kind == "queue"), None) or next(
        (r for r in rows if r.scope.kind == "department"), None
    )
    focus = focus_row.scope if focus_row is not None else None
    charts = []
    if focus is not None:
        today = timezone.localdate()
        intraday = KpiFilters(first_day=today, last_day=today)
        charts.append(
            _trend(
                focus,
                intraday,
                _("Today by 15 minutes: %(unit)s") % {"unit": focus.label},
                "intraday",
                focus_row.targets,
            )
        )
        if f.days > 1:
            charts.append(
                _trend(
                    focus,
                    f,
                    _("Over the range: %(unit)s") % {"unit": focus.label},
                    targets=focus_row.targets,
                )
            )
        charts += _volume_chart(focus, f)
    return {"rows": rows, "charts": charts, "sl_target": settings.SERVICE_LEVEL_TARGET}


def _targets_met(row: KpiRow) -> tuple[int, int]:
    measured = [m for m in row.targets if row.value(m) is not None]
    return len(measured) - len(row.below_target), len(measured)


def center_dashboard(person: Person, f: KpiFilters) -> dict:
    rows = kpi_rows_for(
        person,
        start=f.start,
        end=f.end,
        kinds={"center", "department", "queue", "team"},
        department_id=f.department_id,
        team_id=f.team_id,
        queue_id=f.queue_id,
    )
    center = next((r for r in rows if r.scope.kind == "center"), None)
    charts = []
    if center is not None:
        charts.append(_trend(center.scope, f, _("Center trend"), targets=center.targets))
    teams = [r for r in rows if r.scope.kind == "team" and r.handled]
    ranked = sorted(
        teams,
        key=lambda r: (
            -(_targets_met(r)[0] / _targets_met(r)[1]) if _targets_met(r)[1] else 0,
            -(r.csat or 0),
            r.aht or 0,
        ),
    )
    for r in ranked:
        r.targets_met = _targets_met(r)
    departments = [r for r in rows if r.scope.kind == "department"]
    target_table = [
        {
            "row": r,
            "cells": [
                (
                    m.label,
                    r.targets.get(m.value),
                    r.value(m.value),
                    m.value in r.below_target,
                    m.value,
                )
                for m in TargetMetric
            ],
        }
        for r in departments
    ]
    return {
        "rows": rows,
        "charts": charts,
        "top_teams": ranked[:3],
        "bottom_teams": list(reversed(ranked[-3:])) if len(ranked) > 3 else [],
        "target_table": target_table,
    }


BUILDERS = {
    "agent": agent_dashboard,
    "team": team_dashboard,
    "manager": manager_dashboard,
    "center": center_dashboard,
}


def dashboard_for(person: Person, f: KpiFilters) -> dict:
    kind = dashboard_kind(person)
    context = BUILDERS[kind](person, f)
    context["kind"] = kind
    context["day_start"], _end = day_bounds(f.first_day)
    return context

"""CSV and XLSX exports of a dashboard's table and of the month's performance sheets: the
same rows and figures the pages show, with the period and the filters written above the
table (callcenter.exports.TableExport)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import Person
from agents.reach import departments_visible_to
from callcenter.exports import DURATION, INTEGER, NUMBER, PERCENT, TEXT, TableExport
from callcenter.pii import pii_redact
from kpi.models import PerformanceComponent, PerformanceMonth
from kpi.selectors.rows import KpiRow


def _kind_label(kind: str) -> str:
    return {
        "center": _("Center"),
        "department": _("Department"),
        "queue": _("Queue"),
        "team": _("Team"),
        "agent": _("Agent"),
    }.get(kind, kind)


def _columns():
    """The KPI table's columns: header, value, and how the figure reads (percent, m:ss…)."""
    return [
        (_("Kind"), lambda r: _kind_label(r.scope.kind), TEXT),
        (_("Unit"), lambda r: r.scope.label, TEXT),
        (_("Offered"), lambda r: r.offered, INTEGER),
        (_("Answered"), lambda r: r.answered, INTEGER),
        (_("Abandoned (raw)"), lambda r: r.abandoned, INTEGER),
        (_("Short abandons"), lambda r: r.short_abandoned, INTEGER),
        (_("Abandon rate"), lambda r: r.abandon_rate, PERCENT),
        (_("Answer rate"), lambda r: r.answer_rate, PERCENT),
        (_("Service level"), lambda r: r.service_level, PERCENT),
        (_("ASA"), lambda r: r.asa, DURATION),
        (_("Handled"), lambda r: r.handled, INTEGER),
        (_("AHT"), lambda r: r.aht, DURATION),
        (_("Talk"), lambda r: r.talk_mean, DURATION),
        (_("Hold"), lambda r: r.hold_mean, DURATION),
        (_("Wrap-up"), lambda r: r.acw_mean, DURATION),
        (_("FCR"), lambda r: r.fcr, PERCENT),
        (_("FCR by survey"), lambda r: r.survey_fcr, PERCENT),
        (_("CSAT"), lambda r: r.csat, PERCENT),
        (_("Survey responses"), lambda r: r.csat_responses, INTEGER),
        (_("Occupancy"), lambda r: r.occupancy, PERCENT),
        (_("Utilisation"), lambda r: r.utilisation, PERCENT),
        (_("Calls per agent per day"), lambda r: r.calls_per_agent_day, NUMBER),
        (_("Calls per hour"), lambda r: r.calls_per_hour, NUMBER),
        (_("Transfer rate"), lambda r: r.transfer_rate, PERCENT),
        (_("Escalation rate"), lambda r: r.escalation_rate, PERCENT),
        (_("Main task rate"), lambda r: r.main_task_rate, PERCENT),
        (_("PII detections"), lambda r: r.pii_detections, INTEGER),
        (_("QA average"), lambda r: r.qa_average, NUMBER),
    ]


def _exported(person: Person, at: datetime | None) -> list[tuple[str, str]]:
    at = timezone.localtime(at or timezone.now())
    return [(_("Exported"), f"{at:%Y-%m-%d %H:%M} · {person.display_name}")]


def kpi_table(
    rows: list[KpiRow], *, person: Person, filters: dict, at: datetime | None = None
) -> TableExport:
    """The dashboard's table. `filters` holds the form's cleaned data: the period and the
    department / team / queue chosen (None = all)."""
    first, last = filters["start"], filters["end"]
    period = f"{first:%Y-%m-%d}" if first == last else f"{first:%Y-%m-%d} – {last:%Y-%m-%d}"
    about = [(_("Period"), period)]
    for key, label in (("department", _("Department")), ("team", _("Team")), ("queue", _("Queue"))):
        chosen = filters.get(key)
        about.append((label, chosen.name if chosen is not None else _("All")))
    columns = _columns()
    return TableExport(
        title=_("KPI"),
        about=about + _exported(person, at),
        columns=[(header, kind) for header, _fn, kind in columns],
        rows=[[fn(r) for _h, fn, _k in columns] for r in rows],
    )


# Component units as stored on a sheet → how their figure reads in a file.
_UNIT_KINDS = {"rate": PERCENT, "count": NUMBER, "points": NUMBER, "seconds": DURATION}


def performance_sheet_table(
    sheets: list, *, person: Person, month, record: PerformanceMonth | None, at=None
) -> TableExport:
    """The month's sheets the viewer may see (performance_sheets_visible_to), one row per
    agent: exposure (days worked, of the days required), rank, score, band, every
    component's figure and normalised points, and the 실장's comment with any customer
    identifier masked."""
    if record is not None and record.is_closed:
        closed = timezone.localtime(record.closed_at)
        by = record.closed_by.display_name if record.closed_by else ""
        status = _("Closed %(at)s by %(who)s") % {"at": f"{closed:%Y-%m-%d %H:%M}", "who": by}
    else:
        status = _("Open: figures may still change")
    departments = ", ".join(d.name for d in departments_visible_to(person).order_by("name"))
    about = [
        (_("Month"), f"{month:%Y-%m}"),
        (_("Status"), status),
        (
            _("Ranked from"),
            _(
                "handled calls on %(share)d%% of the median days worked in the department "
                "(at least %(days)d days), %(calls)d handled calls"
            )
            % {
                "share": round(settings.KPI_EVALUATION_MIN_SHARE * 100),
                "days": settings.KPI_EVALUATION_MIN_DAYS,
                "calls": settings.KPI_EVALUATION_MIN_HANDLED,
            },
        ),
    ]
    if departments:
        about.append((_("Departments"), departments))
    units = {c["key"]: c["unit"] for s in sheets for c in s.components}
    components = [(key, label) for key, label in PerformanceComponent.choices if key in units]
    columns = [
        (_("Department"), TEXT),
        (_("Team"), TEXT),
        (_("Agent"), TEXT),
        (_("Days worked"), INTEGER),
        (_("Days required"), INTEGER),
        (_("Handled"), INTEGER),
        (_("Rank in department"), INTEGER),
        (_("Rank in team"), INTEGER),
        (_("Score"), NUMBER),
        (_("Band"), TEXT),
    ]
    for key, label in components:
        columns.append((str(label), _UNIT_KINDS.get(units[key], NUMBER)))
        columns.append((_("%(component)s · normalised") % {"component": label}, NUMBER))
    columns.append((_("Team lead's comment"), TEXT))
    rows = []
    for s in sheets:
        by_key = {c["key"]: c for c in s.components}
        row = [
            s.department.name,
            s.team.name,
            s.agent.display_name,
            s.worked_days,
            s.required_days,
            s.handled,
            s.rank_in_department,
            s.rank_in_team,
            s.score,
            s.band if s.ranked else _("Not ranked"),
        ]
        for key, _label in components:
            c = by_key.get(key) or {}
            row += [c.get("actual"), c.get("normalised")]
        row.append(pii_redact(s.lead_comment))
        rows.append(row)
    return TableExport(
        title=_("Monthly evaluation"),
        about=about + _exported(person, at),
        columns=columns,
        rows=rows,
    )

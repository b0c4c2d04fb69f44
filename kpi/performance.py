"""Monthly performance sheets (월간 평가): computed from the daily rollups and scored by
kpi.scoring (weighted components, ranking, incentive bands), each agent's sheet as their
reach sees it, and the 실장's comment. Closing and reopening a month: kpi/closing.py.
"""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import Person, Role
from agents.reach import people_visible_to
from callcenter.clock import day_bounds, month_start, next_month_start
from callcenter.pii import pii_guard
from kpi.models import PerformanceMonth, PerformanceSheet
from kpi.scopes import KpiScope
from kpi.scoring import (
    _components,
    _typical_days,
    band_for,
    bands,
    has_minimum_exposure,
    overall,
    rank,
    required_days,
    weights_for,
)
from kpi.selectors.rows import rows_for_scopes, targets_for
from tickets.services.pii_detections import pii_detections_record


def _month_get(first: date) -> PerformanceMonth:
    month, _created = PerformanceMonth.objects.get_or_create(month=first)
    return month


@transaction.atomic
def performance_sheets_compute(*, month: date, at: datetime | None = None) -> PerformanceMonth:
    """(Re)compute every agent's sheet of the month from the daily rollups. A closed month
    is frozen: ValidationError. Comments already written are kept."""
    first = month_start(month)
    record = PerformanceMonth.objects.select_for_update().filter(month=first).first() or _month_get(
        first
    )
    if record.is_closed:
        raise ValidationError(_("This month is closed; its evaluations are frozen."))
    at = at or timezone.now()
    start, end = day_bounds(first)[0], day_bounds(next_month_start(first))[0]
    agents = list(
        Person.objects.filter(role=Role.AGENT, is_active=True, team__isnull=False).select_related(
            "team__department"
        )
    )
    scopes = [
        KpiScope(
            "agent", a.pk, a.display_name, department_id=a.team.department_id, team_id=a.team_id
        )
        for a in agents
    ]
    targets = targets_for(scopes, on=first)
    rows = {r.scope.id: r for r in rows_for_scopes(scopes, start=start, end=end, targets=targets)}
    weight_cache: dict[int, dict] = {}
    worked: dict[int, list[int]] = {}
    for agent in agents:
        worked.setdefault(agent.team.department_id, []).append(rows[agent.pk].agents_handling or 0)
    typical = _typical_days(worked)
    band_table = bands()
    sheets: dict[int, dict] = {}
    for agent in agents:
        dept = agent.team.department
        weights = weight_cache.setdefault(dept.pk, weights_for(dept.pk))
        components = [
            c.as_dict()
            for c in _components(
                rows[agent.pk],
                targets.get(("agent", agent.pk), {}),
                weights,
                dept.kind,
            )
        ]
        row = rows[agent.pk]
        worked_days, handled = row.agents_handling or 0, row.handled
        required = required_days(typical.get(dept.pk, 0))
        sheets[agent.pk] = {
            "agent": agent,
            "components": components,
            "score": overall(components),
            "worked_days": worked_days,
            "handled": handled,
            "required_days": required,
            "ranked": has_minimum_exposure(
                worked_days=worked_days, handled=handled, required=required
            ),
        }
    by_team: dict[int, dict[int, float | None]] = {}
    by_dept: dict[int, dict[int, float | None]] = {}
    for pk, sheet in sheets.items():
        agent = sheet["agent"]
        score = sheet["score"] if sheet["ranked"] else None  # listed, not ranked
        by_team.setdefault(agent.team_id, {})[pk] = score
        by_dept.setdefault(agent.team.department_id, {})[pk] = score
    team_rank = {k: v for group in by_team.values() for k, v in rank(group).items()}
    dept_rank = {k: v for group in by_dept.values() for k, v in rank(group).items()}
    for pk, sheet in sheets.items():
        agent = sheet["agent"]
        PerformanceSheet.objects.update_or_create(
            month=record,
            agent=agent,
            defaults={
                "team": agent.team,
                "department_id": agent.team.department_id,
                "components": sheet["components"],
                "score": sheet["score"],
                "rank_in_team": team_rank[pk],
                "rank_in_department": dept_rank[pk],
                "band": band_for(sheet["score"], band_table) if sheet["ranked"] else "",
                "worked_days": sheet["worked_days"],
                "handled": sheet["handled"],
                "required_days": sheet["required_days"],
                "ranked": sheet["ranked"],
                "computed_at": at,
            },
        )
    return record


def performance_sheets_visible_to(person: Person, month: date):
    return (
        PerformanceSheet.objects.filter(
            month__month=month_start(month), agent__in=people_visible_to(person)
        )
        .select_related("agent", "team", "department", "month")
        .order_by(
            "department_id",
            F("rank_in_department").asc(nulls_last=True),
            "agent__display_name",
        )
    )


def performance_sheet_get_for(person: Person, sheet_id: int) -> PerformanceSheet:
    try:
        return (
            PerformanceSheet.objects.select_related(
                "agent", "team", "department", "month", "commented_by"
            )
            .filter(agent__in=people_visible_to(person))
            .get(pk=sheet_id)
        )
    except PerformanceSheet.DoesNotExist as exc:
        raise Http404 from exc


@transaction.atomic
def performance_sheet_comment(
    *, person: Person, sheet_id: int, text: str, pii_confirmed: bool = False
) -> PerformanceSheet:
    """The agent's own 실장 writes the sheet's comment while the month is open. `text` is
    as written: with an identifier in it and no `pii_confirmed`, PiiBlocked and nothing is
    stored; confirmed, it is stored masked and the finding logged."""
    sheet = performance_sheet_get_for(person, sheet_id)
    if not (person.role == Role.TEAM_LEAD and person.team_id == sheet.team_id):
        raise PermissionDenied
    if sheet.month.is_closed:
        raise ValidationError(_("This month is closed; its evaluations are frozen."))
    guarded = pii_guard({"comment": text}, confirmed=pii_confirmed)
    sheet.lead_comment = guarded.texts["comment"].strip()
    sheet.commented_by = person
    sheet.save(update_fields=["lead_comment", "commented_by"])
    pii_detections_record(
        agent=person, call=None, ticket=None, found=guarded.found(), at=timezone.now()
    )
    return sheet


def component_label(component: dict) -> str:
    """The component's name in the reader's language (stored as a message id)."""
    return _(component["label"])


def component_how(component: dict) -> str:
    """How the figure was computed, in the reader's language."""
    return _(component["how"]) % component.get("how_params", {})

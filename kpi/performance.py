"""Monthly performance sheets (월간 평가): configurable weighted components, each normalised
against its target, ranking within team and department, incentive bands, the 실장's comment,
and closed (frozen) months. Reads the daily rollups only.

Only agents with the minimum exposure are ranked and banded: days with a handled call at
least KPI_EVALUATION_MIN_SHARE of the median of their department's agents (and at least
KPI_EVALUATION_MIN_DAYS), and at least KPI_EVALUATION_MIN_HANDLED handled calls. The others
are listed with their score, marked as not ranked (docs/kpi.md). Closing and reopening:
kpi/closing.py.

Normalised score of a component = min(actual / target, cap) × 100 (target / actual where
lower is better), cap = KPI_EVALUATION_CAP (1.2). Overall = Σ(weight × normalised) / Σ weight
over the components that have both a figure and a target; a component without one is left
out (never 0) and the sheet says why.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from agents.models import Person, Role
from agents.reach import people_visible_to
from callcenter.clock import day_bounds, month_start, next_month_start
from kpi.models import (
    IncentiveBand,
    PerformanceComponent,
    PerformanceMonth,
    PerformanceSheet,
    PerformanceWeight,
    TargetMetric,
)
from kpi.scopes import KpiScope
from kpi.selectors import rows_for_scopes, targets_for
from tickets.services.pii_detections import pii_detections_record


def normalise(actual: float | None, target: float | None, *, lower_is_better: bool = False):
    """Actual against target as points (100 = on target), capped; None without either."""
    if actual is None or not target:
        return None
    cap = settings.KPI_EVALUATION_CAP
    if lower_is_better:
        if actual <= 0:
            return cap * 100
        return min(target / actual, cap) * 100
    return min(actual / target, cap) * 100


def weights_for(department_id: int) -> dict[str, float]:
    """The department's weights, else the center default rows, else the settings default."""
    rows = list(
        PerformanceWeight.objects.filter(department_id=department_id).values_list(
            "component", "weight"
        )
    )
    if not rows:
        rows = list(
            PerformanceWeight.objects.filter(department__isnull=True).values_list(
                "component", "weight"
            )
        )
    return dict(rows) if rows else dict(settings.KPI_EVALUATION_DEFAULT_WEIGHTS)


def bands() -> list[tuple[float, str]]:
    """Incentive bands, highest first: the admin's, else the settings default."""
    rows = list(IncentiveBand.objects.order_by("-min_score").values_list("min_score", "name"))
    return rows or sorted(settings.KPI_INCENTIVE_BANDS, reverse=True)


def band_for(score: float | None, table: list[tuple[float, str]]) -> str:
    if score is None:
        return ""
    for minimum, name in table:
        if score >= minimum:
            return name
    return ""


def rank(values: dict[int, float | None]) -> dict[int, int | None]:
    """Competition ranking (1, 1, 3) by score, highest first; no score → no rank."""
    scored = sorted((v, k) for k, v in values.items() if v is not None)
    scored.reverse()
    ranks: dict[int, int | None] = dict.fromkeys(values)
    position = 0
    previous = None
    for i, (value, key) in enumerate(scored, 1):
        if value != previous:
            position, previous = i, value
        ranks[key] = position
    return ranks


def _points(rate: float | None) -> float | None:
    """A QA target (stored as a fraction like every rate) on the scale of QA scores."""
    return None if rate is None else rate * 100


@dataclass
class Component:
    key: str
    label: str
    actual: float | None
    target: float | None
    lower_is_better: bool
    weight: float
    how: tuple[str, dict]  # a message id (translated when shown) and its values
    unit: str  # "rate" | "count" | "points" | "seconds"

    @property
    def normalised(self) -> float | None:
        return normalise(self.actual, self.target, lower_is_better=self.lower_is_better)

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "label": self.label,
            "actual": self.actual,
            "target": self.target,
            "normalised": self.normalised,
            "weight": self.weight,
            "how": self.how[0],
            "how_params": self.how[1],
            "unit": self.unit,
        }


def _components(row, targets: dict, weights: dict, department_kind: str) -> list:
    main_codes = settings.KPI_MAIN_TASK_DISPOSITIONS.get(department_kind)
    components = []
    if main_codes:
        components.append(
            Component(
                PerformanceComponent.MAIN_TASK,
                gettext_noop("Main task"),
                row.main_task_rate,
                targets.get(TargetMetric.MAIN_TASK),
                False,
                weights.get(PerformanceComponent.MAIN_TASK, 0),
                (
                    gettext_noop("%(ok)d of %(n)d handled calls ended as %(codes)s = %(rate)s"),
                    {
                        "ok": row.main_task_successes,
                        "n": row.handled,
                        "codes": ", ".join(main_codes),
                        "rate": _pct(row.main_task_rate),
                    },
                ),
                "rate",
            )
        )
    else:  # 일반: the main task is resolving the customer's question the first time
        components.append(
            Component(
                PerformanceComponent.MAIN_TASK,
                gettext_noop("Main task (first-contact resolution)"),
                row.fcr,
                targets.get(TargetMetric.FCR),
                False,
                weights.get(PerformanceComponent.MAIN_TASK, 0),
                (
                    gettext_noop(
                        "%(ok)d of %(n)d handled calls had no repeat call from the customer "
                        "within 7 days = %(rate)s"
                    ),
                    {"ok": row.fcr_resolved, "n": row.fcr_eligible, "rate": _pct(row.fcr)},
                ),
                "rate",
            )
        )
    calls_target = targets.get(TargetMetric.CALLS_PER_DAY)
    components.append(
        Component(
            PerformanceComponent.CALLS,
            gettext_noop("Call count"),
            row.calls_per_agent_day,
            calls_target,
            False,
            weights.get(PerformanceComponent.CALLS, 0),
            (
                gettext_noop("%(n)d handled calls over %(days)d working days = %(per)s per day"),
                {
                    "n": row.handled,
                    "days": row.agents_handling or 0,
                    "per": _num(row.calls_per_agent_day),
                },
            ),
            "count",
        )
    )
    components.append(
        Component(
            PerformanceComponent.CSAT,
            gettext_noop("CSAT"),
            row.csat,
            targets.get(TargetMetric.CSAT),
            False,
            weights.get(PerformanceComponent.CSAT, 0),
            (
                gettext_noop("%(ok)d of %(n)d survey answers were 4 or 5 = %(rate)s"),
                {"ok": row.csat_satisfied, "n": row.csat_responses, "rate": _pct(row.csat)},
            ),
            "rate",
        )
    )
    components.append(
        Component(
            PerformanceComponent.QA,
            gettext_noop("QA"),
            row.qa_average,
            _points(targets.get(TargetMetric.QA)),
            False,
            weights.get(PerformanceComponent.QA, 0),
            (
                gettext_noop("average of %(n)d QA evaluations = %(avg)s"),
                {"n": row.qa_evaluations, "avg": _num(row.qa_average)},
            ),
            "points",
        )
    )
    test_weight = weights.get(PerformanceComponent.MONTHLY_TEST, 0)
    if test_weight:
        # No app records monthly tests yet: a weighted test shows on the sheet, left out
        # of the score (a component without a figure never counts as 0).
        components.append(
            Component(
                PerformanceComponent.MONTHLY_TEST,
                gettext_noop("Monthly test"),
                None,
                None,
                False,
                test_weight,
                (gettext_noop("no monthly test result this month"), {}),
                "points",
            )
        )
    return components


def _pct(value):
    return "–" if value is None else f"{value * 100:.1f}%"


def _num(value):
    return "–" if value is None else f"{value:.1f}"


def overall(components: list[dict]) -> float | None:
    scored = [c for c in components if c["normalised"] is not None and c["weight"] > 0]
    total = sum(c["weight"] for c in scored)
    if not total:
        return None
    return sum(c["weight"] * c["normalised"] for c in scored) / total


def required_days(typical_days: float) -> int:
    """Days with a handled call an agent needs to be ranked, given the median days of the
    department's agents who handled calls this month: two good days must not rank first
    over colleagues who worked the month (issue 18), and a month closed early, a part-time
    department or a thin demo asks only for its share of what colleagues worked."""
    share = math.ceil(settings.KPI_EVALUATION_MIN_SHARE * typical_days - 1e-9)
    return max(settings.KPI_EVALUATION_MIN_DAYS, share)


def has_minimum_exposure(*, worked_days: int, handled: int, required: int) -> bool:
    return worked_days >= required and handled >= settings.KPI_EVALUATION_MIN_HANDLED


def _typical_days(worked: dict[int, list[int]]) -> dict[int, float]:
    """Per department, the median days worked by its agents who worked at all."""
    return {
        dept: statistics.median(d for d in days if d) for dept, days in worked.items() if any(days)
    }


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
    *, person: Person, sheet_id: int, text: str, pii_found=()
) -> PerformanceSheet:
    """The agent's own 실장 writes the sheet's comment while the month is open.
    `pii_found` is what the PII guard masked in it."""
    sheet = performance_sheet_get_for(person, sheet_id)
    if not (person.role == Role.TEAM_LEAD and person.team_id == sheet.team_id):
        raise PermissionDenied
    if sheet.month.is_closed:
        raise ValidationError(_("This month is closed; its evaluations are frozen."))
    sheet.lead_comment = text.strip()
    sheet.commented_by = person
    sheet.save(update_fields=["lead_comment", "commented_by"])
    pii_detections_record(
        agent=person, call=None, ticket=None, found=list(pii_found), at=timezone.now()
    )
    return sheet


def component_label(component: dict) -> str:
    """The component's name in the reader's language (stored as a message id)."""
    return _(component["label"])


def component_how(component: dict) -> str:
    """How the figure was computed, in the reader's language."""
    return _(component["how"]) % component.get("how_params", {})
